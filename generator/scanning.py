"""Reach scans over the ALP mass: one engine run per mass point, on a backend of workers.

For every mass the card is re-validated with ``model.m_a`` (and, for an invisible ALP,
``model.m_chi`` at the card's fixed ratio m_a/m_χ) overridden and ``run.seed`` replaced by a
per-point seed ``SeedSequence(card seed, spawn_key=(STREAM_SCAN, i))`` of the point's index
``i`` (:mod:`alpgen.streams`). Each point runs the :class:`~alpgen.engine.Engine` (σ, then
hard events batch by batch), counts the card's ``[detector]`` (and optionally further detector
*variants* on the same hard events) with the decays each selection needs until every reach has
reached ``[run] target_precision`` (in batches of at most
:data:`~alpgen.precision.SCAN_BATCH` events, at least ``n_events`` when the scan asks for them,
at most ``[run] max_count_events``; :mod:`alpgen.precision`) and solves for the reach
(:mod:`alpgen.reach`). ``n_events`` of a point is the number of events counted, ``count_stop``
why the counting stopped.

:func:`scan_card` is ``alpgen scan`` without the console: it returns a :class:`ScanResult`
whose ``rows`` are the rows of ``scan.csv`` and, given an output directory, writes
``scan.csv`` (one row per mass), ``scan.json`` (card, seeds, backend, cutflows, timings) and
``reach.png``. Units: GeV, pb, TeV⁻¹; ``signal_per_mot`` is the expected signal per muon on
target at C/Λ_ref.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .card import RunCard, build_card
from .detectors.config import DetectorConfig
from .engine import Engine
from .errors import CardError, OutputError, UsageError
from .interrupts import check as check_interrupt
from .io.jsonutil import json_safe
from .precision import SCAN_BATCH, PrecisionCounting
from .streams import STREAM_SCAN, int_seed

if TYPE_CHECKING:
    from .backends import Backend

__all__ = [
    "CSV_COLUMNS",
    "PointResult",
    "PointTask",
    "ScanResult",
    "VariantResult",
    "evaluate_point",
    "make_tasks",
    "parse_masses",
    "point_seed",
    "rows",
    "scan_card",
    "scan_points",
    "write_csv",
]

log = logging.getLogger("alpgen")

#: Columns of ``scan.csv`` (units: GeV, pb, TeV⁻¹).
CSV_COLUMNS = (
    "m_a_GeV",
    "sigma_pb",
    "sigma_err_pb",
    "efficiency",
    "eff_err",
    "signal_per_mot",
    "reach_C_over_Lambda_invTeV",
    "reach_err_invTeV",
    "reach_fixed_br_invTeV",
    "n_events",
    "signal_events_ref",
    "C_over_Lambda_ref_invTeV",
    "n_limit",
    "n_solutions",
    "reach_upper_C_over_Lambda_invTeV",
    "m_chi_GeV",
    "seed",
    "effective_fraction",
    "selected_effective_fraction",
    "reach_rel_err",
    "count_stop",
    "reach_with_background_C_over_Lambda_invTeV",
    "reach_with_background_C_over_Lambda_err_invTeV",
)

#: Card keys whose errors mean "this mass is kinematically closed" (the point is skipped).
_KINEMATIC_KEYS = ("model.m_a", "beam.energy", "beam.spectrum", "production.t_max")

#: ``progress(done, total, message)``: called as scan points complete.
ScanProgressFn = Callable[[int, int, str], None]


# --------------------------------------------------------------------------------------------
# masses


def parse_masses(spec: str, log: bool = False) -> np.ndarray:
    """ALP masses (GeV) from ``"START:STOP:N"``: N values from START to STOP inclusive,
    linearly or (``log``) logarithmically spaced. ``"M:M:1"`` is the single mass M.

    Raises ``ValueError`` with a message saying what is wrong and what is expected.
    """
    parts = str(spec).strip().split(":")
    if len(parts) != 3:
        raise ValueError(
            f"expected START:STOP:N (masses in GeV and the number of points, e.g. 2:40:25), "
            f"got {spec!r}"
        )
    try:
        start, stop = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"START and STOP must be numbers (GeV), got {spec!r}") from None
    try:
        n = int(parts[2])
    except ValueError:
        raise ValueError(f"N must be a positive integer, got {parts[2]!r}") from None
    if not (math.isfinite(start) and math.isfinite(stop)) or start <= 0.0 or stop <= 0.0:
        raise ValueError(f"START and STOP must be finite masses > 0 GeV, got {spec!r}")
    if n < 1:
        raise ValueError(f"N must be a positive integer, got {n}")
    if stop < start:
        raise ValueError(f"STOP must not be below START, got {start:g} > {stop:g}")
    if n == 1:
        if stop != start:
            raise ValueError("N = 1 needs START = STOP (a single mass)")
        return np.array([start])
    if stop == start:
        raise ValueError(f"START = STOP = {start:g} needs N = 1")
    masses = np.geomspace(start, stop, n) if log else np.linspace(start, stop, n)
    masses[0], masses[-1] = start, stop  # exact end points
    return masses


# --------------------------------------------------------------------------------------------
# one scan point (runs in a worker: picklable inputs and outputs only)


def point_seed(seed: int, index: int) -> int:
    """The run seed of scan point ``index``: ``SeedSequence(seed, spawn_key=(STREAM_SCAN, i))``."""
    return int_seed(seed, STREAM_SCAN, index)


@dataclass(frozen=True)
class PointTask:
    """Everything a worker needs for one mass: the raw card (after the user's overrides) and
    what the scan changes. ``variants`` are ``[detector]`` overrides, one result each."""

    index: int
    m_a: float
    raw: Mapping[str, Any]
    path: str | None
    seed: int
    m_chi: float | None = None
    variants: tuple[Mapping[str, Any], ...] = ({},)
    n_events: int | None = None
    prompt_mm: float | None = None
    #: the expected Standard-Model background after the card's detector cuts and its MC error
    #: (:func:`alpgen.background.estimate.estimate_background`, once per scan); None: none
    background: tuple[float, float] | None = None

    def doc(self, variant: int | None = None) -> dict[str, Any]:
        """The raw card document of this point (with detector variant ``variant`` applied)."""
        doc = {k: dict(v) if isinstance(v, Mapping) else v for k, v in self.raw.items()}
        doc.setdefault("model", {})["m_a"] = float(self.m_a)
        if self.m_chi is not None:
            doc["model"]["m_chi"] = float(self.m_chi)
        doc.setdefault("run", {})["seed"] = int(self.seed)
        if self.n_events is not None:
            doc["run"]["events"] = int(self.n_events)
        if variant is not None and self.variants[variant]:
            if doc.get("detector") is None:
                raise CardError("detector", "detector variants need a [detector] table")
            doc["detector"] = {**doc["detector"], **self.variants[variant]}
        return doc

    def card(self, variant: int | None = None) -> RunCard:
        return build_card(self.doc(variant), path=self.path)


@dataclass
class VariantResult:
    """Detector result and reach of one detector variant at one mass."""

    detector: dict[str, Any]
    efficiency: float
    eff_err: float
    signal_events_ref: float
    signal_per_mot: float
    mot: float
    n_limit: float
    reach: float
    reach_err: float
    reach_upper: float
    n_solutions: int
    reach_prompt: float
    effective_fraction: float
    cutflow: list[dict[str, Any]] = field(default_factory=list)
    selected_effective_fraction: float = math.nan
    #: events counted for this variant and why its counting stopped (:mod:`alpgen.precision`)
    n_events: int = 0
    count_stop: str = ""
    #: the reach with the estimated background added to detector.background, and its MC error
    #: (equal to ``reach``/``reach_err`` without ``[background]``; NaN for other variants)
    reach_with_background: float = math.nan
    reach_with_background_err: float = math.nan


@dataclass
class PointResult:
    """One scan point: σ of the production process and one :class:`VariantResult` per
    detector variant. ``status`` is ``"ok"``, ``"closed"`` (kinematically forbidden, reason in
    ``message``) or ``"no signal"`` (σ = 0)."""

    index: int
    m_a: float
    m_chi: float | None
    seed: int
    c_ref: float
    sigma_pb: float
    sigma_err_pb: float
    n_events: int
    status: str = "ok"
    message: str = ""
    variants: list[VariantResult] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    #: how the counting ended (:mod:`alpgen.precision`); "" where nothing was counted
    count_stop: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_point(task: PointTask) -> PointResult:
    """Run the engine and count one scan point (runs in a worker process)."""
    t_start = time.perf_counter()
    card = task.card()  # the card's own [detector]; variants are applied on top of it below
    n = card.run.events
    engine = Engine(card)
    xs = engine.cross_section
    res = PointResult(
        task.index,
        float(task.m_a),
        task.m_chi,
        int(task.seed),
        float(card.C_over_Lambda),
        float(xs.sigma_pb),
        float(xs.sigma_err_pb),
        n,
    )
    res.timings_s.update({k: round(v, 3) for k, v in engine.timer.times.items()})
    if card.detector is None:
        raise CardError("detector", "alpgen scan needs a [detector] table in the card")
    configs = [DetectorConfig.from_card({**dict(card.detector), **dict(v)}) for v in task.variants]
    if engine.sampler is None or not res.sigma_pb > 0.0:
        res.status, res.message = "no signal", "σ = 0"
        return res
    counting = PrecisionCounting(engine, configs, prompt_mm=task.prompt_mm)
    t0 = time.perf_counter()
    results, infos = counting.finish(
        minimum=task.n_events or 0, batch_size=min(card.run.batch_size, SCAN_BATCH)
    )
    res.n_events = infos[0].count_events
    res.count_stop = infos[0].stop
    res.timings_s["events_and_detector"] = round(time.perf_counter() - t0, 3)

    for k, (cfg, sres, info) in enumerate(zip(configs, results, infos, strict=True)):
        dres, reach = sres.detector, sres.reach
        with_bkg = _with_background(task, k, counting, sres, res.sigma_err_pb)
        res.variants.append(
            VariantResult(
                detector={
                    "name": cfg.name,
                    "selection": cfg.selection,
                    "resolution_mm": cfg.resolution_mm,
                    "mot": cfg.mot,
                    "background": cfg.background,
                    "label": cfg.label,
                },
                efficiency=dres.efficiency,
                eff_err=dres.efficiency_error,
                signal_events_ref=dres.signal_events,
                signal_per_mot=dres.signal_per_mot,
                mot=dres.mot,
                n_limit=dres.n_limit,
                reach=reach.reach_C_over_Lambda_invTeV,
                reach_err=reach.reach_C_over_Lambda_err_invTeV,
                reach_upper=reach.reach_upper_C_over_Lambda_invTeV,
                n_solutions=reach.n_solutions,
                reach_prompt=reach.reach_fixed_br_invTeV,
                effective_fraction=reach.effective_fraction,
                cutflow=[asdict(c) for c in dres.cutflow],
                selected_effective_fraction=dres.selected_effective_fraction,
                n_events=info.count_events,
                count_stop=info.stop,
                reach_with_background=with_bkg[0],
                reach_with_background_err=with_bkg[1],
            )
        )
    res.timings_s["total"] = round(time.perf_counter() - t_start, 3)
    return res


def _with_background(
    task: PointTask, variant: int, counting: PrecisionCounting, sres: Any, sigma_err_pb: float
) -> tuple[float, float]:
    """The reach with the scan's background estimate (variant 0, the card's own detector; the
    reach with ``detector.background`` alone when the card has no ``[background]``)."""
    if task.background is None:
        if variant == 0:
            return sres.reach.reach_C_over_Lambda_invTeV, sres.reach.reach_C_over_Lambda_err_invTeV
        return math.nan, math.nan
    if variant != 0:  # the estimate is for the card's own detector
        return math.nan, math.nan
    from .background.estimate import reach_with_background

    b, b_err = task.background
    return reach_with_background(counting.counters[variant], sres, sigma_err_pb, b, b_err)


# --------------------------------------------------------------------------------------------
# the scan


def _m_chi_for(card: RunCard, m_a: float, m_chi_ratio: float | str | None) -> float | None:
    """m_χ (GeV) of a scan point: the card's m_a/m_χ kept fixed (``"card"``), a given ratio
    m_a/m_χ, or the card's m_χ unchanged (``None``)."""
    if m_chi_ratio is None or card.model.m_chi is None:
        return None
    ratio = card.model.m_a / card.model.m_chi if m_chi_ratio == "card" else float(m_chi_ratio)
    if not ratio > 0.0:
        raise ValueError(f"m_chi_ratio must be > 0, got {m_chi_ratio!r}")
    return m_a / ratio


def make_tasks(
    card: RunCard,
    masses: Iterable[float],
    *,
    variants: Sequence[Mapping[str, Any]] = ({},),
    m_chi_ratio: float | str | None = "card",
    n_events: int | None = None,
    prompt_mm: float | None = None,
) -> tuple[list[PointTask], list[PointResult]]:
    """Tasks for the open masses and placeholder results for the kinematically closed ones.

    Every point card (and variant) is validated here, before any work starts: a closed
    channel, a beam below threshold or t_min above t_max marks the point ``closed``; any other
    card error is raised (it is the user's card, not the mass).
    """
    tasks, closed = [], []
    for i, m in enumerate(np.asarray(list(masses), float)):
        task = PointTask(
            index=i,
            m_a=float(m),
            raw=card.raw,
            path=card.path,
            seed=point_seed(card.run.seed, i),
            m_chi=_m_chi_for(card, float(m), m_chi_ratio),
            variants=tuple(dict(v) for v in variants) or ({},),
            n_events=n_events,
            prompt_mm=prompt_mm,
        )
        try:
            for v in range(len(task.variants)):
                task.card(v)
        except CardError as exc:
            if exc.key not in _KINEMATIC_KEYS:
                raise
            closed.append(
                PointResult(
                    i,
                    float(m),
                    task.m_chi,
                    task.seed,
                    card.C_over_Lambda,
                    0.0,
                    0.0,
                    0,
                    status="closed",
                    message=str(exc),
                )
            )
            continue
        tasks.append(task)
    return tasks, closed


def scan_points(
    card: RunCard,
    masses: Iterable[float],
    *,
    backend: Backend | None = None,
    variants: Sequence[Mapping[str, Any]] = ({},),
    m_chi_ratio: float | str | None = "card",
    n_events: int | None = None,
    prompt_mm: float | None = None,
    progress: ScanProgressFn | None = None,
    background: tuple[float, float] | None = None,
) -> list[PointResult]:
    """Evaluate every mass (and detector variant) on ``backend`` (default: serial); results in
    mass order. Identical for every backend and number of workers (per-point seeds)."""
    from .backends import SerialBackend

    tasks, closed = make_tasks(
        card,
        masses,
        variants=variants,
        m_chi_ratio=m_chi_ratio,
        n_events=n_events,
        prompt_mm=prompt_mm,
    )
    if background is not None:  # ``background``: (expected, MC error) after the cuts
        tasks = [replace(t, background=background) for t in tasks]
    backend = backend if backend is not None else SerialBackend()
    results: dict[int, PointResult] = {r.index: r for r in closed}
    total = len(tasks) + len(closed)
    done = len(closed)
    if progress is not None:
        progress(done, total, "")
    for _, res in backend.map_unordered(evaluate_point, tasks):
        check_interrupt()
        results[res.index] = res
        done += 1
        if progress is not None:
            progress(done, total, f"m_a = {res.m_a:.4g} GeV done")
    return [results[i] for i in sorted(results)]


def rows(results: Sequence[PointResult], variant: int = 0) -> list[dict[str, Any]]:
    """CSV rows (:data:`CSV_COLUMNS`) of one detector variant, in mass order."""
    out = []
    for r in results:
        v = r.variants[variant] if r.variants else None
        nan = math.nan
        out.append(
            {
                "m_a_GeV": r.m_a,
                "sigma_pb": r.sigma_pb,
                "sigma_err_pb": r.sigma_err_pb,
                "efficiency": v.efficiency if v else nan,
                "eff_err": v.eff_err if v else nan,
                "signal_per_mot": v.signal_per_mot if v else (0.0 if r.status != "ok" else nan),
                "reach_C_over_Lambda_invTeV": v.reach if v else nan,
                "reach_err_invTeV": v.reach_err if v else nan,
                # N ∝ (C/Λ)² with the branching ratio frozen at its reference-coupling value
                "reach_fixed_br_invTeV": v.reach_prompt if v else nan,
                "n_events": v.n_events if v else r.n_events,
                "signal_events_ref": v.signal_events_ref if v else 0.0,
                "C_over_Lambda_ref_invTeV": r.c_ref,
                "n_limit": v.n_limit if v else nan,
                "n_solutions": v.n_solutions if v else 0,
                "reach_upper_C_over_Lambda_invTeV": v.reach_upper if v else nan,
                "m_chi_GeV": r.m_chi if r.m_chi is not None else "",
                "seed": r.seed,
                "effective_fraction": v.effective_fraction if v else nan,
                "selected_effective_fraction": v.selected_effective_fraction if v else nan,
                "reach_rel_err": v.reach_err / v.reach if v and v.reach > 0 else nan,
                "count_stop": v.count_stop if v else "",
                "reach_with_background_C_over_Lambda_invTeV": v.reach_with_background if v else nan,
                "reach_with_background_C_over_Lambda_err_invTeV": (
                    v.reach_with_background_err if v else nan
                ),
            }
        )
    return out


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return repr(x) if math.isfinite(x) else ("nan" if math.isnan(x) else repr(x))
    return str(x)


def write_csv(path: str | Path, table: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write ``table`` (dict rows) as CSV with full float precision (``repr``), atomically."""
    from .io.atomic import atomic_output

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in table:
        writer.writerow([_fmt(row.get(c, "")) for c in columns])
    with atomic_output(path, binary=False) as fh:
        fh.write(buf.getvalue())


@dataclass
class ScanResult:
    """A finished scan: the points, the ``scan.csv`` rows (:data:`CSV_COLUMNS`, mass order),
    the ``scan.json`` document (``metadata``) and the output directory if files were written."""

    points: list[PointResult]
    rows: list[dict[str, Any]]
    metadata: dict[str, Any]
    out_dir: Path | None = None

    def write(self, out_dir: str | Path, *, title: str = "", stale: Sequence[Path] = ()) -> Path:
        """Write ``scan.csv``, ``scan.json`` and ``reach.png`` into ``out_dir``: all three
        appear together or none does; ``stale`` (an earlier run's files) are removed then."""
        import matplotlib.pyplot as plt

        from .interrupts import critical
        from .io.atomic import AtomicFile, Commit
        from .plotting import plot_reach

        out = Path(out_dir)
        files = {
            "scan.csv": AtomicFile(out / "scan.csv", binary=False),
            "scan.json": AtomicFile(out / "scan.json", binary=False),
            "reach.png": AtomicFile(out / "reach.png"),
        }
        try:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for row in self.rows:
                writer.writerow([_fmt(row.get(c, "")) for c in CSV_COLUMNS])
            files["scan.csv"].open().write(buf.getvalue())
            text = json.dumps(json_safe(self.metadata), indent=2, allow_nan=False) + "\n"
            files["scan.json"].open().write(text)
            fig = plot_reach(self.rows, title=title)
            try:
                fig.savefig(files["reach.png"].open(), format="png", dpi=120)
            finally:
                plt.close(fig)
            with critical():
                Commit(list(files.values()), list(stale)).run()
        except OSError as exc:
            bad = next((f for f in files.values() if not f.closed), files["scan.csv"])
            for f in files.values():
                f.abort()
            raise OutputError.from_oserror(bad.path, exc) from exc
        except BaseException:
            for f in files.values():
                f.abort()
            raise
        self.out_dir = out
        return out


def scan_card(
    card: RunCard,
    masses: Iterable[float],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    m_chi_ratio: float | str | None = "card",
    prompt_mm: float | None = None,
    progress: ScanProgressFn | None = None,
) -> ScanResult:
    """``alpgen scan`` without the console: evaluate every mass and, with ``out_dir``, write
    ``scan.csv``, ``scan.json`` and ``reach.png`` there.

    Bad input (no masses, no ``[detector]``, every mass closed, an existing non-empty
    ``out_dir`` without ``force``, bad ``workers``/``scheduler``) raises a
    :class:`~alpgen.errors.AlpgenError` before any work starts.
    """
    from .backends import cap_workers, make_backend
    from .io.metadata import collect_versions
    from .io.outdir import OutputDir

    masses = np.asarray(list(masses), float)
    if masses.size == 0:
        raise CardError("scan.masses", "no masses to scan")
    if card.detector is None:
        raise CardError("detector", "alpgen scan needs a [detector] table in the card")
    if not card.process.is_alp:
        raise CardError(
            "process.name",
            f"{card.process.name!r}: alpgen scan scans ALP masses and needs process.name = "
            "'alp'; for a Standard-Model process use alpgen background (its count after the "
            "detector's cuts) or alpgen run (its events)",
        )
    # every check that needs no output directory comes first: a failing scan leaves none
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be ≥ 1, got {workers}")
    if workers is not None and scheduler is not None:
        raise UsageError("--workers and --scheduler exclude each other")
    workers = cap_workers(workers)
    tasks, closed = make_tasks(card, masses, m_chi_ratio=m_chi_ratio, prompt_mm=prompt_mm)
    if not tasks:
        raise CardError(
            "model.m_a", "every mass of the scan is kinematically closed: " + closed[0].message
        )
    out = Path(out_dir) if out_dir is not None else None
    with contextlib.ExitStack() as stack:
        outdir = (
            stack.enter_context(OutputDir(out, force=force, key="scan.out"))
            if out is not None
            else None
        )
        estimate = None
        if card.background.processes:  # once per scan, for the card's own detector
            from .background.estimate import estimate_background

            estimate = estimate_background(card)
        return _scan(
            card,
            masses,
            tasks,
            closed,
            outdir,
            make_backend_fn=lambda: make_backend(workers, scheduler, n_tasks=len(tasks)),
            m_chi_ratio=m_chi_ratio,
            prompt_mm=prompt_mm,
            progress=progress,
            versions=collect_versions,
            background=estimate,
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _scan(
    card: RunCard,
    masses: np.ndarray,
    tasks: list[PointTask],
    closed: list[PointResult],
    outdir: Any,
    *,
    make_backend_fn: Callable[[], Backend],
    m_chi_ratio: float | str | None,
    prompt_mm: float | None,
    progress: ScanProgressFn | None,
    versions: Callable[[], dict[str, str]],
    background: Any = None,
) -> ScanResult:
    """The scan inside its (locked) output directory, if any (see :func:`scan_card`)."""
    for r in closed:
        log.warning("m_a = %g GeV skipped: %s", r.m_a, r.message)
    try:
        backend = make_backend_fn()
    except (ValueError, RuntimeError, OSError, TimeoutError) as exc:
        raise UsageError(str(exc)) from None
    t0 = time.perf_counter()
    with backend:
        results = scan_points(
            card,
            masses,
            backend=backend,
            m_chi_ratio=m_chi_ratio,
            prompt_mm=prompt_mm,
            progress=progress,
            background=(
                (background.expected_events, background.expected_events_err)
                if background is not None
                else None
            ),
        )
    wall = time.perf_counter() - t0
    table = rows(results)
    for row in table:
        if row.get("effective_fraction", 1.0) < 0.3:  # NaN compares False: closed points pass
            log.warning(
                "at m_a = %.4g GeV the reach needed events reweighted far from the reference "
                "coupling (effective sample fraction %.2f); rerun that mass with "
                "--set model.C_over_Lambda=%.3g",
                row["m_a_GeV"],
                row["effective_fraction"],
                row["reach_C_over_Lambda_invTeV"],
            )
    meta = {
        "card": card.to_dict(),
        "card_path": card.path,
        "card_text": card.text,
        "overrides": list(card.overrides),
        "masses_GeV": masses.tolist(),
        "seed": card.run.seed,
        "seed_rule": f"SeedSequence(seed, spawn_key=({STREAM_SCAN}, i)) per mass index i",
        "m_chi_ratio": m_chi_ratio,
        "prompt_mm": prompt_mm,
        "backend": backend.describe(),
        "wall_time_s": round(wall, 3),
        "versions": versions(),
        "points": [r.to_dict() for r in results],
        "background": background.to_dict() if background is not None else None,
    }
    result = ScanResult(results, table, meta)
    if outdir is not None:
        assert card.detector is not None
        result.write(
            outdir.path,
            title=f"{card.run.name}: {card.detector.get('name', '')}",
            stale=outdir.stale,
        )
    return result
