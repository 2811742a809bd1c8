"""The engine of a Standard-Model process card (``[process] name = "sm_tautau" | "sm_mumu" |
"charm"``): the per-batch interface of :class:`alpgen.engine.Engine`, so that ``alpgen run``'s
loop, the writers and the detectors work unchanged for a background process.

:class:`BackgroundEngine` integrates σ once (:func:`~.api.background_cross_section`) and then
gives batch ``index`` of ``n`` events as ``hard(index, n) -> (EventBatch, rng)`` followed by
``decay(hard, rng)``: for tridents the hard record (τ's undecayed) on the stream
``(STREAM_BACKGROUND, p, BKG_EVENTS, index)`` and the τ decays (unpolarized) on the same
generator; for charm Pythia's fully decayed events (batches in order, ``decay`` is the
identity). ``[model]``, ``decays.alp``,
forced decays and decay-length biasing do not apply (they belong to the ALP signal).

A beam spectrum (FASERν2) is a mixture of the background estimate's six energy nodes
(:mod:`.mixture`): σ is the flux average, and each batch splits its events over the nodes by a
multinomial draw on the batch's stream (probabilities w_k σ_k / Σ w_j σ_j), the nodes' events
joined in node order, ``beam_energy`` the node's energy.

σ of a fully polarized beam: QED and QCD conserve parity, so σ is the same for beam helicity
−1 and +1 (the unpolarized target and the sum over final spins leave no single-spin
longitudinal asymmetry): ``sigma_helicity_minus_pb = sigma_helicity_plus_pb = sigma_pb``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import interrupts
from ..errors import CardError
from ..events import EventBatch
from ..streams import BKG_EVENTS, BKG_NODE, background_int_seed, background_rng
from .params import PROCESSES, BackgroundCrossSection, BackgroundParams

if TYPE_CHECKING:
    from ..card import RunCard
    from ..engine import CrossSection, StageTimer

__all__ = ["BackgroundEngine", "background_cross_section_of", "background_params"]

log = logging.getLogger("alpgen")


def background_params(card: RunCard, process: str | None = None) -> BackgroundParams:
    """The :class:`BackgroundParams` of a card (beam, target, precision, batch size)."""
    del process  # the same inputs for every process
    return BackgroundParams.from_card(card)


def background_cross_section_of(
    card: RunCard, process: str, *, precision: float | None = None
) -> BackgroundCrossSection:
    """σ of ``process`` for the card's beam and target (pb per nucleus), with its sampler; a
    beam spectrum's flux average over its energy nodes (:mod:`.mixture`)."""
    from .api import background_cross_section

    if card.beam.energy is None:
        from .mixture import spectrum_cross_section

        return spectrum_cross_section(card, process, precision=precision)

    bp = background_params(card)
    if precision is not None:
        from dataclasses import replace

        bp = replace(bp, precision=float(precision))
    return background_cross_section(process, bp, card.run.seed)


@dataclass(frozen=True)
class _Params:
    """What the runner's metadata reads of an integrated process (GeV; a beam spectrum's
    :class:`~alpgen.spectrum.BeamSpectrum` with E_beam its highest energy)."""

    E_beam: float
    spectrum: Any = None


@dataclass(frozen=True)
class _Xsec:
    sigma_pb: float
    sigma_err_pb: float


@dataclass(frozen=True)
class _Integrated:
    params: _Params
    xsec: _Xsec


class _NoUnweighting:
    """Charm events come unweighted from Pythia: efficiency 1, nothing overweight."""

    efficiency = 1.0
    overweight_fraction = 0.0
    n_trials = n_accepted = n_overweight = 0


def cross_section_record(res: BackgroundCrossSection, polarization: float) -> CrossSection:
    """The :class:`~alpgen.engine.CrossSection` (``alpgen xsec --json`` keys) of a background
    σ; σ_± of a fully polarized beam equal σ (parity, module docstring)."""
    from ..engine import CrossSection

    xs = getattr(res.sampler, "xsec", None)  # the trident integration, for the part errors
    coh = res.sigma_coherent_pb
    inc = res.sigma_incoherent_pb
    details = res.details
    return CrossSection(
        sigma_pb=res.sigma_pb,
        sigma_err_pb=res.sigma_err_pb,
        sigma_coherent_pb=math.nan if coh is None else coh,
        sigma_coherent_err_pb=float(
            details.get("sigma_coherent_err_pb", getattr(xs, "sigma_coherent_err_pb", math.nan))
        ),
        sigma_incoherent_pb=math.nan if inc is None else inc,
        sigma_incoherent_err_pb=float(
            details.get("sigma_incoherent_err_pb", getattr(xs, "sigma_incoherent_err_pb", math.nan))
        ),
        beam_polarization=polarization,
        sigma_helicity_minus_pb=res.sigma_pb,
        sigma_helicity_minus_err_pb=res.sigma_err_pb,
        sigma_helicity_plus_pb=res.sigma_pb,
        sigma_helicity_plus_err_pb=res.sigma_err_pb,
        relative_precision=res.sigma_err_pb / res.sigma_pb if res.sigma_pb > 0 else 0.0,
        time_s=float(details.get("time_s", math.nan)),
        n_eval=int(details.get("n_eval", 0)),
    )


class BackgroundEngine:
    """The integrated, ready-to-sample Standard-Model process of a card (module docstring).

    Same interface as :class:`alpgen.engine.Engine` where the runner uses it: ``card``,
    ``timer``, ``cross_section``, ``sigma_pb``, ``integrated``, ``sampler``, ``alp_stable``,
    ``hard``, ``decay``, ``batch``, ``batches``, ``_require_sampler``."""

    alp_stable = False

    def __init__(
        self,
        card: RunCard,
        *,
        timer: StageTimer | None = None,
        state: tuple[BackgroundCrossSection, Any] | None = None,
    ) -> None:
        from ..engine import StageTimer
        from ..streams import BatchLayout

        self.card = card
        self.layout = BatchLayout(card.run.shard_events, card.run.batch_size)
        self.process = card.process.name
        if self.process not in PROCESSES:  # pragma: no cover - the card validates the name
            raise CardError("process.name", f"unknown process {self.process!r}")
        self.timer = timer if timer is not None else StageTimer()
        self.kind = PROCESSES[self.process][0]
        if state is None:
            log.info(
                "process %s (Standard Model): [model] and decays.alp are ignored; τ's decay "
                "unpolarized",
                self.process,
            )
            interrupts.check()
            t0 = time.perf_counter()
            self.result = background_cross_section_of(card, self.process)
            self.timer.add("integration", time.perf_counter() - t0)
            interrupts.check()
            sampler: Any = self.result.sampler if self.kind == "trident" else None
        else:
            self.result, sampler = state
        if self.kind == "charm":
            sampler = _NoUnweighting() if self.result.sigma_pb > 0 else None
        self.sampler = sampler
        #: a beam spectrum's node inputs (:mod:`.mixture`), else the card's one
        self.node_params: list[BackgroundParams] = []
        if self.result.nodes:
            from ..engine import beam_spectrum
            from .mixture import node_params

            self.node_params = [node_params(card, e) for e, _, _ in self.result.nodes]
            self.params = self.node_params[-1]  # what the nodes share (beam, target, sizes)
            spec = beam_spectrum(card)
            assert spec is not None
            beam = _Params(spec.e_max, spec)
        else:
            self.params = background_params(card)
            beam = _Params(self.params.beam_energy)
        self.integrated = _Integrated(beam, _Xsec(self.result.sigma_pb, self.result.sigma_err_pb))
        self.counting_info: Any = None
        # charm: one Pythia generator per shard (per node of a spectrum), asked for the
        # shard's batches in order
        self._charm: dict[int, Any] = {}
        self._charm_at: tuple[int, int] = (-1, -1)

    @classmethod
    def from_state(
        cls,
        card: RunCard,
        result: BackgroundCrossSection,
        sampler: Any,
        *,
        timer: StageTimer | None = None,
    ) -> BackgroundEngine:
        """An engine on an already integrated process (see :meth:`state`): nothing is
        integrated or pre-scanned again; its events equal those of the original engine."""
        return cls(card, timer=timer, state=(result, sampler))

    def state(self) -> tuple[BackgroundCrossSection, Any]:
        """σ and the trident sampler (its map and cell maxima; counters from zero; a spectrum's
        :class:`~.mixture.NodeSamplers`), frozen for shipping to a shard's process; charm ships
        σ only (each shard starts its own Pythia generators)."""
        import copy
        import dataclasses

        sampler = None
        if self.kind == "trident" and self.sampler is not None:
            sampler = copy.copy(self.sampler)
            sampler.n_trials = sampler.n_accepted = sampler.n_overweight = 0
        details = {k: v for k, v in self.result.details.items() if k != "sampler"}
        return dataclasses.replace(self.result, sampler=None, details=details), sampler

    @property
    def cross_section(self) -> CrossSection:
        return cross_section_record(self.result, self.card.beam.polarization)

    @property
    def spectrum_nodes(self) -> list[dict[str, float]] | None:
        """A beam spectrum's nodes (``energy_GeV``, ``share``, ``sigma_pb``, ``sigma_err_pb``),
        else ``None``."""
        nodes = self.result.details.get("spectrum_nodes")
        return list(nodes) if nodes else None

    @property
    def sigma_pb(self) -> float:
        return self.result.sigma_pb

    def _require_sampler(self) -> Any:
        if self.sampler is None:
            raise CardError("process.name", f"σ({self.process}) vanishes here; nothing to generate")
        return self.sampler

    def hard(
        self, index: int, n: int, rng: np.random.Generator | None = None
    ) -> tuple[EventBatch, np.random.Generator]:
        """Batch ``index`` of ``n`` events before the τ decays (charm: Pythia's full events,
        which must be asked for in order 0, 1, 2, ...) and the generator the decays continue
        on."""
        interrupts.check()
        self._require_sampler()
        if rng is None:
            rng = background_rng(self.card.run.seed, self.process, BKG_EVENTS, index)
        t0 = time.perf_counter()
        if self.kind == "charm":
            self._charm_order(index)
        if self.result.nodes:
            batch = self._mixture_batch(index, n, rng)
        elif self.kind == "charm":
            batch = self._charm_batch(index, n, -1)
        else:
            batch = self._trident_batch(self.sampler, self.params, n, rng)
        self.timer.add("hard_process", time.perf_counter() - t0)
        return batch, rng

    def _trident_batch(
        self, sampler: Any, params: BackgroundParams, n: int, rng: np.random.Generator
    ) -> EventBatch:
        from .trident import sample_trident_batch

        lepton = PROCESSES[self.process][1]
        assert lepton is not None
        return sample_trident_batch(sampler, params, lepton, n, rng, decay=False)

    def _mixture_batch(self, index: int, n: int, rng: np.random.Generator) -> EventBatch:
        """Batch ``index`` of a beam spectrum: n events split over the nodes by a multinomial
        draw from ``rng``, each node's events from its sampler (tridents: on ``rng``, in node
        order; charm: the node's Pythia generator), joined in node order (:mod:`.mixture`)."""
        from .mixture import node_probabilities

        counts = rng.multinomial(n, node_probabilities(self.result))
        parts = []
        for k, m in enumerate(counts):
            if m == 0:
                continue
            if self.kind == "charm":
                parts.append(self._charm_batch(index, int(m), k))
            else:
                sampler = self.sampler.samplers[k]
                parts.append(self._trident_batch(sampler, self.node_params[k], int(m), rng))
        return EventBatch.concatenate(parts)

    def _charm_order(self, index: int) -> None:
        """Charm batches of a shard come in order; a new shard starts new generators."""
        shard, j = self.layout.position(index)
        if j == 0 and self._charm_at != (shard, 0):
            self._charm = {}
        elif self._charm_at != (shard, j):
            raise ValueError(
                f"charm batches of a shard come in order: batch {index} (shard {shard}, "
                f"batch {j}) after {self._charm_at}"
            )
        self._charm_at = (shard, j + 1)

    def _charm_batch(self, index: int, n: int, node: int) -> EventBatch:
        """``n`` charm events of global batch ``index`` (of spectrum node ``node``; -1: the
        card's fixed energy): shard k's Pythia generators are seeded from k
        (:func:`alpgen.background.charm.charm_generator`; a node's from its node seed) and
        started at the node's first events in the shard, so a shard's events do not depend on
        the other shards."""
        from .charm import charm_generator

        gen = self._charm.get(node)
        if gen is None:
            shard, _ = self.layout.position(index)
            if node < 0:
                params, seed, sigma = self.params, self.card.run.seed, self.result
            else:
                params = self.node_params[node]
                seed = background_int_seed(self.card.run.seed, self.process, BKG_NODE, node)
                sigma = self.result.nodes[node][2]
            gen = self._charm[node] = charm_generator(params, seed, shard=shard)
            gen.set_sigma(sigma)
        return gen.batch(n, index)

    def decay(
        self, hard: EventBatch, rng: np.random.Generator, config: Any | None = None
    ) -> EventBatch:
        """The τ's of ``hard`` decayed (unpolarized, every channel); charm: unchanged."""
        del config  # forced decays belong to the ALP signal
        if self.kind == "charm":
            return hard
        from ..decays.chain import DecayConfig, decay_batch
        from .trident import _NO_ALP

        t0 = time.perf_counter()
        out = decay_batch(hard, _NO_ALP, DecayConfig(alp="auto", tau="all"), rng)
        self.timer.add("decays", time.perf_counter() - t0)
        return out

    def batch(self, index: int, n: int, rng: np.random.Generator | None = None) -> EventBatch:
        hard, rng = self.hard(index, n, rng)
        return self.decay(hard, rng)

    def batches(self, n_events: int | None = None) -> Iterator[EventBatch]:
        """Batches of fully decayed events, ``n_events`` in all (default ``[run] events``)."""
        n_total = self.card.run.events if n_events is None else n_events
        for index, size in self.layout.batches(n_total):
            yield self.batch(index, size)

    def pilot_seconds_per_event(self, n: int = 2000) -> float:
        """Generation + decay time per event from a discarded pilot batch on its own stream
        (charm: σ's Pythia events already measured it)."""
        if self.kind == "charm":
            t = float(self.result.details.get("time_s", 0.0))
            runs = sum(r.sigma_pb > 0 for _, _, r in self.result.nodes) or 1  # spectrum nodes
            return t / max(2 * self.params.charm_sigma_events * runs, 1)
        rng = background_rng(self.card.run.seed, self.process, BKG_EVENTS, 2**31)
        n = min(n, self.card.run.events)
        saved = dict(self.timer.times)  # the pilot's timings do not count
        self.batch(0, 100, rng)  # JIT warm-up
        t0 = time.perf_counter()
        self.batch(0, n, rng)
        dt = time.perf_counter() - t0
        self.timer.times = saved
        return dt / n
