"""SIGINT/SIGTERM → :class:`~alpgen.errors.Interrupted`, with a critical section for commits.

The command line installs the handlers (:func:`handle_signals`) as its first act; library code
marks the short stretch in which a run's files are renamed into place with :func:`critical`, so
that a signal arriving then is remembered and the set of files is committed whole. Without the
handlers installed (alpgen used as a library) :func:`critical` does nothing.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from .errors import Interrupted

__all__ = ["CommitGuard", "critical", "handle_signals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _State:
    installed = False
    depth = 0  # nesting of critical sections
    deferred: int | None = None


def _handler(signum: int, frame: FrameType | None) -> None:
    if _State.depth > 0:
        _State.deferred = signum
        return
    raise Interrupted(signum)


@contextmanager
def handle_signals() -> Iterator[None]:
    """Raise :class:`Interrupted` on SIGINT/SIGTERM inside the block (previous handlers are
    restored afterwards)."""
    old = {sig: signal.signal(sig, _handler) for sig in _SIGNALS}
    _State.installed = True
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        _State.installed = False


@contextmanager
def critical() -> Iterator[None]:
    """Defer SIGINT/SIGTERM while the block runs (e.g. renaming a run's files into place)."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1


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
