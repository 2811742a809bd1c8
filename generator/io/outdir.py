"""An output directory owned by one alpgen command for its whole run.

:class:`OutputDir` (a context manager) prepares the directory of ``alpgen run`` or
``alpgen scan``:

* an existing path that is not a directory, or a non-empty directory without ``--force``, is a
  :class:`~alpgen.errors.CardError` on the directory's key (exit 2);
* an exclusive ``flock`` on ``<dir>/.alpgen.lock`` is held until the block ends; the operating
  system drops it when the process dies (even by ``kill -9``), so it never goes stale. A second
  command on the same directory exits 2 naming the running one (its pid and command line);
* with ``--force`` only files alpgen recognises as its own (:func:`is_own`) may be there; they
  are removed when the new run commits (:attr:`stale`), so a finished directory holds only
  the new run's files. Anything else is an error naming it;
* when the block fails (an error or an interrupt), a directory the command created is removed
  again, with the parents it created: a failing command leaves no output directory behind.
  (The one exception, an interrupted sharded run's ``.shards/``, is kept for ``--resume``.)
* with ``resume`` (``alpgen run --resume``) a non-empty directory is accepted without
  ``--force`` as long as everything in it is alpgen's; nothing is marked stale.

Lock and temporary files are dot-files; the lock file is removed when the block ends.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import sys
from pathlib import Path
from types import TracebackType

from ..errors import CardError, UsageError

__all__ = ["LOCK_NAME", "OutputDir", "is_own", "is_temporary"]

LOCK_NAME = ".alpgen.lock"

_EVENT_EXT = r"(?:lhe|lhe\.gz|hepmc3|hepmc3\.gz|root)"
#: Files and directories alpgen writes (run, scan, sharded production).
_OWN = re.compile(
    rf"^(?:events\.{_EVENT_EXT}|events-\d{{5}}\.{_EVENT_EXT}|histograms\.root|summary\.json"
    r"|scan\.csv|scan\.json|reach\.png|shards\.json|\.shards)$"
)
#: alpgen's temporaries: ``.<final name>.tmp-<pid>`` (files, or directories for ROOT).
_TEMP = re.compile(r"^\..+\.tmp-(\d+)$")


def is_temporary(name: str) -> bool:
    """Whether a directory entry's name is an alpgen temporary (``.<name>.tmp-<pid>``)."""
    return bool(_TEMP.match(name))


def is_own(name: str) -> bool:
    """Whether a directory entry's name is one alpgen writes (outputs or temporaries)."""
    return bool(_OWN.match(name) or _TEMP.match(name) or name == LOCK_NAME)


class OutputDir:
    """``with OutputDir(path, force=..., key="output.dir") as out:`` (see the module docs).

    ``key`` names the setting in error messages (``output.dir`` or ``scan.out``)."""

    def __init__(
        self, path: str | os.PathLike[str], *, force: bool, key: str, resume: bool = False
    ) -> None:
        self.path = Path(path)
        self.force = force
        self.resume = resume
        self.key = key
        #: an earlier run's files, to be removed when this run commits (``--force``)
        self.stale: list[Path] = []
        self._created: Path | None = None  # the topmost directory this command created
        self._lock_fd: int | None = None
        self.keep: set[str] = set()  # names kept even on failure (e.g. ".shards")

    # -- entering ----------------------------------------------------------------------------
    def __enter__(self) -> OutputDir:
        out = self.path
        if out.exists() and not out.is_dir():
            raise CardError(self.key, f"{str(out)!r} exists and is not a directory")
        self._make()
        try:
            self._lock()
            self._check_contents()
        except BaseException:
            self._cleanup(failed=True)
            raise
        return self

    def _make(self) -> None:
        out = self.path
        missing = [p for p in (out, *out.parents) if not p.exists()]
        try:
            out.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise CardError(self.key, f"{str(out)!r} exists and is not a directory") from None
        except OSError as exc:
            raise CardError(self.key, f"cannot create {str(out)!r}: {exc.strerror}") from None
        self._created = missing[-1] if missing else None
        if not os.access(out, os.W_OK):
            self._cleanup(failed=True)
            raise CardError(self.key, f"{str(out)!r} is not writable")

    def _lock(self) -> None:
        lock = self.path / LOCK_NAME
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_holder(fd)
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise CardError(self.key, f"cannot lock {lock}: {exc.strerror}") from None
                raise UsageError(
                    f"{self.path} is in use by another alpgen command ({holder}); wait for it to "
                    "finish or choose another output directory"
                ) from None
            # the file may have been removed (and recreated) by its previous holder meanwhile
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(lock))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        text = f"pid {os.getpid()}: {' '.join(['alpgen', *sys.argv[1:]])}"
        os.ftruncate(fd, 0)
        os.write(fd, text.encode("utf-8", "replace"))
        self._lock_fd = fd

    def _check_contents(self) -> None:
        entries = sorted(self.path.iterdir())
        visible = [p for p in entries if not p.name.startswith(".") or p.name == ".shards"]
        if visible and not (self.force or self.resume):
            hint = ""
            if any(p.name == ".shards" for p in visible):
                hint = " (it holds an interrupted run's shards: --resume finishes that run)"
            raise CardError(
                self.key,
                f"{str(self.path)!r} already exists and is not empty{hint}; use --force to "
                "overwrite it or choose another directory",
            )
        if not (self.force or self.resume):
            return
        foreign = [p.name for p in visible if not is_own(p.name)]
        if foreign:
            raise CardError(
                self.key,
                f"{'--resume' if self.resume else '--force'} touches only alpgen's own files, "
                f"and {str(self.path)!r} holds "
                f"{', '.join(map(repr, foreign[:5]))}{' …' if len(foreign) > 5 else ''}, which "
                "alpgen did not write; move it away or choose another directory",
            )
        if self.resume:
            return
        own_pid = str(os.getpid())
        for p in entries:
            if p.name == LOCK_NAME:
                continue
            m = _TEMP.match(p.name)
            if m and m.group(1) == own_pid:
                continue
            if is_own(p.name):
                self.stale.append(p)

    # -- leaving -----------------------------------------------------------------------------
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cleanup(failed=exc_type is not None)

    def _cleanup(self, *, failed: bool) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                (self.path / LOCK_NAME).unlink()
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
        if not failed or self._created is None:
            return
        # remove what this command created, unless something it must keep is inside
        with contextlib.suppress(OSError):
            if any(p.name in self.keep for p in self.path.iterdir()):
                return
            leftovers = [p for p in self.path.iterdir() if not is_own(p.name)]
            if leftovers:  # someone else's file appeared meanwhile: leave it alone
                return
            for p in self.path.iterdir():
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()
            d = self.path
            while True:
                d.rmdir()
                if d == self._created:
                    break
                d = d.parent


def _read_holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 2000).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "pid unknown"
