"""Format and completeness checks of event files, before anything counts their events.

``alpgen detect`` must never count a truncated or corrupt file as if it were whole, nor read
an LHE or HepMC2 file as HepMC3. :func:`detect_format` looks at the first bytes (gzip magic,
then the first line of the — decompressed — text); :func:`check_hepmc3` streams the whole
file once and reports

* whether the listing is complete: the ``HepMC::Asciiv3-END_EVENT_LISTING`` line is present,
  the gzip stream (if any) decompresses to its end with a valid CRC, every event holds the
  number of particles its ``E`` line announces, and the number of events equals the run's
  ``n_events`` where alpgen wrote its run info;
* the last complete event (its number in the file and how many complete events precede the
  damage), so that ``--allow-truncated`` can use exactly those.

An event counts as complete only once the next ``E`` line or the end-of-listing line has been
read: a file cut between two events is truncated even though its last event looks whole.
Nothing here imports pyhepmc or numpy.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import os
import re
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .jsonutil import json_safe  # re-exported for alpgen detect

__all__ = [
    "HEPMC3_END",
    "EventFileCheck",
    "check_hepmc3",
    "check_sigma_pb",
    "complete_prefix",
    "detect_format",
    "input_note",
    "input_record",
    "json_safe",
    "readable_events",
    "selection_note",
    "stdout_to_stderr",
    "verify_event_file",
]

GZIP_MAGIC = b"\x1f\x8b"
HEPMC3_START = b"HepMC::Asciiv3-START_EVENT_LISTING"
HEPMC3_END = b"HepMC::Asciiv3-END_EVENT_LISTING"
HEPMC2_START = b"HepMC::IO_GenEvent-START_EVENT_LISTING"

#: Errors of a damaged gzip stream (bad header, corrupt data, missing end, CRC mismatch).
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def _open(path: Path, gz: bool) -> IO[bytes]:
    return gzip.open(path, "rb") if gz else open(path, "rb")  # type: ignore[return-value]


def detect_format(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """``(format, gzip)`` of an event file from its first bytes.

    ``format`` is ``"hepmc3"``, ``"hepmc2"``, ``"lhe"``, ``"empty"`` (no bytes, or an empty
    gzip stream) or ``"unknown"``; ``gzip`` says whether the file is gzip-compressed. A gzip
    file whose header cannot be read is ``("corrupt-gzip", True)``.
    """
    path = Path(path)
    with open(path, "rb") as f:
        magic = f.read(2)
    gz = magic == GZIP_MAGIC
    try:
        with _open(path, gz) as f:
            head: bytes | None = f.read(4096)
    except _GZIP_ERRORS:
        # a damaged stream may still show its first bytes; a damaged header shows none
        head = _gzip_head(path)
    if head is None:
        return "corrupt-gzip", True
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        return "empty", gz
    # the listing line decides (HepMC3's HepMC2 writer heads its files "HepMC::Version 3...")
    if HEPMC2_START in text:
        return "hepmc2", gz
    if HEPMC3_START in text:
        return "hepmc3", gz
    first = text.splitlines()[0].strip()
    if first.startswith(b"HepMC::Version 3"):
        return "hepmc3", gz
    if first.startswith(b"HepMC::Version 2"):
        return "hepmc2", gz
    if b"<LesHouchesEvents" in text:
        return "lhe", gz
    return "unknown", gz


def _gzip_head(path: Path) -> bytes | None:
    """Whatever a damaged gzip file decompresses to before the damage (None: bad header)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    try:
        return d.decompress(data, 4096)
    except zlib.error:
        return None


@dataclass(frozen=True)
class EventFileCheck:
    """What :func:`check_hepmc3` found.

    ``n_complete``: events confirmed complete; ``last_event``: the number (``E`` line) of the
    last of them (``None`` if none); ``complete_bytes``: the decompressed length of the file
    up to the end of that event; ``expected_events``: the run's ``n_events`` from alpgen's run
    info (``None`` for a foreign file); ``problem``: what is wrong, ``None`` for a complete
    file.
    """

    path: Path
    format: str
    gzip: bool
    n_complete: int
    last_event: int | None
    complete_bytes: int
    expected_events: int | None
    problem: str | None

    @property
    def complete(self) -> bool:
        return self.problem is None

    def describe_last(self) -> str:
        """``"the last complete event is event 998 (999 complete events)"`` or similar."""
        if self.last_event is None:
            return "no event in it is complete"
        n = self.n_complete
        return (
            f"the last complete event is event {self.last_event} "
            f"({n} complete event{'s' if n != 1 else ''})"
        )


#: HepMC3 escapes attribute text: a backslash as ``\\\\``, a newline as ``\\|``.
_UNESCAPE = re.compile(r"\\(.)")


def _unescape_one(m: re.Match[str]) -> str:
    return "\n" if m.group(1) == "|" else m.group(1)


def _expected_events(line: bytes) -> int | None:
    """``n_events`` of an ``A alpgen_metadata {json}`` run-info line (escaped newlines ``\\|``)."""
    try:
        text = _UNESCAPE.sub(_unescape_one, line.split(b" ", 2)[2].decode("utf-8"))
        n = json.loads(text).get("n_events")
    except (IndexError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    return int(n) if isinstance(n, int) and n > 0 else None


def check_hepmc3(path: str | os.PathLike[str]) -> EventFileCheck:
    """Stream a HepMC3 ASCII file (plain or gzip) once and check that it is complete.

    See the module docstring for what "complete" means. Raises ``OSError`` only if the file
    cannot be opened; every kind of damage is reported in ``problem``.
    """
    path = Path(path)
    fmt, gz = detect_format(path)
    if fmt == "corrupt-gzip":
        return EventFileCheck(path, fmt, True, 0, None, 0, None, "its gzip header is corrupt")
    problem: str | None = None
    n_complete = 0
    last_event: int | None = None
    complete_bytes = 0
    expected: int | None = None
    ended = False
    seen_start = False
    # the event being read: its number, announced particle count, particles seen
    cur: tuple[int, int] | None = None
    cur_particles = 0
    offset = 0

    def close_event() -> str | None:
        nonlocal n_complete, last_event, complete_bytes, cur
        if cur is None:
            return None
        number, n_particles = cur
        cur = None
        if cur_particles != n_particles:
            return f"event {number} announces {n_particles} particles but holds {cur_particles}"
        n_complete += 1
        last_event = number
        complete_bytes = offset
        return None

    try:
        with _open(path, gz) as f:
            for line in f:
                if ended:
                    if line.strip():
                        problem = "it has content after the end-of-listing line"
                        break
                    continue
                if not line.endswith(b"\n"):
                    break  # a cut line: the file ends without the end-of-listing line
                if line.startswith(b"E "):
                    problem = close_event()
                    if problem:
                        break
                    fields = line.split()
                    try:
                        cur = (int(fields[1]), int(fields[3]))
                    except (IndexError, ValueError):
                        problem = f"a malformed event line {line[:60]!r}"
                        break
                    cur_particles = 0
                elif line.startswith(b"P "):
                    cur_particles += 1
                elif line.startswith(HEPMC3_END):
                    problem = close_event()
                    if problem:
                        break
                    ended = True
                elif line.startswith(HEPMC3_START):
                    seen_start = True
                elif cur is None and line.startswith(b"A alpgen_metadata "):
                    expected = _expected_events(line.rstrip(b"\n"))
                offset += len(line)
    except _GZIP_ERRORS as exc:
        problem = f"its gzip stream is corrupt ({exc})"
    if problem is None and not seen_start:
        problem = "it has no HepMC3 start-of-listing line"
    if problem is None and not ended:
        problem = "it is truncated: the HepMC3 end-of-listing line is missing"
    if problem is None and expected is not None and n_complete != expected:
        problem = f"it holds {n_complete} events but the run that wrote it generated {expected}"
    return EventFileCheck(path, fmt, gz, n_complete, last_event, complete_bytes, expected, problem)


@contextlib.contextmanager
def complete_prefix(check: EventFileCheck) -> Iterator[Path]:
    """A temporary HepMC3 file holding the complete events of ``check.path`` and an
    end-of-listing line (for reading a truncated file with ``--allow-truncated``)."""
    fd, name = tempfile.mkstemp(prefix=".alpgen-complete-", suffix=".hepmc3")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, _open(check.path, check.gzip) as src:
            left = check.complete_bytes
            while left > 0:
                chunk = src.read(min(left, 1 << 20))
                if not chunk:
                    break
                out.write(chunk)
                left -= len(chunk)
            out.write(HEPMC3_END + b"\n")
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to file descriptor 1 (e.g. by HepMC3's C++ code) to stderr
    while the block runs, so that stdout carries only alpgen's report or JSON."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# --------------------------------------------------------------------------------------------
# for ``alpgen detect``

_FORMAT_NAMES = {
    "lhe": "an LHE file",
    "hepmc2": "a HepMC2 file",
    "empty": "empty",
    "unknown": "not a HepMC3 file (unrecognised content)",
}


def verify_event_file(
    path: str | os.PathLike[str], *, allow_truncated: bool = False
) -> EventFileCheck:
    """Check that ``path`` is a complete HepMC3 file; raise :class:`UsageError` naming the file
    and what is wrong otherwise. With ``allow_truncated`` a damaged file whose first events
    are complete passes (its ``problem`` is kept, for the report)."""
    from ..errors import UsageError

    path = Path(path)
    fmt, gz = detect_format(path)
    if fmt in _FORMAT_NAMES:
        what = _FORMAT_NAMES[fmt] + (" (gzip-compressed)" if gz else "")
        raise UsageError(
            f"{path}: {'' if fmt == 'unknown' else 'is '}{what}; alpgen detect reads HepMC3 "
            "files (e.g. events.hepmc3 written by alpgen run)"
        )
    check = check_hepmc3(path)
    if check.problem is None:
        return check
    if allow_truncated and check.n_complete > 0:
        return check
    hint = "" if check.n_complete == 0 else "; --allow-truncated uses the complete events"
    raise UsageError(f"{path}: {check.problem}; {check.describe_last()}{hint}")


@contextlib.contextmanager
def readable_events(check: EventFileCheck) -> Iterator[Path]:
    """The file to read: ``check.path`` itself when complete, else a temporary copy of its
    complete events (:func:`complete_prefix`)."""
    if check.complete:
        yield check.path
        return
    with complete_prefix(check) as tmp:
        yield tmp


def input_record(check: EventFileCheck) -> dict[str, object]:
    """What ``alpgen detect`` reports about its input file (the ``input`` key of its JSON)."""
    return {
        "file": str(check.path),
        "format": "hepmc3.gz" if check.gzip else "hepmc3",
        "complete": check.complete,
        "events_used": check.n_complete,
        "events_expected": check.expected_events,
        "last_complete_event": check.last_event,
        "problem": check.problem,
        "normalised_by_complete_events": not check.complete,
    }


def input_note(check: EventFileCheck) -> str | None:
    """The report line for a damaged file read with ``--allow-truncated`` (None if complete)."""
    if check.complete:
        return None
    return (
        f"  input: {check.path} is damaged ({check.problem}); --allow-truncated: using its "
        f"{check.n_complete} complete events (last: event {check.last_event}), normalised by them"
    )


def check_sigma_pb(sigma_pb: float | None, what: str) -> None:
    """A cross section must be a finite number > 0 pb (``None``: not given, fine)."""
    from ..errors import UsageError

    if sigma_pb is None:
        return
    if not (isinstance(sigma_pb, int | float) and math.isfinite(sigma_pb) and sigma_pb > 0):
        raise UsageError(f"{what}: {sigma_pb!r} is not allowed: must be a finite number > 0 (pb)")


def selection_note(result: Any, config: Any, run_info: dict[str, Any]) -> str:
    """Which selection ``detect`` used (and where it came from) and, if no event passed, the
    cut that removed them all and whether the file's ALP decays suit the selection."""
    from ..detectors.config import SELECTIONS, experiment_defaults

    default = experiment_defaults(config.name).get("selection")
    origin = f"the {config.name} default" if config.selection == default else "set with --set"
    lines = [f"  selection: {config.selection} ({origin})"]
    if result.n_mc_selected > 0:
        return "\n".join(lines)
    dead = next((c for c in result.cutflow if c.n_mc == 0), None)
    why = (
        f"no event passed the cut '{dead.cut}' ({dead.description})" if dead else "no event passed"
    )
    lines.append(f"  no sensitivity: {why}")
    alp = run_info.get("card", {}).get("decays", {}).get("alp")
    others = [s for s in SELECTIONS.get(config.name, ()) if s != config.selection]
    if alp is not None:
        visible_sel = "invisible" not in config.selection
        mismatch = (alp == "visible" and not visible_sel) or (alp == "invisible" and visible_sel)
        hint = f"; the '{config.selection}' selection does not look for them" if mismatch else ""
        lines.append(f"  the file's ALP decays are {alp!r} (decays.alp in its run info){hint}")
    if others:
        lines.append(
            "  other selections: " + ", ".join(f"--set detector.selection={s}" for s in others)
        )
    return "\n".join(lines)
