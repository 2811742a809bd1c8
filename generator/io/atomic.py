"""Atomic, optionally gzip-compressed output files.

Every output file of a run is written under a temporary name in the destination directory
(``.<name>.tmp-<pid>``), flushed and ``fsync``-ed, and renamed to its final name only when the
writer finishes successfully. A crash, an exception or Ctrl-C therefore never leaves a truncated
file under the final name (an older complete file of that name is kept until it is replaced).

Gzip streams are written with ``mtime=0`` and an empty embedded file name, and a ``flush()`` of
the stream (which a text layer does when it is closed) does not end the deflate block
(``Z_SYNC_FLUSH``): the compressed bytes then depend only on the content and on where the
writer starts a new gzip member (:class:`GzipMembers`; the event writers put header, events
and footer in separate members), not on how it was written in pieces.

Operating-system errors (ENOSPC, EACCES, a missing directory, ...) are re-raised as
:class:`OutputError`, which names the final path and the reason in plain words for the CLI.
"""

from __future__ import annotations

import contextlib
import gzip as _gzip
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import OutputError

__all__ = ["AtomicFile", "AtomicWriter", "Commit", "GzipMembers", "OutputError", "atomic_output"]


class GzipMembers(io.RawIOBase):
    """A write-only gzip stream made of members, each with ``mtime=0`` and no file name.

    :meth:`new_member` ends the current member; the next write starts another (a member is
    only started by data, so there are no empty ones). The concatenation of members is one
    valid gzip stream (RFC 1952) that every reader used here decompresses as a whole. The
    writers put a file's header, its events and its footer in separate members, so that the
    events of shard files can be assembled by copying their compressed bytes
    (:mod:`alpgen.io.assemble`).

    ``flush()`` pushes nothing through zlib (``GzipFile.flush()`` would end the deflate block
    with ``Z_SYNC_FLUSH``, and then the compressed bytes would depend on when a text layer
    above flushes): the bytes of a member depend only on its content.
    """

    def __init__(self, raw: IO[bytes], compresslevel: int = 6):
        super().__init__()
        self._raw = raw
        self._level = compresslevel
        self._gz: _gzip.GzipFile | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        if n:
            if self._gz is None:
                self._gz = _gzip.GzipFile(
                    filename="", fileobj=self._raw, mode="wb", mtime=0, compresslevel=self._level
                )
            self._gz.write(data)
        return n

    def flush(self) -> None:
        """Nothing: data stays in zlib until the member ends."""

    def new_member(self) -> None:
        """End the current member (if any data was written since the last one)."""
        if self._gz is not None:
            gz, self._gz = self._gz, None
            gz.close()  # writes the member's trailer; does not close the raw file

    def write_members(self, data: bytes) -> None:
        """Append complete, already compressed gzip members ``data`` as they are."""
        self.new_member()
        self._raw.write(data)

    def close(self) -> None:
        if not self.closed:
            self.new_member()
        super().close()


class AtomicFile:
    """A file written under a temporary name and renamed into place by :meth:`commit`.

    ``open()`` returns the stream to write to (bytes if ``binary`` else UTF-8 text with ``\\n``
    line ends, gzip-compressed if ``gzip``). Call :meth:`commit` on success or :meth:`abort` on
    failure; both are idempotent and any later call is a no-op. Long-lived writers hold one of
    these across many ``write`` calls, which a plain context manager could not do.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        binary: bool = True,
        gzip: bool = False,
        compresslevel: int = 6,
        keep_name: bool = False,
    ):
        self.path = Path(path)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        # keep_name: write to <tmp dir>/<final name>, for formats that embed their own file
        # name (ROOT), so that the name inside the file is the final one
        self._tmp_dir = tmp if keep_name else None
        self.tmp_path = tmp / self.path.name if keep_name else tmp
        self.binary = binary
        self.gzip = gzip
        self.compresslevel = compresslevel
        self._raw: IO[bytes] | None = None
        self._gz: GzipMembers | None = None
        self._text: io.TextIOWrapper | None = None
        self._done = False
        self._prepared = False
        self._adopted = False

    @classmethod
    def adopt(cls, source: str | os.PathLike[str], path: str | os.PathLike[str]) -> AtomicFile:
        """A complete file ``source`` (e.g. a finished shard) to be renamed to ``path`` by
        :meth:`publish` or a :class:`Commit`; :meth:`abort` leaves ``source`` in place."""
        f = cls(path)
        f.tmp_path = Path(source)
        f._prepared = True
        f._adopted = True
        return f

    def open(self) -> IO[Any]:
        """Create the temporary file and return the stream to write to."""
        try:
            self._make_tmp_dir()
            self._raw = open(self.tmp_path, "wb")  # closed in commit()/abort()
        except OSError as exc:
            self._done = True
            raise OutputError.from_oserror(self.path, exc) from exc
        stream: IO[bytes] = self._raw
        if self.gzip:
            # filename="" and mtime=0 keep the gzip header free of run-dependent bytes
            self._gz = GzipMembers(self._raw, self.compresslevel)
            stream = self._gz  # type: ignore[assignment]  # a binary IO
        if self.binary:
            return stream
        self._text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n", write_through=False)
        return self._text

    @property
    def stream(self) -> IO[Any]:
        """The stream returned by :meth:`open`."""
        if self._text is not None:
            return self._text
        if self._gz is not None:
            return self._gz  # type: ignore[return-value]  # a binary IO
        if self._raw is None:
            raise RuntimeError("AtomicFile.open() was not called")
        return self._raw

    @property
    def closed(self) -> bool:
        return self._done

    def new_member(self) -> None:
        """For gzip: end the current gzip member; the next data starts a new one (see
        :class:`GzipMembers`). A no-op for plain files."""
        if self._gz is not None:
            if self._text is not None:
                self._text.flush()
            self._gz.new_member()

    @property
    def gzip_members(self) -> GzipMembers | None:
        """The gzip stream (to append compressed members), or None for a plain file."""
        return self._gz

    def commit(self) -> None:
        """Flush, fsync and rename the temporary file to its final name."""
        self.prepare()
        self.publish()

    @property
    def prepared(self) -> bool:
        return self._prepared

    def prepare(self) -> None:
        """Flush, fsync and close the temporary file without renaming it (the first phase of
        a :class:`Commit` of several files); a failure discards the file."""
        if self._done or self._prepared:
            return
        try:
            if self._text is not None:
                self._text.flush()
                self._text.detach()  # leave the underlying stream open for the steps below
                self._text = None
            if self._gz is not None:
                self._gz.close()  # ends the last member; does not close the raw file
                self._gz = None
            if self._raw is not None:
                self._raw.flush()
                os.fsync(self._raw.fileno())
                self._raw.close()
                self._raw = None
            else:  # written by a library that opened ``tmp_path`` itself (e.g. uproot)
                with open(self.tmp_path, "rb") as f:
                    os.fsync(f.fileno())
        except OSError as exc:
            self.abort()
            raise OutputError.from_oserror(self.path, exc) from exc
        except BaseException:
            self.abort()
            raise
        self._prepared = True

    def publish(self) -> None:
        """Rename the prepared temporary file to its final name (:meth:`prepare` first)."""
        if self._done:
            return
        if not self._prepared:
            self.prepare()
        try:
            os.replace(self.tmp_path, self.path)
            self._remove_tmp_dir()
            self._fsync_dir()
        except OSError as exc:
            self.abort()
            raise OutputError.from_oserror(self.path, exc) from exc
        self._done = True

    def abort(self) -> None:
        """Close and delete the temporary file (the final name is left untouched)."""
        if self._done:
            return
        self._done = True
        for stream in (self._text, self._gz, self._raw):
            if stream is not None:
                with contextlib.suppress(Exception):
                    # a failed flush on close is irrelevant: the file is being discarded
                    stream.close()
        self._text = self._gz = self._raw = None
        if self._adopted:  # not ours to delete
            return
        with contextlib.suppress(FileNotFoundError):
            self.tmp_path.unlink()
        self._remove_tmp_dir()

    def _make_tmp_dir(self) -> None:
        if self._tmp_dir is not None:
            self._tmp_dir.mkdir(exist_ok=True)

    def _remove_tmp_dir(self) -> None:
        if self._tmp_dir is not None:
            with contextlib.suppress(OSError):
                self._tmp_dir.rmdir()

    def _fsync_dir(self) -> None:
        # make the rename itself durable; not all platforms / file systems allow this
        with contextlib.suppress(OSError):
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def __del__(self) -> None:
        # a writer dropped without close() must not leave its temporary file behind
        with contextlib.suppress(Exception):
            self.abort()


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str], *, binary: bool = True, gzip: bool = False
) -> Iterator[IO[Any]]:
    """Context manager yielding a stream that appears at ``path`` only on successful exit.

    On any exception (``KeyboardInterrupt`` included) the temporary file is removed and the
    exception propagates; an ``OSError`` from writing is converted into :class:`OutputError`.
    """
    af = AtomicFile(path, binary=binary, gzip=gzip)
    stream = af.open()
    try:
        yield stream
    except OSError as exc:
        af.abort()
        raise OutputError.from_oserror(path, exc) from exc
    except BaseException:
        af.abort()
        raise
    af.commit()


class AtomicWriter:
    """Base of the streamed event writers: an :class:`AtomicFile` plus error handling.

    Subclasses call :meth:`_open` once, write through :meth:`_guard` (which turns ``OSError``
    into :class:`OutputError` and discards the temporary file) and implement ``_finish`` to
    write their trailer before the file is committed. Used as a context manager, an exception
    inside the ``with`` block discards the file instead of committing a partial one.
    """

    path: Path

    def _open(self, path: str | os.PathLike[str], *, binary: bool, gzip: bool) -> IO[Any]:
        self.path = Path(path)
        self._atomic = AtomicFile(path, binary=binary, gzip=gzip)
        return self._atomic.open()

    def _reserve(self, path: str | os.PathLike[str]) -> Path:
        """For libraries that open files by name: the temporary path to write to."""
        self.path = Path(path)
        self._atomic = AtomicFile(path, keep_name=True)
        try:
            self._atomic._make_tmp_dir()
        except OSError as exc:
            self._atomic.abort()
            raise OutputError.from_oserror(self.path, exc) from exc
        return self._atomic.tmp_path

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        if self._atomic.closed:
            raise ValueError(f"writer for {self.path} is already closed")
        try:
            yield
        except OSError as exc:
            self.abort()
            raise OutputError.from_oserror(self.path, exc) from exc
        except BaseException:
            self.abort()
            raise

    def _finish(self) -> None:
        """Write whatever the format needs at the end of the file (override)."""

    def prepare(self) -> None:
        """Finish the file (trailer, flush, fsync) under its temporary name: the first phase
        of a :class:`Commit`; :meth:`close` then only renames it."""
        if self._atomic.closed or self._atomic.prepared:
            return
        with self._guard():
            self._finish()
        self._atomic.prepare()

    @property
    def atomic(self) -> AtomicFile:
        """The underlying :class:`AtomicFile` (for a :class:`Commit`)."""
        return self._atomic

    def close(self) -> None:
        """Finish the file and move it to its final name (no-op when already closed)."""
        if self._atomic.closed:
            return
        self.prepare()
        self._atomic.publish()

    def abort(self) -> None:
        """Discard the file being written."""
        self._atomic.abort()

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class _Undo(Exception):
    """Internal: roll back a commit interrupted by a signal."""


class Commit:
    """Several prepared files renamed into place together, or none of them.

    :meth:`run` renames every :class:`AtomicFile` (each already :meth:`~AtomicFile.prepare`-d:
    written, flushed and fsync-ed under its temporary name, so that a full disk shows there)
    and then deletes ``stale`` paths (an earlier run's files that this run does not replace).
    If a rename fails, the files already renamed are deleted again, the rest discarded, and
    the :class:`OutputError` propagates: the directory holds no final-named file of the run.
    Call it inside :func:`alpgen.interrupts.critical` so that a signal waits until it is done.
    """

    def __init__(self, files: list[AtomicFile], stale: list[Path] | None = None) -> None:
        self.files = files
        self.stale = list(stale or ())

    def run(self) -> None:
        from .. import interrupts

        done: list[AtomicFile] = []
        try:
            for f in self.files:
                f.prepare()
            interrupts.check()  # a signal before the renames: nothing is committed
            with interrupts.critical():
                for f in self.files:
                    f.publish()
                    done.append(f)
                if interrupts.pending() is not None:
                    # a signal during the renames: undo them, so that an interrupted
                    # command never leaves final-named files (raised as the block ends)
                    raise _Undo
        except BaseException:
            for f in done:
                with contextlib.suppress(OSError):
                    f.path.unlink()
            for f in self.files:
                f.abort()
            interrupts.check()
            raise
        interrupts.mark_finished()
        new = {f.path for f in self.files}
        for path in self.stale:
            if path in new:
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.is_dir() and not path.is_symlink():
                    import shutil

                    shutil.rmtree(path)
                else:
                    path.unlink()
