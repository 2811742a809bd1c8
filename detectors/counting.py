"""Signal counting, cutflow and reach in C/Λ (physics.md §6).

Yield (thin target, no beam attenuation, physics.md §7 item 10)::

    N_signal = N_MOT × n_T × L × σ × ε,     ε = Σ_selected w / N_generated

with n_T = ρ N_A / A_mol (nuclei per cm³), L the target thickness (cm), σ the production cross
section (pb → cm²) and w the event weights. The weights carry any forced branching ratio; when
the decay chain instead *samples* the ALP and τ decay channels with their branching ratios
(weight 1), the branching ratios appear as the fraction of events in the selected channels.
Either way ε already contains BR(a → ...) × BR(τ → ...) × cut efficiencies, so no BR factor is
applied here. For a beam spectrum, ``sigma_pb`` must be the flux-averaged cross section
∫ (dN/dE) σ(E) dE / ∫ (dN/dE) dE of the sample and ``mot`` the total number of muons.

Limit: zero expected background → N_limit = 3 (paper, Fig. 6 caption; the exact Poisson 95 % CL
value is ln 20 = 2.996). With an expected background b > 0, N_limit is the classical Poisson
95 % CL upper limit on the signal s assuming n_obs = round(b) events are observed: the smallest
s with P(n ≤ n_obs | s + b) ≤ 0.05 (no Feldman–Cousins ordering; simple and conservative).

Reach: σ ∝ (C/Λ)², so with the branching ratios frozen at the reference coupling
(C/Λ)_lim = (C/Λ)_ref × sqrt(N_limit / N_signal(C/Λ_ref)), in TeV⁻¹ (``reach_fixed_br_invTeV``).
The coupling-consistent reach, with branching ratios and decay lengths recomputed at each
coupling, needs the ALP model and lives in :mod:`alpgen.reach`.

Monte Carlo error of ε: with x_i = w_i for selected and 0 for rejected events, ε = mean(x) and
δε = sqrt(Σ_sel w² − (Σ_sel w)²/N) / N (the standard error of the mean, which is the binomial
sqrt(ε(1−ε)/N) for unit weights). For prompt decays δ(C/Λ)/(C/Λ) = ½ δN/N.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..constants import PB_TO_CM2
from ..events import EventBatch
from ..targets import Target, get_target
from . import fastsim
from .config import DetectorConfig
from .experiments import Selection, build_selection, selection_needs_tau_decays

#: Signal events excluded at 95 % CL with zero background (paper convention).
N_LIMIT_ZERO_BACKGROUND = 3.0


# -- Poisson limits ---------------------------------------------------------------------------
def poisson_log_cdf(k: int, mu: float) -> float:
    """ln P(n ≤ k | μ) for a Poisson mean μ ≥ 0 (summed in log space, stable for large k)."""
    if k < 0:
        return -math.inf
    if mu <= 0.0:
        return 0.0
    i = np.arange(k + 1, dtype=float)
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(i[1:]))])  # ln i!
    terms = -mu + i * math.log(mu) - log_fact
    top = float(terms.max())
    return top + math.log(float(np.exp(terms - top).sum()))


def poisson_upper_limit(background: float, cl: float = 0.95) -> float:
    """Classical upper limit on the signal mean s at confidence ``cl``, for an expected
    background b observed as n_obs = round(b): smallest s ≥ 0 with P(n ≤ n_obs | s+b) ≤ 1−cl.

    b = 0 gives −ln(1−cl) = 2.996 at 95 % CL.
    """
    if not (math.isfinite(background) and background >= 0.0):
        raise ValueError(f"background must be a finite number ≥ 0, got {background!r}")
    if not 0.0 < cl < 1.0:
        raise ValueError(f"cl must be in (0, 1), got {cl!r}")
    n_obs = math.floor(background + 0.5)
    target = math.log(1.0 - cl)

    def f(s: float) -> float:  # decreasing in s
        return poisson_log_cdf(n_obs, s + background) - target

    if f(0.0) <= 0.0:
        return 0.0
    lo, hi = 0.0, n_obs + 10.0 + 10.0 * math.sqrt(n_obs + 1.0)
    while f(hi) > 0.0:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(mid) > 0.0:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return hi


def signal_limit(background: float, cl: float = 0.95) -> float:
    """Signal events needed for exclusion: 3 for zero background (paper), else
    :func:`poisson_upper_limit`."""
    if background == 0.0:
        return N_LIMIT_ZERO_BACKGROUND
    return poisson_upper_limit(background, cl)


# -- results ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CutflowEntry:
    """One cutflow row. ``events``: expected signal events after this cut; ``weight_sum``:
    Σw of the Monte Carlo events kept; ``n_mc``: their number; ``efficiency``: relative to the
    previous row; ``cumulative_efficiency``: Σw kept / N_generated."""

    cut: str
    description: str
    events: float
    weight_sum: float
    n_mc: int
    efficiency: float
    cumulative_efficiency: float


@dataclass(frozen=True)
class DetectorResult:
    """Signal yield, cutflow and reach of one experiment for one sample (see module docs)."""

    detector: str
    selection: str
    label: str
    mot: float
    sigma_pb: float
    target: str
    thickness_cm: float
    number_density_cm3: float
    n_generated: int
    n_mc_selected: int
    efficiency: float
    efficiency_error: float
    produced_events: float  #: N_MOT n_T L σ, before branching ratios and cuts
    signal_events: float
    signal_per_mot: float
    background: float
    n_limit: float
    coupling_C_over_Lambda: float
    reach_fixed_br_invTeV: float
    cutflow: list[CutflowEntry] = field(default_factory=list)
    #: (Σ_sel w)² / (N_generated Σ_sel w²): the selected events' Kish effective sample size as
    #: a fraction of the events generated (1: every event selected with equal weight)
    selected_effective_fraction: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dictionary, valid JSON: an undefined reach (no signal) is ``None``."""
        d = asdict(self)
        d["cutflow"] = [asdict(c) for c in self.cutflow]
        for key in ("reach_fixed_br_invTeV", "selected_effective_fraction"):
            if not math.isfinite(d[key]):
                d[key] = None
        return d

    def reach_for_mot(self, mot: float) -> float:
        """Reach in C/Λ (TeV⁻¹) for a different number of muons on target (∝ mot^-1/2)."""
        n = self.signal_per_mot * mot
        return _reach(self.coupling_C_over_Lambda, self.n_limit, n)


def efficiency_error(weight_sum: float, weight_sq_sum: float, n_generated: int) -> float:
    """MC error of ε = Σ_sel w / N: sqrt(Σ_sel w² − (Σ_sel w)²/N) / N (module docs)."""
    var = weight_sq_sum - weight_sum**2 / n_generated
    return math.sqrt(max(var, 0.0)) / n_generated


def _reach(c_ref: float, n_limit: float, n_signal: float) -> float:
    if n_signal <= 0.0:
        return math.inf
    return c_ref * math.sqrt(n_limit / n_signal)


# -- accumulation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CounterSums:
    """The sums a :class:`Counter` accumulates: events seen, Σw of all events, per cut Σw,
    Σw² and the MC count of the events passing it, and the events whose τ decayed."""

    n_seen: int
    weight_all: float
    weight_sum: np.ndarray
    weight_sq_sum: np.ndarray
    n_mc: np.ndarray
    n_tau_decayed: int


class Counter:
    """Streaming signal counter: ``add`` batches one by one, then ``result``.

    ``target`` (a :class:`Target` or a symbol) and ``thickness_cm`` default to the config's
    nominal target; the run card's target should be passed when it has one. ``n_generated``
    and ``coupling_C_over_Lambda`` (TeV⁻¹) are defaults for :meth:`result`.
    """

    def __init__(
        self,
        config: DetectorConfig,
        *,
        target: Target | str | None = None,
        thickness_cm: float | None = None,
        n_generated: int | None = None,
        coupling_C_over_Lambda: float = 1.0,
    ) -> None:
        self.config = config
        self.n_generated = n_generated
        self.coupling_C_over_Lambda = coupling_C_over_Lambda
        if target is None:
            target = config.target_material
        if target is None:
            raise ValueError(f"no target given and detector {config.name!r} has no default")
        self.target = get_target(target) if isinstance(target, str) else target
        self.thickness_cm = float(
            thickness_cm if thickness_cm is not None else config.target_thickness_cm or 0.0
        )
        if not self.thickness_cm > 0.0:
            raise ValueError(f"target thickness must be > 0 cm, got {self.thickness_cm}")
        self.selection: Selection = build_selection(config, self.thickness_cm)
        n_cuts = len(self.selection.cuts)
        self.n_seen = 0
        self.weight_all = 0.0
        self.weight_sum = np.zeros(n_cuts)
        self.weight_sq_sum = np.zeros(n_cuts)
        self.n_mc = np.zeros(n_cuts, np.int64)
        self.n_tau_decayed = 0
        self._cache: tuple[EventBatch, fastsim.EventObservables, list[np.ndarray]] | None = None

    def _analyse(
        self, batch: EventBatch, observables: fastsim.EventObservables | None = None
    ) -> tuple[fastsim.EventObservables, list[np.ndarray]]:
        """Observables and cumulative masks of ``batch``; the last batch's are reused, so
        ``add``, ``flags`` and ``selected`` on the same batch analyse it once."""
        if self._cache is not None and self._cache[0] is batch:
            return self._cache[1], self._cache[2]
        if observables is None or not self.config.ideal_tracks:  # shared ones have no cuts
            obs = fastsim.analyse(batch, **self.config.track_thresholds)
        else:
            obs = observables
        masks = self.selection.cumulative_masks(obs)
        self._cache = (batch, obs, masks)
        return obs, masks

    def selected(self, batch: EventBatch) -> np.ndarray:
        """Mask [N] of the events of ``batch`` passing the whole selection."""
        return self._analyse(batch)[1][-1]

    def flags(self, batch: EventBatch) -> dict[str, np.ndarray]:
        """Per-event detector columns (numeric arrays [N], e.g. for an output tree):
        ``det_<cut>`` = 1 if the event passes that cut on its own (uint8), ``det_selected`` =
        passes all cuts, ``det_n_tracks``, ``det_tau_prongs``, ``det_alp_tau_prongs``."""
        obs, masks = self._analyse(batch)
        out = {f"det_{c.name}": c(obs).astype(np.uint8) for c in self.selection.cuts}
        out["det_selected"] = masks[-1].astype(np.uint8)
        out["det_n_tracks"] = obs.n_tracks.astype(np.int32)
        out["det_tau_prongs"] = obs.tau.n_prongs.astype(np.int32)
        out["det_alp_tau_prongs"] = obs.alp_tau.n_prongs.astype(np.int32)
        return out

    def add(
        self, batch: EventBatch, *, observables: fastsim.EventObservables | None = None
    ) -> None:
        """Apply the selection to a batch and accumulate its weights. ``observables``: the
        batch's :func:`fastsim.analyse` when the caller already has them (several detector
        variants on the same events)."""
        w = np.asarray(batch.weight, float)
        if not np.all(np.isfinite(w)) or np.any(w < 0.0):
            raise ValueError("event weights must be finite and non-negative")
        obs, masks = self._analyse(batch, observables)
        self.n_seen += len(batch)
        self.weight_all += float(w.sum())
        for i, m in enumerate(masks):
            self.weight_sum[i] += float(w[m].sum())
            self.weight_sq_sum[i] += float((w[m] ** 2).sum())
            self.n_mc[i] += int(m.sum())
        self.n_tau_decayed += int(obs.tau.decayed.sum())

    def sums(self) -> CounterSums:
        """What :meth:`add` accumulated so far (to merge into another counter)."""
        return CounterSums(
            n_seen=self.n_seen,
            weight_all=self.weight_all,
            weight_sum=self.weight_sum.copy(),
            weight_sq_sum=self.weight_sq_sum.copy(),
            n_mc=self.n_mc.copy(),
            n_tau_decayed=self.n_tau_decayed,
        )

    def merge(self, sums: CounterSums) -> None:
        """Add the sums of another counter of the same selection (e.g. of one batch or one
        shard): the sums of weights and of squared weights per cut, never efficiencies.
        Merging the sums of single batches in order gives bit for bit the counter that
        added those batches itself."""
        if sums.weight_sum.shape != self.weight_sum.shape:
            raise ValueError("cannot merge the counts of a different selection")
        self.n_seen += sums.n_seen
        self.weight_all += sums.weight_all
        self.weight_sum += sums.weight_sum
        self.weight_sq_sum += sums.weight_sq_sum
        self.n_mc += sums.n_mc
        self.n_tau_decayed += sums.n_tau_decayed

    def result(
        self,
        *,
        sigma_pb: float,
        n_generated: int | None = None,
        coupling_C_over_Lambda: float | None = None,
    ) -> DetectorResult:
        """Signal yield for production cross section ``sigma_pb`` (pb) at coupling
        ``coupling_C_over_Lambda`` (TeV⁻¹); both ``n_generated`` and the coupling default to
        the values given to the constructor, else to the events added and 1 TeV⁻¹."""
        cfg = self.config
        if n_generated is None:
            n_generated = self.n_generated
        if coupling_C_over_Lambda is None:
            coupling_C_over_Lambda = self.coupling_C_over_Lambda
        if not (math.isfinite(sigma_pb) and sigma_pb >= 0.0):
            raise ValueError(f"sigma_pb must be a finite cross section ≥ 0, got {sigma_pb!r}")
        if not coupling_C_over_Lambda > 0.0:
            raise ValueError(f"coupling_C_over_Lambda must be > 0, got {coupling_C_over_Lambda}")
        n_gen = self.n_seen if n_generated is None else int(n_generated)
        if n_gen <= 0:
            raise ValueError("no events: n_generated must be > 0")
        if n_gen < self.n_seen:
            raise ValueError(f"n_generated = {n_gen} is below the {self.n_seen} events counted")
        if self.n_seen and self.n_tau_decayed == 0 and selection_needs_tau_decays(self.selection):
            warnings.warn(
                f"selection {self.selection.name} needs τ decays but no τ in the sample decayed",
                stacklevel=2,
            )
        n_t = self.target.number_density
        produced = cfg.mot * n_t * self.thickness_cm * sigma_pb * PB_TO_CM2
        cum = self.weight_sum / n_gen
        rows = [
            CutflowEntry(
                "all",
                "all generated events (weights include forced BRs)",
                produced * self.weight_all / n_gen,
                self.weight_all,
                self.n_seen,
                self.weight_all / n_gen,
                self.weight_all / n_gen,
            )
        ]
        prev = self.weight_all
        for i, cut in enumerate(self.selection.cuts):
            eff = self.weight_sum[i] / prev if prev > 0 else 0.0
            rows.append(
                CutflowEntry(
                    cut.name,
                    cut.description,
                    produced * cum[i],
                    float(self.weight_sum[i]),
                    int(self.n_mc[i]),
                    float(eff),
                    float(cum[i]),
                )
            )
            prev = self.weight_sum[i]
        eps = float(cum[-1])
        signal = produced * eps
        ws, wsq = float(self.weight_sum[-1]), float(self.weight_sq_sum[-1])
        n_limit = signal_limit(cfg.background)
        return DetectorResult(
            detector=cfg.name,
            selection=cfg.selection,
            label=cfg.label,
            mot=cfg.mot,
            sigma_pb=float(sigma_pb),
            target=self.target.symbol,
            thickness_cm=self.thickness_cm,
            number_density_cm3=n_t,
            n_generated=n_gen,
            n_mc_selected=int(self.n_mc[-1]),
            efficiency=eps,
            efficiency_error=efficiency_error(
                float(self.weight_sum[-1]), float(self.weight_sq_sum[-1]), n_gen
            ),
            produced_events=produced,
            signal_events=signal,
            signal_per_mot=signal / cfg.mot,
            background=cfg.background,
            n_limit=n_limit,
            coupling_C_over_Lambda=float(coupling_C_over_Lambda),
            reach_fixed_br_invTeV=_reach(coupling_C_over_Lambda, n_limit, signal),
            cutflow=rows,
            selected_effective_fraction=ws * ws / (n_gen * wsq) if wsq > 0 else 0.0,
        )


def count_signal(
    config: DetectorConfig,
    batch_all: EventBatch | Iterable[EventBatch],
    *,
    sigma_pb: float,
    target: Target | str | None = None,
    thickness_cm: float | None = None,
    n_generated: int | None = None,
    coupling_C_over_Lambda: float = 1.0,
) -> DetectorResult:
    """N_signal = N_MOT n_T L σ ε, cutflow and reach for one batch or an iterable of batches.

    ``sigma_pb``: production cross section (pb; flux-averaged for a spectrum) at
    ``coupling_C_over_Lambda`` (TeV⁻¹). ``target``/``thickness_cm`` (cm): the run's target,
    defaulting to the config's nominal one. ``n_generated``: events generated (default: the
    number passed in). See the module docstring for ε and the limit.
    """
    counter = Counter(config, target=target, thickness_cm=thickness_cm)
    batches = [batch_all] if isinstance(batch_all, EventBatch) else batch_all
    for b in batches:
        counter.add(b)
    return counter.result(
        sigma_pb=sigma_pb, n_generated=n_generated, coupling_C_over_Lambda=coupling_C_over_Lambda
    )


def format_table(result: DetectorResult, *, reach: tuple[float, float] | None = None) -> str:
    """Plain-text summary: setup, cutflow and reach (for printing at the end of a run).

    ``reach``: the coupling-consistent reach and its MC error (TeV⁻¹) when the caller has them
    (:mod:`alpgen.reach`); the fixed-BR closed form is always shown."""
    r = result
    head = [
        f"Detector: {r.detector} / {r.selection}" + (f"  ({r.label})" if r.label else ""),
        f"  MOT = {r.mot:.3g}, target {r.target} {r.thickness_cm:g} cm "
        f"(n = {r.number_density_cm3:.3g} cm^-3), sigma = {r.sigma_pb:.4g} pb "
        f"at C/Lambda = {r.coupling_C_over_Lambda:g} TeV^-1",
        f"  produced (MOT n L sigma) = {r.produced_events:.4g}",
    ]
    w = max([len(c.cut) for c in r.cutflow] + [4])
    lines = [f"  {'cut':<{w}}  {'events':>11}  {'MC':>8}  {'eff':>8}  {'cum. eff':>10}"]
    for c in r.cutflow:
        lines.append(
            f"  {c.cut:<{w}}  {c.events:>11.4g}  {c.n_mc:>8d}  {c.efficiency:>8.4g}  "
            f"{c.cumulative_efficiency:>10.4g}"
        )
    fixed = r.reach_fixed_br_invTeV
    if reach is not None and math.isfinite(reach[0]):
        value, err = reach
        rel = f"{100 * err / value:.2g} % " if math.isfinite(err) and value > 0 else ""
        reach_line = f"{value:.4g} ± {err:.2g} TeV^-1 ({rel}MC error; fixed BR: {fixed:.4g})"
    elif math.isfinite(fixed) and reach is None:
        reach_line = f"{fixed:.4g} TeV^-1 (fixed BR)"
    else:
        reach_line = "no sensitivity"
    rel_eff = r.efficiency_error / r.efficiency if r.efficiency > 0 else math.nan
    tail = [
        f"  efficiency = {r.efficiency:.4g} ± {r.efficiency_error:.2g} (incl. BRs; MC error)",
        f"  signal = {r.signal_events:.4g} ± {r.signal_events * rel_eff:.2g} events "
        f"({r.signal_per_mot:.3g} per MOT; efficiency MC error), "
        f"background = {r.background:g}, N_limit = {r.n_limit:.4g}",
        f"  MC events counted = {r.n_generated}, selected = {r.n_mc_selected}, selected "
        f"effective fraction = {r.selected_effective_fraction:.3g}",
        f"  reach C/Lambda = {reach_line}",
    ]
    return "\n".join(head + lines + tail)
