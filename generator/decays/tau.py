"""τ⁻ decay channels (τ⁺ by CP conjugation in the registry).

Branching fractions
-------------------
Sources: /work/shared/data/tau_decay_reference.csv for the leptonic modes (PDG Γ3, Γ5) and the
exclusive topological prong fractions (L3 hep-ex/0107055 and DELPHI hep-ex/0105047, both
verified in that file; average 3-prong 0.1456); the 5-prong fraction is the PDG value of that file
(9.9e-4). Exclusive hadronic modes are PDG RPP values quoted from memory (status "M", not
re-verified, ≲ 1 % relative): π⁻ν 0.1082, K⁻ν 0.0070, π⁻π⁰ν 0.2549, π⁻2π⁰ν (ex K⁰) 0.0926,
π⁻π⁻π⁺ν (ex K⁰, ω) 0.0899, π⁻π⁻π⁺π⁰ν (ex K⁰) 0.0449. The remainders are grouped so that
the 1-, 3- and 5-prong totals equal the exclusive topological fractions and everything sums to 1:

    other 1-prong = 1 − 0.1456 − 0.00099 − (0.1782 + 0.1739 + 0.1082 + 0.0070 + 0.2549 + 0.0926)
                  = 0.03861   (K⁻π⁰, K̄⁰π⁻ with K⁰ → neutrals, π⁻3π⁰, η and ω modes, …)
    other 3-prong = 0.1456 − 0.0899 − 0.0449 = 0.0108 (K⁻π⁻π⁺, K⁻K⁺π⁻, K⁰_S → π⁺π⁻ modes, …)

(The PDG inclusive 3-prong value 0.152 counts K⁰_S → π⁺π⁻ on top of 1-prong topologies; a
generator needs the exclusive topology, 0.1456 — the paper's "B(3-prong) ≈ 0.15".)

Models (all kinematics in the τ rest frame with the spin axis along +z, polarisation P ∈ [−1, 1]
= lab helicity; the spin four-vector enters as the effective momentum p_τ − m_τ s)
-------------------------------------------------------------------------------------------
* ℓ ν̄_ℓ ν_τ: tree-level V−A, |M|² ∝ ((p_τ − m_τ s)·p_ν̄ℓ)(p_ℓ·p_ντ), exact in m_ℓ: the
  polarised Michel spectrum (ρ = δ = 3/4, ξ = 1, η = 0). No radiative corrections.
* π⁻ν, K⁻ν: dΓ/dcosθ ∝ 1 + P cosθ (θ between the meson and the spin); exact.
* π⁻π⁰ν: vector current J = F_ρ(s)(p_π⁻ − p_π⁰), |M|² ∝ |F_ρ|² [2(p_ν·J)(q·J) − (p_ν·q) J²]
  with q = p_τ − m_τ s (the full polarised spin-1 correlations of longitudinal/transverse ρ).
  F_ρ: Kühn–Santamaria-type ρ(770) Breit–Wigner m²/(m² − s − i√s Γ(s)) with the p-wave width
  Γ(s) = Γ_ρ (m_ρ/√s)(k(s)/k(m_ρ²))³ (ρ′ neglected). m_ρ, Γ_ρ from `particle`.
* π⁻π⁻π⁺ν and π⁰π⁰π⁻ν: a₁ → ρπ dominance (Kühn–Santamaria-like current
  J = BW_a₁(Q²)[F_ρ(s₁₃)(q₁ − q₃)_T + F_ρ(s₂₃)(q₂ − q₃)_T], q₃ the odd pion, constant-width a₁
  from `particle`). The hadronic system is a spin-1 state: its mass spectrum,
  dΓ ∝ (m² − Q²)²(m² + 2Q²)/(m²Q²) (−J·J*) dQ² dΦ₃, and its direction,
  dΓ/dcosθ ∝ 1 + P α cosθ with α = (m² − 2Q²)/(m² + 2Q²), are exact for this current; the
  orientation of the 3π system is averaged over the a₁ spin (isotropic in the hadronic frame),
  so correlations between the 3π decay plane and the τ spin are not modelled.
* π⁻π⁻π⁺π⁰ν, other 1-prong (represented by π⁻3π⁰ν), other 3-prong (represented by
  K⁻π⁻π⁺ν), 5-prong (3π⁻2π⁺ν): the same spin-1 hadronic system with a constant current
  (n-body phase space for the hadrons, V−A spectrum and 1 + Pα cosθ for the system).

Sampling is by rejection against rigorous per-event bounds (maximised over a fine grid of the
system mass, with a 5 % margin), from a splitmix64 stream seeded by the row's two uniforms. The
a₁ channels propose their Dalitz plot from the two ρ Breit–Wigners (:func:`_a1_dalitz`: s₁₃ or
s₂₃ from the ρ, the other invariant uniform, the mixture density in the weight; 20 % of the
proposals accepted, against 1.5 % for flat phase space), the others use GENBOD phase space.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..constants import M_E, M_MU, M_PI, M_PI0, M_TAU, mass, width
from .kinematics import (
    boost3,
    four,
    genbod,
    genbod_wtmax,
    mdot,
    next_uniform,
    sample_linear_cos,
    seed_state,
    set_direction,
    to_lab,
    two_body_momentum,
)
from .registry import Channel, register

M_K = mass(321)
M_RHO = mass(213)
G_RHO = width(213)
M_A1 = mass(20213)
G_A1 = width(20213)

#: Maximum number of rejection trials per decay (the efficiencies are ≳ 1 %; never reached).
MAX_TRIES = 1_000_000
_NGRID = 4000
_NGRID_DALITZ = 200  # s grid of the a₁ envelope at each hadronic mass
_NGRID_A1 = 400  # hadronic-mass grid of the a₁ envelope
_MARGIN = 1.05

# --- branching fractions (see the module docstring) ---------------------------------------
BR_E = 0.1782
BR_MU = 0.1739
BR_PI = 0.1082
BR_K = 0.0070
BR_PIPI0 = 0.2549
BR_PI2PI0 = 0.0926
BR_3PI = 0.0899
BR_3PIPI0 = 0.0449
BR_3PRONG_TOTAL = 0.1456
BR_5PRONG = 0.00099
BR_OTHER_3PRONG = BR_3PRONG_TOTAL - BR_3PI - BR_3PIPI0
BR_OTHER_1PRONG = (
    1.0 - BR_3PRONG_TOTAL - BR_5PRONG - (BR_E + BR_MU + BR_PI + BR_K + BR_PIPI0 + BR_PI2PI0)
)


# --- leptonic --------------------------------------------------------------------------------
@njit(cache=True)
def _leptonic(p4, hel, u, ml):
    n = p4.shape[0]
    out = np.empty((n, 3, 4))
    masses = np.array([ml, 0.0, 0.0])  # ℓ⁻, ν̄_ℓ, ν_τ
    rest = np.empty((3, 3))
    pl, pnb, pn = np.empty(4), np.empty(4), np.empty(4)
    wps = genbod_wtmax(M_TAU, masses)
    work = np.empty((4, 3))
    for i in range(n):
        P = hel[i]
        st = seed_state(u[i, 0], u[i, 1])
        # bound: 1 + P cosθ ≤ 1 + |P| and, with p_ℓ·p_ν = (m² − m_ℓ² − 2m E_ν̄)/2,
        # E_ν̄ p_ℓ·p_ν ≤ (m² − m_ℓ²)²/(16 m)
        wmax = wps * (1.0 + abs(P)) * (M_TAU * M_TAU - ml * ml) ** 2 / (16.0 * M_TAU)
        for _ in range(MAX_TRIES):
            w = genbod(M_TAU, masses, st, rest, work)
            four(rest[0], ml, pl)
            four(rest[1], 0.0, pnb)
            four(rest[2], 0.0, pn)
            # (p_τ − m s)·p_ν̄ / m_τ = E_ν̄ + P p_ν̄,z
            w *= (pnb[3] + P * pnb[2]) * mdot(pl, pn)
            if next_uniform(st) * wmax < w:
                break
        to_lab(rest, masses, p4[i], M_TAU, out[i])
    return out


@njit(cache=True)
def kernel_mu(p4, hel, u):
    """τ⁻ → μ⁻ ν̄_μ ν_τ (polarised V−A)."""
    return _leptonic(p4, hel, u, M_MU)


@njit(cache=True)
def kernel_e(p4, hel, u):
    """τ⁻ → e⁻ ν̄_e ν_τ (polarised V−A)."""
    return _leptonic(p4, hel, u, M_E)


# --- two-body --------------------------------------------------------------------------------
@njit(cache=True)
def _meson_nu(p4, hel, u, mh):
    n = p4.shape[0]
    out = np.empty((n, 2, 4))
    masses = np.array([mh, 0.0])
    rest = np.empty((2, 3))
    k = two_body_momentum(M_TAU, mh, 0.0)
    for i in range(n):
        c = sample_linear_cos(hel[i], u[i, 0])
        set_direction(rest[0], k, c, 2.0 * math.pi * u[i, 1])
        rest[1, 0], rest[1, 1], rest[1, 2] = -rest[0, 0], -rest[0, 1], -rest[0, 2]
        to_lab(rest, masses, p4[i], M_TAU, out[i])
    return out


@njit(cache=True)
def kernel_pi(p4, hel, u):
    """τ⁻ → π⁻ ν_τ: dΓ/dcosθ ∝ 1 + P cosθ."""
    return _meson_nu(p4, hel, u, M_PI)


@njit(cache=True)
def kernel_k(p4, hel, u):
    """τ⁻ → K⁻ ν_τ: dΓ/dcosθ ∝ 1 + P cosθ."""
    return _meson_nu(p4, hel, u, M_K)


# --- shared resonance shapes -------------------------------------------------------------------
@njit(cache=True)
def rho_ff(s, m1, m2):
    """Kühn–Santamaria-type ρ(770) form factor F(s) (F(0) ≈ 1), complex; p-wave running width."""
    rs = math.sqrt(s)
    k = two_body_momentum(rs, m1, m2)
    k0 = two_body_momentum(M_RHO, m1, m2)
    gam = G_RHO * (M_RHO / rs) * (k / k0) ** 3
    return M_RHO * M_RHO / complex(M_RHO * M_RHO - s, -rs * gam)


@njit(cache=True)
def _bw_sample(smin, smax, m, g, u):
    """s from ∝ 1/((s − m²)² + m²Γ²) on [smin, smax] (tan mapping); returns s."""
    mg = m * g
    t0 = math.atan((smin - m * m) / mg)
    t1 = math.atan((smax - m * m) / mg)
    return m * m + mg * math.tan(t0 + u * (t1 - t0))


@njit(cache=True)
def _boost_set(rest, masses, i0, i1, e_sys, m_sys, px, py, pz):
    """Boost rest[i0:i1] (3-momenta in the frame of a system of mass m_sys) by that system's
    momentum (px, py, pz) with energy e_sys."""
    for j in range(i0, i1):
        boost3(rest[j], masses[j], px / e_sys, py / e_sys, pz / e_sys, e_sys / m_sys)


# --- τ → π⁻ π⁰ ν (full polarised vector current) -----------------------------------------------
@njit(cache=True)
def _rho_weight(s, rest, masses, P, pm, p0, pn, q):
    """|M|² without the sampling density, and its bound for this s (returns both)."""
    four(rest[0], masses[0], pm)
    four(rest[1], masses[1], p0)
    four(rest[2], 0.0, pn)
    J = pm - p0
    q[0], q[1], q[2], q[3] = 0.0, 0.0, -M_TAU * P, M_TAU
    a = 2.0 * mdot(pn, J) * mdot(q, J) - mdot(pn, q) * mdot(J, J)
    return a


@njit(cache=True)
def _rho_envelope(s, m1, m2):
    """h(s) ≥ weight for any angles and |P| ≤ 1 (see _kernel_rho)."""
    rs = math.sqrt(s)
    kt = (M_TAU * M_TAU - s) / (2.0 * M_TAU)
    kx = two_body_momentum(rs, m1, m2)
    f = rho_ff(s, m1, m2)
    ff2 = f.real * f.real + f.imag * f.imag
    invg = (s - M_RHO * M_RHO) ** 2 + (M_RHO * G_RHO) ** 2
    ex = (M_TAU * M_TAU + s) / (2.0 * M_TAU)
    # |p_ν·J| ≤ E_ν 2E_X, |q·J| ≤ 2m E_X, p_ν·q ≤ 2m E_ν, |J²| ≤ E_X²  ⇒  A ≤ 10 m E_ν E_X²
    return kt * kx / rs * ff2 * invg * 10.0 * M_TAU * kt * ex * ex


@njit(cache=True)
def _kernel_rho(p4, hel, u):
    n = p4.shape[0]
    out = np.empty((n, 3, 4))
    m1, m2 = M_PI, M_PI0
    masses = np.array([m1, m2, 0.0])
    smin = (m1 + m2) ** 2
    smax = M_TAU * M_TAU
    hmax = 0.0
    for j in range(_NGRID + 1):
        s = smin + (smax - smin) * (j + 0.5) / (_NGRID + 1)
        hmax = max(hmax, _rho_envelope(s, m1, m2))
    hmax *= _MARGIN
    rest = np.empty((3, 3))
    pm, p0, pn, q = np.empty(4), np.empty(4), np.empty(4), np.empty(4)
    for i in range(n):
        P = hel[i]
        st = seed_state(u[i, 0], u[i, 1])
        for _ in range(MAX_TRIES):
            s = _bw_sample(smin, smax, M_RHO, G_RHO, next_uniform(st))
            rs = math.sqrt(s)
            kt = (M_TAU * M_TAU - s) / (2.0 * M_TAU)
            kx = two_body_momentum(rs, m1, m2)
            # ππ system direction (isotropic), ν opposite; pions isotropic in the ππ frame
            set_direction(
                rest[2], kt, 2.0 * next_uniform(st) - 1.0, 2.0 * math.pi * next_uniform(st)
            )
            set_direction(
                rest[0], kx, 2.0 * next_uniform(st) - 1.0, 2.0 * math.pi * next_uniform(st)
            )
            rest[1, 0], rest[1, 1], rest[1, 2] = -rest[0, 0], -rest[0, 1], -rest[0, 2]
            ex = math.sqrt(kt * kt + s)
            _boost_set(rest, masses, 0, 2, ex, rs, -rest[2, 0], -rest[2, 1], -rest[2, 2])
            f = rho_ff(s, m1, m2)
            ff2 = f.real * f.real + f.imag * f.imag
            invg = (s - M_RHO * M_RHO) ** 2 + (M_RHO * G_RHO) ** 2
            a = _rho_weight(s, rest, masses, P, pm, p0, pn, q)
            w = kt * kx / rs * ff2 * invg * a
            if next_uniform(st) * hmax < w:
                break
        to_lab(rest, masses, p4[i], M_TAU, out[i])
    return out


def kernel_rho(p4, hel, u):
    """τ⁻ → π⁻ π⁰ ν_τ via ρ (polarised vector current)."""
    return _kernel_rho(p4, hel, u)


# --- spin-1 hadronic system: a₁ → ρπ (3π) or constant current (phase space) ---------------------
@njit(cache=True)
def _lep_factor(Q2):
    """(m² − Q²)²(m² + 2Q²)/(m² Q²): V−A ⊗ transverse spin-1 current × 2-body phase space."""
    m2 = M_TAU * M_TAU
    return (m2 - Q2) ** 2 * (m2 + 2.0 * Q2) / (m2 * Q2)


@njit(cache=True)
def _msq(a, b):
    """(a + b)² for four-vectors a, b."""
    e = a[3] + b[3]
    x, y, z = a[0] + b[0], a[1] + b[1], a[2] + b[2]
    return e * e - x * x - y * y - z * z


@njit(cache=True)
def _a1_current2(had, masses):
    """−J·J*/|BW_a₁|² in the hadronic rest frame for (q₁, q₂, q₃) = had[0..2] (q₃ odd pion)."""
    f1 = rho_ff(_msq(had[0], had[2]), masses[0], masses[2])  # ρ in (q₁ q₃) with (q₁ − q₃)
    f2 = rho_ff(_msq(had[1], had[2]), masses[1], masses[2])
    tot = 0.0
    for c in range(3):  # transverse projection = spatial part in the hadronic rest frame
        z = f1 * (had[0, c] - had[2, c]) + f2 * (had[1, c] - had[2, c])
        tot += z.real * z.real + z.imag * z.imag
    return tot


@njit(cache=True)
def _phase_space_jacobian(Q, masses):
    """(Q − Σm)^(n−2)/Q: :func:`genbod`'s weight Π p_k is dΦ_n at a *fixed* mass Q (up to a
    constant); across masses dΦ_n(Q) ∝ Π p_k × (Q − Σm)^(n−2)/Q per unit of its uniforms
    (dΦ_n = dΦ_(n−1) dΦ_2 dM²/2π, Φ_2 ∝ p/M, the n − 2 sorted subsystem masses spanning
    Q − Σm). Needed whenever the hadronic mass Q varies from event to event."""
    return (Q - masses.sum()) ** (masses.shape[0] - 2) / Q


@njit(cache=True)
def _pair_range(s, Q2, ma, mb, m3):
    """Range (lo, hi) of s_b3 on the Dalitz plot of Q → a b 3 at fixed s_a3 = ``s``."""
    rs = math.sqrt(s)
    e3 = (s - ma * ma + m3 * m3) / (2.0 * rs)  # in the (a 3) rest frame
    eb = (Q2 - s - mb * mb) / (2.0 * rs)
    p3 = math.sqrt(max(e3 * e3 - m3 * m3, 0.0))
    pb = math.sqrt(max(eb * eb - mb * mb, 0.0))
    e = (e3 + eb) * (e3 + eb)
    return e - (p3 + pb) * (p3 + pb), e - (p3 - pb) * (p3 - pb)


@njit(cache=True)
def _bw_norm(smin, smax, m, g):
    """∫ mΓ / ((s − m²)² + m²Γ²) ds over [smin, smax] (the tan mapping's interval)."""
    mg = m * g
    return math.atan((smax - m * m) / mg) - math.atan((smin - m * m) / mg)


@njit(cache=True)
def _rho_over_bw(s, m1, m2):
    """|F_ρ(s)|² over the constant-width Breit–Wigner mΓ / ((s − m²)² + m²Γ²) that samples s."""
    f = rho_ff(s, m1, m2)
    mg = M_RHO * G_RHO
    return (f.real * f.real + f.imag * f.imag) * ((s - M_RHO * M_RHO) ** 2 + mg * mg) / mg


@njit(cache=True)
def _a1_dalitz_density(s13, s23, Q, masses):
    """Density of :func:`_a1_dalitz`'s proposal in (s₁₃, s₂₃) at hadronic mass Q (0 on the
    edge of the Dalitz plot): ½ Σ_k BW_ρ(s_k3) / (norm_k × length of the other s range)."""
    Q2 = Q * Q
    m1, m2, m3 = masses[0], masses[1], masses[2]
    lo1, hi1 = _pair_range(s13, Q2, m1, m2, m3)
    lo2, hi2 = _pair_range(s23, Q2, m2, m1, m3)
    if hi1 <= lo1 or hi2 <= lo2:
        return 0.0
    mg = M_RHO * G_RHO
    n1 = _bw_norm((m1 + m3) ** 2, (Q - m2) ** 2, M_RHO, G_RHO)
    n2 = _bw_norm((m2 + m3) ** 2, (Q - m1) ** 2, M_RHO, G_RHO)
    b1 = mg / ((s13 - M_RHO * M_RHO) ** 2 + mg * mg) / n1
    b2 = mg / ((s23 - M_RHO * M_RHO) ** 2 + mg * mg) / n2
    return 0.5 * (b1 / (hi1 - lo1) + b2 / (hi2 - lo2))


@njit(cache=True)
def _v2_max(s, Q, ma, mb, m3):
    """max |q_a − q₃|² (3-vectors in the Q rest frame) on the Dalitz line s_a3 = ``s``:
    |q_a − q₃|² = (E_a − E₃)² + s − 2m_a² − 2m₃², and the (a 3) pair of energy E, momentum P
    gives |E_a − E₃| ≤ (E |e_a* − e₃*| + 2 P k*)/√s (e*, k* in the pair's rest frame)."""
    rs = math.sqrt(s)
    e = (Q * Q + s - mb * mb) / (2.0 * Q)
    p = math.sqrt(max(e * e - s, 0.0))
    ea = (s + ma * ma - m3 * m3) / (2.0 * rs)
    e3 = (s + m3 * m3 - ma * ma) / (2.0 * rs)
    k = two_body_momentum(rs, ma, m3)
    d = (e * abs(ea - e3) + 2.0 * p * k) / rs
    return max(d * d + s - 2.0 * ma * ma - 2.0 * m3 * m3, 0.0)


@njit(cache=True)
def _a1_envelope(Q, masses):
    """h(Q) ≥ (m_τ² − Q²)²(m_τ² + 2Q²)/(m_τ²Q²) × (−J·J*)/(Q² g) for any point of the Dalitz
    plot, g = ½(g₁ + g₂) the proposal density of :func:`_a1_dalitz`: with A_k = |F_k|²|V_k|²,
    |J|² ≤ (√A₁ + √A₂)² ≤ (g₁ + g₂)(A₁/g₁ + A₂/g₂) (Cauchy–Schwarz), so |J|²/g ≤
    2 Σ_k A_k/g_k, and |V_k|² ≤ :func:`_v2_max`; each channel's bound is maximised over
    s_k3 on a grid."""
    Q2 = Q * Q
    m1, m2, m3 = masses[0], masses[1], masses[2]
    tot = 0.0
    for k in range(2):
        ma, mb = (m1, m2) if k == 0 else (m2, m1)
        smin, smax = (ma + m3) ** 2, (Q - mb) ** 2
        norm = _bw_norm(smin, smax, M_RHO, G_RHO)
        best = 0.0
        for j in range(_NGRID_DALITZ + 1):
            s = smin + (smax - smin) * j / _NGRID_DALITZ
            lo, hi = _pair_range(s, Q2, ma, mb, m3)
            h = (hi - lo) * norm * _rho_over_bw(s, ma, m3) * _v2_max(s, Q, ma, mb, m3)
            best = max(best, h)
        tot += best
    return _lep_factor(Q2) / Q2 * 2.0 * tot


@njit(cache=True)
def _a1_dalitz(Q, masses, st, out):
    """Three hadron 3-momenta in the Q rest frame, (q₁, q₂, q₃) = ``out[0..2]`` (q₃ the odd
    pion): (s₁₃, s₂₃) from the mixture ½ Σ_k [s_k3 from the ρ Breit–Wigner, the other s
    uniform on its range], the orientation isotropic. Returns the proposal density g in
    (s₁₃, s₂₃) (0: the point fell on the edge of the Dalitz plot; reject it)."""
    Q2 = Q * Q
    m1, m2, m3 = masses[0], masses[1], masses[2]
    first = next_uniform(st) < 0.5
    ma, mb = (m1, m2) if first else (m2, m1)
    sa = _bw_sample((ma + m3) ** 2, (Q - mb) ** 2, M_RHO, G_RHO, next_uniform(st))
    lo, hi = _pair_range(sa, Q2, ma, mb, m3)
    sb = lo + (hi - lo) * next_uniform(st)
    s13, s23 = (sa, sb) if first else (sb, sa)
    # energies and momenta in the Q rest frame; q₁ along z, q₂ in the xz plane, q₃ = −q₁ − q₂
    s12 = Q2 + m1 * m1 + m2 * m2 + m3 * m3 - s13 - s23
    e1 = (Q2 + m1 * m1 - s23) / (2.0 * Q)
    e2 = (Q2 + m2 * m2 - s13) / (2.0 * Q)
    e3 = (Q2 + m3 * m3 - s12) / (2.0 * Q)
    k1 = math.sqrt(max(e1 * e1 - m1 * m1, 0.0))
    k2 = math.sqrt(max(e2 * e2 - m2 * m2, 0.0))
    k3 = math.sqrt(max(e3 * e3 - m3 * m3, 0.0))
    c = (k3 * k3 - k1 * k1 - k2 * k2) / (2.0 * k1 * k2) if k1 > 0.0 and k2 > 0.0 else 1.0
    c = min(1.0, max(-1.0, c))
    sn = math.sqrt(1.0 - c * c)
    # isotropic orientation: Euler angles (φ, β, ψ) with cos β uniform
    cb = 2.0 * next_uniform(st) - 1.0
    sb_ = math.sqrt(max(1.0 - cb * cb, 0.0))
    phi = 2.0 * math.pi * next_uniform(st)
    psi = 2.0 * math.pi * next_uniform(st)
    cf, sf, cp, sp = math.cos(phi), math.sin(phi), math.cos(psi), math.sin(psi)
    # R = R_z(φ) R_y(β) R_z(ψ); columns x', z' of the frame where q₁ ∥ z', q₂ in (x', z')
    xx, xy, xz = cf * cb * cp - sf * sp, sf * cb * cp + cf * sp, -sb_ * cp
    zx, zy, zz = cf * sb_, sf * sb_, cb
    for c3 in range(3):
        ax = (xx, xy, xz)[c3]
        az = (zx, zy, zz)[c3]
        out[0, c3] = k1 * az
        out[1, c3] = k2 * (sn * ax + c * az)
        out[2, c3] = -out[0, c3] - out[1, c3]
    return _a1_dalitz_density(s13, s23, Q, masses)


@njit(cache=True)
def _hadronic_system(p4, hel, u, masses, model):
    """τ⁻ → ν_τ + X⁻(hadrons ``masses``); model 0: constant current, 1: a₁ → ρπ (3 pions).

    Output order: the hadrons, then ν_τ."""
    n = p4.shape[0]
    nh = masses.shape[0]
    allm = np.zeros(nh + 1)
    allm[:nh] = masses
    out = np.empty((n, nh + 1, 4))
    qmin2 = masses.sum() ** 2
    qmax2 = M_TAU * M_TAU
    # bound of the weight, maximised on a grid of the hadronic mass: model 0
    # h(Q²) = lep(Q²) × wtmax(Q) × (Q − Σm)^(n−2)/Q (GENBOD), model 1 :func:`_a1_envelope`
    hmax = 0.0
    if model == 1:
        for j in range(_NGRID_A1 + 1):
            Q = math.sqrt(qmin2) + (M_TAU - math.sqrt(qmin2)) * (j + 0.5) / (_NGRID_A1 + 1)
            hmax = max(hmax, _a1_envelope(Q, masses))
    else:
        for j in range(_NGRID + 1):
            Q2 = qmin2 + (qmax2 - qmin2) * (j + 0.5) / (_NGRID + 1)
            Q = math.sqrt(Q2)
            h = _lep_factor(Q2) * genbod_wtmax(Q, masses) * _phase_space_jacobian(Q, masses)
            hmax = max(hmax, h)
    hmax *= _MARGIN
    had = np.empty((nh, 3))
    work = np.empty((4, max(nh, 3)))
    had4 = np.empty((nh, 4))
    rest = np.empty((nh + 1, 3))
    for i in range(n):
        P = hel[i]
        st = seed_state(u[i, 0], u[i, 1])
        Q2 = qmin2
        for _ in range(MAX_TRIES):
            if model == 1:
                Q2 = _bw_sample(qmin2, qmax2, M_A1, G_A1, next_uniform(st))
            else:
                Q2 = qmin2 + (qmax2 - qmin2) * next_uniform(st)
            Q = math.sqrt(Q2)
            if model == 1:  # ρ-peaked Dalitz proposal g: weight lep × (−J·J*) dΦ₃ / g
                g = _a1_dalitz(Q, masses, st, had)
                if g <= 0.0:
                    continue
                for j in range(nh):
                    four(had[j], masses[j], had4[j])
                w = _lep_factor(Q2) * _a1_current2(had4, masses) / (Q2 * g)
            else:
                w = _lep_factor(Q2) * genbod(Q, masses, st, had, work)
                w *= _phase_space_jacobian(Q, masses)
            if next_uniform(st) * hmax < w:
                break
        # direction of the hadronic system: 1 + P α cosθ
        Q = math.sqrt(Q2)
        alpha = (qmax2 - 2.0 * Q2) / (qmax2 + 2.0 * Q2)
        kt = (qmax2 - Q2) / (2.0 * M_TAU)
        c = sample_linear_cos(P * alpha, next_uniform(st))
        dirx = np.empty(3)
        set_direction(dirx, kt, c, 2.0 * math.pi * next_uniform(st))
        for j in range(nh):
            rest[j, 0], rest[j, 1], rest[j, 2] = had[j, 0], had[j, 1], had[j, 2]
        ex = math.sqrt(kt * kt + Q2)
        _boost_set(rest, allm, 0, nh, ex, Q, dirx[0], dirx[1], dirx[2])
        rest[nh, 0], rest[nh, 1], rest[nh, 2] = -dirx[0], -dirx[1], -dirx[2]
        to_lab(rest, allm, p4[i], M_TAU, out[i])
    return out


def _hadronic_kernel(hadron_masses: tuple[float, ...], model: int, doc: str):
    masses = np.array(hadron_masses, dtype=float)

    def kernel(p4, hel, u):
        return _hadronic_system(p4, hel, u, masses, model)

    kernel.__doc__ = doc
    return kernel


# --- registration --------------------------------------------------------------------------
_NU_TAU, _PI, _PI0, _K = 16, -211, 111, -321
_F = frozenset

register(
    Channel(
        "tau->e nu nu",
        15,
        (11, -12, 16),
        BR_E,
        2,
        kernel_e,
        _F({"leptonic", "electronic", "1prong"}),
    )
)
register(
    Channel(
        "tau->mu nu nu",
        15,
        (13, -14, 16),
        BR_MU,
        2,
        kernel_mu,
        _F({"leptonic", "muonic", "1prong"}),
    )
)
register(Channel("tau->pi nu", 15, (_PI, _NU_TAU), BR_PI, 2, kernel_pi, _F({"hadronic", "1prong"})))
register(Channel("tau->K nu", 15, (_K, _NU_TAU), BR_K, 2, kernel_k, _F({"hadronic", "1prong"})))
register(
    Channel(
        "tau->pi pi0 nu",
        15,
        (_PI, _PI0, _NU_TAU),
        BR_PIPI0,
        2,
        kernel_rho,
        _F({"hadronic", "1prong"}),
    )
)
register(
    Channel(
        "tau->pi 2pi0 nu",
        15,
        (_PI0, _PI0, _PI, _NU_TAU),
        BR_PI2PI0,
        2,
        _hadronic_kernel((M_PI0, M_PI0, M_PI), 1, "τ⁻ → π⁰π⁰π⁻ν_τ (a₁ → ρπ)"),
        _F({"hadronic", "1prong"}),
    )
)
register(
    Channel(
        "tau->other 1prong",
        15,
        (_PI, _PI0, _PI0, _PI0, _NU_TAU),
        BR_OTHER_1PRONG,
        2,
        _hadronic_kernel(
            (M_PI, M_PI0, M_PI0, M_PI0), 0, "remaining 1-prong modes, kinematics of π⁻3π⁰ν_τ"
        ),
        _F({"hadronic", "1prong"}),
    )
)
register(
    Channel(
        "tau->3pi nu",
        15,
        (_PI, _PI, -_PI, _NU_TAU),
        BR_3PI,
        2,
        _hadronic_kernel((M_PI, M_PI, M_PI), 1, "τ⁻ → π⁻π⁻π⁺ν_τ (a₁ → ρπ)"),
        _F({"hadronic", "3prong"}),
    )
)
register(
    Channel(
        "tau->3pi pi0 nu",
        15,
        (_PI, _PI, -_PI, _PI0, _NU_TAU),
        BR_3PIPI0,
        2,
        _hadronic_kernel((M_PI, M_PI, M_PI, M_PI0), 0, "τ⁻ → π⁻π⁻π⁺π⁰ν_τ (phase space)"),
        _F({"hadronic", "3prong"}),
    )
)
register(
    Channel(
        "tau->other 3prong",
        15,
        (_K, _PI, -_PI, _NU_TAU),
        BR_OTHER_3PRONG,
        2,
        _hadronic_kernel((M_K, M_PI, M_PI), 0, "remaining 3-prong modes, kinematics of K⁻π⁻π⁺ν_τ"),
        _F({"hadronic", "3prong"}),
    )
)
register(
    Channel(
        "tau->5prong",
        15,
        (_PI, _PI, _PI, -_PI, -_PI, _NU_TAU),
        BR_5PRONG,
        2,
        _hadronic_kernel(
            (M_PI, M_PI, M_PI, M_PI, M_PI), 0, "5-prong modes, kinematics of 3π⁻2π⁺ν_τ"
        ),
        _F({"hadronic", "5prong"}),
    )
)
