"""``alpgen scan``: sensitivity (reach) scans over the ALP mass.

For every mass the card is re-validated with ``model.m_a`` (and, for an invisible ALP,
``model.m_chi`` at the card's fixed ratio m_a/m_χ) overridden and ``run.seed`` replaced by a
per-point seed ``SeedSequence(card seed, spawn_key=(STREAM_SCAN, i))`` of the point's index
``i``. Each point integrates σ, generates ``[run] events`` decayed events, applies the card's
``[detector]`` (and optionally further detector *variants* on the same events) and solves for
the reach.

Reach. The card's coupling C/Λ_ref (TeV⁻¹) is the reference; σ ∝ (C/Λ)², so

    N(C/Λ) = N_ref (C/Λ / C/Λ_ref)² × ⟨ R_i(C/Λ) ⟩_selected,

where the average runs over the selected events with their weights and R_i is the ratio of
the event's probability at C/Λ to that at C/Λ_ref:

* the ALP branching ratio of the event's channel, BR(C/Λ)/BR(C/Λ_ref), with
  BR(a→χχ̄) = Γ_χ/(Γ_χ + Γ_vis) and Γ_vis ∝ (C/Λ)², Γ_χ fixed;
* the decay-position probability of the ALP, (λ_ref/λ) exp(−ℓ/λ + ℓ/λ_ref), with ℓ the sampled
  lab decay distance and λ = βγ cτ_a(C/Λ) the lab mean decay length. It is applied only where
  λ or λ_ref exceeds ``prompt_mm``: a decay point that moves by less than that cannot change
  the selection. By default ``prompt_mm`` is 1 % of the smallest length on which the
  detector's selection depends on *where* the ALP decays: with the geometric acceptance on,
  the half-width of the detector face or the target length; without it the fast detector's
  cuts do not depend on the ALP decay point at all (τ decay lengths are measured from the τ
  production vertex, physics.md §7 item 6), so the decay-position factor is 1. Reweighting an
  exponential sample to a much *longer* lifetime is biased (the sample does not reach the
  long-ℓ tail), hence this scale rather than reweighting every event; the Kish effective
  sample fraction of the weights at the reach is reported (``effective_fraction``) as a
  reliability check.

For prompt decays with BR independent of the coupling R_i = 1 and the reach is the closed form
C/Λ_ref × √(N_limit/N_ref). In general N(C/Λ) = N_limit is solved by bisection in ln(C/Λ) on
every sign change found on a log grid; the scan reports the lowest root as the reach, the
second (if N falls below N_limit again, e.g. when BR(a→χχ̄) drops) as the upper edge, and the
number of roots found (0: no sensitivity). N_limit comes from
:func:`alpgen.detectors.counting.signal_limit` (3 for zero background, the Poisson 95 % CL upper limit
otherwise).

Errors. ``reach_err`` propagates the Monte Carlo errors of σ and ε:
δ(C/Λ)/(C/Λ) = (δN/N) / |d ln N / d ln(C/Λ)| at the root (= ½ δN/N for prompt decays).

Outputs (in ``--out``, default ``runs/<run name>_scan``): ``scan.csv`` (one row per mass),
``scan.json`` (card, seeds, backend, cutflows, timings) and ``reach.png``.
Units: GeV, pb, TeV⁻¹; ``signal_per_mot`` is the expected signal per muon on target at C/Λ_ref.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .card import CardError, RunCard, build_card

__all__ = [
    "CSV_COLUMNS",
    "CURVE_COLUMNS",
    "STREAM_SCAN",
    "PointResult",
    "PointTask",
    "ReachSolution",
    "ReweightSample",
    "VariantResult",
    "curve_rows",
    "evaluate_point",
    "make_tasks",
    "parse_masses",
    "plot_reach",
    "point_seed",
    "rows",
    "run_scan",
    "scan_points",
    "scan_setups",
    "solve_reach",
    "write_csv",
]

#: Random stream of the per-point seeds (0–2 are used inside a run, see alpgen.pipeline).
STREAM_SCAN = 3

#: Columns of ``scan.csv`` (units: GeV, pb, TeV⁻¹).
CSV_COLUMNS = (
    "m_a_GeV",
    "sigma_pb",
    "sigma_err_pb",
    "efficiency",
    "eff_err",
    "signal_per_mot",
    "reach_C_over_Lambda_invTeV",
    "reach_err_invTeV",
    "reach_fixed_br_invTeV",
    "n_events",
    "signal_events_ref",
    "C_over_Lambda_ref_invTeV",
    "n_limit",
    "n_solutions",
    "reach_upper_C_over_Lambda_invTeV",
    "m_chi_GeV",
    "seed",
    "effective_fraction",
)

#: Card keys whose errors mean "this mass is kinematically closed" (the point is skipped).
_KINEMATIC_KEYS = ("model.m_a", "beam.energy", "beam.spectrum", "production.t_max")


# --------------------------------------------------------------------------------------------
# masses


def parse_masses(spec: str, log: bool = False) -> np.ndarray:
    """ALP masses (GeV) from ``"START:STOP:N"``: N values from START to STOP inclusive,
    linearly or (``log``) logarithmically spaced. ``"M:M:1"`` is the single mass M.

    Raises ``ValueError`` with a message saying what is wrong and what is expected.
    """
    parts = str(spec).strip().split(":")
    if len(parts) != 3:
        raise ValueError(
            f"expected START:STOP:N (masses in GeV and the number of points, e.g. 2:40:25), "
            f"got {spec!r}"
        )
    try:
        start, stop = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"START and STOP must be numbers (GeV), got {spec!r}") from None
    try:
        n = int(parts[2])
    except ValueError:
        raise ValueError(f"N must be a positive integer, got {parts[2]!r}") from None
    if not (math.isfinite(start) and math.isfinite(stop)) or start <= 0.0 or stop <= 0.0:
        raise ValueError(f"START and STOP must be finite masses > 0 GeV, got {spec!r}")
    if n < 1:
        raise ValueError(f"N must be a positive integer, got {n}")
    if stop < start:
        raise ValueError(f"STOP must not be below START, got {start:g} > {stop:g}")
    if n == 1:
        if stop != start:
            raise ValueError("N = 1 needs START = STOP (a single mass)")
        return np.array([start])
    if stop == start:
        raise ValueError(f"START = STOP = {start:g} needs N = 1")
    masses = np.geomspace(start, stop, n) if log else np.linspace(start, stop, n)
    masses[0], masses[-1] = start, stop  # exact end points
    return masses


# --------------------------------------------------------------------------------------------
# reach: coupling dependence and root finding


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
            out[sl] = w @ self.per_event(flat[sl]) / wsum
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


# --------------------------------------------------------------------------------------------
# one scan point (runs in a worker: picklable inputs and outputs only)


def point_seed(seed: int, index: int) -> int:
    """The run seed of scan point ``index``: ``SeedSequence(seed, spawn_key=(STREAM_SCAN, i))``."""
    from .pipeline import int_seed

    return int_seed(seed, STREAM_SCAN, index)


@dataclass(frozen=True)
class PointTask:
    """Everything a worker needs for one mass: the raw card (after the user's overrides) and
    what the scan changes. ``variants`` are ``[detector]`` overrides, one result each."""

    index: int
    m_a: float
    raw: Mapping[str, Any]
    path: str | None
    seed: int
    m_chi: float | None = None
    variants: tuple[Mapping[str, Any], ...] = ({},)
    n_events: int | None = None
    prompt_mm: float | None = None

    def doc(self, variant: int | None = None) -> dict[str, Any]:
        """The raw card document of this point (with detector variant ``variant`` applied)."""
        doc = {k: dict(v) if isinstance(v, Mapping) else v for k, v in self.raw.items()}
        doc.setdefault("model", {})["m_a"] = float(self.m_a)
        if self.m_chi is not None:
            doc["model"]["m_chi"] = float(self.m_chi)
        doc.setdefault("run", {})["seed"] = int(self.seed)
        if self.n_events is not None:
            doc["run"]["events"] = int(self.n_events)
        if variant is not None and self.variants[variant]:
            if doc.get("detector") is None:
                raise CardError("detector", "detector variants need a [detector] table")
            doc["detector"] = {**doc["detector"], **self.variants[variant]}
        return doc

    def card(self, variant: int | None = None) -> RunCard:
        return build_card(self.doc(variant), path=self.path)


@dataclass
class VariantResult:
    """Detector result and reach of one detector variant at one mass."""

    detector: dict[str, Any]
    efficiency: float
    eff_err: float
    signal_events_ref: float
    signal_per_mot: float
    mot: float
    n_limit: float
    reach: float
    reach_err: float
    reach_upper: float
    n_solutions: int
    reach_prompt: float
    effective_fraction: float
    cutflow: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PointResult:
    """One scan point: σ of the production process and one :class:`VariantResult` per
    detector variant. ``status`` is ``"ok"``, ``"closed"`` (kinematically forbidden, reason in
    ``message``) or ``"no signal"`` (σ = 0)."""

    index: int
    m_a: float
    m_chi: float | None
    seed: int
    c_ref: float
    sigma_pb: float
    sigma_err_pb: float
    n_events: int
    status: str = "ok"
    message: str = ""
    variants: list[VariantResult] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prompt_scale_mm(config, card: RunCard) -> float:
    """Default ``prompt_mm`` of a detector: 1 % of the smallest length (mm) on which its
    selection depends on the ALP decay point (inf: it does not depend on it; module docs)."""
    scales = []
    if getattr(config, "alp_decay_max_mm", None) is not None:
        scales.append(config.alp_decay_max_mm)
    if not getattr(config, "geometric_acceptance", False):
        return 0.01 * min(scales) if scales else math.inf
    scales.append(card.target.thickness_cm * 10.0)
    if config.face_cm is not None:
        scales.append(config.face_cm * 10.0 / 2.0)
    return 0.01 * min(scales)


def _alp_arrays(batch, model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per event: ALP lab decay distance (mm, NaN if undecayed), lab mean decay length at the
    generated coupling (mm) and decay channel (1 χχ̄, 0 visible, −1 undecayed)."""
    from .constants import PID_CHI
    from .events import SLOT_ALP

    n = len(batch)
    rows = np.arange(n)
    dv = batch.decay_vertex(SLOT_ALP)
    ell = np.linalg.norm(dv[:, :3] - batch.vertex[:, SLOT_ALP, :3], axis=1)
    p = batch.p[:, SLOT_ALP]
    pabs = np.linalg.norm(p[:, :3], axis=1)
    lam = pabs / model.m_a * model.ctau_mm
    first = batch.daughter[rows, SLOT_ALP, 0]
    d_pid = np.where(first >= 0, batch.pid[rows, np.maximum(first, 0)], 0)
    channel = np.where(first < 0, -1, np.where(np.abs(d_pid) == PID_CHI, 1, 0))
    return ell, lam, channel.astype(np.int8)


def evaluate_point(task: PointTask) -> PointResult:
    """Integrate, generate and count one scan point (runs in a worker process)."""
    from .detectors import fastsim
    from .detectors.config import DetectorConfig
    from .detectors.counting import Counter

    from .pipeline import EventSource

    t_start = time.perf_counter()
    card = task.card()  # the card's own [detector]; variants are applied on top of it below
    n = card.run.events
    c_ref = card.C_over_Lambda
    source = EventSource(card)
    res = PointResult(
        task.index,
        float(task.m_a),
        task.m_chi,
        int(task.seed),
        float(c_ref),
        float(source.sigma_pb),
        float(source.xs.xsec.sigma_err_pb),
        n,
    )
    res.timings_s.update({k: round(v, 3) for k, v in source.timer.times.items()})
    if card.detector is None:
        raise CardError("detector", "alpgen scan needs a [detector] table in the card")
    configs = [DetectorConfig.from_card({**dict(card.detector), **dict(v)}) for v in task.variants]
    if source.sampler is None or not res.sigma_pb > 0.0:
        res.status, res.message = "no signal", "σ = 0"
        return res
    counters = [
        Counter(cfg, target=card.target_material, thickness_cm=card.target.thickness_cm)
        for cfg in configs
    ]
    model = source.model
    kept: list[list[tuple[np.ndarray, ...]]] = [[] for _ in configs]
    t0 = time.perf_counter()
    for batch in source.batches(n):
        obs = fastsim.analyse(batch)
        ell, lam, channel = _alp_arrays(batch, model)
        w = np.asarray(batch.weight, float)
        for counter, store in zip(counters, kept, strict=True):
            counter.add(batch)
            m = counter.selection.cumulative_masks(obs)[-1]
            store.append((w[m], ell[m], lam[m], channel[m]))
    res.timings_s["events_and_detector"] = round(time.perf_counter() - t0, 3)

    rel_sigma = res.sigma_err_pb / res.sigma_pb
    for cfg, counter, store in zip(configs, counters, kept, strict=True):
        dres = counter.result(sigma_pb=res.sigma_pb, n_generated=n, coupling_C_over_Lambda=c_ref)
        w, ell, lam, ch = (np.concatenate(x) for x in zip(*store, strict=True))
        sample = ReweightSample(
            c_ref=c_ref,
            n_ref=dres.signal_events,
            weight=w,
            ell_mm=ell,
            lam_ref_mm=lam,
            channel=ch,
            width_vis_ref=model.width_visible,
            width_inv=model.width_invisible,
            prompt_mm=task.prompt_mm if task.prompt_mm is not None else prompt_scale_mm(cfg, card),
        )
        sol = solve_sample(sample, dres.n_limit)
        rel_eff = dres.efficiency_error / dres.efficiency if dres.efficiency > 0 else math.nan
        rel_n = math.hypot(rel_sigma, rel_eff)
        reach = sol.reach
        res.variants.append(
            VariantResult(
                detector={
                    "name": cfg.name,
                    "selection": cfg.selection,
                    "resolution_mm": cfg.resolution_mm,
                    "mot": cfg.mot,
                    "background": cfg.background,
                    "label": cfg.label,
                },
                efficiency=dres.efficiency,
                eff_err=dres.efficiency_error,
                signal_events_ref=dres.signal_events,
                signal_per_mot=dres.signal_per_mot,
                mot=dres.mot,
                n_limit=dres.n_limit,
                reach=reach,
                reach_err=reach_error(sample, reach, rel_n),
                reach_upper=sol.upper,
                n_solutions=sol.n_solutions,
                reach_prompt=dres.reach_C_over_Lambda_invTeV,
                effective_fraction=sample.effective_fraction(reach),
                cutflow=[asdict(c) for c in dres.cutflow],
            )
        )
    res.timings_s["total"] = round(time.perf_counter() - t_start, 3)
    return res


# --------------------------------------------------------------------------------------------
# the scan


def _m_chi_for(card: RunCard, m_a: float, m_chi_ratio: float | str | None) -> float | None:
    """m_χ (GeV) of a scan point: the card's m_a/m_χ kept fixed (``"card"``), a given ratio
    m_a/m_χ, or the card's m_χ unchanged (``None``)."""
    if m_chi_ratio is None or card.model.m_chi is None:
        return None
    ratio = card.model.m_a / card.model.m_chi if m_chi_ratio == "card" else float(m_chi_ratio)
    if not ratio > 0.0:
        raise ValueError(f"m_chi_ratio must be > 0, got {m_chi_ratio!r}")
    return m_a / ratio


def make_tasks(
    card: RunCard,
    masses: Iterable[float],
    *,
    variants: Sequence[Mapping[str, Any]] = ({},),
    m_chi_ratio: float | str | None = "card",
    n_events: int | None = None,
    prompt_mm: float | None = None,
) -> tuple[list[PointTask], list[PointResult]]:
    """Tasks for the open masses and placeholder results for the kinematically closed ones.

    Every point card (and variant) is validated here, before any work starts: a closed
    channel, a beam below threshold or t_min above t_max marks the point ``closed``; any other
    card error is raised (it is the user's card, not the mass).
    """
    tasks, closed = [], []
    for i, m in enumerate(np.asarray(list(masses), float)):
        task = PointTask(
            index=i,
            m_a=float(m),
            raw=card.raw,
            path=card.path,
            seed=point_seed(card.run.seed, i),
            m_chi=_m_chi_for(card, float(m), m_chi_ratio),
            variants=tuple(dict(v) for v in variants) or ({},),
            n_events=n_events,
            prompt_mm=prompt_mm,
        )
        try:
            for v in range(len(task.variants)):
                task.card(v)
        except CardError as exc:
            if exc.key not in _KINEMATIC_KEYS:
                raise
            closed.append(
                PointResult(
                    i,
                    float(m),
                    task.m_chi,
                    task.seed,
                    card.C_over_Lambda,
                    0.0,
                    0.0,
                    0,
                    status="closed",
                    message=str(exc),
                )
            )
            continue
        tasks.append(task)
    return tasks, closed


def scan_points(
    card: RunCard,
    masses: Iterable[float],
    *,
    backend=None,
    variants: Sequence[Mapping[str, Any]] = ({},),
    m_chi_ratio: float | str | None = "card",
    n_events: int | None = None,
    prompt_mm: float | None = None,
    progress: bool = False,
    description: str = "scan",
) -> list[PointResult]:
    """Evaluate every mass (and detector variant) on ``backend`` (default: serial); results in
    mass order. Identical for every backend and number of workers (per-point seeds)."""
    from .backends import SerialBackend

    tasks, closed = make_tasks(
        card,
        masses,
        variants=variants,
        m_chi_ratio=m_chi_ratio,
        n_events=n_events,
        prompt_mm=prompt_mm,
    )
    backend = backend if backend is not None else SerialBackend()
    results: dict[int, PointResult] = {r.index: r for r in closed}
    with _progress(not progress, len(tasks) + len(closed), description) as bar:
        bar.advance(len(closed))
        for _, res in backend.map_unordered(evaluate_point, tasks):
            results[res.index] = res
            bar.advance(1, f"{description}: m_a = {res.m_a:.4g} GeV done")
    return [results[i] for i in sorted(results)]


class _Bar:
    def __init__(self, quiet: bool, total: int, description: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            disable=quiet,
        )
        self._task = self._progress.add_task(f"{description} (masses)", total=total)

    def __enter__(self) -> _Bar:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def advance(self, n: int, description: str | None = None) -> None:
        kw = {"description": description} if description else {}
        self._progress.update(self._task, advance=n, **kw)


def _progress(quiet: bool, total: int, description: str) -> _Bar:
    return _Bar(quiet, total, description)


def rows(results: Sequence[PointResult], variant: int = 0) -> list[dict[str, Any]]:
    """CSV rows (:data:`CSV_COLUMNS`) of one detector variant, in mass order."""
    out = []
    for r in results:
        v = r.variants[variant] if r.variants else None
        nan = math.nan
        out.append(
            {
                "m_a_GeV": r.m_a,
                "sigma_pb": r.sigma_pb,
                "sigma_err_pb": r.sigma_err_pb,
                "efficiency": v.efficiency if v else nan,
                "eff_err": v.eff_err if v else nan,
                "signal_per_mot": v.signal_per_mot if v else (0.0 if r.status != "ok" else nan),
                "reach_C_over_Lambda_invTeV": v.reach if v else nan,
                "reach_err_invTeV": v.reach_err if v else nan,
                # N ∝ (C/Λ)² with the branching ratio frozen at its reference-coupling value
                "reach_fixed_br_invTeV": v.reach_prompt if v else nan,
                "n_events": r.n_events,
                "signal_events_ref": v.signal_events_ref if v else 0.0,
                "C_over_Lambda_ref_invTeV": r.c_ref,
                "n_limit": v.n_limit if v else nan,
                "n_solutions": v.n_solutions if v else 0,
                "reach_upper_C_over_Lambda_invTeV": v.reach_upper if v else nan,
                "m_chi_GeV": r.m_chi if r.m_chi is not None else "",
                "seed": r.seed,
                "effective_fraction": v.effective_fraction if v else nan,
            }
        )
    return out


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return repr(x) if math.isfinite(x) else ("nan" if math.isnan(x) else repr(x))
    return str(x)


def write_csv(path: str | Path, table: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write ``table`` (dict rows) as CSV with full float precision (``repr``), atomically."""
    from .io.atomic import atomic_output

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in table:
        writer.writerow([_fmt(row.get(c, "")) for c in columns])
    with atomic_output(path, binary=False) as fh:
        fh.write(buf.getvalue())


def plot_reach(table: Sequence[Mapping[str, Any]], *, title: str = "", label: str = "reach"):
    """Matplotlib figure of the reach C/Λ (TeV⁻¹) against m_a (GeV), log–log, with MC errors."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    m = np.array([r["m_a_GeV"] for r in table], float)
    y = np.array([r["reach_C_over_Lambda_invTeV"] for r in table], float)
    e = np.array([r["reach_err_invTeV"] for r in table], float)
    ok = np.isfinite(y) & (y > 0)
    fig, ax = plt.subplots(figsize=(6.0, 4.5), layout="constrained")
    err = np.where(np.isfinite(e[ok]), e[ok], 0.0)
    ax.errorbar(m[ok], y[ok], yerr=err, marker="o", ms=3, capsize=2, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$m_a$ [GeV]")
    ax.set_ylabel(r"$C_{\mu\tau}/\Lambda$ reach [TeV$^{-1}$]")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise CardError("scan.out", f"{str(out)!r} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not force:
        raise CardError(
            "scan.out",
            f"{str(out)!r} already exists and is not empty; use --force to overwrite it or "
            "choose another directory with --out",
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CardError("scan.out", f"cannot create {str(out)!r}: {exc.strerror}") from None


def run_scan(
    card: RunCard,
    masses: Iterable[float],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    force: bool = False,
    quiet: bool = False,
    m_chi_ratio: float | str | None = "card",
    prompt_mm: float | None = None,
) -> int:
    """Execute ``alpgen scan``: evaluate every mass, write ``scan.csv``, ``scan.json`` and
    ``reach.png`` into ``out`` (default ``runs/<run name>_scan``); returns the exit status.

    Card errors (including an existing output directory without ``force``) raise
    :class:`CardError` before any work starts.
    """
    from .backends import make_backend
    from .io.metadata import collect_versions

    masses = np.asarray(list(masses), float)
    if masses.size == 0:
        raise CardError("scan.masses", "no masses to scan")
    if card.detector is None:
        raise CardError("detector", "alpgen scan needs a [detector] table in the card")
    out_dir = Path(out) if out is not None else Path("runs") / f"{card.run.name}_scan"
    _prepare_out(out_dir, force)
    tasks, closed = make_tasks(card, masses, m_chi_ratio=m_chi_ratio, prompt_mm=prompt_mm)
    if not tasks:
        raise CardError(
            "model.m_a", "every mass of the scan is kinematically closed: " + closed[0].message
        )
    for r in closed:
        print(f"alpgen: warning: m_a = {r.m_a:g} GeV skipped: {r.message}", file=sys.stderr)
    try:
        backend = make_backend(workers, scheduler, n_tasks=len(tasks))
    except (ValueError, RuntimeError) as exc:
        from .cli import UsageError

        raise UsageError(str(exc)) from None
    t0 = time.perf_counter()
    with backend:
        results = scan_points(
            card,
            masses,
            backend=backend,
            m_chi_ratio=m_chi_ratio,
            prompt_mm=prompt_mm,
            progress=not quiet,
        )
    wall = time.perf_counter() - t0
    table = rows(results)
    write_csv(out_dir / "scan.csv", table, CSV_COLUMNS)
    meta = {
        "card": card.to_dict(),
        "card_path": card.path,
        "card_text": card.text,
        "overrides": list(card.overrides),
        "masses_GeV": masses.tolist(),
        "seed": card.run.seed,
        "seed_rule": f"SeedSequence(seed, spawn_key=({STREAM_SCAN}, i)) per mass index i",
        "m_chi_ratio": m_chi_ratio,
        "prompt_mm": prompt_mm,
        "backend": backend.describe(),
        "wall_time_s": round(wall, 3),
        "versions": collect_versions(),
        "points": [r.to_dict() for r in results],
    }
    from .io.atomic import atomic_output

    with atomic_output(out_dir / "scan.json", binary=False) as fh:
        fh.write(json.dumps(meta, indent=2, default=_json_default, allow_nan=True) + "\n")
    fig = plot_reach(table, title=f"{card.run.name}: {card.detector.get('name', '')}")
    fig.savefig(out_dir / "reach.png", dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    if not quiet:
        _print_summary(table, out_dir, wall)
    return 0


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _print_summary(table: Sequence[Mapping[str, Any]], out: Path, wall: float) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"reach scan ({wall:.1f} s) → {out}/scan.csv")
    for col in ("m_a [GeV]", "σ [pb]", "ε", "signal/MOT", "reach C/Λ [TeV⁻¹]"):
        t.add_column(col, justify="right")
    for r in table:
        reach = r["reach_C_over_Lambda_invTeV"]
        t.add_row(
            f"{r['m_a_GeV']:.4g}",
            f"{r['sigma_pb']:.4g}",
            f"{r['efficiency']:.3g}",
            f"{r['signal_per_mot']:.3g}",
            "—" if not math.isfinite(reach) else f"{reach:.4g} ± {r['reach_err_invTeV']:.2g}",
        )
    Console(file=sys.stderr).print(t)
    for r in table:
        if r.get("effective_fraction", 1.0) < 0.3:  # NaN compares False: closed points pass
            print(
                f"alpgen scan: warning: at m_a = {r['m_a_GeV']:.4g} GeV the reach needed events "
                f"reweighted far from the reference coupling (effective sample fraction "
                f"{r['effective_fraction']:.2f}); rerun that mass with "
                f"--set model.C_over_Lambda={r['reach_C_over_Lambda_invTeV']:.3g}",
                file=sys.stderr,
            )


# --------------------------------------------------------------------------------------------
# helpers for figure scripts: several cards × detector variants → one long table

#: Columns of the long-format reach tables written by the figure scripts.
CURVE_COLUMNS = (
    "curve",
    "experiment",
    "selection",
    "resolution_mm",
    "mot",
    "m_a_GeV",
    "m_chi_GeV",
    "sigma_pb",
    "sigma_err_pb",
    "efficiency",
    "eff_err",
    "signal_per_mot",
    "reach_C_over_Lambda_invTeV",
    "reach_err_invTeV",
    "reach_fixed_br_invTeV",
    "n_solutions",
    "n_events",
)


def curve_rows(
    results: Sequence[PointResult], variant: int, curve: str, config: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Long-format rows (:data:`CURVE_COLUMNS`) of one detector variant of a scan.

    ``config`` gives the experiment name, selection, resolution and MOT used for closed points
    (which have no detector result)."""
    out = []
    for r in results:
        v = r.variants[variant] if r.variants else None
        det = v.detector if v else config
        nan = math.nan
        out.append(
            {
                "curve": curve,
                "experiment": det.get("name", ""),
                "selection": det.get("selection", ""),
                "resolution_mm": det.get("resolution_mm", nan),
                "mot": det.get("mot", nan),
                "m_a_GeV": r.m_a,
                "m_chi_GeV": r.m_chi if r.m_chi is not None else "",
                "sigma_pb": r.sigma_pb,
                "sigma_err_pb": r.sigma_err_pb,
                "efficiency": v.efficiency if v else nan,
                "eff_err": v.eff_err if v else nan,
                "signal_per_mot": v.signal_per_mot if v else 0.0,
                "reach_C_over_Lambda_invTeV": v.reach if v else nan,
                "reach_err_invTeV": v.reach_err if v else nan,
                # N ∝ (C/Λ)² with the branching ratio frozen at its reference-coupling value
                "reach_fixed_br_invTeV": v.reach_prompt if v else nan,
                "n_solutions": v.n_solutions if v else 0,
                "n_events": r.n_events,
            }
        )
    return out


def scan_setups(
    setups: Sequence[tuple[str, Sequence[tuple[str, Mapping[str, Any]]]]],
    masses: Iterable[float],
    *,
    overrides: Sequence[str] = (),
    backend=None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Scan several cards, each with several detector variants on the same events.

    ``setups``: ``[(card_path, [(curve_label, detector_overrides), ...]), ...]``; ``overrides``:
    ``--set`` strings applied to every card. Returns :data:`CURVE_COLUMNS` rows.
    """
    from .card import load_card

    table: list[dict[str, Any]] = []
    masses = list(masses)
    for path, curves in setups:
        card = load_card(path, overrides)
        variants = [dict(v) for _, v in curves]
        results = scan_points(
            card,
            masses,
            backend=backend,
            variants=variants,
            progress=progress,
            description=Path(path).stem,
        )
        for i, (label, v) in enumerate(curves):
            config = {**dict(card.detector or {}), **v}
            table += curve_rows(results, i, label, config)
    return table


def figure_main(
    argv: Sequence[str] | None,
    *,
    name: str,
    description: str,
    setups: Sequence[tuple[str, Mapping[str, Any]]],
    mass_range: tuple[float, float],
    defaults: Mapping[str, float],
    make_figure: Callable,
    constraint_rows: Callable,
    out_dir: Path,
) -> int:
    """The command line shared by the paper-figure scripts (``scripts/fig6_*.py``, ...).

    Scans ``setups`` (card path, detector variant) over log-spaced masses in ``mass_range``,
    writes ``<name>_reach.csv`` and ``<name>_constraints.csv`` next to the PNG and prints the
    reach per curve. ``defaults`` holds ``events``, ``masses`` and ``precision``.
    """
    import argparse

    from .backends import ProcessPoolBackend

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--events", type=int, default=int(defaults["events"]))
    p.add_argument("--masses", type=int, default=int(defaults["masses"]))
    p.add_argument("--precision", type=float, default=float(defaults["precision"]))
    p.add_argument("--workers", type=int, default=None, help="process-pool workers")
    p.add_argument("--out", default=str(out_dir))
    args = p.parse_args(argv)

    masses = np.geomspace(*mass_range, args.masses)
    overrides = [f"run.events={args.events}", f"production.precision={args.precision}"]
    with ProcessPoolBackend(args.workers) as backend:
        table = scan_setups(list(setups), masses, overrides=overrides, backend=backend)
    cons = constraint_rows(np.geomspace(*mass_range, 200))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = name.split("_")[0]
    write_csv(out / f"{stem}_reach.csv", table, CURVE_COLUMNS)
    write_csv(out / f"{stem}_constraints.csv", cons, list(cons[0]))
    make_figure(table, cons).savefig(out / f"{name}.png", dpi=130)
    for r in table:
        reach, err = r["reach_C_over_Lambda_invTeV"], r["reach_err_invTeV"]
        print(f"{r['curve']:<24} m_a = {r['m_a_GeV']:7.3f} GeV  reach = {reach:.4g} ± {err:.2g}")
    print(f"wrote {out}/{name}.png, {stem}_reach.csv, {stem}_constraints.csv", file=sys.stderr)
    return 0
