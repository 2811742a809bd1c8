"""alpgen's exceptions: one base, :class:`AlpgenError`, for everything a user can cause.

The command line maps them to exit statuses: :class:`CardError` and :class:`UsageError`
(bad input, an existing output directory) → 2, :class:`OutputError` (a file could not be
written, e.g. a full disk) → 1, :class:`Interrupted` (SIGINT/SIGTERM) → 128 + signal number.
Library callers catch :class:`AlpgenError`.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

__all__ = ["AlpgenError", "CardError", "Interrupted", "OutputError", "UsageError"]


class AlpgenError(Exception):
    """Base class of every error alpgen raises on purpose."""


class CardError(AlpgenError, ValueError):
    """An invalid run card; the message names the key, the value and what is allowed."""

    def __init__(self, key: str, message: str, source: str | None = None) -> None:
        self.key = key
        where = f"{source}: " if source else ""
        super().__init__(f"{where}card key '{key}': {message}")


class UsageError(AlpgenError):
    """A user error not tied to a card key (a bad command-line argument, an unreachable
    scheduler, ...)."""


class OutputError(AlpgenError):
    """Writing an output file failed; ``path`` is the final file name, ``reason`` a short text.

    ``errno`` carries the operating-system error number when there is one (e.g. ``ENOSPC``).
    """

    def __init__(self, path: str | os.PathLike[str], reason: str, errno: int | None = None):
        self.path = Path(path)
        self.reason = reason
        self.errno = errno
        super().__init__(f"cannot write {self.path}: {reason}")

    @classmethod
    def from_oserror(cls, path: str | os.PathLike[str], exc: OSError) -> OutputError:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return cls(path, reason, exc.errno)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; unwinds the work so that temporary files are removed.

    A ``BaseException`` (like ``KeyboardInterrupt``), so that libraries' ``except Exception``
    clauses cannot swallow it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_status(self) -> int:
        return 128 + self.signum
