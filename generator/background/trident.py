"""Unweighted trident events μ^± A → μ^± A ℓ⁺ℓ⁻ and their :class:`~alpgen.events.EventBatch`.

Sampling (:class:`TridentSampler`): for uniform y in the unit cube the adapted vegas map of
:func:`~alpgen.production.trident.trident_cross_section` gives x(y) with Jacobian J(y); the event
weight W(y) = J(y) w(x(y)) (pb) has mean σ. The unweighting is **stratified hit-or-miss**: the
y-space is cut into equal cells along ω, Q², M_K² and t (b bins each, b⁴ cells; b = 4 for the
default 4×10⁵-point pre-scan, fewer for small pre-scans so that a cell holds ≥ 10³ pre-scan
points), and a pre-scan on its own random stream sets each cell's maximum

    W_max,c = safety × max(Q_q(W in c), ⟨W⟩)

(Q_q the q-quantile, q = 1: the cell's largest pre-scan weight; the floor ⟨W⟩, the mean over the
whole pre-scan, covers cells with few positive weights). A trial draws a cell with probability
∝ W_max,c (the cells have equal volume), y uniform in it, and is accepted with probability
W/W_max,c: the accepted points are distributed ∝ min(W, W_max,c), i.e. ∝ W wherever W ≤ W_max,c.
The efficiency is ⟨W⟩/mean_c W_max,c. Points with W > W_max,c are accepted with weight 1 like all
others (weights are never mixed) and counted (``overweight_fraction``); the bias this leaves is
the share of σ above the cell maxima, Σ(W − W_max,c)⁺/ΣW, estimated without bias on points that
did not set the maxima: two-fold cross-validated on the pre-scan (maxima from one half, applied
to the other: ``overweight_sigma_fraction``, an upper estimate for the maxima of the whole
pre-scan) and on the sampling trials themselves (``trial_overweight_sigma_fraction``).

Why: the trident weight has a long, thin tail that a separable vegas map cannot flatten (the
radiation diagrams' soft-muon region, ω → E, and the incoherent large-t Bethe–Heitler region);
against the global maximum the efficiency is ≈ 3 % for τ⁺τ⁻ at 1.5 TeV on Pb. The cells put the
tail's maximum only where it occurs: 29 % efficiency with the per-cell maxima (q = 1) at a
cross-validated bias of ≈ 10⁻⁴ of σ, where a global cap at the 99.99 % quantile gave 8.5 % at
5×10⁻⁴ (docs/backgrounds.md). ``bins = 1`` is the plain (global-maximum) sampler.

Event record (``EventBatch``, 24 slots; the signal's slots 0–3 keep their meaning):

=====  ==================  =============================================================
slot   particle            status / mothers
=====  ==================  =============================================================
0      beam μ^±            4 (beam); daughters 2–5
1      target nucleus      4 (beam, PDG 10LZZZAAAI); daughters 2–5
2      scattered μ^±       1; mothers (0, 1)
3      recoil nucleus      1; mothers (0, 1) (the same id for coherent and incoherent)
4      ℓ⁻                  1, or 2 when a τ⁻ decayed; mothers (0, 1)
5      ℓ⁺                  1, or 2 when a τ⁺ decayed; mothers (0, 1)
6–     τ decay products    appended by :func:`alpgen.decays.chain.decay_batch`
=====  ==================  =============================================================

For ℓ = μ the scattered muon (slot 2) is the more energetic of the two same-charge muons (the
integrand keeps that region). The event is rotated by a uniform azimuth about the beam axis (the
kernel puts the scattered muon in the x–z plane). The interaction point is uniform along the beam
axis through the target (x = y = 0, 0 ≤ z ≤ thickness, ct = z; mm). The τ's are decayed
unpolarized: their helicity is drawn ±1 with probability ½ each (``decay_batch`` does this for
spin 0). ``info``: ``t`` (GeV², −q² of the nucleus), ``component`` (0 coherent, 1 incoherent, drawn
∝ the two form-factor weights at the point), ``x`` = E(scattered μ)/E_beam, ``m_pair`` (GeV)
and ``scale`` (GeV, the LHE SCALUP: the pair mass, the hard scale of γ*γ* → ℓ⁺ℓ⁻).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numba import njit, prange

from ..constants import LEPTONS, M_MU, M_TAU, PID_MU
from ..decays.chain import DecayConfig, decay_batch
from ..events import STATUS_BEAM, STATUS_FINAL, EventBatch
from ..model import ALPModel
from ..production.integrand import vegas_map_point
from ..production.sampler import UnweightingStats, hit_or_miss
from ..production.trident import TridentCrossSection
from ..production.trident import integrand as _tig
from ..targets import get_target

__all__ = [
    "N_TRIDENT",
    "SLOT_LMINUS",
    "SLOT_LPLUS",
    "TridentSampler",
    "trident_batch",
]

SLOT_LMINUS = 4
SLOT_LPLUS = 5
N_TRIDENT = 6

MAX_BATCH = 200_000
MIN_BATCH = 4_000

#: Stratified unweighting: the vegas y-space dimensions cut into equal bins (ω, Q², M_K², t:
#: where the weight's tail sits), at most this many bins each, and the pre-scan points a cell
#: needs at least.
STRAT_DIMS = (0, 1, 2, 3)
STRAT_BINS_MAX = 4
STRAT_MIN_POINTS = 1_000

#: A placeholder model for :func:`decay_batch` (only τ decays happen; their rates and kinematics
#: do not depend on it).
_NO_ALP = ALPModel(m_a=1.0, m_in=M_MU, m_out=M_TAU, S2=0.0, P2=0.0)


@njit(cache=True, parallel=True)  # type: ignore[untyped-decorator]
def _vegas_map(
    y: np.ndarray,
    grid: np.ndarray,
    inc: np.ndarray,
    ninc_d: np.ndarray,
    x: np.ndarray,
    jac: np.ndarray,
) -> None:
    """x = vegas map(y) and its Jacobian (grid, inc, ninc of ``vegas.AdaptiveMap``)."""
    for i in prange(y.shape[0]):
        jac[i] = vegas_map_point(y, i, grid, inc, ninc_d, x)


def strat_bins(prescan: int) -> int:
    """Bins per stratified dimension for a pre-scan of ``prescan`` points: the largest
    b ≤ :data:`STRAT_BINS_MAX` with at least :data:`STRAT_MIN_POINTS` pre-scan points per cell
    (b⁴ cells), and at least 1."""
    b = int((prescan / STRAT_MIN_POINTS) ** (1.0 / len(STRAT_DIMS)) + 1e-9)
    return int(np.clip(b, 1, STRAT_BINS_MAX))


class TridentSampler(UnweightingStats):
    """Stratified hit-or-miss unweighting on the vegas map of a :class:`TridentCrossSection`.

    ``seed``: the pre-scan's integer seed (its own stream); ``prescan``: number of pre-scan
    points; ``quantile``, ``safety``: the maximum of cell c is
    W_max,c = safety × max(q-quantile of the pre-scan weights in c, ⟨W⟩) (module docstring);
    ``bins``: bins per stratified dimension (default :func:`strat_bins` of ``prescan``; 1 =
    one cell, the plain sampler). Attributes: ``w_max`` (the largest cell maximum, pb),
    ``cell_max`` (pb, per cell), ``prescan_mean`` (pb), ``efficiency`` (accepted / trials,
    cumulative; before sampling the pre-scan estimate ⟨W⟩/Σ_c vol_c W_max,c),
    ``efficiency_true_max`` (⟨W⟩/max W of the pre-scan: the unstratified sampler's),
    ``overweight_fraction`` (share of accepted events with W > W_max,c),
    ``overweight_sigma_fraction`` (share of σ above the cell maxima, two-fold cross-validated
    on the pre-scan: the bias), ``trial_overweight_sigma_fraction`` (the same from the
    sampling trials), ``n_trials``, ``n_accepted``.
    """

    def __init__(
        self,
        xsec: TridentCrossSection,
        *,
        seed: int,
        prescan: int = 400_000,
        quantile: float = 1.0,
        safety: float = 1.0,
        bins: int | None = None,
    ) -> None:
        if xsec.integrator is None or not xsec.sigma_pb > 0.0:
            raise ValueError("cannot sample a trident process with zero cross section")
        if not 0.0 < quantile <= 1.0:
            raise ValueError(f"quantile must be in (0, 1], not {quantile}")
        if not safety >= 1.0:
            raise ValueError(f"safety must be ≥ 1, not {safety}")
        self.xsec = xsec
        self.params = xsec.params
        amap = xsec.integrator.map
        self._grid = np.ascontiguousarray(np.asarray(amap.grid), dtype=np.float64)
        self._inc = np.ascontiguousarray(np.asarray(amap.inc), dtype=np.float64)
        self._ninc = np.ascontiguousarray(np.asarray(amap.ninc), dtype=np.int64)
        self._par = self.params.pack()
        self.dim = self._grid.shape[0]
        self.bins = strat_bins(prescan) if bins is None else int(bins)
        if self.bins < 1:
            raise ValueError(f"bins must be ≥ 1, not {bins}")
        self.n_cells = self.bins ** len(STRAT_DIMS)
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        w_parts, c_parts = [], []
        for start in range(0, prescan, MAX_BATCH):
            nb = min(MAX_BATCH, prescan - start)
            y = rng.random((nb, self.dim))
            w_parts.append(self._weights(y, keep=False)[1][:, 0])
            c_parts.append(self._cell(y))
        w0 = np.concatenate(w_parts) if w_parts else np.zeros(0)
        c0 = np.concatenate(c_parts) if c_parts else np.zeros(0, dtype=np.int64)
        if not (w0.size and w0.max() > 0.0):
            raise ValueError("pre-scan found no point with positive weight")
        self.prescan_mean = float(w0.mean())
        self.efficiency_true_max = self.prescan_mean / float(w0.max())
        self.cell_max = safety * self._cell_caps(w0, c0, quantile)
        self.w_max = float(self.cell_max.max())
        # two-fold cross-validation: maxima from one half, share of σ above them on the other
        half = w0.size // 2
        over = 0.0
        for a, b in ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))):
            cap = safety * self._cell_caps(w0[a], c0[a], quantile)
            wb = w0[b]
            over += float(np.clip(wb - cap[c0[b]], 0.0, None).sum()) / max(float(wb.sum()), 1e-300)
        self.overweight_sigma_fraction = 0.5 * over
        # cells are drawn ∝ their envelope vol_c W_max,c (equal volumes)
        cdf = np.cumsum(self.cell_max)
        self._cell_cdf = cdf / cdf[-1]
        self._eff0 = self.prescan_mean / float(self.cell_max.mean())
        self.n_trials = 0
        self.n_accepted = 0
        self.n_overweight = 0
        self.trial_sum_ratio = 0.0
        self.trial_sum_excess = 0.0

    def _cell(self, y: np.ndarray) -> np.ndarray:
        """The stratification cell of each uniform point y [n, dim] (first dimension of
        :data:`STRAT_DIMS` most significant)."""
        c = np.zeros(y.shape[0], dtype=np.int64)
        for d in STRAT_DIMS:
            c = c * self.bins + np.minimum((y[:, d] * self.bins).astype(np.int64), self.bins - 1)
        return c

    def _cell_caps(self, w: np.ndarray, cell: np.ndarray, quantile: float) -> np.ndarray:
        """Per-cell maximum: the q-quantile of the cell's pre-scan weights, floored at the mean
        weight of the whole pre-scan (cells with few or no positive weights)."""
        floor = float(w.mean())
        if quantile >= 1.0:
            cap = np.zeros(self.n_cells)
            np.maximum.at(cap, cell, w)
        else:
            order = np.argsort(cell, kind="stable")
            bounds = np.searchsorted(cell[order], np.arange(self.n_cells + 1))
            cap = np.array(
                [
                    np.quantile(w[order[lo:hi]], quantile) if hi > lo else 0.0
                    for lo, hi in itertools.pairwise(bounds)
                ]
            )
        return np.maximum(cap, floor)

    def _draw(self, nb: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``nb`` trials: a cell drawn ∝ its maximum, then uniform within it; (y, W_max,c)."""
        cell = np.minimum(np.searchsorted(self._cell_cdf, rng.random(nb), side="right"),
                          self.n_cells - 1)  # fmt: skip
        y = rng.random((nb, self.dim))
        idx = cell.copy()
        for d in reversed(STRAT_DIMS):
            y[:, d] = (idx % self.bins + y[:, d]) / self.bins
            idx //= self.bins
        return y, self.cell_max[cell]

    def _weights(self, y: np.ndarray, keep: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(momenta [n, 5, 4] if ``keep`` else an empty array, W [n, 3]) at uniform points y:
        the lab momenta (p, p′, ℓ⁻, ℓ⁺, P′) and Jacobian × (total, coherent, incoherent)."""
        x = np.empty_like(y)
        jac = np.empty(y.shape[0])
        _vegas_map(y, self._grid, self._inc, self._ninc, x, jac)
        out = np.empty((y.shape[0], 3))
        mom = np.empty((y.shape[0] if keep else 1, 5, 4))
        _tig.lepto_weights(x, self._par, out, mom, keep)
        if not self.params.coherent:
            out[:, 1] = 0.0
        if not self.params.incoherent:
            out[:, 2] = 0.0
        out[:, 0] = out[:, 1] + out[:, 2]
        out *= jac[:, None]
        return (mom if keep else mom[:0]), out

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exactly ``n`` unweighted events: (momenta [n, 5, 4] = (p, p′, ℓ⁻, ℓ⁺, P′) in the lab,
        GeV, not yet rotated; weights W [n, 3] (pb); component [n] int8 (0 coherent, 1
        incoherent)). Deterministic given the state of ``rng``."""
        mom, w = hit_or_miss(self, int(n), rng, 3, min_batch=MIN_BATCH, max_batch=MAX_BATCH)
        mom = mom.reshape(-1, 5, 4)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac_coh = np.where(w[:, 0] > 0, w[:, 1] / w[:, 0], 1.0)
        component = (rng.random(n) >= frac_coh).astype(np.int8)
        return mom, w, component


def trident_batch(
    mom: np.ndarray,
    component: np.ndarray,
    *,
    beam_pid: int,
    lepton: str,
    target: str,
    thickness_cm: float,
    rng: np.random.Generator,
    decay: bool = True,
) -> EventBatch:
    """The :class:`EventBatch` of sampled trident momenta (module docstring for the slots).

    ``mom`` [n, 5, 4] = (p, p′, ℓ⁻, ℓ⁺, P′) from :meth:`TridentSampler.sample` (lab, GeV);
    ``beam_pid`` = ±13; ``lepton`` ∈ {"tau", "mu", "e"}; ``target`` a symbol; ``thickness_cm``
    the target thickness. Randoms from ``rng`` in this order: azimuth, interaction point, then
    the τ decays (``decay``; unpolarized τ's, helicity drawn ±1)."""
    if abs(beam_pid) != PID_MU:
        raise ValueError(f"beam_pid must be ±{PID_MU}, not {beam_pid}")
    n = mom.shape[0]
    tg = get_target(target)
    pid_l, m_l = LEPTONS[lepton]
    m_beam = M_MU
    batch = EventBatch.empty(n)
    # random azimuth about the beam axis for all outgoing momenta
    alpha = rng.uniform(0.0, 2.0 * np.pi, n)
    ca, sa = np.cos(alpha)[:, None], np.sin(alpha)[:, None]
    out = mom[:, 1:].copy()
    px, py = out[..., 0].copy(), out[..., 1].copy()
    out[..., 0] = ca * px - sa * py
    out[..., 1] = sa * px + ca * py
    target_p4 = np.zeros((n, 4))
    target_p4[:, 3] = tg.nucleus_mass
    slots = (
        (0, beam_pid, STATUS_BEAM, mom[:, 0], m_beam),
        (1, tg.pdgid, STATUS_BEAM, target_p4, tg.nucleus_mass),
        (2, beam_pid, STATUS_FINAL, out[:, 0], m_beam),
        (3, tg.pdgid, STATUS_FINAL, out[:, 3], tg.nucleus_mass),
        (SLOT_LMINUS, pid_l, STATUS_FINAL, out[:, 1], m_l),
        (SLOT_LPLUS, -pid_l, STATUS_FINAL, out[:, 2], m_l),
    )
    for slot, pid, status, p4, m in slots:
        batch.pid[:, slot] = pid
        batch.status[:, slot] = status
        batch.p[:, slot] = p4
        batch.m[:, slot] = m
    batch.mother[:, 2:N_TRIDENT] = (0, 1)
    batch.daughter[:, :2] = (2, N_TRIDENT - 1)
    z = np.asarray(rng.uniform(0.0, thickness_cm * 10.0, n))  # mm
    batch.vertex[:, :N_TRIDENT, 2] = z[:, None]
    batch.vertex[:, :N_TRIDENT, 3] = z[:, None]
    batch.beam_energy[:] = mom[:, 0, 3]
    batch.n_particles[:] = N_TRIDENT
    pair = out[:, 1] + out[:, 2]
    # t = |P⃗′|² − (E′ − M)², from the recoil alone (never a difference of TeV vectors)
    batch.info["t"] = np.sum(out[:, 3, :3] ** 2, axis=1) - (out[:, 3, 3] - tg.nucleus_mass) ** 2
    batch.info["component"] = component.astype(np.int8)
    batch.info["x"] = out[:, 0, 3] / mom[:, 0, 3]
    batch.info["m_pair"] = np.sqrt(
        np.maximum(pair[:, 3] ** 2 - np.sum(pair[:, :3] ** 2, axis=1), 0.0)
    )
    batch.info["scale"] = batch.info["m_pair"].copy()  # the LHE SCALUP: the pair mass
    if decay:
        batch = decay_batch(batch, _NO_ALP, DecayConfig(alp="auto", tau="all"), rng)
    return batch


def sample_trident_batch(
    sampler: Any,
    params: Any,
    lepton: str,
    n: int,
    rng: np.random.Generator,
    *,
    decay: bool,
) -> EventBatch:
    """``n`` unweighted events of ``sampler`` on ``rng`` as an :class:`EventBatch` for the
    beam, target and thickness of ``params`` (a :class:`BackgroundParams`); the τ's decayed
    (unpolarized) when ``decay``."""
    mom, _, component = sampler.sample(n, rng)
    return trident_batch(
        mom,
        component,
        beam_pid=params.beam_pid,
        lepton=lepton,
        target=params.target,
        thickness_cm=params.thickness_cm,
        rng=rng,
        decay=decay,
    )
