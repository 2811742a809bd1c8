"""One shard of a run: its batches generated, decayed, counted and written under ``.shards/``.

A run of N events is ⌈N / S⌉ shards of ``[run] shard_events`` S events (the layout and the
random streams are :mod:`alpgen.streams`' :class:`~alpgen.streams.BatchLayout`). Every shard
is independent: :func:`generate_shard` (``job``, ``k``) → :class:`ShardResult` is the whole
work of shard k, the same function whether it runs in the ``alpgen run`` process, in a local
dask worker or on a remote cluster, so the files do not depend on where or how many.

:class:`ShardJob` is what is shipped to the workers once per run: the card, the integrated
process (σ and the vegas map, with the integrator's random source left behind) and the
pre-scanned sampler (the maximum weight): nothing is integrated or pre-scanned again in a
worker. It is plain picklable data. A worker builds an :class:`~alpgen.engine.Engine` from
it and uses only the engine's per-batch interface: ``layout`` (the shards' batches),
``hard(index, n)`` → (undecayed batch, its generator), ``decay(hard, rng)`` and the sampler's
counters; another process type with that interface (e.g. a Standard-Model background) plugs
in with its own job class whose ``engine()`` returns it.

A shard writes, in ``<out>/.shards/`` (:data:`SHARDS_DIR`), each under a temporary name that
is renamed when complete:

* ``events-KKKKK.<fmt>`` for each LHE / HepMC3 format of the card: with the run's metadata
  and event numbers (``[output] merge = true``, so that assembly copies gzip members as they
  are), or, with ``merge = false``, as a complete file of its own whose run info gives the
  shard's event count (``alpgen detect`` checks it) and the shard's position;
* ``root-KKKKK.npz`` with ``"root"``: per batch the :func:`~alpgen.io.histograms.event_quantities`,
  the detector flags and the selection mask, from which the run fills one
  ``histograms.root`` in shard order exactly as a single process would;
* ``shard-KKKKK.pkl`` last: the :class:`ShardResult` (per-batch detector tallies, sampler
  counters, timings). Its presence marks the shard complete (``--resume`` redoes the others).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import itertools
import math
import os
import pickle
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .engine import Engine, StageTimer
from .io.atomic import atomic_output

if TYPE_CHECKING:
    from .background.params import BackgroundCrossSection
    from .background.trident import TridentSampler
    from .card import RunCard
    from .engine import Integrated
    from .io.metadata import RunMetadata
    from .production.sampler import UnweightedSampler
    from .reach import SignalTally

__all__ = [
    "SHARDS_DIR",
    "ShardJob",
    "ShardResult",
    "event_formats",
    "generate_shard",
    "load_result",
    "result_name",
    "root_batches",
    "root_name",
    "shard_file_name",
]

#: The directory (inside the run's output directory) that holds the shards of a run.
SHARDS_DIR = ".shards"

#: The picklable detector counts of one batch: one tally per detector configuration.
BatchTallies = list["SignalTally | None"]


def shard_file_name(shard: int, fmt: str) -> str:
    """``events-KKKKK.<fmt>``: shard ``shard``'s event file of format ``fmt``."""
    return f"events-{shard:05d}.{fmt}"


def root_name(shard: int) -> str:
    """``root-KKKKK.npz``: the histogram and tree inputs of shard ``shard``."""
    return f"root-{shard:05d}.npz"


def result_name(shard: int) -> str:
    """``shard-KKKKK.pkl``: the :class:`ShardResult`, written last (the completion mark)."""
    return f"shard-{shard:05d}.pkl"


def event_formats(formats: tuple[str, ...]) -> dict[str, str]:
    """The event-file formats of ``[output] formats`` keyed as the run's writers are: the
    base name (``lhe``, ``hepmc3``), or the full name when both plain and gzip are asked."""
    out: dict[str, str] = {}
    for fmt in formats:
        base = fmt.removesuffix(".gz")
        if base in ("lhe", "hepmc3"):
            out[base if base not in out else fmt] = fmt
    return out


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs to run any shard of one run (module docstring)."""

    card: RunCard
    integrated: Integrated | BackgroundCrossSection
    sampler: UnweightedSampler | TridentSampler | None
    #: absolute path of the run's ``.shards`` directory (shared by the workers)
    shard_dir: str
    #: the run's metadata (σ, card, seed, versions, all events)
    metadata: RunMetadata

    def engine(self, timer: StageTimer | None = None) -> Any:
        """A fresh engine on the shipped state (its sampler counters start at zero): the
        ALP signal's :class:`~alpgen.engine.Engine` or, for a Standard-Model process card,
        a :class:`~alpgen.background.engine.BackgroundEngine` (``integrated`` is then its
        σ record and ``sampler`` the trident sampler, ``None`` for charm)."""
        sampler = copy.copy(self.sampler)
        if sampler is not None:
            sampler.n_trials = sampler.n_accepted = sampler.n_overweight = 0
        if not self.card.process.is_alp:
            from .background.engine import BackgroundEngine
            from .background.params import BackgroundCrossSection

            assert isinstance(self.integrated, BackgroundCrossSection)
            return BackgroundEngine.from_state(self.card, self.integrated, sampler, timer=timer)
        from .engine import Integrated
        from .production.sampler import UnweightedSampler

        assert isinstance(self.integrated, Integrated)
        assert sampler is None or isinstance(sampler, UnweightedSampler)
        return Engine.from_state(self.card, self.integrated, sampler, timer=timer)


@dataclass
class ShardResult:
    """What shard ``shard`` produced: its events [``first_event``, ``first_event`` +
    ``n_events``), its batches (global index, events), per batch the detector tallies
    (empty without ``[detector]``), the sampler's counters over its events, its timings per
    stage (s; ``shard_wall`` and ``shard_cpu`` the wall and CPU time of the whole shard in
    its process) and its files in the shard directory (by writer key, plus ``"root"``)."""

    shard: int
    first_event: int
    n_events: int
    batches: list[tuple[int, int]]
    tallies: list[BatchTallies]
    n_trials: int
    n_accepted: int
    n_overweight: int
    timings: dict[str, float]
    files: dict[str, str] = field(default_factory=dict)
    #: a Standard-Model process card with a ``[detector]``: per batch the sums of its
    #: events' pass probabilities (:meth:`alpgen.background.estimate.FakeTally.batch_sums`)
    fake_sums: list[Any] = field(default_factory=list)


def _shard_metadata(job: ShardJob, shard: int, first: int, n: int) -> RunMetadata:
    """The metadata in shard ``shard``'s own files: the run's for assembly, else its own."""
    if job.card.output.merge:
        return job.metadata
    n_shards = math.ceil(job.card.run.events / job.card.run.shard_events)
    extra = {
        **job.metadata.extra,
        "shard": shard,
        "shards": n_shards,
        "first_event": first,
        "run_events": job.metadata.n_events,
    }
    return dataclasses.replace(job.metadata, n_events=n, extra=extra)


def _open_writers(
    job: ShardJob, shard: int, first: int, n: int, stack: ExitStack
) -> dict[str, Any]:
    from .io.hepmc import HepMC3Writer
    from .io.lhe import LHEWriter

    meta = _shard_metadata(job, shard, first, n)
    directory = Path(job.shard_dir)
    writers: dict[str, Any] = {}
    for key, fmt in event_formats(job.card.output.formats).items():
        path = directory / shard_file_name(shard, fmt)
        gz = fmt.endswith(".gz")
        if fmt.startswith("lhe"):
            writers[key] = stack.enter_context(LHEWriter(path, meta, gzip=gz))
        else:
            writers[key] = stack.enter_context(HepMC3Writer(path, meta, gzip=gz, first_event=first))
    return writers


def generate_shard(
    job: ShardJob, shard: int, *, on_batch: Callable[[int], None] | None = None
) -> ShardResult:
    """Generate, decay, count and write shard ``shard`` of the job's run (module docstring).

    ``on_batch(n)`` is called after each batch of ``n`` events (a progress bar in the
    process that runs the shard). Raises :class:`~alpgen.errors.OutputError` if a file
    cannot be written; an exception or a signal leaves no complete-looking shard behind."""
    from .io.histograms import event_quantities
    from .precision import PrecisionCounting
    from .reach import SignalCounter

    wall0, cpu0 = time.perf_counter(), time.process_time()
    card = job.card
    timer = StageTimer()
    engine = job.engine(timer)
    layout = engine.layout
    first, stop = layout.shard_range(shard, card.run.events)
    batches = layout.shard_batches(shard, card.run.events)
    counting = None
    flags_counter = None
    fake = None
    fake_sums: list[Any] = []
    if card.detector is not None and card.process.is_alp:
        from .detectors.config import DetectorConfig

        counting = PrecisionCounting(engine, [DetectorConfig.from_card(dict(card.detector))])
        flags_counter = SignalCounter.from_card(card, engine.model)
    elif card.detector is not None:  # a Standard-Model process through the [detector]
        from .background.estimate import FakeTally

        fake = FakeTally.from_card(card)
    want_root = "root" in card.output.formats
    root_cols: dict[str, list[np.ndarray]] = {}
    tallies: list[BatchTallies] = []
    directory = Path(job.shard_dir)
    with ExitStack() as stack:
        writers = _open_writers(job, shard, first, stop - first, stack)
        for index, n in batches:
            hard, rng = engine.hard(index, n)
            batch = engine.decay(hard, rng)
            if counting is not None:
                tallies.append(counting.tally(index, hard, batch))
            if fake is not None:
                fake_sums.append(fake.batch_sums(batch))
            for key, w in writers.items():
                t0 = time.perf_counter()
                w.write(batch)
                timer.add(f"write_{key}", time.perf_counter() - t0)
            if want_root:
                t0 = time.perf_counter()
                cols = dict(event_quantities(batch))
                if flags_counter is not None:
                    cols.update({f"flag:{k}": v for k, v in flags_counter.flags(batch).items()})
                    cols["selected"] = flags_counter.selected(batch)
                for k, v in cols.items():
                    root_cols.setdefault(k, []).append(v)
                timer.add("write_root", time.perf_counter() - t0)
            if on_batch is not None:
                on_batch(n)
        files: dict[str, str] = {}
        for key, w in writers.items():  # trailers, fsync, rename within .shards/
            t0 = time.perf_counter()
            w.close()
            files[key] = w.path.name
            timer.add(f"write_{key}", time.perf_counter() - t0)
    if want_root:
        t0 = time.perf_counter()
        arrays = {k: np.concatenate(v) for k, v in root_cols.items()}
        arrays["batch_sizes"] = np.array([n for _, n in batches], np.int64)
        _write_npz(directory / root_name(shard), arrays)
        files["root"] = root_name(shard)
        timer.add("write_root", time.perf_counter() - t0)
    sampler = engine._require_sampler()
    timer.add("shard_wall", time.perf_counter() - wall0)
    timer.add("shard_cpu", time.process_time() - cpu0)
    result = ShardResult(
        shard=shard,
        first_event=first,
        n_events=stop - first,
        batches=batches,
        tallies=tallies,
        n_trials=sampler.n_trials,
        n_accepted=sampler.n_accepted,
        n_overweight=sampler.n_overweight,
        timings=dict(timer.times),
        files=files,
        fake_sums=fake_sums,
    )
    with atomic_output(directory / result_name(shard)) as stream:
        pickle.dump(result, stream, protocol=pickle.HIGHEST_PROTOCOL)
    return result


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    with atomic_output(path) as stream:
        stream.write(buffer.getbuffer())


def load_result(shard_dir: str | os.PathLike[str], shard: int) -> ShardResult | None:
    """The result of a complete shard in ``shard_dir`` (``None``: the shard is missing or
    incomplete, e.g. killed before it finished, or one of its files is gone)."""
    directory = Path(shard_dir)
    try:
        with open(directory / result_name(shard), "rb") as f:
            result = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, TypeError):
        return None
    if not isinstance(result, ShardResult) or result.shard != shard:
        return None
    if not all((directory / name).is_file() for name in result.files.values()):
        return None
    return result


def root_batches(path: str | os.PathLike[str]) -> list[dict[str, np.ndarray]]:
    """The per-batch columns a shard stored for ``histograms.root`` (see the module docs)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    sizes = arrays.pop("batch_sizes")
    edges = np.concatenate([[0], np.cumsum(sizes)])
    return [{k: v[a:b] for k, v in arrays.items()} for a, b in itertools.pairwise(edges)]
