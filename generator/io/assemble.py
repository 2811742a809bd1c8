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

The result is byte-identical to the file the writer produces when it is given the same
events in one go with the run's metadata (and ``first_event=0``): for plain files and for
gzip, which is recompressed into one stream the same way the writers compress (``mtime=0``,
no file name, level 6; zlib's output does not depend on how its input is split). Shards may
be plain or gzip-compressed (recognised by their magic bytes, not their names). The output
is written under a temporary name and renamed when complete
(:class:`~alpgen.io.atomic.AtomicFile`); a missing, truncated or foreign shard raises
:class:`~alpgen.errors.OutputError` naming the shard, and no output file appears.

Memory stays flat: shards are streamed in pieces of a few MB.
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

__all__ = ["assemble_hepmc3", "assemble_lhe"]

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


def _assemble(
    shards: Sequence[StrPath],
    out_path: StrPath,
    layout: _Layout,
    header: bytes,
    transform: Callable[[bytes], tuple[bytes, int]],
    gzip: bool | None,
) -> int:
    if gzip is None:
        gzip = str(out_path).endswith(".gz")
    out = AtomicFile(out_path, binary=True, gzip=gzip)
    stream = out.open()
    n = 0
    reading: Path | None = None
    try:
        stream.write(header)
        for shard in map(Path, shards):
            reading = shard
            with _open_shard(shard) as f:
                for piece in _sections(f, layout):
                    reading = None
                    text, count = transform(piece)
                    stream.write(text)
                    n += count
                    reading = shard
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
    out.commit()
    return n


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
    Returns the number of events written. The file is byte-identical to
    ``LHEWriter(out_path, metadata)`` writing the same events.
    """

    def count(piece: bytes) -> tuple[bytes, int]:
        return piece, piece.count(b"<event>")

    return _assemble(shards, out_path, _LHE, lhe_header(metadata).encode("utf-8"), count, gzip)


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
    whether ``out_path`` ends in ``.gz``. Returns the number of events written. The file is
    byte-identical to ``HepMC3Writer(out_path, metadata)`` writing the same events.
    """
    xs_line = b"\n" + hepmc3_cross_section_line(metadata).rstrip(b"\n")
    n = 0

    def rewrite(match: re.Match[bytes]) -> bytes:
        nonlocal n
        if match.group(1) is None:
            return xs_line
        n += 1
        return b"\nE %d " % (n - 1)

    def transform(piece: bytes) -> tuple[bytes, int]:
        # with a newline in front, every line of the piece starts after a newline
        before = n
        text = _HEPMC3_REWRITE.sub(rewrite, b"\n" + piece)[1:]
        return text, n - before

    return _assemble(shards, out_path, _HEPMC3, hepmc3_header(metadata), transform, gzip)
