"""Phase space of ℓ_in(p) N(P_i) → ℓ_out(p') a(k) N(P_f) in the nucleus rest frame, physics.md §5.3.

Unit hypercube → physical variables (all maps are smooth and monotone, chosen so that the
integrand is roughly flat before vegas adapts):

* y_w  → w = E − E_a ∈ [m_out, E − m_a], uniform in ln w (the ALP takes most of the energy);
* y_θ  → ALP polar angle θ_a ∈ [θ_lo, π], uniform in ln θ_a (peak near θ ~ m/E);
* y_t  → t ∈ [t₋, min(t₊, t_max, 2M(w − m_out))], uniform in ln t, with the exact thesis forms
  of t± for this (E_a, θ_a);
* y_φ  → φ_q, the azimuth of the recoil Q⃗ = P⃗_f about V⃗ = p⃗ − k⃗, mapped so that the point
  density in φ is ∝ 1/s
  (s = s₀ + s₁ cos φ is the μ-propagator denominator, peaked at s_min = s₀ − s₁).

Frame: p⃗ along +z, k⃗ in the (x, z) half-plane with k_x ≥ 0 (the overall azimuth is added by the
sampler), ê₂ = ŷ, ê₁ = ê₂ × ê_V. All subtractions that would cancel are done in the stable forms of
§5.3/§5.5 (E − p = m²/(E + p), E_a − k = m_a²/(E_a + k), V² = (p − k)² + 4pk sin²(θ/2), ...).

:func:`phase_space` returns the Jacobian ∂(E_a, θ_a, t, φ_q)/∂y (0 outside the physical region)
together with everything needed for |M|² and the four-momenta.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: θ_lo = THETA_LO_FACTOR × (m_a + m_out)/E. The integrand falls like θ² below the peak angle
#: ~(m_a + m_out)/E (phase-space sinθ × flat |M|²), so the lost part is ~10⁻¹⁰ of σ.
THETA_LO_FACTOR = 1e-5


@njit(cache=True)
def phase_space(E, y_w, y_th, y_t, y_phi, m_in, m_out, m_a, M, t_cut):
    """Map one point of the unit 4-cube to the physical phase space at beam energy E.

    Returns a tuple
    ``(jac, p, Ea, k, sin_th, cos_th, t, s, u, V, vx, vz, Q, cq, sq, cphi, sphi)``:
    ``jac`` = ∂(E_a, θ_a, t, φ_q)/∂(y) (0 if the point is unphysical; then the other entries are
    meaningless), p = |p⃗|, k = |k⃗|, (vx, 0, vz) = V⃗/V, Q = |Q⃗| and (cq, sq) = (cos, sin) of the
    angle between Q⃗ and V⃗, s = (p' + k)² − m_in², u = (p − k)² − m_out².
    """
    zero = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    # beam
    p = math.sqrt((E - m_in) * (E + m_in))
    e_minus_p = m_in * m_in / (E + p)
    # w = E - E_a
    w_lo = m_out if m_out > 0.0 else 1e-9 * E
    w_hi = E - m_a
    if not w_hi > w_lo:
        return zero
    lw = math.log(w_hi / w_lo)
    w = w_lo * math.exp(y_w * lw)
    if w > w_hi:
        w = w_hi
    jac = w * lw
    Ea = E - w
    ea_minus_ma = (E - m_a) - w
    if not ea_minus_ma > 0.0:
        return zero
    k = math.sqrt(ea_minus_ma * (Ea + m_a))
    ea_minus_k = m_a * m_a / (Ea + k) if m_a > 0.0 else 0.0
    # theta_a
    th_lo = THETA_LO_FACTOR * (m_a + m_out + m_in) / E
    if th_lo > 0.1:
        th_lo = 0.1
    lth = math.log(math.pi / th_lo)
    th = th_lo * math.exp(y_th * lth)
    if th > math.pi:
        th = math.pi
    jac *= th * lth
    sin_th = math.sin(th)
    cos_th = math.cos(th)
    sh = math.sin(0.5 * th)
    s2h = sh * sh
    # p - k = (p² - k²)/(p + k), with p² - k² = w(E + E_a) + m_a² - m_in²
    p_minus_k = (w * (E + Ea) + m_a * m_a - m_in * m_in) / (p + k)
    four_pk_s2h = 4.0 * p * k * s2h
    V2 = p_minus_k * p_minus_k + four_pk_s2h
    V = math.sqrt(V2)
    if not V > 0.0:
        return zero
    u = (e_minus_p - ea_minus_k) * ((E + p) - (Ea + k)) - four_pk_s2h - m_out * m_out
    # t limits (thesis forms)
    A = w + M
    disc = 4.0 * M * M * V2 + u * (4.0 * M * A + u)
    if not disc >= 0.0:
        return zero
    lin = A * u + 2.0 * M * V2
    if not lin > 0.0:  # then both roots are negative (physical points have A > V)
        return zero
    R = M * (lin + V * math.sqrt(disc))
    den = u + m_out * m_out + M * (2.0 * w + M)  # = A² − V²
    if not den > 0.0:
        return zero
    t_plus = R / den
    t_minus = (M * u) * (M * u) / R
    t_hi = t_plus
    if t_cut < t_hi:
        t_hi = t_cut
    t_eprime = 2.0 * M * (w - m_out)  # E' = w − t/2M > m_out
    if t_eprime < t_hi:
        t_hi = t_eprime
    if not (t_hi > t_minus and t_minus > 0.0):
        return zero
    lt = math.log(t_hi / t_minus)
    t = t_minus * math.exp(y_t * lt)
    jac *= t * lt
    # recoil
    Q = math.sqrt(t * (1.0 + t / (4.0 * M * M)))
    cq = (t * (1.0 + w / M) - u) / (2.0 * Q * V)
    if cq > 1.0:
        cq = 1.0
    elif cq < -1.0:
        cq = -1.0
    sq = math.sqrt((1.0 - cq) * (1.0 + cq))
    vx = -k * sin_th / V
    vz = (p_minus_k + 2.0 * k * s2h) / V
    # s = s0 + s1 cos φ with s1 ≥ 0 (ê₁·ẑ = −vx ≥ 0)
    s0 = -t * (1.0 + E / M) + 2.0 * p * Q * cq * vz
    s1 = 2.0 * p * Q * sq * (-vx)
    s_plus = s0 + s1
    s_min = s0 - s1
    if not (s_min > 0.0 and s_plus > 0.0):
        return zero
    # φ = 2 atan(c tan(ψ/2)), ψ ∈ (−π, π), c² = s_plus/s_min:  dφ/dψ = s/√(s_min s_plus)
    tan_half = math.tan(0.5 * math.pi * (2.0 * y_phi - 1.0))
    c = math.sqrt(s_plus / s_min)
    tau = c * tan_half
    tau2 = tau * tau
    cphi = (1.0 - tau2) / (1.0 + tau2)
    sphi = 2.0 * tau / (1.0 + tau2)
    s = (s_plus + s_min * tau2) / (1.0 + tau2)  # = s0 + s1 cos φ without cancellation
    jac *= 2.0 * math.pi * s / math.sqrt(s_min * s_plus)
    return (jac, p, Ea, k, sin_th, cos_th, t, s, u, V, vx, vz, Q, cq, sq, cphi, sphi)


@njit(cache=True)
def four_momenta(
    E, M, m_in, m_out, p, Ea, k, sin_th, cos_th, t, V, vx, vz, Q, cq, sq, cphi, sphi, out
):
    """Fill ``out[5, 4]`` (px, py, pz, E) with p_in, P_i, p_out, P_f, k in the lab frame."""
    # incoming lepton and target at rest
    out[0, 0] = 0.0
    out[0, 1] = 0.0
    out[0, 2] = p
    out[0, 3] = E
    out[1, 0] = 0.0
    out[1, 1] = 0.0
    out[1, 2] = 0.0
    out[1, 3] = M
    # ALP
    kx = k * sin_th
    kz = k * cos_th
    out[4, 0] = kx
    out[4, 1] = 0.0
    out[4, 2] = kz
    out[4, 3] = Ea
    # recoil: Q⃗ = Q [cq ê_V + sq (cosφ ê₁ + sinφ ê₂)], ê_V = (vx,0,vz), ê₁ = (vz,0,−vx)
    qx = Q * (cq * vx + sq * cphi * vz)
    qy = Q * (sq * sphi)
    qz = Q * (cq * vz - sq * cphi * vx)
    ef_minus_m = t / (2.0 * M)
    out[3, 0] = qx
    out[3, 1] = qy
    out[3, 2] = qz
    out[3, 3] = M + ef_minus_m
    # outgoing lepton p' = p + P_i − P_f − k; V⃗ = p⃗ − k⃗
    out[2, 0] = V * vx - qx
    out[2, 1] = -qy
    out[2, 2] = V * vz - qz
    out[2, 3] = (E - Ea) - ef_minus_m


def hypercube_to_momenta(
    y: np.ndarray, E: float, m_in: float, m_out: float, m_a: float, M: float, t_cut: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convenience (tests, scripts): map y[N, 4] → (jac[N], momenta[N, 5, 4], invariants[N, 3]).

    ``invariants`` holds (s, u, t). Unphysical points have jac = 0 and zero momenta."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    jac = np.zeros(y.shape[0])
    mom = np.zeros((y.shape[0], 5, 4))
    inv = np.zeros((y.shape[0], 3))
    _hypercube_to_momenta(y, E, m_in, m_out, m_a, M, t_cut, jac, mom, inv)
    return jac, mom, inv


@njit(cache=True)
def _hypercube_to_momenta(y, E, m_in, m_out, m_a, M, t_cut, jac, mom, inv):
    for i in range(y.shape[0]):
        r = phase_space(E, y[i, 0], y[i, 1], y[i, 2], y[i, 3], m_in, m_out, m_a, M, t_cut)
        jac[i] = r[0]
        if r[0] > 0.0:
            four_momenta(
                E,
                M,
                m_in,
                m_out,
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[9],
                r[10],
                r[11],
                r[12],
                r[13],
                r[14],
                r[15],
                r[16],
                mom[i],
            )
            inv[i, 0] = r[7]
            inv[i, 1] = r[8]
            inv[i, 2] = r[6]
