"""Phenomenology of the LFV ALP outside the generator: (g−2)_μ and dark-matter annihilation.

Formulas and check values are in physics.md §3 (g−2) and §4 (dark matter). Units: GeV, GeV⁻² for
⟨σv⟩ unless a name says ``cm3_s``; C/Λ in TeV⁻¹. Couplings follow :mod:`alpgen.model`:
``L ⊃ −i a ℓ̄_in (S + P γ5) ℓ_out + h.c.`` with the "paper" (S² = g² sin²θ, P² = g² cos²θ,
g = C m_τ/Λ) or the "exact" (physics.md (1.1)) convention.

The anomalous moment is that of ``ℓ_in`` (the muon) with ``ℓ_out`` (the τ) in the loop:

    Δa = (m_in²/8π²) ∫₀¹ dx [ (S² + P²) x²(1−x) + (S² − P²)(m_out/m_in) x² ] / D(x),
    D(x) = m_in² x² + (m_out² − m_in²) x + m_a² (1 − x)                        (physics.md (3.1))

evaluated by composite Gauss–Legendre quadrature on panels graded geometrically towards both
end points, where D can become small compared with its typical size (x → 0 for m_a ≪ m_out,
x → 1 for m_a ≫ m_out).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .constants import GEV2_TO_CM3_PER_S, M_MU, M_TAU
from .model import ALPModel

__all__ = [
    "RELIC_SIGMA_V_CM3_S",
    "G2Inputs",
    "cm3_s_to_gev2",
    "delta_a_mu",
    "delta_a_mu_C_over_Lambda",
    "delta_a_mu_chiral_approx",
    "delta_a_mu_from_couplings",
    "delta_a_mu_light_alp",
    "f_loop",
    "g2_band_C_over_Lambda",
    "gev2_to_cm3_s",
    "relic_g_chi_aa",
    "relic_g_mutau",
    "sigma_v_chichi_to_aa",
    "sigma_v_chichi_to_mutau",
    "sigma_v_chichi_to_visible",
]

#: Thermal relic target ⟨σv⟩ for Dirac dark matter in cm³/s (physics.md §4.3).
RELIC_SIGMA_V_CM3_S: float = 4.4e-26

Couplings = Literal["paper", "exact"]


def _out(x: NDArray[np.float64]) -> float | NDArray[np.float64]:
    """Return a Python float for 0-d results, the array otherwise."""
    return float(x) if np.ndim(x) == 0 else x


# ---------------------------------------------------------------------------------------------
# (g−2)
# ---------------------------------------------------------------------------------------------
_N_GL = 24  # nodes per panel: a pole one panel-width away still converges to ~1e-14
_N_DECADES = 20  # panels reach 1e-20 from each end point: covers m_out/m_a down to ~1e-9


@cache
def _graded_rule(n: int = _N_GL, decades: int = _N_DECADES) -> tuple[np.ndarray, ...]:
    """Nodes (x, y = 1 − x) and weights on [0, 1], panels graded geometrically to 0 and 1.

    Both x and y are returned so that points near x = 1 keep full relative precision in 1 − x.
    Panels: [0, 10⁻ᴷ], [10⁻ᴷ, 10⁻ᴷ⁺¹], …, [0.1, 0.5] in x and the mirror image in y.
    """
    t, w = np.polynomial.legendre.leggauss(n)
    edges = np.concatenate(([0.0], 10.0 ** np.arange(-decades, 0, dtype=float), [0.5]))
    lo, hi = edges[:-1, None], edges[1:, None]
    half = 0.5 * (hi - lo)
    u = (lo + half * (t + 1.0)).ravel()  # distance from the nearer end point
    wu = (half * w).ravel()
    x = np.concatenate((u, 1.0 - u))
    y = np.concatenate((1.0 - u, u))
    wt = np.concatenate((wu, wu))
    return x, y, wt


def delta_a_mu_from_couplings(
    S2: ArrayLike,
    P2: ArrayLike,
    m_a: ArrayLike,
    *,
    m_in: float = M_MU,
    m_out: float = M_TAU,
) -> float | NDArray[np.float64]:
    """One-loop Δa of lepton ``m_in`` from the LFV ALP with ``m_out`` in the loop, (3.1).

    ``S2``, ``P2`` are the squared scalar/pseudoscalar couplings (S̃², P̃² of physics.md (3.1));
    they and ``m_a`` (GeV) broadcast against each other. Exact for all masses (no m_μ → 0).
    Raises ``ValueError`` if D(x) vanishes in [0, 1] (m_in > m_out + m_a: the decay
    ℓ_in → ℓ_out a is open and Δa acquires an absorptive part).
    """
    S2, P2, m_a = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (S2, P2, m_a)))
    if np.any(m_a < 0.0):
        raise ValueError("m_a must be non-negative")
    if m_in > m_out and np.any(m_a < m_in - m_out):
        raise ValueError("D(x) vanishes in [0, 1]: ℓ_in → ℓ_out a is kinematically open")
    x, y, w = _graded_rule()
    ma2 = m_a[..., None] ** 2
    D = m_in**2 * x * x + (m_out**2 - m_in**2) * x + ma2 * y
    iA = np.sum(w * x * x * y / D, axis=-1)  # ∫ x²(1−x)/D
    iB = np.sum(w * x * x / D, axis=-1)  # ∫ x²/D
    res = m_in**2 / (8.0 * math.pi**2) * ((S2 + P2) * iA + (S2 - P2) * (m_out / m_in) * iB)
    return _out(res)


def delta_a_mu(model: ALPModel) -> float:
    """Δa of the model's incoming lepton (the muon), (3.1), with the model's S², P², m_a."""
    return float(
        delta_a_mu_from_couplings(model.S2, model.P2, model.m_a, m_in=model.m_in, m_out=model.m_out)
    )


def delta_a_mu_C_over_Lambda(
    m_a: float,
    C_over_Lambda: float,
    theta: float,
    *,
    couplings: Couplings = "paper",
    m_in: float = M_MU,
    m_out: float = M_TAU,
) -> float:
    """Δa_μ for C/Λ (TeV⁻¹), θ (rad) and ALP mass m_a (GeV) in the given coupling convention."""
    model = ALPModel.from_C_over_Lambda(
        m_a, C_over_Lambda, theta, m_in=m_in, m_out=m_out, couplings=couplings
    )
    return delta_a_mu(model)


def f_loop(r: ArrayLike) -> float | NDArray[np.float64]:
    """f(r) = ∫₀¹ x² dx / [x + r(1−x)] = [1 − 4r + 3r² − 2r² ln r] / [2(1−r)³], (3.2).

    r = m_a²/m_τ² ≥ 0. f(0) = 1/2, f(1) = 1/3, f(r ≫ 1) ≈ (ln r − 3/2)/r. Near r = 1 the closed
    form cancels to (1−r)³, so |r − 1| < 0.1 uses the series Σ 2(1−r)ⁿ/((n+1)(n+2)(n+3)).
    """
    r = np.asarray(r, dtype=float)
    if np.any(r < 0.0):
        raise ValueError("f(r) needs r ≥ 0")
    e = r - 1.0
    near = np.abs(e) < 0.1
    with np.errstate(divide="ignore", invalid="ignore"):
        r2lnr = np.where(r > 0.0, r * r * np.log(np.where(r > 0.0, r, 1.0)), 0.0)
        closed = (1.0 - 4.0 * r + 3.0 * r * r - 2.0 * r2lnr) / (2.0 * (1.0 - r) ** 3)
    n = np.arange(40, dtype=float)
    coef = 2.0 / ((n + 1.0) * (n + 2.0) * (n + 3.0))
    en = np.where(near, e, 0.0)
    series = np.sum(coef * (-en[..., None]) ** n, axis=-1)
    return _out(np.where(near, series, closed))


def delta_a_mu_chiral_approx(
    g: ArrayLike, theta: ArrayLike, m_a: ArrayLike, *, m_in: float = M_MU, m_out: float = M_TAU
) -> float | NDArray[np.float64]:
    """Chirally enhanced part for m_out ≫ m_in, (3.2): −g² m_in cos2θ f(m_a²/m_out²)/(8π² m_out)."""
    g, theta, m_a = (np.asarray(v, dtype=float) for v in (g, theta, m_a))
    res = -(g**2) * m_in * np.cos(2.0 * theta) * f_loop(m_a**2 / m_out**2)
    return _out(res / (8.0 * math.pi**2 * m_out))


def delta_a_mu_light_alp(
    g: ArrayLike, theta: ArrayLike, *, m_in: float = M_MU, m_out: float = M_TAU
) -> float | NDArray[np.float64]:
    """Light-ALP limit (3.3): Δa ≈ −(g²/16π²)(m_in/m_out) cos2θ (|cos2θ| ≫ m_in/m_out)."""
    g, theta = np.asarray(g, dtype=float), np.asarray(theta, dtype=float)
    return _out(-(g**2) / (16.0 * math.pi**2) * (m_in / m_out) * np.cos(2.0 * theta))


@dataclass(frozen=True)
class G2Inputs:
    """Measured minus SM a_μ and the band width used for the "(g−2) favoured" region.

    Defaults are the paper's (Eqs. 11–12): Δa_μ = (249 ± 48)×10⁻¹¹, band = ±2σ. Later
    measurements and SM evaluations moved these: pass your own numbers.
    """

    delta: float = 249e-11
    sigma: float = 48e-11
    n_sigma: float = 2.0

    @property
    def lo(self) -> float:
        """Lower edge of the Δa_μ band."""
        return self.delta - self.n_sigma * self.sigma

    @property
    def hi(self) -> float:
        """Upper edge of the Δa_μ band."""
        return self.delta + self.n_sigma * self.sigma


def g2_band_C_over_Lambda(
    m_a: float,
    theta: float,
    *,
    couplings: Couplings = "paper",
    inputs: G2Inputs = G2Inputs(),
    m_in: float = M_MU,
    m_out: float = M_TAU,
) -> tuple[float, float] | None:
    """C/Λ interval (TeV⁻¹) where the ALP brings Δa_μ within ``n_sigma`` of ``delta``.

    Δa_μ ∝ (C/Λ)², so the interval is [√(lo/Δa₁), √(hi/Δa₁)] with Δa₁ = Δa_μ(C/Λ = 1 TeV⁻¹);
    a band reaching below zero gives a lower edge 0. Returns ``None`` if the ALP contribution
    has the wrong sign (Δa₁ ≤ 0, e.g. θ < π/4) or the whole band is negative.
    """
    da1 = delta_a_mu_C_over_Lambda(m_a, 1.0, theta, couplings=couplings, m_in=m_in, m_out=m_out)
    if not da1 > 0.0 or inputs.hi <= 0.0:
        return None
    return math.sqrt(max(inputs.lo, 0.0) / da1), math.sqrt(inputs.hi / da1)


# ---------------------------------------------------------------------------------------------
# Dark matter
# ---------------------------------------------------------------------------------------------
def gev2_to_cm3_s(sigma_v: ArrayLike) -> float | NDArray[np.float64]:
    """Convert ⟨σv⟩ from GeV⁻² to cm³/s (1 GeV⁻² = 1.167×10⁻¹⁷ cm³/s)."""
    return _out(np.asarray(sigma_v, dtype=float) * GEV2_TO_CM3_PER_S)


def cm3_s_to_gev2(sigma_v: ArrayLike) -> float | NDArray[np.float64]:
    """Convert ⟨σv⟩ from cm³/s to GeV⁻²."""
    return _out(np.asarray(sigma_v, dtype=float) / GEV2_TO_CM3_PER_S)


def sigma_v_chichi_to_mutau(
    g_chi: ArrayLike,
    g: ArrayLike,
    m_chi: ArrayLike,
    m_a: ArrayLike,
    *,
    width_a: ArrayLike = 0.0,
    m_tau: float = M_TAU,
    m_mu: float = M_MU,
) -> float | NDArray[np.float64]:
    """s-wave ⟨σv⟩(χχ̄ → μ⁻τ⁺ + μ⁺τ⁻) in GeV⁻², physics.md (4.1) (m_μ → 0 in the matrix element):

        g_χ² g² (4m_χ² − m_τ²)² / [16π m_χ² ((4m_χ² − m_a²)² + m_a² Γ_a²)].

    ``g`` is g_μτ of the paper convention; ``width_a`` (GeV, default 0 as in the paper)
    regulates the s-channel pole at m_a = 2m_χ. Zero below the threshold 2m_χ = m_τ + m_μ.
    Divide by 2 for one charge mode.
    """
    g_chi, g, m_chi, m_a, width_a = (
        np.asarray(v, dtype=float) for v in (g_chi, g, m_chi, m_a, width_a)
    )
    s = 4.0 * m_chi**2
    with np.errstate(divide="ignore", invalid="ignore"):
        den = 16.0 * math.pi * m_chi**2 * ((s - m_a**2) ** 2 + (m_a * width_a) ** 2)
        sv = g_chi**2 * g**2 * (s - m_tau**2) ** 2 / den
    return _out(np.where(2.0 * m_chi > m_tau + m_mu, sv, 0.0))


def sigma_v_chichi_to_visible(model: ALPModel, *, width_a: float = 0.0) -> float:
    """s-wave ⟨σv⟩(χχ̄ → ℓℓ') in GeV⁻² with the model's couplings and full lepton masses.

    Uses the factorisation of s-channel spin-0 exchange at threshold (s = 4m_χ², v → 0):
    σv = g_χ² √s Γ_vis(a* of mass √s) / [(s − m_a²)² + m_a²Γ_a²], where Γ_vis is (2.2) evaluated
    at m_a → √s. In the paper convention and m_μ → 0 it reduces to (4.1).
    """
    sqrt_s = 2.0 * model.m_chi
    if not math.isfinite(sqrt_s) or sqrt_s <= model.lepton_threshold:
        return 0.0
    virtual = dataclasses.replace(model, m_a=sqrt_s, g_chi=0.0, eq5_is_total=False)
    den = (sqrt_s**2 - model.m_a**2) ** 2 + (model.m_a * width_a) ** 2
    return model.g_chi**2 * sqrt_s * virtual.width_visible / den


def sigma_v_chichi_to_aa(
    g_chi: ArrayLike, m_chi: ArrayLike, m_a: ArrayLike, v2: ArrayLike
) -> float | NDArray[np.float64]:
    """p-wave σv_rel(χχ̄ → aa) in GeV⁻², physics.md (4.2):

        g_χ⁴ m_χ v² (m_χ² − m_a²)^{5/2} / [24π (2m_χ² − m_a²)⁴],

    v² = v_rel² (v_rel = 2β in the CM frame); thermal average ⟨v_rel²⟩ = 6/x_f. Zero for m_χ ≤ m_a.
    """
    g_chi, m_chi, m_a, v2 = (np.asarray(v, dtype=float) for v in (g_chi, m_chi, m_a, v2))
    d = np.clip(m_chi**2 - m_a**2, 0.0, None)
    sv = g_chi**4 * m_chi * v2 * d**2.5 / (24.0 * math.pi * (2.0 * m_chi**2 - m_a**2) ** 4)
    return _out(np.where(m_chi > m_a, sv, 0.0))


def relic_g_chi_aa(
    m_a: ArrayLike,
    m_chi: ArrayLike,
    x_f: float = 20.0,
    *,
    target_cm3_s: float = RELIC_SIGMA_V_CM3_S,
) -> float | NDArray[np.float64]:
    """g_χ for which ⟨σv⟩(χχ̄ → aa) with ⟨v²⟩ = 6/x_f equals the relic target (needs m_χ > m_a).

    Check (physics.md §4.3): m_χ = 3m_a gives g_χ ≈ 0.11 √(m_a/GeV). ``nan`` for m_χ ≤ m_a.
    """
    m_a, m_chi = np.asarray(m_a, dtype=float), np.asarray(m_chi, dtype=float)
    sv1 = np.asarray(sigma_v_chichi_to_aa(1.0, m_chi, m_a, 6.0 / x_f))
    with np.errstate(divide="ignore"):
        g = (cm3_s_to_gev2(target_cm3_s) / sv1) ** 0.25
    return _out(np.where(sv1 > 0.0, g, np.nan))


def relic_g_mutau(
    m_a: ArrayLike,
    m_chi: ArrayLike,
    g_chi: ArrayLike = 1.0,
    *,
    width_a: ArrayLike = 0.0,
    target_cm3_s: float = RELIC_SIGMA_V_CM3_S,
) -> float | NDArray[np.float64]:
    """g_μτ (paper convention) for which ⟨σv⟩(χχ̄ → μτ), (4.1), equals the relic target.

    C/Λ in TeV⁻¹ follows as g/(m_τ · 10⁻³ TeV). ``nan`` below the μτ threshold.
    """
    sv1 = np.asarray(sigma_v_chichi_to_mutau(g_chi, 1.0, m_chi, m_a, width_a=width_a))
    with np.errstate(divide="ignore"):
        g = np.sqrt(cm3_s_to_gev2(target_cm3_s) / sv1)
    return _out(np.where(sv1 > 0.0, g, np.nan))
