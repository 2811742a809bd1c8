"""A run: the engine's events into files, detector counts and ``summary.json``.

:func:`run_card` is ``alpgen run`` without the console: it prepares the output directory,
integrates σ and pre-scans once, has every shard of the run generated, decayed, counted and
written under ``<dir>/.shards/`` (:func:`alpgen.sharding.generate_shard`; in this process, on
a local dask cluster or on an existing one: the files are the same), then merges the shards
in order (event files assembled, ``histograms.root`` filled, detector counts added from their
Σw and Σw², the counting continued to its target precision) and commits every file
atomically. ``resume`` redoes only the missing shards of an interrupted run
(:mod:`alpgen.resume`). It neither prints nor returns exit codes: messages go to the
``alpgen`` logger, progress to an optional callback, and errors are raised
(:class:`~alpgen.errors.CardError`, :class:`~alpgen.errors.UsageError`,
:class:`~alpgen.errors.OutputError`, :class:`~alpgen.errors.Interrupted`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import shutil
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import interrupts
from ._version import __version__
from .dispatch import make_engine
from .engine import Engine, StageTimer, beam_info, hard_batch, lepton_pids, model_summary
from .errors import OutputError, UsageError
from .interrupts import critical, debug_pause
from .io.atomic import atomic_output
from .io.metadata import RunMetadata, collect_versions
from .io.outdir import is_temporary
from .precision import CountingInfo, PrecisionCounting
from .reach import SignalResult
from .sharding import (
    SHARDS_DIR,
    ShardJob,
    ShardResult,
    event_formats,
    generate_shard,
    load_result,
    root_batches,
)
from .streams import STREAM_EVENTS, STREAM_PILOT, SUB_COUNT_DECAYS, SUB_EVENTS, rng_for

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
    #: with ``[output] merge = false``: the shard files by format, in shard order
    shard_files: dict[str, list[Path]] = field(default_factory=dict)


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
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
) -> RunResult:
    """Integrate, generate, decay, write and count the card (``alpgen run`` without console).

    ``out_dir`` overrides ``[output] dir``; ``force`` reuses a non-empty directory. The run
    is cut into shards (:mod:`alpgen.sharding`): in this process by default, on a local dask
    cluster of ``workers`` processes, or on the existing cluster at ``scheduler`` (whose
    workers must see the output directory); the files are the same in every case.
    ``resume`` finishes an interrupted run in the directory (module :mod:`alpgen.resume`):
    only the missing shards are generated, and a finished run is left as it is.

    Raises :class:`CardError` / :class:`~alpgen.errors.UsageError` before any work on bad
    input, :class:`~alpgen.errors.OutputError` if a file cannot be written and
    :class:`~alpgen.errors.Interrupted` on a signal (when the command line installed the
    handlers); no final-named partial file is left in any case, and the completed shards of
    an interrupted run stay in ``<dir>/.shards/`` for ``resume``.
    """
    from .backends import cap_workers
    from .io.outdir import OutputDir

    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be ≥ 1, got {workers}")
    if workers is not None and scheduler is not None:
        raise UsageError("--workers and --scheduler exclude each other")
    if resume and force:
        raise UsageError(
            "--resume finishes the run in the directory, --force replaces it: not both"
        )
    workers = cap_workers(workers)
    with OutputDir(
        card.output.dir if out_dir is None else out_dir,
        force=force,
        key="output.dir",
        resume=resume,
    ) as outdir:
        outdir.keep.add(SHARDS_DIR)
        try:
            return _run(card, outdir, progress, workers=workers, scheduler=scheduler, resume=resume)
        except BaseException:
            if not resume:  # a refused or failed resume leaves the earlier run as it was
                _drop_empty_shards(outdir.path / SHARDS_DIR)
            raise


def _drop_empty_shards(shards_dir: Path) -> None:
    """After a failure: a shard directory without one complete shard holds nothing to resume
    and goes (so that a run stopped before its first shard leaves no directory behind)."""
    with contextlib.suppress(OSError):
        if shards_dir.is_dir() and not any(shards_dir.glob("shard-*.pkl")):
            shutil.rmtree(shards_dir)


def _backend(workers: int | None, scheduler: str | None) -> Any:
    """The dask backend of ``--workers`` / ``--scheduler`` (``None``: this process)."""
    if workers is None and scheduler is None:
        return None
    from .backends import DaskBackend, dask_available

    if not dask_available():
        raise UsageError(
            "--workers and --scheduler need dask.distributed: pip install 'alpgen[dask]'"
        )
    try:
        return DaskBackend(n_workers=workers, scheduler=scheduler)
    except (ValueError, RuntimeError, OSError, TimeoutError) as exc:
        raise UsageError(str(exc)) from None


def _finished(card: RunCard, out: Path) -> RunResult:
    """The result of a run that had already finished (``--resume``: nothing to do)."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    log.info("%s/ holds the finished run of this card: nothing to resume", out)
    files: dict[str, Path] = {}
    for key, name in summary.get("files", {}).items():
        if isinstance(name, str):
            files[key] = (out / name).resolve()
    return RunResult(out, files, summary, None, None)


def _run(
    card: RunCard,
    outdir: OutputDir,
    progress: ProgressFn | None,
    *,
    workers: int | None,
    scheduler: str | None,
    resume: bool,
) -> RunResult:
    """The run inside its locked output directory (see :func:`run_card`)."""
    from .io.atomic import AtomicFile, Commit
    from .resume import FINGERPRINT, check_resume, fingerprint

    out = outdir.path
    shards_dir = out / SHARDS_DIR
    if resume:
        if check_resume(card, out, SHARDS_DIR) == "finished":
            return _finished(card, out)
    elif shards_dir.exists():  # an earlier run's shards (--force): not this run's
        shutil.rmtree(shards_dir)
    with ExitStack() as backend_stack:
        backend = _backend(workers, scheduler)  # an unreachable scheduler fails before any work
        if backend is not None:
            backend_stack.enter_context(backend)
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
        engine._require_sampler()
        if engine.alp_stable:
            log.warning(
                "no ALP decay channel is open at m_a = %g GeV: the ALP is stable (a final-state "
                "particle, invisible to the detectors)",
                card.model.m_a,
            )
        n_total = card.run.events
        layout = engine.layout
        n_shards = layout.n_shards(n_total)
        est = estimate(card, _pilot_seconds_per_event(engine))
        log.info(
            "%s events: estimated %s on one core and %s MB on disk (%d shard%s)",
            f"{n_total:,}",
            _duration(est["time_s"]),
            f"{est['disk_bytes'] / 1e6:,.0f}",
            n_shards,
            "" if n_shards == 1 else "s",
        )
        meta = _metadata(card, engine.integrated)
        try:
            shards_dir.mkdir(exist_ok=True)
            fp = shards_dir / FINGERPRINT
            if not fp.exists():
                with atomic_output(fp, binary=False) as fh:
                    fh.write(_dumps(fingerprint(card)) + "\n")
            for p in shards_dir.iterdir():  # temporaries of shards killed mid-way
                if is_temporary(p.name):
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
        except OSError as exc:
            raise OutputError.from_oserror(shards_dir, exc) from exc
        integrated, sampler0 = engine.state()  # sampler0: None for charm (Pythia's own)
        job = ShardJob(card, integrated, sampler0, str(shards_dir.resolve()), meta)
        results = _shards(job, n_shards, backend, progress, resume)

    # ---- merge the shards, in shard order
    sampler = engine._require_sampler()
    n_trials = sum(r.n_trials for r in results)
    n_accepted = sum(r.n_accepted for r in results)
    n_overweight = sum(r.n_overweight for r in results)
    efficiency = n_accepted / n_trials if n_trials else sampler.efficiency
    overweight = n_overweight / n_accepted if n_accepted else 0.0
    for r in results:
        for stage, seconds in r.timings.items():
            timer.add(stage, seconds)
    counting = _counting(card, engine)
    if counting is not None:
        for r in results:
            for (index, n), tallies in zip(r.batches, r.tallies, strict=True):
                counting.merge(index, n, tallies)
    if progress is not None:
        progress(n_total, n_total)
    with ExitStack() as stack:
        commit_files, files, shard_files = _outputs(
            card, out, shards_dir, meta, results, timer, stack
        )
        summary: dict[str, Any] = {
            **xs.to_dict(),
            "events": n_total,
            "shards": n_shards,
            "unweighting_efficiency": efficiency,
            "overweight_fraction": overweight,
            "alp_stable": engine.alp_stable,
            "seed": card.run.seed,
            "versions": collect_versions(),
            "card": card.to_dict(),
            "card_text": card.text,
            "overrides": list(card.overrides),
            "beam": beam_info(engine.integrated.params),
            "model": model_summary(card) if card.process.is_alp else None,
            "files": {k: v.name for k, v in files.items()},
            "timings_s": {},
        }
        nodes = getattr(engine, "spectrum_nodes", None)  # a Standard-Model process on a spectrum
        if nodes:
            summary["beam"]["spectrum_nodes"] = nodes
        if shard_files:
            summary["files"].update({k: [p.name for p in v] for k, v in shard_files.items()})
        signal_result = None
        info = None
        if counting is not None:
            signal_result, info = _finish(counting)
            summary["detector"] = {**signal_result.to_dict(), "counting": info.to_dict()}
            summary["background"] = _with_background(
                card, counting, signal_result, xs.sigma_err_pb, summary["detector"]
            )
        elif card.detector is not None:  # a Standard-Model process through the [detector]
            tally = _background_tally(card, results)
            summary["detector"] = tally.result(xs.sigma_pb, xs.sigma_err_pb).to_dict()
        summary["timings_s"] = {k: round(v, 4) for k, v in sorted(timer.times.items())}
        debug_pause("summary")  # test hook (ALPGEN_DEBUG_PAUSE), a no-op otherwise
        summary_file = AtomicFile(out / "summary.json", binary=False)
        stack.callback(summary_file.abort)  # discarded unless committed below
        fh = summary_file.open()
        try:
            fh.write(_dumps(summary) + "\n")
        except OSError as exc:
            raise OutputError.from_oserror(summary_file.path, exc) from exc
        # every file of the run appears together, or none does; signals wait meanwhile;
        # the shard directory goes once the run's files are in place
        with critical():
            Commit([*commit_files, summary_file], [*outdir.stale, shards_dir]).run()
    log.info(
        "wrote %s events to %s/ (unweighting efficiency %.1f%%, overweight fraction %.2e)",
        f"{n_total:,}",
        out,
        100 * efficiency,
        overweight,
    )
    return RunResult(out, files, json.loads(_dumps(summary)), signal_result, info, shard_files)


def _shards(
    job: ShardJob,
    n_shards: int,
    backend: Any,
    progress: ProgressFn | None,
    resume: bool,
) -> list[ShardResult]:
    """Every shard's result, in order: the complete ones of an earlier run (``resume``) read
    back, the others generated here or on the backend's workers."""
    n_total = job.card.run.events
    results: dict[int, ShardResult] = {}
    if resume:
        for k in range(n_shards):
            r = load_result(job.shard_dir, k)
            if r is not None:
                results[k] = r
        log.info(
            "resuming: %d of %d shards done, %d to go",
            len(results),
            n_shards,
            n_shards - len(results),
        )
    todo = [k for k in range(n_shards) if k not in results]
    done = sum(r.n_events for r in results.values())
    if progress is not None:
        progress(done, n_total)
    if backend is None:
        for k in todo:

            def on_batch(n: int) -> None:
                nonlocal done
                done += n
                if progress is not None:
                    progress(done, n_total)

            results[k] = generate_shard(job, k, on_batch=on_batch)
            debug_pause("shard")  # test hook (ALPGEN_DEBUG_PAUSE), a no-op otherwise
    else:
        fn = functools.partial(generate_shard, job)
        for i, result in backend.map_unordered(fn, todo):
            interrupts.check()
            results[todo[i]] = result
            done += result.n_events
            if progress is not None:
                progress(done, n_total)
            debug_pause("shard")
    return [results[k] for k in range(n_shards)]


def _outputs(
    card: RunCard,
    out: Path,
    shards_dir: Path,
    meta: RunMetadata,
    results: list[ShardResult],
    timer: StageTimer,
    stack: ExitStack,
) -> tuple[list[Any], dict[str, Path], dict[str, list[Path]]]:
    """The run's files from its shards, prepared under temporary names (each discarded
    unless committed): the files to commit, the run's files by format and, with
    ``[output] merge = false``, the shard files by format (plus ``shards.json``)."""
    from .io.assemble import assemble_prepared
    from .io.atomic import AtomicFile
    from .io.histograms import TREE_BRANCHES, HistogramWriter

    commit: list[AtomicFile] = []
    files: dict[str, Path] = {}
    shard_files: dict[str, list[Path]] = {}
    for key, fmt in event_formats(card.output.formats).items():
        names = [shards_dir / r.files[key] for r in results]
        t0 = time.perf_counter()
        if card.output.merge:
            path = out / f"events.{fmt}"
            n, f = assemble_prepared(
                fmt.removesuffix(".gz"),
                names,
                path,
                meta,
                gzip=fmt.endswith(".gz"),
                counts=[r.n_events for r in results],
            )
            stack.callback(f.abort)
            if n != card.run.events:  # pragma: no cover - the shards were checked
                raise OutputError(path, f"assembled {n} events, expected {card.run.events}")
            commit.append(f)
            files[key] = path.resolve()
        else:
            shard_files[key] = []
            for src in names:
                f = AtomicFile.adopt(src, out / src.name)
                stack.callback(f.abort)
                commit.append(f)
                shard_files[key].append((out / src.name).resolve())
        timer.add("assemble", time.perf_counter() - t0)
    if "root" in card.output.formats:
        t0 = time.perf_counter()
        w = HistogramWriter(out / "histograms.root", meta)
        stack.callback(w.abort)  # a no-op once committed
        for r in results:
            for cols in root_batches(shards_dir / r.files["root"]):
                q = {k: cols[k] for k in TREE_BRANCHES}
                if "selected" in cols:
                    extra = {
                        k.removeprefix("flag:"): v for k, v in cols.items() if k.startswith("flag:")
                    }
                    w.fill_quantities(q, extra=extra)
                    w.fill_quantities(q, tag="selected", mask=cols["selected"])
                else:
                    w.fill_quantities(q)
        w.prepare()
        commit.append(w.atomic)
        files["root"] = (out / "histograms.root").resolve()
        timer.add("write_root", time.perf_counter() - t0)
    if not card.output.merge:
        listing = _shards_json(card, results)
        f = AtomicFile(out / "shards.json", binary=False)
        stack.callback(f.abort)
        try:
            f.open().write(_dumps(listing) + "\n")
        except OSError as exc:
            raise OutputError.from_oserror(f.path, exc) from exc
        commit.append(f)
        files["shards"] = (out / "shards.json").resolve()
    return commit, files, shard_files


def _shards_json(card: RunCard, results: list[ShardResult]) -> dict[str, Any]:
    """``shards.json`` of a run with ``[output] merge = false``."""
    return {
        "events": card.run.events,
        "shard_events": card.run.shard_events,
        "batch_size": card.run.batch_size,
        "seed": card.run.seed,
        "seed_rule": (
            f"batch j of shard k: SeedSequence(seed, spawn_key=({STREAM_EVENTS}, k, j, s)), "
            f"s = {SUB_EVENTS} events, {SUB_COUNT_DECAYS} counting decays"
        ),
        "shards": [
            {
                "shard": r.shard,
                "first_event": r.first_event,
                "events": r.n_events,
                "files": {k: v for k, v in r.files.items() if k != "root"},
                "spawn_key": [STREAM_EVENTS, r.shard],
                "batches": len(r.batches),
            }
            for r in results
        ],
    }


def _counting(card: RunCard, engine: Engine) -> PrecisionCounting | None:
    """The precision counting of the card's ``[detector]`` (``None`` without one, and for a
    Standard-Model process: the signal's counting does not apply)."""
    if card.detector is None or not card.process.is_alp:
        return None
    from .detectors.config import DetectorConfig

    return PrecisionCounting(engine, [DetectorConfig.from_card(dict(card.detector))])


def _background_tally(card: RunCard, results: list[ShardResult]) -> Any:
    """A Standard-Model process card's count through its ``[detector]``: the shards' per-batch
    sums merged in shard order (:class:`~alpgen.background.estimate.FakeTally`)."""
    from .background.estimate import FakeTally

    tally = FakeTally.from_card(card)
    for r in results:
        for sums in r.fake_sums:
            tally.merge(sums)
    return tally


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
