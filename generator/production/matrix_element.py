"""Spin-averaged |M|² of ℓ_in N → ℓ_out a N by one-photon exchange, closed form (physics.md (5.1)).

    |M̄|² = e⁴ Z²F²(t)/t² × [ (S² + P²) 𝒜₀ + P² 𝒜_PV ]

    𝒜₀  = ((s+u)²/(su)) P² − 4 (t/(su)) (P·k)² + (m_a² − (m_in+m_out)²) B̃/(s²u²)
    𝒜_PV = 4 m_in m_out B̃/(s²u²)
    B̃    = (s+u)² P² t − 4 (u P·p + s P·p')²          [= (s+u)² B of physics.md]

with P = P_i + P_f the nucleus momentum *sum* (P² = 4M² + t), s = (p'+k)² − m_in²,
u = (p−k)² − m_out², t = −(P_i − P_f)², and the exact dot products (nucleus at rest, E = beam
energy, E_a = ALP energy, w = E − E_a):

    P·p = 2ME − (s+t)/2,  P·p' = 2Mw + (u−t)/2,  P·k = 2ME_a − (s+u)/2.

Writing (s+u)² B as B̃ avoids dividing by s + u. Averaged over the 2 incoming spins, summed over
the outgoing ones; S, P are the scalar/pseudoscalar Yukawa couplings of (1.1) (named g_S, g_P in
code, never confused with the nucleus momentum P).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..constants import E_CHARGE_SQ


@njit(cache=True)
def amplitude_terms(s, u, t, E, Ea, M, m_in, m_out, m_a):
    """(𝒜₀, 𝒜_PV) for one phase-space point (GeV-based invariants, dimensionless result)."""
    w = E - Ea
    P2 = 4.0 * M * M + t
    Pp = 2.0 * M * E - 0.5 * (s + t)
    Ppp = 2.0 * M * w + 0.5 * (u - t)
    Pk = 2.0 * M * Ea - 0.5 * (s + u)
    spu = s + u
    su = s * u
    x = u * Pp + s * Ppp
    Bt = spu * spu * P2 * t - 4.0 * x * x
    b_over = Bt / (su * su)
    mpl = m_in + m_out
    a0 = spu * spu / su * P2 - 4.0 * t * Pk * Pk / su + (m_a * m_a - mpl * mpl) * b_over
    apv = 4.0 * m_in * m_out * b_over
    return a0, apv


@njit(cache=True)
def _amp2_batch(s, u, t, E, Ea, M, m_in, m_out, m_a, out):
    for i in range(s.shape[0]):
        a0, apv = amplitude_terms(s[i], u[i], t[i], E[i], Ea[i], M, m_in, m_out, m_a)
        out[i, 0] = a0
        out[i, 1] = apv


def amplitude_terms_batch(
    s: np.ndarray,
    u: np.ndarray,
    t: np.ndarray,
    E: np.ndarray,
    Ea: np.ndarray,
    M: float,
    m_in: float,
    m_out: float,
    m_a: float,
) -> np.ndarray:
    """Batch version: array [N, 2] of (𝒜₀, 𝒜_PV)."""
    arrs = [
        np.ascontiguousarray(np.broadcast_to(a, np.shape(s)), dtype=np.float64)
        for a in (s, u, t, E, Ea)
    ]
    out = np.empty((arrs[0].shape[0], 2))
    _amp2_batch(*arrs, M, m_in, m_out, m_a, out)
    return out


def amp2(
    s: np.ndarray,
    u: np.ndarray,
    t: np.ndarray,
    E: np.ndarray,
    Ea: np.ndarray,
    M: float,
    m_in: float,
    m_out: float,
    m_a: float,
    g2_sum: float,
    gP2: float,
    z2f2: np.ndarray | float = 1.0,
) -> np.ndarray:
    """|M̄|² (dimensionless) = e⁴ Z²F²/t² [g2_sum 𝒜₀ + gP2 𝒜_PV] for batches of invariants."""
    a = amplitude_terms_batch(s, u, t, E, Ea, M, m_in, m_out, m_a)
    return (
        E_CHARGE_SQ**2 * np.asarray(z2f2) / np.asarray(t) ** 2 * (g2_sum * a[:, 0] + gP2 * a[:, 1])
    )
