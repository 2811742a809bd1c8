"""SIGINT/SIGTERM → :class:`~alpgen.errors.Interrupted`, with a critical section for commits.

The command line installs the handlers (:func:`handle_signals`) as its first act; library code
marks the short stretch in which a run's files are renamed into place with :func:`critical`, so
that a signal arriving then is remembered and the set of files is committed whole. Without the
handlers installed (alpgen used as a library) :func:`critical` does nothing.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from .errors import Interrupted

__all__ = [
    "CommitGuard",
    "check",
    "critical",
    "debug_pause",
    "handle_signals",
    "mark_finished",
    "pending",
]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _State:
    installed = False
    depth = 0  # nesting of critical sections
    deferred: int | None = None
    finished = False  # the command's output is committed: a late signal changes nothing


def _handler(signum: int, frame: FrameType | None) -> None:
    if _State.finished:
        return
    # remembered as well as raised: a library's bare ``except:`` (numba's import-time probes,
    # for one) can swallow the exception, and the next :func:`check` raises it again
    _State.deferred = signum
    if _State.depth > 0:
        return
    raise Interrupted(signum)


def pending() -> int | None:
    """The signal that arrived and is not yet acted on (deferred by a critical section, or
    raised where a library swallowed the exception)."""
    return _State.deferred


def check() -> None:
    """Raise :class:`Interrupted` now for a signal that arrived and was not acted on: one
    deferred by a critical section, or one whose exception a library swallowed. Called at
    every stage and batch boundary; a no-op outside a critical section's deferral and without
    the handlers installed."""
    if _State.depth > 0 or _State.finished:
        return
    signum, _State.deferred = _State.deferred, None
    if signum is not None:
        raise Interrupted(signum)


def mark_finished() -> None:
    """The command's files are committed: from now on a signal is too late to undo them and
    is ignored (the command exits 0). Only with the handlers installed (the command line)."""
    if _State.installed:
        _State.finished = True


def debug_pause(stage: str) -> None:
    """Test hook: ``ALPGEN_DEBUG_PAUSE=<stage>:<seconds>`` sleeps at ``stage`` (after logging
    ``pausing at <stage>``), so that the signal-timing tests can hit that moment."""
    import os

    spec = os.environ.get("ALPGEN_DEBUG_PAUSE", "")
    name, _, seconds = spec.partition(":")
    if name == stage and seconds:
        import logging
        import time

        logging.getLogger("alpgen").info("pausing at %s", stage)
        time.sleep(float(seconds))


def _unraisable_hook(previous: object) -> object:
    """``sys.unraisablehook`` that drops an :class:`Interrupted` raised where Python cannot
    propagate it (a ctypes callback: llvmlite's object-cache notification while numba
    compiles). The handler has remembered the signal, and the next :func:`check` acts on it;
    without this hook Python prints "Exception ignored ... Traceback" for it."""

    def hook(unraisable: object) -> None:
        if isinstance(getattr(unraisable, "exc_value", None), Interrupted):
            return
        previous(unraisable)  # type: ignore[operator]

    return hook


@contextmanager
def handle_signals() -> Iterator[None]:
    """Raise :class:`Interrupted` on SIGINT/SIGTERM inside the block (previous handlers are
    restored afterwards)."""
    old = {sig: signal.signal(sig, _handler) for sig in _SIGNALS}
    old_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable_hook(old_hook)  # type: ignore[assignment]
    _State.installed = True
    _State.finished = False
    _State.deferred = None
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        sys.unraisablehook = old_hook
        _State.installed = False
        _State.finished = False


@contextmanager
def critical() -> Iterator[None]:
    """Defer SIGINT/SIGTERM while the block runs (e.g. renaming a run's files into place); a
    signal that arrived meanwhile is raised when the outermost section ends (unless the block
    failed or called :func:`mark_finished`)."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
    if _State.depth == 0 and not _State.finished:
        check()


class CommitGuard:
    """A critical section that starts when :meth:`arm` is called and ends when the guard exits.

    Entered into an :class:`~contextlib.ExitStack` *before* the writers, it exits after them
    (the stack unwinds in reverse), so that ``arm()`` after the event loop covers the renames
    of every file the writers commit on exit.
    """

    def __init__(self) -> None:
        self._armed = False

    def arm(self) -> None:
        if not self._armed:
            _State.depth += 1
            self._armed = True

    def __enter__(self) -> CommitGuard:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._armed:
            _State.depth -= 1
            self._armed = False
