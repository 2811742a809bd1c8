"""Detector counting to a target precision of the reach, with variance reduction.

The figure of merit of a reach computation is the MC precision of the expected signal per
CPU-second. Two things make the counting precise by construction:

1. **Forced decays matched to the selection** (``[run] variance_reduction = "auto"``, the
   default). Each selection knows the decay chain it can accept
   (:func:`alpgen.detectors.needs.decay_needs`); the counting decays only those channels and
   carries the product of their branching ratios as the event weight, and draws the τ decay
   lengths from the exponential law biased towards the accepted region L > d with the exact
   likelihood ratio as a weight (:mod:`alpgen.decays.chain`); likewise the ALP decay lengths
   where the selection needs the ALP to decay within ``alp_decay_max_mm``. The counting reuses
   the hard events of the run and redraws only their decays, on the stream
   ``SUB_COUNT_DECAYS`` sub-stream of batch i (:mod:`alpgen.streams`): the event files keep the
   physical decay mix and exactly ``[run] events`` events. A card that forces channels itself
   is intersected with the selection's needs (an empty intersection is a card error naming
   the key). ``"none"`` counts the physical decays of the event stream, as before.
2. **Runs that stop at a target precision**. The counting continues batch by batch (global
   batch i of the card's :class:`~alpgen.streams.BatchLayout`, from its event stream, as a
   longer run would generate it) until the relative MC error of the reach, δ(C/Λ)/(C/Λ), is at most
   ``[run] target_precision`` for every detector counted, or ``[run] max_count_events`` events
   are counted. It never counts fewer than the run's ``[run] events``. The batch sequence is
   fixed, so stopping after batch k gives the result of a run of k batches.

``stop`` reports why the counting ended: ``"target_precision"``, ``"max_count_events"`` or
``"sigma_precision"`` (the MC error of σ alone exceeds the target: more events cannot help;
lower ``production.precision``) or ``"no_selected_events"`` (not one event selected after
:data:`NO_SIGNAL_EVENTS`: no reach to make precise) or ``"no_reach"`` (the expected signal is
known to the target precision and never reaches N_limit at any coupling: no sensitivity, and
more events cannot create one).

A scan point writes no files, so it needs no minimum: it counts from the first batch in
batches of at most :data:`SCAN_BATCH` events (finer steps, fewer events beyond the target),
unless the scan asks for a number of events per point.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .constants import LEPTONS, PID_ALP, PID_TAU
from .decays.chain import DecayConfig, select_channels
from .decays.registry import channels_for
from .detectors import fastsim
from .detectors.config import DetectorConfig
from .detectors.needs import decay_needs
from .errors import CardError
from .reach import SignalCounter, SignalResult, SignalTally

if TYPE_CHECKING:
    from .card import RunCard
    from .engine import Engine
    from .events import EventBatch

__all__ = [
    "NO_SIGNAL_EVENTS",
    "SCAN_BATCH",
    "STOP_CAP",
    "STOP_NONE",
    "STOP_SIGMA",
    "STOP_TARGET",
    "CountingInfo",
    "PrecisionCounting",
    "check_forced_channels",
    "counting_decay_config",
]

STOP_TARGET = "target_precision"
STOP_CAP = "max_count_events"
STOP_SIGMA = "sigma_precision"
STOP_NONE = "no_selected_events"
STOP_NO_REACH = "no_reach"

#: Events after which a counting that has not selected a single event stops (no reach to make
#: precise: the ALP is stable, or the selection cannot see the card's decays).
NO_SIGNAL_EVENTS = 20_000

#: Largest counting batch of a scan point (events).
SCAN_BATCH = 5000


# --------------------------------------------------------------------------------------------
# the decay configuration of the counting


def _alp_allowed(card: RunCard) -> list[str]:
    """Names of the ALP channels the card's ``decays.alp`` allows."""
    chans = channels_for(PID_ALP)
    if card.decays.alp == "auto":
        return [c.name for c in chans]
    return [c.name for c in chans if card.decays.alp in c.tags]


def _charge_flip_channels(card: RunCard) -> list[str]:
    """ALP channels whose lepton of the beam flavour has the charge opposite to the beam's
    and the card's produced lepton as the other daughter (a → μ⁺τ⁻ for a μ⁻ beam and a τ); a
    negative lepton has a positive PDG id."""
    want = card.beam.charge * LEPTONS[card.beam.flavour][0]
    other = LEPTONS[card.production.lepton_out][0]
    return [
        c.name
        for c in channels_for(PID_ALP)
        if want in c.daughters and other in {abs(d) for d in c.daughters}
    ]


def _tau_names(selection: tuple[str, ...] | None) -> list[str]:
    return [c.name for c in select_channels(channels_for(PID_TAU), selection)]


def counting_decay_config(card: RunCard, config: DetectorConfig) -> DecayConfig:
    """The decay configuration the counting of ``config`` uses for ``card`` (module docs):
    the card's own with ``variance_reduction = "none"`` or a selection that needs nothing,
    else the channels both allow and the τ decay-length biasing."""
    physical = DecayConfig(alp=card.decays.alp, tau=card.decays.tau)
    needs = decay_needs(config)
    if card.run.variance_reduction == "none" or not needs.forces_anything:
        return physical
    alp_channels: tuple[str, ...] | None = None
    # a spectrum beam may hold both charges: the charge-flip mode differs event by event
    if needs.alp_charge_flip and card.beam.energy is not None:
        allowed = set(_alp_allowed(card))
        alp_channels = tuple(n for n in _charge_flip_channels(card) if n in allowed)
    tau: str | tuple[str, ...] = card.decays.tau
    if physical.tau_selection == ():  # τ left undecayed: nothing to force or bias
        return DecayConfig(
            alp=card.decays.alp,
            tau=tau,
            alp_channels=alp_channels,
            alp_max_decay_mm=needs.alp_max_decay_mm,
        )
    if needs.tau is not None:
        need = set(_tau_names(needs.tau))
        tau = tuple(n for n in _tau_names(physical.tau_selection) if n in need)
    return DecayConfig(
        alp=card.decays.alp,
        tau=tau,
        alp_channels=alp_channels,
        tau_min_decay_mm=needs.tau_min_decay_mm,
        alp_max_decay_mm=needs.alp_max_decay_mm,
    )


def check_forced_channels(card: RunCard) -> None:
    """A card that forces decay channels none of which its ``[detector]`` selection accepts
    is a :class:`CardError` naming ``decays.tau`` or ``decays.alp`` (e.g. τ → eνν under a
    3-prong selection: nothing could ever pass)."""
    if card.detector is None:
        return
    config = DetectorConfig.from_card(dict(card.detector))
    needs = decay_needs(config)
    sel = DecayConfig(alp=card.decays.alp, tau=card.decays.tau).tau_selection
    what = f"the {config.name}/{config.selection} selection"
    if needs.tau is not None and sel:
        if not set(_tau_names(sel)) & set(_tau_names(needs.tau)):
            raise CardError(
                "decays.tau",
                f"{list(sel)!r} forces τ decays that {what} never accepts (it needs "
                f"{' or '.join(needs.tau)}): no event could pass; allow those channels or "
                "choose another selection",
            )
    if needs.alp_charge_flip and card.decays.alp != "auto" and card.beam.energy is not None:
        if not set(_alp_allowed(card)) & set(_charge_flip_channels(card)):
            raise CardError(
                "decays.alp",
                f"{card.decays.alp!r} forces ALP decays that {what} never accepts (it needs "
                f"{' or '.join(_charge_flip_channels(card))}): no event could pass",
            )


# --------------------------------------------------------------------------------------------
# counting to a target precision


@dataclass(frozen=True)
class CountingInfo:
    """How a counting went: the settings, the events and batches counted, why it stopped
    (module docstring) and the largest relative MC error of the reach reached (NaN: no reach)."""

    variance_reduction: str
    target_precision: float
    max_count_events: int
    count_events: int
    count_batches: int
    stop: str
    reach_relative_error: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        r = d["reach_relative_error"]
        d["reach_relative_error"] = r if math.isfinite(r) else None
        return d


class PrecisionCounting:
    """Counts one or more detector configurations on an engine's events (module docstring).

    ``add(index, hard, decayed)`` counts batch ``index`` of the event stream: ``hard`` its
    undecayed hard process, ``decayed`` its physical decays (``None``: decayed here when a
    configuration counts the physical decays). :meth:`finish` continues with the following
    batches until the target precision or the cap and returns the results.

    Each configuration stops on its own: its result is that of counting it alone (detector
    variants of a scan do not change each other's numbers), and every configuration sees the
    same hard events and, with the same decay configuration, the same decays.
    """

    def __init__(
        self,
        engine: Engine,
        configs: Sequence[DetectorConfig],
        *,
        prompt_mm: float | None = None,
    ) -> None:
        card = engine.card
        self.engine = engine
        self.card = card
        self.counters = [
            SignalCounter.for_card(cfg, card, engine.model, prompt_mm=prompt_mm) for cfg in configs
        ]
        self.decay_configs = [counting_decay_config(card, cfg) for cfg in configs]
        self.groups: dict[DecayConfig, list[int]] = {}
        for i, dc in enumerate(self.decay_configs):
            self.groups.setdefault(dc, []).append(i)
        self.n_events = [0] * len(configs)
        self.n_batches = [0] * len(configs)
        self.stop: list[str | None] = [None] * len(configs)
        self.next_index = 0
        self._results: dict[int, SignalResult] = {}

    @property
    def sigma(self) -> tuple[float, float]:
        xs = self.engine.cross_section
        return xs.sigma_pb, xs.sigma_err_pb

    def _active(self, members: list[int]) -> list[int]:
        return [i for i in members if self.stop[i] is None]

    @property
    def needs_physical(self) -> bool:
        """Whether an active configuration counts the physical decays of the event stream."""
        return bool(self._active(self.groups.get(self.engine.decay_config, [])))

    def add(self, index: int, hard: EventBatch, decayed: EventBatch | None = None) -> None:
        """Count batch ``index`` for every configuration still counting (class docstring)."""
        self.merge(index, len(hard), self.tally(index, hard, decayed))

    def tally(
        self, index: int, hard: EventBatch, decayed: EventBatch | None = None
    ) -> list[SignalTally | None]:
        """The counts of batch ``index`` alone, one per configuration (``None`` for one that
        has stopped), without adding them: what a shard of a run returns per batch.
        :meth:`merge` of the tallies of batches in order equals :meth:`add` of the batches."""
        t0 = time.perf_counter()
        out: list[SignalTally | None] = [None] * len(self.counters)
        for dc, members in self.groups.items():
            active = self._active(members)
            if not active:
                continue
            if dc == self.engine.decay_config:
                if decayed is None:
                    raise ValueError("this counting needs the physical decays of the batch")
                batch = decayed
            else:
                batch = self.engine.decay(hard, self.engine.count_rng(index), dc)
            obs = fastsim.analyse(batch)
            for i in active:
                counter = self.counters[i].fresh()
                counter.add(batch, observables=obs)
                out[i] = counter.tally()
        self.engine.timer.add("detector", time.perf_counter() - t0)
        return out

    def merge(self, index: int, n: int, tallies: Sequence[SignalTally | None]) -> None:
        """Add the :meth:`tally` of batch ``index`` (``n`` events) to the configurations
        still counting."""
        for i, t in enumerate(tallies):
            if t is None or self.stop[i] is not None:
                continue
            self.counters[i].merge(t)
            self.n_events[i] += n
            self.n_batches[i] += 1
            self._results.pop(i, None)
        self.next_index = index + 1

    def result(self, i: int) -> SignalResult:
        """Detector result and reach of configuration ``i`` on the events it counted."""
        if i not in self._results:
            sigma, sigma_err = self.sigma
            self._results[i] = self.counters[i].result(
                sigma_pb=sigma, sigma_err_pb=sigma_err, n_generated=self.n_events[i]
            )
        return self._results[i]

    def relative_error(self, i: int) -> float:
        """δ(C/Λ)/(C/Λ) of configuration ``i``'s reach (inf: no reach yet)."""
        r = self.result(i).reach
        value, err = r.reach_C_over_Lambda_invTeV, r.reach_C_over_Lambda_err_invTeV
        ok = math.isfinite(value) and value > 0 and math.isfinite(err)
        return err / value if ok else math.inf

    def _stop(self, i: int) -> str | None:
        """Why configuration ``i`` stops now (``None``: go on). A cheap prompt estimate ½ δN/N
        comes first; the full reach error only when that one says the target may be met."""
        target = self.card.run.target_precision
        sigma, sigma_err = self.sigma
        rel_sigma = sigma_err / sigma if sigma > 0 else math.inf
        if 0.5 * rel_sigma > target:
            return STOP_SIGMA
        c, n = self.counters[i].counter, self.n_events[i]
        ws, wsq = float(c.weight_sum[-1]), float(c.weight_sq_sum[-1])
        if ws <= 0.0 or n <= 0:
            return STOP_NONE if n >= NO_SIGNAL_EVENTS else None
        rel_eff = math.sqrt(max(wsq - ws * ws / n, 0.0)) / ws
        if 0.5 * math.hypot(rel_sigma, rel_eff) > 1.5 * target:
            return None
        if 0.5 * math.hypot(rel_sigma, rel_eff) <= target and self.result(i).reach.n_solutions == 0:
            return STOP_NO_REACH  # N(C/Λ) is known well and stays below N_limit everywhere
        return STOP_TARGET if self.relative_error(i) <= target else None

    def finish(
        self, *, minimum: int | None = None, batch_size: int | None = None
    ) -> tuple[list[SignalResult], list[CountingInfo]]:
        """Count further batches (from the next index, ``batch_size`` events each, default
        ``[run] batch_size``) until every configuration's reach has the target precision or
        ``max_count_events`` are counted; never stop below ``minimum`` events (default
        ``[run] events``). Returns the results and one :class:`CountingInfo` per
        configuration."""
        run = self.card.run
        minimum = run.events if minimum is None else minimum
        size_max = run.batch_size if batch_size is None else batch_size
        cap = run.max_count_events
        while True:
            for i in self._active(list(range(len(self.counters)))):
                n = self.n_events[i]
                if n >= min(minimum, cap) and n > 0:
                    self.stop[i] = self._stop(i)
                if self.stop[i] is None and n >= cap:
                    self.stop[i] = STOP_CAP
            active = self._active(list(range(len(self.counters))))
            if not active:
                break
            n_done = min(self.n_events[i] for i in active)
            index = self.next_index
            size = min(size_max, self.engine.layout.full_size(index), cap - n_done)
            if n_done < minimum:
                size = min(size, minimum - n_done)
            hard, rng = self.engine.hard(index, size)
            decayed = self.engine.decay(hard, rng) if self.needs_physical else None
            self.add(index, hard, decayed)
        infos = [
            CountingInfo(
                variance_reduction=run.variance_reduction,
                target_precision=run.target_precision,
                max_count_events=cap,
                count_events=self.n_events[i],
                count_batches=self.n_batches[i],
                stop=str(self.stop[i]),
                reach_relative_error=self.relative_error(i),
            )
            for i in range(len(self.counters))
        ]
        return [self.result(i) for i in range(len(self.counters))], infos
