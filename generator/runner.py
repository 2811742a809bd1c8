"""A run: the engine's events into files, detector counts and ``summary.json``.

:func:`run_card` is ``alpgen run`` without the console: it prepares the output directory,
streams the engine's batches into the writers of ``[output] formats`` and into the card's
``[detector]``, and commits every file atomically. It neither prints nor returns exit codes:
messages go to the ``alpgen`` logger, progress to an optional callback, and errors are raised
(:class:`~alpgen.errors.CardError`, :class:`~alpgen.errors.OutputError`,
:class:`~alpgen.errors.Interrupted`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .dispatch import make_engine
from .engine import (
    Engine,
    StageTimer,
    beam_info,
    hard_batch,
    lepton_pids,
    model_summary,
)
from .errors import OutputError
from .interrupts import critical, debug_pause
from .io.metadata import RunMetadata, collect_versions
from .precision import CountingInfo, PrecisionCounting
from .reach import SignalCounter, SignalResult
from .streams import STREAM_PILOT, rng_for

if TYPE_CHECKING:
    from .card import RunCard
    from .engine import Integrated
    from .io.outdir import OutputDir

__all__ = [
    "BYTES_PER_EVENT",
    "WRITE_RATE",
    "RunResult",
    "estimate",
    "run_card",
    "simulate",
]

log = logging.getLogger("alpgen")

#: Approximate bytes per event and writing rate (events/s, one core) of each output format,
#: measured with scripts/bench_writers.py on ~10-particle events; used only for the estimate
#: logged before a run starts.
BYTES_PER_EVENT = {"lhe": 2500, "lhe.gz": 600, "hepmc3": 2500, "hepmc3.gz": 700, "root": 60}
WRITE_RATE = {"lhe": 1.0e4, "lhe.gz": 6.7e3, "hepmc3": 1.8e4, "hepmc3.gz": 8.2e3, "root": 3e5}

#: ``progress(done, total)``: called after every batch with the events generated so far.
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class RunResult:
    """What a run produced: the output directory, the files by format (absolute paths), the
    summary (equal to ``summary.json``) and the detector result with its reach (``None``
    without ``[detector]``) and how its counting went (:mod:`alpgen.precision`)."""

    out_dir: Path
    files: dict[str, Path]
    summary: dict[str, Any]
    detector: SignalResult | None
    counting: CountingInfo | None = None


def prepare_output_dir(card: RunCard, force: bool, out_dir: str | Path | None = None) -> Path:
    """Create (or, with ``force``, reuse) the output directory; an existing non-empty one
    without ``force`` is a :class:`CardError` on ``output.dir``. (``run_card`` holds the
    directory for the whole run with :class:`~alpgen.io.outdir.OutputDir` instead.)"""
    from .io.outdir import OutputDir

    with OutputDir(card.output.dir if out_dir is None else out_dir, force=force, key="output.dir"):
        pass
    return Path(card.output.dir if out_dir is None else out_dir)


def estimate(card: RunCard, seconds_per_event: float) -> dict[str, float]:
    """Estimated wall time (s) and disk use (bytes) of a run.

    ``seconds_per_event`` is the measured generation + decay cost from a pilot batch; the
    writers' costs are the measured rates of :data:`WRITE_RATE`."""
    n = card.run.events
    disk = sum(BYTES_PER_EVENT.get(f, 0) for f in card.output.formats) * n
    write = sum(1.0 / WRITE_RATE[f] for f in card.output.formats if f in WRITE_RATE)
    return {"time_s": n * (seconds_per_event + write), "disk_bytes": float(disk)}


def run_card(
    card: RunCard,
    *,
    out_dir: str | Path | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
) -> RunResult:
    """Integrate, generate, decay, write and count the card (``alpgen run`` without console).

    ``out_dir`` overrides ``[output] dir``; ``force`` reuses a non-empty directory. Raises
    :class:`CardError` before any work on bad input, :class:`~alpgen.errors.OutputError` if a
    file cannot be written and :class:`~alpgen.errors.Interrupted` on a signal (when the
    command line installed the handlers); no final-named partial file is left in any case.
    """
    from .io.outdir import OutputDir

    with OutputDir(
        card.output.dir if out_dir is None else out_dir, force=force, key="output.dir"
    ) as outdir:
        return _run(card, outdir, progress)


def _run(card: RunCard, outdir: OutputDir, progress: ProgressFn | None) -> RunResult:
    """The run inside its locked output directory (see :func:`run_card`)."""
    from .io.atomic import AtomicFile, Commit

    out = outdir.path
    timer = StageTimer()
    log.info("integrating σ to %.2g%% relative precision", 100 * card.production.precision)
    engine = make_engine(card, timer=timer)
    xs = engine.cross_section
    log.info(
        "σ = %.6g ± %.2g pb (coherent %.4g, incoherent %.4g) in %.1f s",
        xs.sigma_pb,
        xs.sigma_err_pb,
        xs.sigma_coherent_pb,
        xs.sigma_incoherent_pb,
        timer.times["integration"],
    )
    sampler = engine._require_sampler()
    if engine.alp_stable:
        log.warning(
            "no ALP decay channel is open at m_a = %g GeV: the ALP is stable (a final-state "
            "particle, invisible to the detectors)",
            card.model.m_a,
        )
    n_total = card.run.events
    est = estimate(card, _pilot_seconds_per_event(engine))
    log.info(
        "%s events: estimated %s and %s MB on disk",
        f"{n_total:,}",
        _duration(est["time_s"]),
        f"{est['disk_bytes'] / 1e6:,.0f}",
    )
    meta = _metadata(card, engine.integrated)
    counting = _counting(card, engine)
    # the physical selection flags of the events written into histograms.root
    counter = SignalCounter.from_card(card, engine.model) if counting is not None else None
    tally = _background_tally(card)  # a Standard-Model process through the [detector]
    with ExitStack() as stack:
        writers = _open_writers(card, out, meta, stack)
        done = 0
        size = card.run.batch_size
        for index in range(math.ceil(n_total / size)):
            hard, rng = engine.hard(index, min(size, n_total - index * size))
            batch = engine.decay(hard, rng)
            if counting is not None:
                counting.add(index, hard, batch)
            if tally is not None:
                tally.add(batch)
            for name, w in writers.items():
                t0 = time.perf_counter()
                if name == "root":
                    if counter is not None:
                        w.fill(batch, extra=counter.flags(batch))
                        w.fill(batch, tag="selected", mask=counter.selected(batch))
                    else:
                        w.fill(batch)
                else:
                    w.write(batch)
                timer.add(f"write_{name}", time.perf_counter() - t0)
            done += len(batch)
            if progress is not None:
                progress(done, n_total)
        for name, w in writers.items():  # trailers, flush, fsync: a full disk shows here
            t0 = time.perf_counter()
            w.prepare()
            timer.add(f"write_{name}", time.perf_counter() - t0)
        files = {name: Path(w.path).resolve() for name, w in writers.items()}

        summary: dict[str, Any] = {
            **xs.to_dict(),
            "events": n_total,
            "unweighting_efficiency": sampler.efficiency,
            "overweight_fraction": sampler.overweight_fraction,
            "alp_stable": engine.alp_stable,
            "seed": card.run.seed,
            "versions": collect_versions(),
            "card": card.to_dict(),
            "card_text": card.text,
            "overrides": list(card.overrides),
            "beam": beam_info(engine.integrated.params),
            "model": model_summary(card) if card.process.is_alp else None,
            "files": {k: v.name for k, v in files.items()},
            "timings_s": {k: round(v, 4) for k, v in timer.times.items()},
        }
        signal_result = None
        info = None
        if counting is not None:
            signal_result, info = _finish(counting)
            summary["detector"] = {**signal_result.to_dict(), "counting": info.to_dict()}
            summary["background"] = _with_background(
                card, counting, signal_result, xs.sigma_err_pb, summary["detector"]
            )
            summary["timings_s"] = {k: round(v, 4) for k, v in timer.times.items()}
        elif tally is not None:
            summary["detector"] = tally.result(xs.sigma_pb, xs.sigma_err_pb).to_dict()
        debug_pause("summary")  # test hook (ALPGEN_DEBUG_PAUSE), a no-op otherwise
        summary_file = AtomicFile(out / "summary.json", binary=False)
        stack.callback(summary_file.abort)  # discarded unless committed below
        fh = summary_file.open()
        try:
            fh.write(_dumps(summary) + "\n")
        except OSError as exc:
            raise OutputError.from_oserror(summary_file.path, exc) from exc
        # every file of the run appears together, or none does; signals wait meanwhile
        with critical():
            Commit([*(w.atomic for w in writers.values()), summary_file], outdir.stale).run()
    log.info(
        "wrote %s events to %s/ (unweighting efficiency %.1f%%, overweight fraction %.2e)",
        f"{n_total:,}",
        out,
        100 * sampler.efficiency,
        sampler.overweight_fraction,
    )
    return RunResult(out, files, json.loads(_dumps(summary)), signal_result, info)


def _counting(card: RunCard, engine: Engine) -> PrecisionCounting | None:
    """The precision counting of the card's ``[detector]`` (``None`` without one, and for a
    Standard-Model process: the signal's counting does not apply)."""
    if card.detector is None or not card.process.is_alp:
        return None
    from .detectors.config import DetectorConfig

    return PrecisionCounting(engine, [DetectorConfig.from_card(dict(card.detector))])


def _background_tally(card: RunCard) -> Any:
    """For a Standard-Model process card with a ``[detector]``: the tally of its events
    through the detector's cuts (:class:`~alpgen.background.estimate.FakeTally`), else None."""
    if card.detector is None or card.process.is_alp:
        return None
    from .background.estimate import FakeTally
    from .detectors.config import DetectorConfig

    return FakeTally(
        card.process.name,
        DetectorConfig.from_card(dict(card.detector)),
        target=card.target_material,
        thickness_cm=card.target.thickness_cm,
    )


def _with_background(
    card: RunCard,
    counting: PrecisionCounting,
    result: SignalResult,
    sigma_err_pb: float,
    detector: dict[str, Any],
) -> dict[str, Any] | None:
    """Add the reach with background to ``detector`` (summary.json) and return the background
    estimate of ``[background] processes`` (None without them)."""
    from .background.estimate import reach_keys

    keys, est = reach_keys(card, counting.counters[0], result, sigma_err_pb)
    detector.update(keys)
    return est.to_dict() if est is not None else None


def _finish(counting: PrecisionCounting) -> tuple[SignalResult, CountingInfo]:
    results, infos = counting.finish()
    info = infos[0]
    log.info(
        "counted %s events in %d batches (%s): reach MC error %.2g%% (target %.2g%%)",
        f"{info.count_events:,}",
        info.count_batches,
        info.stop,
        100 * info.reach_relative_error,
        100 * info.target_precision,
    )
    return results[0], info


def simulate(card: RunCard, *, n_events: int | None = None) -> tuple[Engine, SignalResult | None]:
    """Integrate, generate, decay and count signal without writing files: the engine and the
    detector result with its reach (``None`` without ``[detector]`` or when σ vanishes).

    The counting is that of ``alpgen run`` (:mod:`alpgen.precision`): at least ``n_events``
    (default ``[run] events``), then on to ``[run] target_precision``; the
    :class:`~alpgen.precision.CountingInfo` is ``engine.counting_info``."""
    engine = Engine(card)
    counting = _counting(card, engine)
    if counting is None or engine.sampler is None:
        return engine, None
    results, infos = counting.finish(minimum=n_events)
    engine.counting_info = infos[0]
    return engine, results[0]


def _pilot_seconds_per_event(engine: Engine, n: int = 2000) -> float:
    """Generation + decay time per event from a pilot batch on its own random stream (its
    events are discarded, so the run's events do not depend on it; nor do its timings count)."""
    from .decays.chain import decay_batch

    card = engine.card
    own = getattr(engine, "pilot_seconds_per_event", None)  # a Standard-Model process's
    if own is not None:
        return float(own(n))
    sampler = engine._require_sampler()
    rng = rng_for(card.run.seed, STREAM_PILOT)

    def pilot(size: int) -> float:
        t0 = time.perf_counter()
        hard = sampler.sample(size, rng)
        batch = hard_batch(hard, card, rng, helicity_fn=engine.helicity_fn)
        decay_batch(batch, engine.model, engine.decay_config, rng)
        return time.perf_counter() - t0

    pilot(100)  # JIT warm-up (compiles or loads the cache) is not part of the rate
    n = min(n, card.run.events)
    return pilot(n) / n


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _dumps(obj: Any) -> str:
    """Strict JSON: NaN/Infinity become null (:func:`alpgen.io.jsonutil.json_safe`)."""
    from .io.jsonutil import dumps

    return dumps(obj)


def _metadata(card: RunCard, integrated: Integrated) -> RunMetadata:
    target = card.target_material
    beam_pid, _ = lepton_pids(card)
    return RunMetadata(
        card_text=card.text + "".join(f"\n# --set {o}" for o in card.overrides),
        card=card.to_dict(),
        seed=card.run.seed,
        versions=collect_versions(),
        sigma_pb=integrated.xsec.sigma_pb,
        sigma_err_pb=integrated.xsec.sigma_err_pb,
        n_events=card.run.events,
        beam_pid=-card.beam.charge * beam_pid,
        beam_energy=integrated.params.E_beam,
        target_pid=target.pdgid,
        target_mass=target.nucleus_mass,
        generator_version=__version__,
        extra=beam_info(integrated.params),
    )


def _open_writers(card: RunCard, out: Path, meta: RunMetadata, stack: ExitStack) -> dict[str, Any]:
    """One writer per format, keyed ``lhe``/``hepmc3``/``root`` (the full format name, e.g.
    ``hepmc3.gz``, when a format is asked for both plain and compressed)."""
    writers: dict[str, Any] = {}
    for fmt in card.output.formats:
        gz = fmt.endswith(".gz")
        base = fmt.removesuffix(".gz")
        key = base if base not in writers else fmt
        if base == "lhe":
            from .io.lhe import LHEWriter

            writers[key] = stack.enter_context(LHEWriter(out / f"events.{fmt}", meta, gzip=gz))
        elif base == "hepmc3":
            from .io.hepmc import HepMC3Writer

            writers[key] = stack.enter_context(HepMC3Writer(out / f"events.{fmt}", meta, gzip=gz))
        elif fmt == "root":
            from .io.histograms import HistogramWriter

            writers["root"] = stack.enter_context(HistogramWriter(out / "histograms.root", meta))
    return writers
