"""Assemble the shard files of a run into one LHE and one HepMC3 file (pure I/O).

A sharded run writes each shard with the ordinary writers (:class:`~alpgen.io.lhe.LHEWriter`,
:class:`~alpgen.io.hepmc.HepMC3Writer`), so every shard is a complete file that can be used
on its own (``[output] merge = false``). Assembling keeps the *event sections* of the shards,
in the order given, under one header and one footer built from the run's metadata:

* **LHE**: :func:`~alpgen.io.lhe.lhe_header` (``<header>`` with the card, seed, versions and
  metadata, ``<init>`` with the run's XSECUP / XERRUP), every shard's ``<event>`` blocks
  unchanged, then ``</LesHouchesEvents>``. LHE events carry no number and no cross section,
  so the blocks are copied byte for byte.
* **HepMC3**: :func:`~alpgen.io.hepmc.hepmc3_header` (one ``START_EVENT_LISTING`` line and the
  run info), every shard's events, one ``END_EVENT_LISTING`` line. Events are renumbered
  0, 1, 2, ... across the shards (a no-op when each shard was written with the
  ``first_event`` of its position in the run) and every ``GenCrossSection`` line is set to
  the run's (:func:`~alpgen.io.hepmc.hepmc3_cross_section_line`: σ ± δσ and ``n_events``), so
  shards written with per-shard metadata assemble to the same file.

Plain output is byte-identical to the file the writer produces when it is given the same
events in one go with the run's metadata (and ``first_event=0``). Gzip output is a series of
gzip members (one valid gzip stream, RFC 1952, read as a whole by pylhe, pyhepmc, zlib's
``gzread`` and Python): one for the header, one per shard with events, one for the footer,
each with ``mtime=0``, no file name and level 6. The writers lay out their gzip files the
same way (header, events, footer), so

* the events member of a gzip shard whose events need no rewriting (written with the run's
  metadata and, for HepMC3, ``first_event``) is *copied* without recompressing: assembly then
  costs a decompression to check the shard, not a compression;
* other shards (plain, or needing renumbering) are recompressed into one member each, which
  gives the same bytes as the copy would;
* the decompressed text equals the one-go file's, and the compressed bytes depend only on
  the shard boundaries and the events, not on the number of workers or on whether the shards
  were compressed; with a single shard they equal the one-go writer's file.

Shards may be plain or gzip-compressed (recognised by their magic bytes, not their names).
The output is written under a temporary name and renamed when complete
(:class:`~alpgen.io.atomic.AtomicFile`); a missing, truncated or foreign shard raises
:class:`~alpgen.errors.OutputError` naming the shard, and no output file appears.

Memory stays flat: shards are streamed in pieces of a few MB.

**Known event counts** (``counts``, what a sharded run passes from its shards' results): a
plain shard whose header is the run's own, byte for byte (so it was written with the run's
metadata, hence the run's ``GenCrossSection`` line), that ends with the footer and whose first
and last events carry the expected numbers (HepMC3) or whose section starts with ``<event>``
and ends with ``</event>`` (LHE) is copied as a byte range, without scanning its events line
by line; the count of events in between is taken from ``counts``. Other shards take the
checked path above. The output bytes are the same either way.
"""

from __future__ import annotations

import contextlib
import gzip as _gzip
import os
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import OutputError
from .atomic import AtomicFile
from .hepmc import HEPMC3_FOOTER, hepmc3_cross_section_line, hepmc3_header
from .lhe import LHE_FOOTER, lhe_header
from .metadata import RunMetadata

__all__ = ["assemble_hepmc3", "assemble_lhe", "assemble_prepared"]

StrPath = str | os.PathLike[str]

_CHUNK = 1 << 22  # bytes read from a shard at a time
_MAX_HEADER = 1 << 26  # a header longer than this means the shard is not what it claims
# the two kinds of HepMC3 line that assembly rewrites, each found after a newline
_HEPMC3_REWRITE = re.compile(rb"\n(?:E (\d+) |A 0 GenCrossSection [^\n]*)")


class _BadShard(Exception):
    """A shard is not a complete file of the expected format (reason in the message)."""


@dataclass(frozen=True)
class _Layout:
    """Where the event section of a file of one format begins and ends."""

    name: str
    magic: bytes  # the file's first bytes
    head_end: bytes  # first occurrence ends the header ...
    head_keep: int  # ... except for its last ``head_keep`` bytes, which start the events
    footer: bytes  # the file's last bytes


_LHE = _Layout("LHE", b"<LesHouchesEvents", b"</init>\n", 0, LHE_FOOTER.encode())
_HEPMC3 = _Layout("HepMC3", b"HepMC::Version", b"\nE ", 2, HEPMC3_FOOTER)


@contextlib.contextmanager
def _open_shard(path: Path) -> Iterator[IO[bytes]]:
    """The shard's bytes, decompressed if it is gzip (recognised by its magic bytes)."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"\x1f\x8b":
            with _gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                yield gz  # type: ignore[misc]  # GzipFile is a binary IO
        else:
            yield raw


def _read(f: IO[bytes]) -> bytes:
    try:
        return f.read(_CHUNK)
    except (EOFError, _gzip.BadGzipFile, zlib.error) as exc:
        raise _BadShard(f"corrupt or truncated gzip stream ({exc})") from exc


def _sections(f: IO[bytes], layout: _Layout) -> Iterator[bytes]:
    """The event section of one shard, in pieces that each end after a newline.

    The header runs up to the first occurrence of ``layout.head_end`` (without its last
    ``head_keep`` bytes); a shard without that marker must be a header followed by the footer
    (no events). The section ends where the file's last bytes, ``layout.footer``, begin.
    """
    buf = _read(f)
    if not buf.startswith(layout.magic):
        raise _BadShard(f"it does not start with {layout.magic.decode()!r}")
    while True:  # the header: small, read whole
        i = buf.find(layout.head_end)
        if i >= 0:
            buf = buf[i + len(layout.head_end) - layout.head_keep :]
            break
        data = _read(f)
        if not data:
            if buf.endswith(layout.footer):
                return  # a shard without events
            raise _BadShard("it ends inside its header (truncated?)")
        if len(buf) > _MAX_HEADER:
            raise _BadShard(f"no end of its header in the first {_MAX_HEADER} bytes")
        buf += data
    while data := _read(f):
        buf += data
        limit = len(buf) - len(layout.footer)  # bytes from here on may be the footer
        cut = buf.rfind(b"\n", 0, limit) + 1 if limit > 0 else 0
        if cut > 0:
            yield buf[:cut]
            buf = buf[cut:]
    if not buf.endswith(layout.footer):
        raise _BadShard("it does not end with the format's closing line (truncated?)")
    if len(buf) > len(layout.footer):
        yield buf[: -len(layout.footer)]


class _Format:
    """What assembly needs to know about one format, for one run."""

    def __init__(self, layout: _Layout, header: bytes):
        self.layout = layout
        self.header = header

    def transform(self, piece: bytes, first: int) -> tuple[bytes, int]:
        """``piece`` (whole lines of events) as it goes into the output, whose next event
        has the number ``first``, and the number of events in it."""
        raise NotImplementedError

    def unchanged(self, piece: bytes, first: int) -> int | None:
        """The number of events in ``piece`` if :meth:`transform` leaves it as it is."""
        raise NotImplementedError

    def ends_ok(self, head: bytes, tail: bytes, first: int, count: int) -> bool:
        """Whether an event section of ``count`` ≥ 1 events that starts with ``head`` and
        ends with ``tail`` (each a piece of whole lines, possibly the same) holds the events
        ``first`` … ``first + count − 1`` unchanged by :meth:`transform` (known counts)."""
        raise NotImplementedError


class _LHEFormat(_Format):
    def transform(self, piece: bytes, first: int) -> tuple[bytes, int]:
        return piece, piece.count(b"<event>")

    def unchanged(self, piece: bytes, first: int) -> int | None:
        return piece.count(b"<event>")

    def ends_ok(self, head: bytes, tail: bytes, first: int, count: int) -> bool:
        return head.startswith(b"<event>") and tail.endswith(b"</event>\n")


class _HepMC3Format(_Format):
    def __init__(self, metadata: RunMetadata):
        super().__init__(_HEPMC3, hepmc3_header(metadata))
        self.xs_line = hepmc3_cross_section_line(metadata)  # with its newline

    def transform(self, piece: bytes, first: int) -> tuple[bytes, int]:
        n = first
        xs = b"\n" + self.xs_line.rstrip(b"\n")

        def rewrite(match: re.Match[bytes]) -> bytes:
            nonlocal n
            if match.group(1) is None:
                return xs
            n += 1
            return b"\nE %d " % (n - 1)

        # with a newline in front, every line of the piece starts after a newline
        text = _HEPMC3_REWRITE.sub(rewrite, b"\n" + piece)[1:]
        return text, n - first

    def unchanged(self, piece: bytes, first: int) -> int | None:
        text = b"\n" + piece
        numbers = _HEPMC3_NUMBER.findall(text)
        if [int(x) for x in numbers] != list(range(first, first + len(numbers))):
            return None
        if text.count(b"\nA 0 GenCrossSection ") != text.count(b"\n" + self.xs_line):
            return None
        return len(numbers)

    def ends_ok(self, head: bytes, tail: bytes, first: int, count: int) -> bool:
        if not head.startswith(b"E %d " % first) or not tail.endswith(b"\n"):
            return False
        j = tail.rfind(b"\nE ")
        last = tail[j + 1 :] if j >= 0 else head  # no E line in the tail: it is in the head
        return last.startswith(b"E %d " % (first + count - 1))


_HEPMC3_NUMBER = re.compile(rb"\nE (\d+) ")


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The bytes of ``chunks`` again, in pieces that end after a newline (the rest last)."""
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest


class _GzipMemberReader:
    """Reads a gzip file member by member, keeping track of compressed offsets."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.pos = 0  # compressed offset of the first byte not yet decompressed
        self.pending = b""  # bytes read past the end of the last member

    def _read(self) -> bytes:
        if self.pending:
            data, self.pending = self.pending, b""
            return data
        return self.raw.read(_CHUNK)

    def members(self) -> Iterator[tuple[int, Iterator[bytes]]]:
        """(compressed start offset, decompressed chunks) of each member in turn; a member's
        chunks must be consumed before the next member is asked for."""
        while data := self._read():
            yield self.pos, self._member(data)

    def _member(self, data: bytes) -> Iterator[bytes]:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while True:
            try:
                out = d.decompress(data)
            except zlib.error as exc:
                raise _BadShard(f"corrupt gzip stream ({exc})") from exc
            if d.eof:
                self.pos += len(data) - len(d.unused_data)
                self.pending = d.unused_data
                if out:
                    yield out
                return
            self.pos += len(data)
            if out:
                yield out
            data = self.raw.read(_CHUNK)
            if not data:
                raise _BadShard("truncated gzip stream")


def _copy_events_member(
    path: Path, fmt: _Format, first: int, sink: Callable[[bytes], None]
) -> int | None:
    """Copy the compressed events member of a gzip shard written by alpgen's writers
    (members: header, events, footer) to ``sink``, if its events need no rewriting.

    Returns the number of events, or None (nothing copied) when the shard is not laid out
    that way or its events must be rewritten; the caller then takes the slow path.
    """
    layout = fmt.layout
    with open(path, "rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            return None
        raw.seek(0)
        ranges: list[tuple[int, int]] = []
        count = 0
        for index, (start, chunks) in enumerate(_GzipMemberReader(raw).members()):
            if index == 0:
                head = b"".join(_take(chunks, _MAX_HEADER))
                if not head.startswith(layout.magic) or not _header_only(head, layout):
                    return None
            elif index == 1:
                size, small = 0, b""  # a shard without events: this member is the footer
                for piece in _lines(chunks):
                    if size <= len(layout.footer):
                        small += piece
                    size += len(piece)
                    k = fmt.unchanged(piece, first + count)
                    if k is None:
                        return None
                    count += k
            elif index == 2:
                if b"".join(_take(chunks, len(layout.footer) + 1)) != layout.footer:
                    return None
            else:
                return None
            ranges.append((start, -1))
        if len(ranges) == 2 and small == layout.footer:
            return 0
        if len(ranges) != 3:
            return None
        _copy_range(raw, ranges[1][0], ranges[2][0], sink)
    return count


_WINDOW = 1 << 20  # bytes read at each end of a plain shard to check its first and last events


def _copy_plain_events(
    path: Path, fmt: _Format, first: int, count: int, sink: Callable[[bytes], object]
) -> bool:
    """Copy the event section of the plain shard ``path`` to ``sink`` as a byte range if the
    shard has the run's header and the format's footer and its first and last events are the
    expected ones (``count`` events from number ``first``; module docstring, known counts).
    Returns False (nothing copied) otherwise; the caller then takes the checked path."""
    header, footer = fmt.header, fmt.layout.footer
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        begin, end = len(header), size - len(footer)
        if end < begin or f.read(2) == b"\x1f\x8b":
            return False
        f.seek(0)
        if f.read(begin) != header:
            return False
        f.seek(end)
        if f.read(len(footer) + 1) != footer:
            return False
        if count == 0 or end == begin:
            return count == 0 and end == begin
        f.seek(begin)
        head = f.read(min(_WINDOW, end - begin))
        head = head[: head.rfind(b"\n") + 1]
        start = max(begin, end - _WINDOW)
        f.seek(start)
        tail = f.read(end - start)
        if start > begin:  # begin the tail at a line
            tail = tail[tail.find(b"\n") + 1 :]
        if not head or not fmt.ends_ok(head, tail, first, count):
            return False
        _copy_range(f, begin, end, sink)
    return True


def _copy_range(f: IO[bytes], begin: int, end: int, sink: Callable[[bytes], object]) -> None:
    """Copy bytes [``begin``, ``end``) of the open file ``f`` to ``sink`` in chunks."""
    f.seek(begin)
    left = end - begin
    while left > 0:
        data = f.read(min(_CHUNK, left))
        if not data:  # pragma: no cover - the file shrank under us
            raise _BadShard("it changed while it was read")
        sink(data)
        left -= len(data)


def _take(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """The chunks, all consumed, but at most ``limit`` bytes of them returned."""
    size = 0
    for chunk in chunks:
        if size < limit:
            yield chunk[: limit - size]
        size += len(chunk)


def _header_only(head: bytes, layout: _Layout) -> bool:
    """Whether ``head`` is a whole header and nothing more."""
    i = head.find(layout.head_end)
    if layout.head_keep:  # the marker starts the events: it must not be there
        return i < 0 and head.endswith(b"\n")
    return i >= 0 and i + len(layout.head_end) == len(head)


def _assemble(
    shards: Sequence[StrPath],
    out_path: StrPath,
    fmt: _Format,
    gzip: bool | None,
    counts: Sequence[int] | None = None,
) -> tuple[int, AtomicFile]:
    if counts is not None and len(counts) != len(shards):
        raise ValueError(f"{len(counts)} event counts for {len(shards)} shards")
    if gzip is None:
        gzip = str(out_path).endswith(".gz")
    layout = fmt.layout
    out = AtomicFile(out_path, binary=True, gzip=gzip)
    stream = out.open()
    members = out.gzip_members
    n = 0
    reading: Path | None = None
    try:
        stream.write(fmt.header)
        out.new_member()
        for i, shard in enumerate(map(Path, shards)):
            reading = shard
            copied = None
            if members is not None:
                copied = _copy_events_member(shard, fmt, n, members.write_members)
            if copied is not None:
                n += copied
                continue
            if counts is not None and _copy_plain_events(shard, fmt, n, counts[i], stream.write):
                n += counts[i]
                out.new_member()
                continue
            with _open_shard(shard) as f:
                for piece in _sections(f, layout):
                    count = fmt.unchanged(piece, n)  # cheaper than a rewrite that changes nothing
                    if count is None:
                        piece, count = fmt.transform(piece, n)
                    stream.write(piece)
                    n += count
            out.new_member()
        reading = None
        stream.write(layout.footer)
    except _BadShard as exc:
        out.abort()
        reason = f"shard {reading} is not a complete {layout.name} file: {exc}"
        raise OutputError(out_path, reason) from exc
    except OSError as exc:
        out.abort()
        reason = exc.strerror or str(exc) or type(exc).__name__
        if reading is not None:
            reason = f"cannot read shard {reading}: {reason}"
        raise OutputError(out_path, reason, exc.errno) from exc
    except BaseException:
        out.abort()
        raise
    out.prepare()
    return n, out


def assemble_lhe(
    shards: Sequence[StrPath],
    out_path: StrPath,
    metadata: RunMetadata,
    *,
    gzip: bool | None = None,
) -> int:
    """Write the events of the LHE files ``shards`` (in that order) as one LHE file.

    The header and ``<init>`` (cross section) come from ``metadata``, the run's; the shards'
    own headers are dropped. ``gzip`` defaults to whether ``out_path`` ends in ``.gz``.
    Returns the number of events written. See the module docstring for the bytes.
    """
    n, out = assemble_prepared("lhe", shards, out_path, metadata, gzip=gzip)
    out.commit()
    return n


def assemble_hepmc3(
    shards: Sequence[StrPath],
    out_path: StrPath,
    metadata: RunMetadata,
    *,
    gzip: bool | None = None,
) -> int:
    """Write the events of the HepMC3 ASCII files ``shards`` (in that order) as one file.

    One header with the run info from ``metadata``, the events renumbered from 0 in shard
    order, every event's ``GenCrossSection`` the run's, one end line. ``gzip`` defaults to
    whether ``out_path`` ends in ``.gz``. Returns the number of events written. See the
    module docstring for the bytes.
    """
    n, out = assemble_prepared("hepmc3", shards, out_path, metadata, gzip=gzip)
    out.commit()
    return n


def assemble_prepared(
    fmt: str,
    shards: Sequence[StrPath],
    out_path: StrPath,
    metadata: RunMetadata,
    *,
    gzip: bool | None = None,
    counts: Sequence[int] | None = None,
) -> tuple[int, AtomicFile]:
    """:func:`assemble_lhe` (``fmt="lhe"``) or :func:`assemble_hepmc3` (``"hepmc3"``), but
    the output is left prepared under its temporary name (written, flushed, fsync-ed), for a
    :class:`~alpgen.io.atomic.Commit` together with a run's other files. Returns the number
    of events and the :class:`~alpgen.io.atomic.AtomicFile` to commit or abort.
    ``counts``: the number of events of each shard, where known (a sharded run's shard
    results); plain shards with the run's header are then copied as byte ranges (module
    docstring)."""
    if fmt == "lhe":
        lhe = _LHEFormat(_LHE, lhe_header(metadata).encode("utf-8"))
        return _assemble(shards, out_path, lhe, gzip, counts)
    if fmt == "hepmc3":
        return _assemble(shards, out_path, _HepMC3Format(metadata), gzip, counts)
    raise ValueError(f"cannot assemble format {fmt!r} (lhe or hepmc3)")
