"""The random-stream hierarchy: every random number of a run derives from the card's seed.

    seed ─┬─ (STREAM_VEGAS)            vegas adaptation and estimation
          ├─ (STREAM_PRESCAN)          the unweighting pre-scan (maximum weight)
          ├─ (STREAM_EVENTS, k, j, s)  shard k → batch j of that shard → sub-stream s:
          │                            s = SUB_EVENTS: the hard process, helicities,
          │                            interaction point and decays (in that order);
          │                            s = SUB_COUNT_DECAYS: the decays redrawn for the
          │                            detector counting (forced channels, biased decay
          │                            lengths) on the hard events of SUB_EVENTS
          ├─ (STREAM_SCAN, j)          the run seed of mass point j of a scan
          ├─ (STREAM_PILOT)            the pilot batch timed for the run estimate (discarded)
          └─ (STREAM_BACKGROUND, p, s, i)  Standard-Model background process p
                                       (BACKGROUND_PROCESSES), sub-stream s = BKG_VEGAS,
                                       BKG_PRESCAN or BKG_EVENTS, element i (event batch i;
                                       the Pythia seed of the charm generator is element 0),
                                       or BKG_NODE, element k: the master seed of energy node
                                       k of a beam spectrum's background estimate,
                                       or BKG_CHARM_SHARD, element k > 0: the Pythia seeds of
                                       shard k of a sharded charm run (shard 0 keeps
                                       BKG_EVENTS element 0); trident batches use the global
                                       batch index i of the layout below

Events are laid out by :class:`BatchLayout`: shard k of ``[run] shard_events`` events S owns
the events [k·S, (k+1)·S) of the run, cut into batches of ``[run] batch_size`` B that never
cross a shard boundary (the last batch of a shard has S − j·B events when B does not divide
S). Batch j of shard k has the global batch index i = k·⌈S/B⌉ + j: the engine's
``hard(i, n)`` and the detector counting address batches by i, and :meth:`BatchLayout.position`
maps i back to (k, j). A shard's events therefore depend only on the seed, k and the layout,
never on which worker ran it or how many workers there were. (Until 0.1 the event streams
were ``(2, i)`` and the counting decays ``(5, i)``; stream id 5 is retired.)

Counting batches beyond the run's events continue the layout: batch i of the counting draws
its hard events from the stream of i exactly as a longer run would, so counting k batches
gives the same result however the loop is stopped.

Each stream is ``SeedSequence(seed, spawn_key=key)``: a fixed function of the seed and its
position, never of the order in which batches, shards, points or workers finish, or of the
number of numba threads. This module is the one place that knows the numbering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BACKGROUND_PROCESSES",
    "BKG_CHARM_SHARD",
    "BKG_EVENTS",
    "BKG_NODE",
    "BKG_PRESCAN",
    "BKG_VEGAS",
    "STREAM_BACKGROUND",
    "STREAM_EVENTS",
    "STREAM_PILOT",
    "STREAM_PRESCAN",
    "STREAM_SCAN",
    "STREAM_VEGAS",
    "SUB_COUNT_DECAYS",
    "SUB_EVENTS",
    "BatchLayout",
    "background_int_seed",
    "background_rng",
    "background_seed",
    "batch_rng",
    "batch_seed",
    "int_seed",
    "rng_for",
    "seed_for",
]

STREAM_VEGAS = 0
STREAM_PRESCAN = 1
STREAM_EVENTS = 2
STREAM_SCAN = 3
STREAM_PILOT = 4
# 5: retired (the counting decays of 0.1, now the sub-stream SUB_COUNT_DECAYS of a batch)
STREAM_BACKGROUND = 6

#: Sub-streams s of a batch's ``(STREAM_EVENTS, k, j, s)``.
SUB_EVENTS = 0
SUB_COUNT_DECAYS = 1

#: Index p of each Standard-Model background process in ``(STREAM_BACKGROUND, p, s, i)``.
BACKGROUND_PROCESSES = {"sm_tautau": 0, "sm_mumu": 1, "charm": 2}
BKG_VEGAS = 0
BKG_PRESCAN = 1
BKG_EVENTS = 2
#: sub-stream of the energy nodes of a beam spectrum: node k of a background estimate runs the
#: process with the integer seed ``(STREAM_BACKGROUND, p, BKG_NODE, k)`` as its master seed
BKG_NODE = 3
#: sub-stream of the Pythia seeds of shard k > 0 of a sharded charm run
BKG_CHARM_SHARD = 4


def seed_for(seed: int, stream: int, index: int = 0) -> np.random.SeedSequence:
    """The seed sequence of stream ``stream``, element ``index`` (see the module docstring)."""
    return np.random.SeedSequence(seed, spawn_key=(stream, index))


def rng_for(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    """A PCG64 generator on :func:`seed_for`."""
    return np.random.Generator(np.random.PCG64(seed_for(seed, stream, index)))


def int_seed(seed: int, stream: int, index: int = 0) -> int:
    """A 32-bit integer seed for libraries that take one (vegas, the per-point scan seed)."""
    return int(seed_for(seed, stream, index).generate_state(1)[0])


@dataclass(frozen=True)
class BatchLayout:
    """Where each event of a run lies: shards of ``shard_events`` events, each cut into
    batches of at most ``batch_size`` (module docstring)."""

    shard_events: int
    batch_size: int

    def __post_init__(self) -> None:
        if self.shard_events < 1 or self.batch_size < 1:
            raise ValueError(f"shard and batch sizes must be ≥ 1, got {self}")

    @property
    def batches_per_shard(self) -> int:
        """⌈S/B⌉: the number of batches of a full shard."""
        return math.ceil(self.shard_events / self.batch_size)

    def position(self, index: int) -> tuple[int, int]:
        """(shard k, batch j within the shard) of global batch ``index``."""
        if index < 0:
            raise ValueError(f"batch index must be ≥ 0, got {index}")
        return divmod(index, self.batches_per_shard)

    def index(self, shard: int, batch: int) -> int:
        """The global batch index of batch ``batch`` of shard ``shard``."""
        return shard * self.batches_per_shard + batch

    def full_size(self, index: int) -> int:
        """Events of batch ``index`` in a run long enough to fill its shard."""
        _, j = self.position(index)
        return min(self.batch_size, self.shard_events - j * self.batch_size)

    def first_event(self, index: int) -> int:
        """The run's event number (0-based) of the first event of batch ``index``."""
        k, j = self.position(index)
        return k * self.shard_events + j * self.batch_size

    def n_shards(self, n_events: int) -> int:
        """⌈N/S⌉: the shards of a run of ``n_events`` events."""
        return math.ceil(n_events / self.shard_events)

    def shard_range(self, shard: int, n_events: int) -> tuple[int, int]:
        """[start, stop) of the events shard ``shard`` owns in a run of ``n_events``."""
        start = shard * self.shard_events
        return start, min(start + self.shard_events, n_events)

    def shard_batches(self, shard: int, n_events: int) -> list[tuple[int, int]]:
        """(global batch index, events) of every batch of shard ``shard`` of a run of
        ``n_events`` events, in order (empty beyond the run)."""
        start, stop = self.shard_range(shard, n_events)
        out = []
        for j in range(self.batches_per_shard):
            first = start + j * self.batch_size
            if first >= stop:
                break
            out.append((self.index(shard, j), min(self.batch_size, stop - first)))
        return out

    def batches(self, n_events: int) -> list[tuple[int, int]]:
        """(global batch index, events) of every batch of a run of ``n_events``, in order."""
        return [b for k in range(self.n_shards(n_events)) for b in self.shard_batches(k, n_events)]


def batch_seed(seed: int, layout: BatchLayout, index: int, sub: int) -> np.random.SeedSequence:
    """The seed sequence ``(STREAM_EVENTS, k, j, sub)`` of global batch ``index``."""
    k, j = layout.position(index)
    return np.random.SeedSequence(seed, spawn_key=(STREAM_EVENTS, k, j, sub))


def batch_rng(
    seed: int, layout: BatchLayout, index: int, sub: int = SUB_EVENTS
) -> np.random.Generator:
    """A PCG64 generator on :func:`batch_seed`."""
    return np.random.Generator(np.random.PCG64(batch_seed(seed, layout, index, sub)))


def background_seed(seed: int, process: str, sub: int, index: int = 0) -> np.random.SeedSequence:
    """The seed sequence ``(STREAM_BACKGROUND, p, sub, index)`` of background ``process``
    (a key of :data:`BACKGROUND_PROCESSES`); disjoint from every signal stream."""
    return np.random.SeedSequence(
        seed, spawn_key=(STREAM_BACKGROUND, BACKGROUND_PROCESSES[process], sub, index)
    )


def background_rng(seed: int, process: str, sub: int, index: int = 0) -> np.random.Generator:
    """A PCG64 generator on :func:`background_seed`."""
    return np.random.Generator(np.random.PCG64(background_seed(seed, process, sub, index)))


def background_int_seed(seed: int, process: str, sub: int, index: int = 0) -> int:
    """A 32-bit integer seed on :func:`background_seed` (vegas, Pythia)."""
    return int(background_seed(seed, process, sub, index).generate_state(1)[0])
