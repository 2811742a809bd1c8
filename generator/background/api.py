"""Function-level entry point of the Standard-Model backgrounds (physics.md §8).

:func:`background_events` ``(process, params, n, seed) -> (BackgroundCrossSection, iterator of
EventBatch)`` for ``process`` ∈ :data:`PROCESSES`:

* ``"sm_tautau"`` — μ^± A → μ^± A τ⁺τ⁻, exact tree-level QED (:mod:`alpgen.production.trident`),
  unweighted by :class:`~.trident.TridentSampler`, τ's decayed unpolarized;
* ``"sm_mumu"`` — μ^± A → μ^± A μ⁺μ⁻ (same code, identical same-charge muons);
* ``"charm"`` — μ^± N → μ^± c c̄ X by photon–gluon fusion in Pythia 8 (:mod:`.charm`), σ per
  nucleus = A × the per-nucleon σ.

``params`` is a :class:`BackgroundParams` (or anything with the same attribute names, or a
mapping of them: the card-like subset the engine will pass once ``[process] name`` is wired).
Randomness: :mod:`alpgen.streams`, ``(STREAM_BACKGROUND, p, BKG_VEGAS | BKG_PRESCAN |
BKG_EVENTS, i)``; event batch ``i`` of a trident process uses element ``i``, so its events do not
depend on how the iterator is consumed; the charm generator is one Pythia stream seeded from
element 0 (batches in order).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..errors import CardError
from ..events import EventBatch
from ..streams import BKG_EVENTS, BKG_PRESCAN, BKG_VEGAS, background_int_seed, background_rng
from .params import PROCESSES, BackgroundCrossSection, BackgroundParams

__all__ = [
    "PROCESSES",
    "BackgroundCrossSection",
    "BackgroundParams",
    "background_cross_section",
    "background_events",
    "events_for",
]


def _check_process(process: str) -> tuple[str, str | None]:
    if process not in PROCESSES:
        raise CardError(
            "process.name",
            f"unknown Standard-Model process {process!r}; allowed: {sorted(PROCESSES)}",
        )
    return PROCESSES[process]


def background_cross_section(process: str, params: Any, seed: int) -> BackgroundCrossSection:
    """σ of ``process`` (pb per nucleus) and a ready-to-use event sampler (no events drawn)."""
    kind, lepton = _check_process(process)
    bp = BackgroundParams.coerce(params)
    if kind == "charm":
        from .charm import charm_generator

        gen = charm_generator(bp, seed)
        return gen.cross_section()
    from ..production.trident import trident_cross_section
    from .trident import TridentSampler

    assert lepton is not None
    xs = trident_cross_section(
        bp.beam_pid,
        bp.beam_energy,
        lepton,
        bp.target,
        form_factors=bp.form_factors,
        t_max=bp.t_max,
        precision=bp.precision,
        seed=background_int_seed(seed, process, BKG_VEGAS),
        n_adapt=bp.n_adapt,
        nitn_adapt=bp.nitn_adapt,
        n_est_min=max(int(2.5 * bp.n_adapt), 10_000),
    )
    sampler = None
    details: dict[str, Any] = {"time_s": xs.time_s, "n_eval": xs.n_eval}
    if xs.sigma_pb > 0.0:
        sampler = TridentSampler(
            xs,
            seed=background_int_seed(seed, process, BKG_PRESCAN),
            prescan=bp.prescan,
            quantile=bp.unweight_quantile,
        )
        details.update(
            unweighting_efficiency=sampler.efficiency,
            unweighting_efficiency_true_max=sampler.efficiency_true_max,
            overweight_sigma_fraction=sampler.overweight_sigma_fraction,
            unweighting_cells=sampler.n_cells,
        )
    return BackgroundCrossSection(
        process=process,
        sigma_pb=xs.sigma_pb,
        sigma_err_pb=xs.sigma_err_pb,
        sigma_coherent_pb=xs.sigma_coherent_pb,
        sigma_incoherent_pb=xs.sigma_incoherent_pb,
        details=details,
        sampler=sampler,
    )


def _trident_batches(
    process: str, bp: BackgroundParams, res: BackgroundCrossSection, n: int, seed: int
) -> Iterator[EventBatch]:
    from .trident import sample_trident_batch

    lepton = PROCESSES[process][1]
    assert lepton is not None
    sampler = res.sampler
    if sampler is None:
        raise CardError("process.name", f"σ({process}) vanishes here; nothing to generate")
    for index in range(math.ceil(n / bp.batch_size)):
        m = min(bp.batch_size, n - index * bp.batch_size)
        rng = background_rng(seed, process, BKG_EVENTS, index)
        yield sample_trident_batch(sampler, bp, lepton, m, rng, decay=bp.decay_taus)


def background_events(
    process: str, params: Any, n: int, seed: int
) -> tuple[BackgroundCrossSection, Iterator[EventBatch]]:
    """σ of ``process`` and a lazy iterator of :class:`EventBatch`es, ``n`` events in all, in
    batches of ``params.batch_size``. Unweighted events (weight 1); the expected number of
    events per incident muon in a target of n_A nuclei/cm³ and thickness L is σ n_A L.

    Raises :class:`~alpgen.errors.CardError` (key ``process.name``) for an unknown process or
    for ``charm`` without ``pythia8mc``."""
    _check_process(process)
    bp = BackgroundParams.coerce(params)
    res = background_cross_section(process, bp, seed)
    return res, events_for(process, bp, res, n, seed)


def events_for(
    process: str, params: BackgroundParams, res: BackgroundCrossSection, n: int, seed: int
) -> Iterator[EventBatch]:
    """The event batches of :func:`background_events` for a σ already computed (``res``, from
    :func:`background_cross_section` with the same ``params`` and ``seed``)."""
    if PROCESSES[process][0] == "charm":
        return iter(res.sampler.batches(n, params.batch_size))
    return _trident_batches(process, params, res, n, seed)
