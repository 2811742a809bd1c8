"""The random-stream hierarchy: every random number of a run derives from the card's seed.

    seed ─┬─ (STREAM_VEGAS)            vegas adaptation and estimation
          ├─ (STREAM_PRESCAN)          the unweighting pre-scan (maximum weight)
          ├─ (STREAM_EVENTS, i)        batch i of the event loop: hard process, helicities,
          │                            interaction point, decays (in that order)
          ├─ (STREAM_SCAN, j)          the run seed of mass point j of a scan
          ├─ (STREAM_PILOT)            the pilot batch timed for the run estimate (discarded)
          ├─ (STREAM_COUNT_DECAYS, i)  the decays redrawn for the detector counting of batch i
                                       (forced channels, biased decay lengths) on the hard
                                       events of (STREAM_EVENTS, i)
          └─ (STREAM_BACKGROUND, p, s, i)  Standard-Model background process p
                                       (BACKGROUND_PROCESSES), sub-stream s = BKG_VEGAS,
                                       BKG_PRESCAN or BKG_EVENTS, element i (event batch i;
                                       the Pythia seed of the charm generator is element 0),
                                       or BKG_NODE, element k: the master seed of energy node
                                       k of a beam spectrum's background estimate

Counting batches beyond the run's events continue the event stream: batch i of the counting
draws its hard events from (STREAM_EVENTS, i) exactly as a longer run would, so counting k
batches gives the same result however the loop is stopped.

Each stream is ``SeedSequence(seed, spawn_key=(stream, index))``: a fixed function of the seed
and its position, never of the order in which batches, points or workers finish, or of the
number of numba threads. This module is the one place that knows the numbering.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BACKGROUND_PROCESSES",
    "BKG_EVENTS",
    "BKG_NODE",
    "BKG_PRESCAN",
    "BKG_VEGAS",
    "STREAM_BACKGROUND",
    "STREAM_COUNT_DECAYS",
    "STREAM_EVENTS",
    "STREAM_PILOT",
    "STREAM_PRESCAN",
    "STREAM_SCAN",
    "STREAM_VEGAS",
    "background_int_seed",
    "background_rng",
    "background_seed",
    "int_seed",
    "rng_for",
    "seed_for",
]

STREAM_VEGAS = 0
STREAM_PRESCAN = 1
STREAM_EVENTS = 2
STREAM_SCAN = 3
STREAM_PILOT = 4
STREAM_COUNT_DECAYS = 5
STREAM_BACKGROUND = 6

#: Index p of each Standard-Model background process in ``(STREAM_BACKGROUND, p, s, i)``.
BACKGROUND_PROCESSES = {"sm_tautau": 0, "sm_mumu": 1, "charm": 2}
BKG_VEGAS = 0
BKG_PRESCAN = 1
BKG_EVENTS = 2
#: sub-stream of the energy nodes of a beam spectrum: node k of a background estimate runs the
#: process with the integer seed ``(STREAM_BACKGROUND, p, BKG_NODE, k)`` as its master seed
BKG_NODE = 3


def seed_for(seed: int, stream: int, index: int = 0) -> np.random.SeedSequence:
    """The seed sequence of stream ``stream``, element ``index`` (see the module docstring)."""
    return np.random.SeedSequence(seed, spawn_key=(stream, index))


def rng_for(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    """A PCG64 generator on :func:`seed_for`."""
    return np.random.Generator(np.random.PCG64(seed_for(seed, stream, index)))


def int_seed(seed: int, stream: int, index: int = 0) -> int:
    """A 32-bit integer seed for libraries that take one (vegas, the per-point scan seed)."""
    return int(seed_for(seed, stream, index).generate_state(1)[0])


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
