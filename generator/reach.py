"""Reach statistics: from selected signal events to the smallest excluded coupling C/Λ.

One name per quantity, in summary.json, scan.csv and the API alike (TeV⁻¹):

* ``reach_C_over_Lambda_invTeV``: the coupling-consistent reach, the smallest C/Λ at which the
  expected signal N(C/Λ) reaches N_limit, with the ALP branching ratios and decay lengths
  recomputed at each coupling (below);
* ``reach_C_over_Lambda_err_invTeV``: its Monte Carlo error;
* ``reach_fixed_br_invTeV``: the closed form C/Λ_ref √(N_limit/N_ref), N ∝ (C/Λ)² with the
  branching ratios frozen at the reference coupling (paper Fig. 6, left panel);
* ``reach_upper_C_over_Lambda_invTeV``: where the excluded band closes again (NaN: it does not
  within the searched range); ``n_solutions``: the number of roots found (0: no sensitivity);
* ``effective_fraction``: Kish effective sample fraction of the coupling reweighting at the reach.

For prompt decays with a branching ratio independent of the coupling the two reaches agree.

Coupling dependence. The card's coupling C/Λ_ref (TeV⁻¹) is the reference; σ ∝ (C/Λ)², so

    N(C/Λ) = N_ref (C/Λ / C/Λ_ref)² × ⟨ R_i(C/Λ) ⟩_selected,

where the average runs over the selected events with their weights and R_i is the ratio of
the event's probability at C/Λ to that at C/Λ_ref:

* the ALP branching ratio of the event's channel, BR(C/Λ)/BR(C/Λ_ref), with
  BR(a→χχ̄) = Γ_χ/(Γ_χ + Γ_vis) and Γ_vis ∝ (C/Λ)², Γ_χ fixed;
* the decay-position probability of the ALP, (λ_ref/λ) exp(−ℓ/λ + ℓ/λ_ref), with ℓ the sampled
  lab decay distance and λ = βγ cτ_a(C/Λ) the lab mean decay length. It is applied only where
  λ or λ_ref exceeds ``prompt_mm``: a decay point that moves by less than that cannot change
  the selection. By default ``prompt_mm`` is 1 % of the smallest length on which the
  detector's selection depends on *where* the ALP decays (:func:`prompt_scale_mm`); without
  such a length the decay-position factor is 1. Reweighting an exponential sample to a much
  *longer* lifetime is biased (the sample does not reach the long-ℓ tail), hence this scale
  rather than reweighting every event; the effective sample fraction is reported as a check.

N(C/Λ) = N_limit is solved by bisection in ln(C/Λ) on every sign change found on a log grid.
N_limit comes from :func:`alpgen.detectors.counting.signal_limit` (3 for zero background).

Errors. δ(C/Λ)/(C/Λ) = (δN/N) / |d ln N / d ln(C/Λ)| at the root (= ½ δN/N for prompt decays),
with δN/N the MC errors of σ and of the efficiency added in quadrature.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .constants import PID_CHI
from .detectors import fastsim
from .detectors.config import DetectorConfig
from .detectors.counting import Counter, CounterSums, DetectorResult
from .events import SLOT_ALP, EventBatch

if TYPE_CHECKING:
    from .card import RunCard
    from .model import ALPModel
    from .targets import Target

__all__ = [
    "REACH_KEYS",
    "ReachResult",
    "ReachSolution",
    "ReweightSample",
    "SignalCounter",
    "SignalTally",
    "alp_decay_arrays",
    "prompt_scale_mm",
    "reach_error",
    "solve_reach",
    "solve_sample",
]

#: The reach quantities added to a detector result (module docstring).
REACH_KEYS = (
    "reach_C_over_Lambda_invTeV",
    "reach_C_over_Lambda_err_invTeV",
    "reach_fixed_br_invTeV",
    "reach_upper_C_over_Lambda_invTeV",
    "n_solutions",
    "effective_fraction",
)


# --------------------------------------------------------------------------------------------
# coupling dependence and root finding


@dataclass(frozen=True)
class ReweightSample:
    """Selected events of one point with what their probability needs at another coupling.

    ``weight``: event weights of the selected events (their sum normalises ⟨R⟩);
    ``ell_mm``: sampled lab decay distance of the ALP (NaN: not decayed); ``lam_ref_mm``: its
    lab mean decay length βγ cτ_a at ``c_ref`` (inf: no decay channel open); ``channel``:
    1 for a → χχ̄, 0 for a visible decay, −1 unknown (weight ratio 1); widths in GeV at
    ``c_ref`` (TeV⁻¹); ``n_ref``: expected signal events at ``c_ref``.
    """

    c_ref: float
    n_ref: float
    weight: np.ndarray
    ell_mm: np.ndarray
    lam_ref_mm: np.ndarray
    channel: np.ndarray
    width_vis_ref: float
    width_inv: float
    prompt_mm: float = math.inf

    def per_event(self, c: ArrayLike) -> np.ndarray:
        """R_i(C/Λ) = BR ratio × decay-position ratio per selected event, [n_events, len(c)]."""
        flat = np.asarray(c, dtype=float).reshape(-1)
        scale = (flat / self.c_ref) ** 2
        g_ref = self.width_vis_ref + self.width_inv
        g_tot = self.width_vis_ref * scale + self.width_inv
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(g_tot > 0, g_ref / g_tot, 1.0)[None, :]  # λ(c)/λ_ref = Γ_ref/Γ(c)
        ch = np.asarray(self.channel)[:, None]
        ell = np.asarray(self.ell_mm, float)[:, None]
        lam0 = np.asarray(self.lam_ref_mm, float)[:, None]
        # BR(c)/BR(c_ref): a → χχ̄ ∝ 1/Γ_tot, visible ∝ (C/Λ)²/Γ_tot, unknown channel 1
        br = np.where(ch == 1, s, np.where(ch == 0, scale[None, :] * s, 1.0))
        if g_ref <= 0.0:  # no widths known (a model-less sample): branching ratios held fixed
            br = np.ones_like(br)
        lam = lam0 * s
        displaced = np.isfinite(ell) & (np.maximum(lam, lam0) > self.prompt_mm)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = np.exp(-ell / lam + ell / lam0) / s
        r = np.where(displaced, np.where(np.isfinite(r), r, 0.0), 1.0)
        return br * r

    def ratio(self, c: ArrayLike) -> np.ndarray:
        """⟨R(C/Λ)⟩ over the selected events (weighted) for each ``c`` (TeV⁻¹), shape of ``c``."""
        c = np.asarray(c, dtype=float)
        flat = c.reshape(-1)
        w = np.asarray(self.weight, float)
        wsum = w.sum()
        if wsum <= 0.0:
            return np.zeros_like(c)
        out = np.empty(flat.size)
        chunk = max(1, 2_000_000 // max(1, w.size))
        for j0 in range(0, flat.size, chunk):
            sl = slice(j0, j0 + chunk)
            # numpy's pairwise sum, not BLAS: the same bits whatever the number of threads
            out[sl] = (w[:, None] * self.per_event(flat[sl])).sum(axis=0) / wsum
        return out.reshape(c.shape)

    def n_signal(self, c: ArrayLike) -> np.ndarray:
        """Expected signal events N(C/Λ) for ``c`` in TeV⁻¹ (same shape as ``c``)."""
        c = np.asarray(c, dtype=float)
        return self.n_ref * (c / self.c_ref) ** 2 * self.ratio(c)

    def effective_fraction(self, c: float) -> float:
        """Kish effective sample size of the reweighted selected events at ``c`` relative to
        that of the unreweighted ones (1: no reweighting; ≪ 1: the reweighting to ``c`` is
        statistically unreliable)."""
        w = np.asarray(self.weight, float)
        if w.size == 0 or not math.isfinite(c):
            return math.nan

        def kish(x: np.ndarray) -> float:
            s2 = float((x**2).sum())
            return float(x.sum() ** 2 / s2) if s2 > 0 else 0.0

        base = kish(w)
        return kish(w * self.per_event(np.array([c]))[:, 0]) / base if base > 0 else math.nan


@dataclass(frozen=True)
class ReachSolution:
    """Roots of N(C/Λ) = N_limit (TeV⁻¹, ascending) found on ``[c_lo, c_hi]``."""

    roots: tuple[float, ...]
    c_lo: float
    c_hi: float

    @property
    def n_solutions(self) -> int:
        return len(self.roots)

    @property
    def reach(self) -> float:
        """Lowest root (NaN if none): the smallest excluded C/Λ."""
        return self.roots[0] if self.roots else math.nan

    @property
    def upper(self) -> float:
        """Second root (NaN if none): where the excluded band closes again."""
        return self.roots[1] if len(self.roots) > 1 else math.nan

    @property
    def status(self) -> str:
        return {0: "no solution", 1: "ok"}.get(self.n_solutions, "multiple solutions")


def solve_reach(
    n_of_c: Callable[[np.ndarray], np.ndarray],
    n_limit: float,
    c_lo: float,
    c_hi: float,
    *,
    points_per_decade: int = 40,
    rtol: float = 1e-12,
) -> ReachSolution:
    """All solutions of ``n_of_c(c) = n_limit`` for c in [c_lo, c_hi] (TeV⁻¹).

    ``n_of_c`` maps an array of couplings to expected signal counts. Sign changes of
    N − N_limit are located on a log grid (``points_per_decade``) and each bracket is bisected
    in ln c to relative precision ``rtol`` (all brackets at once, so ``n_of_c`` is called with
    arrays). Roots closer than one grid step are not resolved.
    """
    if not (0.0 < c_lo < c_hi and math.isfinite(c_hi)):
        raise ValueError(f"need 0 < c_lo < c_hi < inf, got {c_lo!r}, {c_hi!r}")
    if not n_limit > 0.0:
        raise ValueError(f"n_limit must be > 0, got {n_limit!r}")
    n_grid = max(2, math.ceil(math.log10(c_hi / c_lo) * points_per_decade) + 1)
    grid = np.geomspace(c_lo, c_hi, n_grid)
    f = np.asarray(n_of_c(grid), float) - n_limit
    sign = f > 0.0
    idx = np.nonzero(sign[1:] != sign[:-1])[0]
    if idx.size == 0:
        return ReachSolution((), c_lo, c_hi)
    lo, hi = np.log(grid[idx]), np.log(grid[idx + 1])
    up = sign[idx]  # f(lo) > 0: decreasing through the root
    n_iter = math.ceil(math.log2(max(hi - lo).max() / rtol)) + 1
    for _ in range(min(n_iter, 200)):
        mid = 0.5 * (lo + hi)
        fm = np.asarray(n_of_c(np.exp(mid)), float) - n_limit
        go_right = (fm > 0.0) == up  # same sign as f(lo): the root is right of mid
        lo = np.where(go_right, mid, lo)
        hi = np.where(go_right, hi, mid)
    roots = tuple(float(x) for x in np.exp(0.5 * (lo + hi)))
    return ReachSolution(roots, c_lo, c_hi)


def reach_error(
    sample: ReweightSample, root: float, rel_err_n: float, *, step: float = 1e-3
) -> float:
    """MC error (TeV⁻¹) of a root from the relative error of N: δc = c (δN/N) / |d lnN/d lnc|."""
    if not (math.isfinite(root) and root > 0.0):
        return math.nan
    c = root * np.exp(np.array([-step, step]))
    n = sample.n_signal(c)
    if np.any(n <= 0.0):
        return math.nan
    slope = (math.log(n[1]) - math.log(n[0])) / (2.0 * step)
    return root * rel_err_n / abs(slope) if slope != 0.0 else math.inf


def solve_sample(sample: ReweightSample, n_limit: float, *, decades: float = 4.0) -> ReachSolution:
    """Solve N(C/Λ) = N_limit on ±``decades`` around the prompt estimate C/Λ_ref √(N_lim/N_ref)."""
    if not sample.n_ref > 0.0:
        return ReachSolution((), math.nan, math.nan)
    c0 = sample.c_ref * math.sqrt(n_limit / sample.n_ref)
    return solve_reach(sample.n_signal, n_limit, c0 * 10.0**-decades, c0 * 10.0**decades)


def prompt_scale_mm(config: DetectorConfig, thickness_cm: float) -> float:
    """Default ``prompt_mm`` of a detector on a target ``thickness_cm`` thick: 1 % of the
    smallest length (mm) on which its selection depends on the ALP decay point (inf: it does
    not depend on it; module docs)."""
    scales: list[float] = []
    if config.alp_decay_max_mm is not None:
        scales.append(config.alp_decay_max_mm)
    if not config.geometric_acceptance:
        return 0.01 * min(scales) if scales else math.inf
    scales.append(thickness_cm * 10.0)
    if config.face_cm is not None:
        scales.append(config.face_cm * 10.0 / 2.0)
    return 0.01 * min(scales)


def alp_decay_arrays(
    batch: EventBatch, model: ALPModel | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per event: ALP lab decay distance (mm, NaN if undecayed), lab mean decay length at the
    generated coupling (mm; inf without a model) and decay channel (1 χχ̄, 0 visible, −1
    undecayed)."""
    n = len(batch)
    rows = np.arange(n)
    dv = batch.decay_vertex(SLOT_ALP)
    ell = np.linalg.norm(dv[:, :3] - batch.vertex[:, SLOT_ALP, :3], axis=1)
    p = batch.p[:, SLOT_ALP]
    pabs = np.linalg.norm(p[:, :3], axis=1)
    lam = pabs / model.m_a * model.ctau_mm if model is not None else np.full(n, np.inf)
    first = batch.daughter[rows, SLOT_ALP, 0]
    d_pid = np.where(first >= 0, batch.pid[rows, np.maximum(first, 0)], 0)
    channel = np.where(first < 0, -1, np.where(np.abs(d_pid) == PID_CHI, 1, 0))
    return ell, lam, channel.astype(np.int8)


# --------------------------------------------------------------------------------------------
# counting with the reach


@dataclass(frozen=True)
class ReachResult:
    """The reach quantities of one detector result (module docstring; TeV⁻¹, NaN: undefined)."""

    reach_C_over_Lambda_invTeV: float
    reach_C_over_Lambda_err_invTeV: float
    reach_fixed_br_invTeV: float
    reach_upper_C_over_Lambda_invTeV: float
    n_solutions: int
    effective_fraction: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: undefined values (NaN, inf) become ``None``."""
        return {k: _finite_or_none(getattr(self, k)) for k in REACH_KEYS}


def _finite_or_none(x: float | int) -> float | int | None:
    if isinstance(x, int):
        return x
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class SignalResult:
    """A detector result (yield, cutflow, efficiency) with its reach."""

    detector: DetectorResult
    reach: ReachResult

    def to_dict(self) -> dict[str, Any]:
        """The ``detector`` block of summary.json: the detector result, the reach keys (null
        where undefined) and ``sensitivity``: ``"ok"`` when a reach exists, else ``"none"``."""
        from .io.jsonutil import json_safe

        d = self.detector.to_dict()
        d.update(self.reach.to_dict())
        d["sensitivity"] = "ok" if d.get("reach_C_over_Lambda_invTeV") is not None else "none"
        return dict(json_safe(d))


@dataclass(frozen=True)
class SignalTally:
    """The counts of a :class:`SignalCounter` on some events (e.g. one batch of a shard):
    the detector counter's sums and, per batch, the weight, ALP decay distance, mean decay
    length and channel of each selected event."""

    sums: CounterSums
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


class SignalCounter:
    """A detector :class:`~alpgen.detectors.counting.Counter` that also keeps what the reach
    needs of every selected event (weight, ALP decay distance, mean decay length, channel).

    ``add`` batches one by one, then :meth:`result` for σ (pb) and its MC error. ``model`` is
    the ALP model at the reference coupling ``c_ref`` (TeV⁻¹), the coupling σ was computed at;
    ``target`` and ``thickness_cm`` the run's target. Without a model (a foreign sample) the
    branching ratios and decay lengths are held fixed: the reach is the fixed-BR one.
    """

    def __init__(
        self,
        config: DetectorConfig,
        *,
        target: Target,
        thickness_cm: float,
        c_ref: float,
        model: ALPModel | None,
        n_generated: int | None = None,
        prompt_mm: float | None = None,
    ) -> None:
        self.config = config
        self.model = model
        self.c_ref = c_ref
        self.counter = Counter(
            config,
            target=target,
            thickness_cm=thickness_cm,
            n_generated=n_generated,
            coupling_C_over_Lambda=c_ref,
        )
        self.prompt_mm = prompt_scale_mm(config, thickness_cm) if prompt_mm is None else prompt_mm
        self._kept: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    @classmethod
    def for_card(
        cls,
        config: DetectorConfig,
        card: RunCard,
        model: ALPModel,
        *,
        n_generated: int | None = None,
        prompt_mm: float | None = None,
    ) -> SignalCounter:
        """A counter with ``config`` for the run of ``card`` (its target and coupling)."""
        return cls(
            config,
            target=card.target_material,
            thickness_cm=card.target.thickness_cm,
            c_ref=card.C_over_Lambda,
            model=model,
            n_generated=n_generated,
            prompt_mm=prompt_mm,
        )

    @classmethod
    def from_card(
        cls, card: RunCard, model: ALPModel, *, n_generated: int | None = None
    ) -> SignalCounter | None:
        """The counter of the card's ``[detector]`` (``None`` without one)."""
        if card.detector is None:
            return None
        config = DetectorConfig.from_card(dict(card.detector))
        return cls.for_card(config, card, model, n_generated=n_generated)

    def add(
        self, batch: EventBatch, *, observables: fastsim.EventObservables | None = None
    ) -> None:
        """Count a batch (``observables``: its :func:`fastsim.analyse`, if already computed)."""
        self.counter.add(batch, observables=observables)
        sel = self.counter.selected(batch)
        ell, lam, channel = alp_decay_arrays(batch.select(sel), self.model)
        self._kept.append((np.asarray(batch.weight, float)[sel], ell, lam, channel))

    def fresh(self) -> SignalCounter:
        """An empty counter with the same configuration, target, coupling and model."""
        return SignalCounter(
            self.config,
            target=self.counter.target,
            thickness_cm=self.counter.thickness_cm,
            c_ref=self.c_ref,
            model=self.model,
            n_generated=self.counter.n_generated,
            prompt_mm=self.prompt_mm,
        )

    def tally(self) -> SignalTally:
        """What this counter holds (picklable): the counter's sums and the selected events."""
        return SignalTally(self.counter.sums(), list(self._kept))

    def merge(self, tally: SignalTally) -> None:
        """Add another counter's :meth:`tally` (of later events: the selected events are
        appended in order)."""
        self.counter.merge(tally.sums)
        self._kept.extend(tally.kept)

    def selected(self, batch: EventBatch) -> np.ndarray:
        return self.counter.selected(batch)

    def flags(self, batch: EventBatch) -> dict[str, np.ndarray]:
        return self.counter.flags(batch)

    def sample(self, n_ref: float) -> ReweightSample:
        """The selected events as a :class:`ReweightSample` with N(C/Λ_ref) = ``n_ref``."""
        if self._kept:
            w, ell, lam, ch = (np.concatenate(x) for x in zip(*self._kept, strict=True))
        else:
            w = ell = lam = np.zeros(0)
            ch = np.zeros(0, np.int8)
        return ReweightSample(
            c_ref=self.c_ref,
            n_ref=n_ref,
            weight=w,
            ell_mm=ell,
            lam_ref_mm=lam,
            channel=ch,
            width_vis_ref=self.model.width_visible if self.model is not None else 0.0,
            width_inv=self.model.width_invisible if self.model is not None else 0.0,
            prompt_mm=self.prompt_mm,
        )

    def result(
        self, *, sigma_pb: float, sigma_err_pb: float, n_generated: int | None = None
    ) -> SignalResult:
        """Yield, cutflow and reach for σ ± δσ (pb) at the reference coupling."""
        dres = self.counter.result(
            sigma_pb=sigma_pb, n_generated=n_generated, coupling_C_over_Lambda=self.c_ref
        )
        result = SignalResult(dres, reach_of(dres, self.sample(dres.signal_events), sigma_err_pb))
        reach = result.reach.reach_C_over_Lambda_invTeV
        # the solver's couplings are not checked like a card's: say so
        if self.model is not None and math.isfinite(reach):
            width = self.model.width_visible * (reach / self.c_ref) ** 2
            width += self.model.width_invisible
            if width > self.model.m_a:
                import logging

                logging.getLogger("alpgen").warning(
                    "the reach C/Λ = %.4g TeV⁻¹ lies where the ALP is wider than its mass "
                    "(Γ = %.3g GeV > m_a = %g GeV): outside the model's validity",
                    reach,
                    width,
                    self.model.m_a,
                )
        return result


def reach_of(dres: DetectorResult, sample: ReweightSample, sigma_err_pb: float) -> ReachResult:
    """The reach quantities of a detector result and its reweighting sample."""
    sol = solve_sample(sample, dres.n_limit)
    rel_sigma = sigma_err_pb / dres.sigma_pb if dres.sigma_pb > 0 else math.nan
    rel_eff = dres.efficiency_error / dres.efficiency if dres.efficiency > 0 else math.nan
    reach = sol.reach
    return ReachResult(
        reach_C_over_Lambda_invTeV=reach,
        reach_C_over_Lambda_err_invTeV=reach_error(sample, reach, math.hypot(rel_sigma, rel_eff)),
        reach_fixed_br_invTeV=dres.reach_fixed_br_invTeV,
        reach_upper_C_over_Lambda_invTeV=sol.upper,
        n_solutions=sol.n_solutions,
        effective_fraction=sample.effective_fraction(reach),
    )
