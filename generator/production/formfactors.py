"""Nuclear and atomic form factors for photon exchange with a nucleus, physics.md §5.6.

The squared charge form factor of paper Eq. 16 is split into its two components

    Z²F²(t) = G_el^atom(t) G_el^nuc(t)  +  G_inel^atom(t) G_inel^nuc(t)
              └──── coherent (elastic) ─┘   └─ incoherent (quasi-elastic) ─┘

with t = −q² > 0 in GeV². Each component already carries its charge factor (Z² for the coherent
part, Z and A − Z for the incoherent one): never multiply by Z² again. The atomic screening factors
are 1 when screening is switched off. All kernels are scalar ``@njit`` functions (inlined into the
batch integrands) plus one batch wrapper used by tests and scripts.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..constants import HBARC_GEV_FM, M_E, M_PROTON

#: Dipole scale t₀ of the nucleon form factors (GeV²) and magnetic moments (Eq. 19).
T0_DIPOLE = 0.71
MU_P = 2.79
MU_N = 1.91
#: 4 m_p² (GeV²) in τ_p = t / (4 m_p²).
FOUR_MP2 = 4.0 * M_PROTON**2


@njit(cache=True)
def atomic_elastic(t: float, a: float) -> float:
    """Atomic elastic screening G_el^atom = [a²t/(1+a²t)]², ``a`` in GeV⁻¹ (Eq. 17)."""
    x = a * a * t
    r = x / (1.0 + x)
    return r * r


@njit(cache=True)
def atomic_inelastic(t: float, a_prime: float) -> float:
    """Atomic inelastic screening G_inel^atom = [a'²t/(1+a'²t)]², ``a_prime`` in GeV⁻¹ (Eq. 18)."""
    x = a_prime * a_prime * t
    r = x / (1.0 + x)
    return r * r


@njit(cache=True)
def sphere_ff(x: float) -> float:
    """Hard-sphere form factor 3 (sin x − x cos x)/x³, with its series for small x.

    Direct evaluation loses digits for x → 0 (sin x − x cos x = x³/3 − x⁵/30 + x⁷/840 − …; the
    relative rounding error is ~10⁻¹⁶/x²), so below x = 0.05 the series 1 − x²/10 + x⁴/280 −
    x⁶/15120 + x⁸/1330560 is used (truncation < 10⁻¹⁷ there; direct form ≲ 10⁻¹³ above)."""
    if x < 0.05:
        x2 = x * x
        return 1.0 + x2 * (-0.1 + x2 * (1.0 / 280.0 + x2 * (-1.0 / 15120.0 + x2 / 1330560.0)))
    return 3.0 * (math.sin(x) - x * math.cos(x)) / (x * x * x)


@njit(cache=True)
def nuclear_elastic(t: float, z_coh: float, r_a: float, a0: float) -> float:
    """Coherent nuclear factor z_coh² [3(sin x − x cos x)/x³ · 1/(1 + a₀²t)]², x = R_A √t (Eq. 20).

    Klein–Nystrand (hard sphere ⊗ Yukawa) approximation of a Woods–Saxon charge density.
    ``r_a`` and ``a0`` in GeV⁻¹; ``z_coh`` is Z (paper) or Z − 1 (author's code)."""
    f = sphere_ff(r_a * math.sqrt(t)) / (1.0 + a0 * a0 * t)
    return z_coh * z_coh * f * f


@njit(cache=True)
def nuclear_inelastic(t: float, z: float, a_mass: float) -> float:
    """Incoherent (quasi-elastic) nuclear factor of Eq. 19: dipole nucleon form factors,

    [Z (1 + μ_p² τ_p) + (A − Z) μ_n² τ_p] / [(1 + t/t₀)⁴ (1 + τ_p)],  τ_p = t/(4 m_p²)."""
    tau = t / FOUR_MP2
    gd = 1.0 + t / T0_DIPOLE
    gd2 = gd * gd
    num = z * (1.0 + MU_P * MU_P * tau) + (a_mass - z) * MU_N * MU_N * tau
    return num / (gd2 * gd2 * (1.0 + tau))


@njit(cache=True)
def components(
    t: float,
    z: float,
    a_mass: float,
    z_coh: float,
    r_a: float,
    a0: float,
    a_el: float,
    a_inel: float,
    screening: bool,
) -> tuple[float, float]:
    """(coherent, incoherent) parts of Z²F²(t) for one t (GeV²)."""
    coh = nuclear_elastic(t, z_coh, r_a, a0)
    inc = nuclear_inelastic(t, z, a_mass)
    if screening:
        coh *= atomic_elastic(t, a_el)
        inc *= atomic_inelastic(t, a_inel)
    return coh, inc


@njit(cache=True)
def _components_batch(t, z, a_mass, z_coh, r_a, a0, a_el, a_inel, screening, out):
    for i in range(t.shape[0]):
        c, n = components(t[i], z, a_mass, z_coh, r_a, a0, a_el, a_inel, screening)
        out[i, 0] = c
        out[i, 1] = n


def screening_lengths(Z: int, a_el: float = 111.0, a_inel: float = 571.4) -> tuple[float, float]:
    """Atomic screening radii (a, a') in GeV⁻¹: a = a_el Z^(−1/3)/m_e, a' = a_inel Z^(−2/3)/m_e."""
    return a_el * Z ** (-1.0 / 3.0) / M_E, a_inel * Z ** (-2.0 / 3.0) / M_E


def nuclear_radius(A: int) -> float:
    """R_A = 1.2 fm A^(1/3) in GeV⁻¹."""
    return 1.2 * A ** (1.0 / 3.0) / HBARC_GEV_FM


def form_factor_components(
    t: np.ndarray,
    Z: int,
    A: int,
    *,
    coherent_norm: str = "Z",
    atomic_screening: bool = True,
    a_el: float = 111.0,
    a_inel: float = 571.4,
    ws_a0_fm: float = 0.79,
) -> np.ndarray:
    """Batch evaluation: array [N, 2] of (coherent, incoherent) Z²F² components at ``t`` (GeV²)."""
    t = np.ascontiguousarray(t, dtype=np.float64)
    out = np.empty((t.shape[0], 2))
    a, ap = screening_lengths(Z, a_el, a_inel)
    z_coh = float(Z) if coherent_norm == "Z" else float(Z - 1)
    _components_batch(
        t,
        float(Z),
        float(A),
        z_coh,
        nuclear_radius(A),
        ws_a0_fm / HBARC_GEV_FM,
        a,
        ap,
        atomic_screening,
        out,
    )
    return out
