"""alpgen: Monte Carlo event generator for lepton-flavour-violating ALPs, μ A → τ A a.

The public API (units: GeV, mm, pb, TeV⁻¹)::

    import alpgen

    card = alpgen.load_card("cards/thin_target_1p5TeV.toml", ["run.events=5000"])
    xs = alpgen.cross_section(card)           # CrossSection: sigma_pb, sigma_err_pb, ...
    events = alpgen.generate(card)            # EventBatch: the events `alpgen run` writes
    arr = events.to_awkward()                 # awkward Array of vector Momentum4D particles
    result = alpgen.run(card, out_dir="runs/x", force=True)   # files + summary.json
    scan = alpgen.scan(card, [2.0, 5.0, 10.0])                # scan.csv rows
    bkg = alpgen.estimate_background(card)    # SM background after the detector's cuts

Every function takes a :class:`RunCard` or the path of a card. Errors a user can cause raise
:class:`AlpgenError` (:class:`CardError` for bad cards). ``import alpgen`` stays light: numba,
vegas, awkward and the rest load when first used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import AlpgenError, CardError, Interrupted, OutputError, UsageError

if TYPE_CHECKING:
    from .background.estimate import BackgroundEstimate
    from .card import RunCard
    from .engine import CrossSection
    from .events import EventBatch
    from .runner import RunResult
    from .scanning import ScanResult

__all__ = [
    "AlpgenError",
    "CardError",
    "CrossSection",
    "EventBatch",
    "Interrupted",
    "OutputError",
    "RunCard",
    "RunResult",
    "ScanResult",
    "UsageError",
    "__version__",
    "cross_section",
    "estimate_background",
    "generate",
    "generate_batches",
    "load_card",
    "run",
    "scan",
]


# the public types live in their modules; they are imported on first access (PEP 562)
_LAZY = {
    "RunCard": "card",
    "CrossSection": "engine",
    "EventBatch": "events",
    "RunResult": "runner",
    "ScanResult": "scanning",
}

_SUBPACKAGES = ("decays", "detectors", "io", "production")


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name in _SUBPACKAGES:  # `import alpgen; alpgen.detectors...` without a separate import
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'alpgen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _as_card(card: RunCard | str | os.PathLike[str], *, check_decays: bool = True) -> RunCard:
    if isinstance(card, str | os.PathLike):
        from .card import load_card as _load

        return _load(card, check_decays=check_decays)
    return card


def load_card(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> RunCard:
    """Read and validate a TOML run card; ``overrides`` are ``"section.key=value"`` strings as
    for the command line's ``--set`` (the value read as TOML, a bare word as text)."""
    from .card import load_card as _load

    return _load(path, tuple(overrides))


def cross_section(card: RunCard | str | os.PathLike[str]) -> CrossSection:
    """The production cross section of a card in pb, integrated to ``production.precision``
    with vegas seeded from ``run.seed``: the numbers of ``alpgen xsec --json``."""
    from .dispatch import card_cross_section
    from .engine import compute_cross_section

    c = _as_card(card, check_decays=False)
    if not c.process.is_alp:  # a Standard-Model process ([process] name)
        return card_cross_section(c)
    return compute_cross_section(c).cross_section


def generate_batches(
    card: RunCard | str | os.PathLike[str], events: int | None = None
) -> Iterator[EventBatch]:
    """Fully decayed events in batches of ``[run] batch_size``, ``events`` in all (default
    ``[run] events``): the same events, in the same order, that ``alpgen run`` writes for the
    card and seed. The cross section is integrated first."""
    from .dispatch import make_engine

    engine = make_engine(_as_card(card))
    engine._require_sampler()
    yield from engine.batches(events)


def generate(card: RunCard | str | os.PathLike[str], events: int | None = None) -> EventBatch:
    """Fully decayed events in memory, ``events`` of them (default ``[run] events``); see
    :func:`generate_batches`."""
    from .events import EventBatch

    return EventBatch.concatenate(list(generate_batches(card, events)))


def run(
    card: RunCard | str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
) -> RunResult:
    """``alpgen run`` without the console: write the card's files and ``summary.json`` into
    ``out_dir`` (default ``[output] dir``) and return them with the summary (equal to
    ``summary.json``) and the detector result. The run's shards are generated in this
    process, on a local dask cluster of ``workers`` processes or on the existing cluster at
    ``scheduler``, with the same files in every case; ``resume`` finishes an interrupted run
    in ``out_dir`` (a finished one is left as it is). Progress and messages go to the
    ``alpgen`` logger; nothing is printed."""
    from .runner import run_card

    return run_card(
        _as_card(card),
        out_dir=None if out_dir is None else Path(out_dir),
        force=force,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
    )


def scan(
    card: RunCard | str | os.PathLike[str],
    masses: Iterable[float],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> ScanResult:
    """Reach scan over ALP masses (GeV): one row per mass with σ, efficiency, signal per MOT
    and the reach (``ScanResult.rows``, the rows of ``scan.csv``). ``workers`` starts a local
    dask cluster, ``scheduler`` uses an existing one (default: a process pool). With
    ``out_dir``, ``scan.csv``, ``scan.json`` and ``reach.png`` are written there."""
    from .scanning import scan_card

    return scan_card(
        _as_card(card), masses, workers=workers, scheduler=scheduler, out_dir=out_dir, force=force
    )


def estimate_background(
    card: RunCard | str | os.PathLike[str], processes: Iterable[str] | None = None
) -> BackgroundEstimate:
    """The expected Standard-Model background after the card's ``[detector]`` cuts (the
    numbers of ``alpgen background --json``): ``processes`` (default: the card's
    ``[background] processes``, else every Standard-Model process), ``[background] events``
    events each, per process and in total, with the rejection needed to go below one event."""
    from .background.estimate import card_processes
    from .background.estimate import estimate_background as _estimate

    c = _as_card(card)
    procs = tuple(processes) if processes is not None else card_processes(c, every=True)
    return _estimate(c, processes=procs)
