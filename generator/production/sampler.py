"""Unweighted hard-process events by hit-or-miss on the adapted vegas map.

For uniform y in the unit cube the vegas map gives x(y) with Jacobian J(y); the event weight is
W(y) = J(y) f(x(y)) (pb), whose mean is σ. A pre-scan (seeded) sets W_max = safety × max W; each
trial y is accepted with probability W/W_max. Points with W > W_max are accepted with weight 1 like
all others (weights are never mixed) and counted: ``overweight_fraction`` is their share of the
accepted events, a measure of the (small) bias of the unweighting.

Each accepted event gets its form-factor component (coherent / incoherent) drawn ∝ the two
component weights at that point, an overall azimuthal rotation about the beam axis (the
integrand fixes the ALP in the x–z half-plane) and, with a beam spectrum, the beam charge drawn
from the μ⁻ fraction at its energy, weighted by each charge's polarized rate at that point
(f_∓ (1 ± P_∓ A), A the beam-helicity asymmetry of μ⁻ at the point, see :mod:`.integrand`;
with an unpolarized spectrum this is the plain fraction). The weights the sampler accepts on are
σ(P)'s (column 0). Randomness: only the ``Generator`` passed to ``sample``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from . import integrand as _ig
from .integrator import CrossSection
from .process import ProcessParams

#: Largest batch of trials per jitted call (≈ 0.1 s of work on one core).
MAX_BATCH = 400_000
MIN_BATCH = 2_000


@dataclass
class HardEvents:
    """N unweighted events in the lab frame (nucleus rest frame, beam along +z); GeV.

    Four-vectors are (px, py, pz, E). ``component`` is 0 for coherent, 1 for incoherent;
    ``beam_charge`` is −1/+1 when drawn from a spectrum, else 0 ("as the run card says");
    ``polarization`` is the longitudinal polarization (mean lab helicity) of each event's beam
    lepton population (the card's constant, or the spectrum's column for its charge and energy),
    from which :mod:`.helicity` draws the event's beam helicity."""

    p_in: np.ndarray
    P_i: np.ndarray
    p_out: np.ndarray
    P_f: np.ndarray
    k: np.ndarray
    t: np.ndarray
    component: np.ndarray
    beam_charge: np.ndarray
    polarization: np.ndarray | None = None

    def __len__(self) -> int:
        return self.t.shape[0]

    @property
    def beam_energy(self) -> np.ndarray:
        return self.p_in[:, 3]


def charge_fraction_minus(
    f_minus: np.ndarray, pol_minus: np.ndarray, pol_plus: np.ndarray, asym: np.ndarray
) -> np.ndarray:
    """P(beam charge = −1 | point) for a two-charge polarized spectrum.

    ``f_minus``: flux fraction of negative leptons at the point's energy; ``pol_*``: the
    polarizations (mean lab helicity) of each charge there; ``asym``: the μ⁻ beam-helicity
    asymmetry A = R₊ − R₋ at the point (integrand column 5). By CP a μ⁺ of helicity h behaves as a
    μ⁻ of helicity −h, so the answer is f₋(1 + P₋A) / [f₋(1 + P₋A) + f₊(1 − P₊A)]; for P = 0 it
    is f₋."""
    f_minus = np.asarray(f_minus, float)
    a = f_minus * (1.0 + np.asarray(pol_minus) * asym)
    b = (1.0 - f_minus) * (1.0 - np.asarray(pol_plus) * asym)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a + b > 0, a / (a + b), f_minus)


class HitOrMissStats(Protocol):
    """What :func:`hit_or_miss` needs of a sampler: the phase-space dimension, the maximum
    weight, the expected efficiency, the trial points and the maximum that applies to each
    (``_draw``: uniforms y and W_max, a number or one per point), the mapped weights of
    uniforms ``y`` (returning a per-point payload, e.g. the mapped points, and the weight
    columns, column 0 the one to unweight on) and the counters it updates."""

    dim: int
    w_max: float
    _eff0: float
    n_trials: int
    n_accepted: int
    n_overweight: int
    trial_sum_ratio: float
    trial_sum_excess: float

    def _weights(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def _draw(self, nb: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | float]: ...


class UnweightingStats:
    """The statistics of a hit-or-miss sampler (:func:`hit_or_miss` updates the counters):
    the unweighting efficiency (accepted / trials; the pre-scan's expectation before any
    event) and the fraction of accepted events whose weight exceeded the maximum."""

    _eff0: float
    dim: int
    w_max: float
    n_trials: int = 0
    n_accepted: int = 0
    n_overweight: int = 0
    #: Σ W/W_max and Σ (W − W_max)⁺/W_max over the counted trials
    #: (:attr:`trial_overweight_sigma_fraction`)
    trial_sum_ratio: float = 0.0
    trial_sum_excess: float = 0.0

    def _draw(self, nb: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | float]:
        """``nb`` trial points, uniform in the unit cube, and the maximum weight for them."""
        return rng.random((nb, self.dim)), self.w_max

    @property
    def efficiency(self) -> float:
        return self.n_accepted / self.n_trials if self.n_trials else self._eff0

    @property
    def overweight_fraction(self) -> float:
        return self.n_overweight / self.n_accepted if self.n_accepted else 0.0

    @property
    def trial_overweight_sigma_fraction(self) -> float:
        """The share of σ above the maximum, Σ(W − W_max)⁺/ΣW, estimated on the trials of the
        sampling itself (each trial weighted by 1/W_max, the inverse of its sampling density
        up to a constant): an unbiased estimate of the bias the capped maximum leaves, from
        points independent of the ones that set it; 0 before any trial."""
        return self.trial_sum_excess / self.trial_sum_ratio if self.trial_sum_ratio > 0 else 0.0


def hit_or_miss(
    sampler: HitOrMissStats,
    n: int,
    rng: np.random.Generator,
    n_col: int,
    *,
    min_batch: int = 2_000,
    max_batch: int = 400_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Exactly ``n`` unweighted points by hit-or-miss against the maximum weight of each trial
    (``sampler._draw``: ``w_max`` for a plain sampler, the cell's maximum for a stratified
    one): the payload of ``sampler._weights`` (the mapped points [n, dim], or momenta) of the
    accepted trials and their weights [n, n_col]. Uniforms are drawn from ``rng`` in batches
    sized from the expected efficiency (deterministic given its state); trials beyond the
    n-th acceptance are not counted, so ``n_trials``, ``n_accepted``, ``n_overweight``
    (weights above the maximum, kept with weight 1) and the trial sums behind
    ``trial_overweight_sigma_fraction`` describe exactly the events returned.
    Shared by the signal sampler and the background samplers."""
    xs: list[np.ndarray] = []
    ws: list[np.ndarray] = []
    have = 0
    while have < n:
        nb = int(np.clip(1.15 * (n - have) / sampler._eff0 + 100, min_batch, max_batch))
        y, cap = sampler._draw(nb, rng)
        r = rng.random(nb)
        x, w = sampler._weights(y)
        cap_a = np.broadcast_to(np.asarray(cap, dtype=np.float64), (nb,))
        acc = np.flatnonzero(r * cap_a < w[:, 0])
        take = min(acc.shape[0], n - have)
        # trials beyond the n-th acceptance are not counted
        counted = (int(acc[take - 1]) + 1 if take > 0 else 0) if take < acc.shape[0] else nb
        sampler.n_trials += counted
        ratio = w[:counted, 0] / cap_a[:counted]
        sampler.trial_sum_ratio += float(ratio.sum())
        sampler.trial_sum_excess += float(np.clip(ratio - 1.0, 0.0, None).sum())
        acc = acc[:take]
        xs.append(x[acc])
        ws.append(w[acc])
        sampler.n_overweight += int(np.count_nonzero(w[acc, 0] > cap_a[acc]))
        have += take
    sampler.n_accepted += n
    x_all = np.concatenate(xs) if xs else np.empty((0, sampler.dim))
    w_all = np.concatenate(ws) if ws else np.empty((0, n_col))
    return x_all, w_all


class UnweightedSampler(UnweightingStats):
    """Hit-or-miss unweighting on the vegas map of a :class:`CrossSection`.

    Attributes (updated by every :meth:`sample` call, cumulative): ``efficiency`` (accepted /
    trials; before any sampling the pre-scan estimate ⟨W⟩/W_max), ``overweight_fraction``,
    ``w_max`` (pb), ``n_trials``.
    """

    def __init__(
        self,
        params: ProcessParams,
        xsec: CrossSection,
        *,
        seed: int,
        safety: float = 1.2,
        prescan: int = 100_000,
    ) -> None:
        if xsec.integrator is None or not xsec.sigma_pb > 0.0:
            raise ValueError("cannot sample a process with zero cross section")
        self.params = params
        self.xsec = xsec
        amap = xsec.integrator.map
        self._grid = np.ascontiguousarray(np.asarray(amap.grid), dtype=np.float64)
        self._inc = np.ascontiguousarray(np.asarray(amap.inc), dtype=np.float64)
        self._ninc = np.ascontiguousarray(np.asarray(amap.ninc), dtype=np.int64)
        self._par = _ig.pack(params)
        self._se, self._sf = _ig.pack_spectrum(params)
        self._aux = _ig.pack_spectrum_aux(params)
        self.dim = _ig.ndim(params)

        rng = np.random.default_rng(np.random.SeedSequence(seed))
        w = np.empty((0, _ig.N_COL))
        for start in range(0, prescan, MAX_BATCH):
            nb = min(MAX_BATCH, prescan - start)
            _, wb = self._weights(rng.random((nb, self.dim)))
            w = np.concatenate([w, wb])
        wmax = float(w[:, 0].max()) if w.shape[0] else 0.0
        if not wmax > 0.0:
            raise ValueError("pre-scan found no point with positive weight")
        self.w_max = safety * wmax
        self.prescan_mean = float(w[:, 0].mean())
        self._eff0 = self.prescan_mean / self.w_max
        self.n_trials = 0
        self.n_accepted = 0
        self.n_overweight = 0

    # -- kernels ------------------------------------------------------------------------------
    def _weights(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.empty_like(y)
        out = np.empty((y.shape[0], _ig.N_COL))
        _ig.mapped_weights(
            y, self._grid, self._inc, self._ninc, self._par, self._se, self._sf, self._aux, x, out
        )
        return x, out

    def sample(self, n: int, rng: np.random.Generator) -> HardEvents:
        """Exactly ``n`` unweighted events; deterministic given the state of ``rng``."""
        x, w = hit_or_miss(self, int(n), rng, _ig.N_COL, min_batch=MIN_BATCH, max_batch=MAX_BATCH)
        return self._build(x, w, rng)

    def _build(self, x: np.ndarray, w: np.ndarray, rng: np.random.Generator) -> HardEvents:
        n = x.shape[0]
        mom = np.zeros((n, 5, 4))
        t = np.empty(n)
        e = np.empty(n)
        if n:
            _ig.event_kinematics(np.ascontiguousarray(x), self._par, self._se, self._sf, mom, t, e)
        # component ∝ its weight at this point
        with np.errstate(invalid="ignore", divide="ignore"):
            frac_coh = np.where(w[:, 0] > 0, w[:, 1] / w[:, 0], 1.0)
        component = (rng.random(n) >= frac_coh).astype(np.int8)
        # random overall azimuth about the beam axis (the beam and the target at rest are on
        # the axis: rotating them would only turn +0.0 into -0.0 in the output files)
        alpha = rng.uniform(0.0, 2.0 * np.pi, n)
        ca, sa = np.cos(alpha)[:, None], np.sin(alpha)[:, None]
        px, py = mom[:, 2:, 0].copy(), mom[:, 2:, 1].copy()
        mom[:, 2:, 0] = ca * px - sa * py
        mom[:, 2:, 1] = sa * px + ca * py
        if self.params.spectrum is not None:
            spec = self.params.spectrum
            fm = np.asarray(spec.fraction_minus(e), dtype=np.float64)
            if spec.has_polarization:
                pol_m, pol_p = spec.polarization(e, "minus"), spec.polarization(e, "plus")
            else:
                pol_m = pol_p = np.full(n, self.params.polarization)
            fm = charge_fraction_minus(fm, pol_m, pol_p, w[:, 5])
            charge = np.where(rng.random(n) < fm, -1, 1).astype(np.int8)
            pol = np.where(charge < 0, pol_m, pol_p).astype(np.float64)
        else:
            charge = np.zeros(n, dtype=np.int8)
            pol = np.full(n, self.params.polarization)
        return HardEvents(
            p_in=mom[:, 0].copy(),
            P_i=mom[:, 1].copy(),
            p_out=mom[:, 2].copy(),
            P_f=mom[:, 3].copy(),
            k=mom[:, 4].copy(),
            t=t,
            component=component,
            beam_charge=charge,
            polarization=pol,
        )
