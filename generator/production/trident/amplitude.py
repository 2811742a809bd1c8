"""Tree-level QED helicity amplitudes of the trident μ(p) N(P) → μ(p') N(P') ℓ⁻(k₋) ℓ⁺(k₊).

Physics (physics.md §8.2). One photon is exchanged with the spin-0 nucleus (vertex e Z F(t) J^μ,
J = P + P'); q = P − P' flows into the leptons, t = −q² > 0. For a μ⁻ beam and ℓ ≠ μ the four
diagrams of order e⁴Z are

* Bethe–Heitler (BH): the muon emits γ*(Q_μ = p − p'), which meets the nucleus photon on the
  ℓ line, in either order,
      A_BH = [ū(p')γ_ν u(p)] · ū(k₋)[J̸ S_ℓ(k₋ − q) γ^ν + γ^ν S_ℓ(q − k₊) J̸] v(k₊) / Q_μ² ;
* radiation (rad): the nucleus photon hits the muon line, which emits the time-like γ*(K = k₋ + k₊)
  that makes the pair, before or after,
      A_rad = ū(p')[γ^ν S_μ(p' + K) J̸ + J̸ S_μ(p − K) γ^ν] u(p) · [ū(k₋)γ_ν v(k₊)] / K² ,

with S_m(l) = (l̸ + m)/(l² − m²). Both topologies have three lepton–photon vertices, two photon
propagators and one fermion propagator and the same pairing of the external fermions (μ: p → p',
ℓ: k₊ → k₋); their charge factors are Q_μ Q_ℓ² (BH) and Q_μ² Q_ℓ (rad), equal for μ⁻ and ℓ⁻.
So they add with relative sign +1: A = A_BH + A_rad. The full amplitude is

    M = e⁴ Z F(t) / q² · A ,   so   Σ|M|² = e⁸ Z²F²(t) / t² · Σ|A|² ,

where Z²F² is the combination of physics.md §5.6 (it carries Z² or Z, A − Z already).

For ℓ = μ the two same-charge muons (p', k₋) are identical: A_tot = A(p', k₋) − A(k₋, p')
(Fermi statistics, exchange of the two outgoing μ⁻ with their helicities), and the phase space
carries a factor ½ (applied by the integrand, not here).

μ⁺ beam: QED is C-invariant and the nucleus couples linearly in Z, so |M(μ⁺ N → μ⁺ N ℓ⁺ℓ⁻)|² at
momenta (p, p', k₊, k₋) equals |M(μ⁻ N → μ⁻ N ℓ⁻ℓ⁺)|² with the pair momenta swapped (the μ⁻
formula with ℓ⁻ → k₊ and ℓ⁺ → k₋). :func:`trident_me2` does this for ``beam_charge = +1``. For
ℓ ≠ μ this flips the relative sign of BH and rad (Furry): σ(μ⁺) = σ(μ⁻) iff the BH × rad
interference integrates to zero over the symmetric pair phase space, which the tests check.

Conventions
-----------
* Four-vectors are float64 arrays ``(px, py, pz, E)`` in GeV, metric (+, −, −, −), any frame
  (meant: nucleus rest frame = lab, beam along +z).
* Dirac matrices in the chiral representation and the helicity spinors u_λ of
  :mod:`alpgen.production.helicity` (small components m/√(E + |p⃗|), no cancellation at TeV).
  Antiparticle spinors are v_λ ≡ γ5 u_λ: they satisfy (k̸ + m)v = 0 and Σ_λ v v̄ = k̸ − m, which is
  all a spin sum needs. The index λ of ℓ⁺ is *not* its physical helicity (the τ's are decayed
  unpolarized).
* Index order of the returned arrays: A[λ_p, λ_p', λ_k₋, λ_k₊] with index 0 ↔ λ = −1, 1 ↔ +1.
* The nuclear current J is an input. ``J = P + P'`` is exact; by current conservation of the
  lepton tensor (q_μ L^μ = 0 with on-shell spinors) ``J = 2P`` gives the same amplitude and, in
  the lab, J = (0, 0, 0, 2M) avoids forming P + P' (the default of the integrand). With ``J = q``
  the amplitude must vanish (gauge-invariance test).

Numerical stability
-------------------
Every propagator denominator is formed from non-cancelling pieces: q is passed in separately
(computed from the recoil, never as a difference of TeV vectors), so (k₋ − q)² − m² = −t − 2k₋·q;
the muon-line denominators are M_K² ± 2 p·K with the on-shell dot products of
:func:`alpgen.production.helicity._onshell_dot` (no E·E − p⃗·p⃗ cancellation), and Q_μ² = 2m_μ² −
2 p·p', K² = 2m_ℓ² + 2 k₋·k₊ likewise.

The spinor algebra works in light-cone components: every slashed vector carries a⁰ ± a_z, the
small one of which is m_T²/(E ± p_z) for on-shell momenta (and linear combinations of those for
the propagator numerators), and the currents ū γ^ν u are formed as (V^x, V^y, V⁰ + V^z, V⁰ − V^z)
straight from the spinor components, contracted as ½(a⁺b⁻ + a⁻b⁺) − a⊥·b⊥. Without this the
TeV-scale a⁰ − a_z of forward vectors loses ~E²ε and the gauge cancellation of the diagrams was
good only to ~10⁻⁹ at 5 TeV (μμ); with it the sum of the four diagrams with J → q vanishes to
≲ 10⁻¹⁴ of the individual diagrams at 160 GeV – 5 TeV for τ⁺τ⁻ and μ⁺μ⁻ (tests).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..helicity import _helicity_spinor, _onshell_dot

__all__ = ["photo_amplitudes", "trident_amplitudes", "trident_diagrams", "trident_me2"]


@njit(cache=True, inline="always")
def _bar(u):
    """Dirac adjoint ū = u†γ⁰ (chiral representation swaps the chiral blocks)."""
    r = np.empty(4, dtype=np.complex128)
    r[0] = u[2].conjugate()
    r[1] = u[3].conjugate()
    r[2] = u[0].conjugate()
    r[3] = u[1].conjugate()
    return r


@njit(cache=True)
def _lc(v, m, onshell):
    """Light-cone extension (x, y, z, t, t + z, t − z) of a real four-vector (x, y, z, t).

    For an on-shell vector of mass m the small one of t ± z is (m² + x² + y²)/(t ∓ z), without
    the cancellation of a TeV-scale t − z; off-shell inputs (q, J) are small or have z = 0 and are
    taken as they are."""
    out = np.empty(6)
    for i in range(4):
        out[i] = v[i]
    if onshell:
        mt2 = m * m + v[0] * v[0] + v[1] * v[1]
        if v[2] >= 0.0:
            out[4] = v[3] + v[2]
            out[5] = mt2 / out[4]
        else:
            out[5] = v[3] - v[2]
            out[4] = mt2 / out[5]
    else:
        out[4] = v[3] + v[2]
        out[5] = v[3] - v[2]
    return out


@njit(cache=True)
def _slash_col(a, c):
    """a̸ c for a light-cone-extended real vector a (see :func:`_lc`) and a column spinor c.

    a̸ = [[0, a⁰ − a⃗·σ⃗], [a⁰ + a⃗·σ⃗, 0]] (chiral rep), a⁰ ± a_z taken from a[4], a[5]."""
    mp = complex(a[0], -a[1])  # a_x − i a_y
    pp = complex(a[0], a[1])
    apl, ami = a[4], a[5]
    out = np.empty(4, dtype=np.complex128)
    out[0] = ami * c[2] - mp * c[3]
    out[1] = -pp * c[2] + apl * c[3]
    out[2] = apl * c[0] + mp * c[1]
    out[3] = pp * c[0] + ami * c[1]
    return out


@njit(cache=True)
def _slash_row(r, a):
    """r a̸ for a row spinor r and a light-cone-extended real vector a."""
    mp = complex(a[0], -a[1])
    pp = complex(a[0], a[1])
    apl, ami = a[4], a[5]
    out = np.empty(4, dtype=np.complex128)
    # columns 0,1: (r2, r3)(a⁰ + a⃗σ);  columns 2,3: (r0, r1)(a⁰ − a⃗σ)
    out[0] = r[2] * apl + r[3] * pp
    out[1] = r[2] * mp + r[3] * ami
    out[2] = r[0] * ami - r[1] * pp
    out[3] = -r[0] * mp + r[1] * apl
    return out


@njit(cache=True)
def _sandwich(r, c):
    """Complex current V^ν = r γ^ν c in light-cone form (V^x, V^y, V⁰ + V^z, V⁰ − V^z).

    V⁰ ± V^z = 2(r0 c2 + r3 c1), 2(r1 c3 + r2 c0) directly: no cancellation between the large
    V⁰ and V^z of a forward current."""
    v = np.empty(4, dtype=np.complex128)
    # r_L σ^i c_R − r_R σ^i c_L
    v[0] = (r[0] * c[3] + r[1] * c[2]) - (r[2] * c[1] + r[3] * c[0])
    v[1] = (-1j * r[0] * c[3] + 1j * r[1] * c[2]) - (-1j * r[2] * c[1] + 1j * r[3] * c[0])
    v[2] = 2.0 * (r[0] * c[2] + r[3] * c[1])
    v[3] = 2.0 * (r[1] * c[3] + r[2] * c[0])
    return v


@njit(cache=True, inline="always")
def _mdot(a, b):
    """Minkowski product of two light-cone currents (x, y, +, −): ½(a⁺b⁻ + a⁻b⁺) − a⊥·b⊥."""
    return 0.5 * (a[2] * b[3] + a[3] * b[2]) - a[0] * b[0] - a[1] * b[1]


@njit(cache=True)
def _prop_col(l, m, den, c):
    """S(l) c = (l̸ + m) c / den."""
    out = _slash_col(l, c)
    for i in range(4):
        out[i] = (out[i] + m * c[i]) / den
    return out


@njit(cache=True)
def _prop_row(r, l, m, den):
    """r S(l) = r (l̸ + m) / den."""
    out = _slash_row(r, l)
    for i in range(4):
        out[i] = (out[i] + m * r[i]) / den
    return out


@njit(cache=True)
def _spinors(p, m):
    """u_λ(p) for λ = −1, +1 as a [2, 4] array (index 0 ↔ λ = −1)."""
    u = np.empty((2, 4), dtype=np.complex128)
    u[0] = _helicity_spinor(p, m, -1)
    u[1] = _helicity_spinor(p, m, 1)
    return u


@njit(cache=True)
def _vspinors(k, m):
    """v_λ(k) ≡ γ5 u_λ(k): flips the sign of the left-chiral block."""
    v = _spinors(k, m)
    for s in range(2):
        v[s, 0] = -v[s, 0]
        v[s, 1] = -v[s, 1]
    return v


@njit(cache=True)
def _pair_tensor(km, kp, q, J, m_l):
    """BH pair tensor T[a, b]^ν = T₁ + T₂ (see :func:`_pair_tensor_parts`)."""
    parts = _pair_tensor_parts(km, kp, q, J, m_l)
    return parts[0] + parts[1]


@njit(cache=True)
def _pair_tensor_parts(km, kp, q, J, m_l):
    """The two BH diagrams contracted with J, [2 (diagram), 2, 2, 4]:
    T₁ = ū_a(k₋) J̸ S(k₋−q) γ^ν v_b(k₊),  T₂ = ū_a(k₋) γ^ν S(q−k₊) J̸ v_b(k₊).

    Denominators (k₋ − q)² − m² = −t − 2k₋·q and (q − k₊)² − m² = −t − 2q·k₊ with
    q² = −t formed from q's components (q is small; no cancellation)."""
    q2 = q[3] * q[3] - q[0] * q[0] - q[1] * q[1] - q[2] * q[2]
    kq_m = km[3] * q[3] - km[0] * q[0] - km[1] * q[1] - km[2] * q[2]
    kq_p = kp[3] * q[3] - kp[0] * q[0] - kp[1] * q[1] - kp[2] * q[2]
    d1 = q2 - 2.0 * kq_m
    d2 = q2 - 2.0 * kq_p
    kml = _lc(km, m_l, True)
    kpl = _lc(kp, m_l, True)
    ql = _lc(q, 0.0, False)
    Jl = _lc(J, 0.0, False)
    l1 = np.empty(6)
    l2 = np.empty(6)
    for i in range(6):
        l1[i] = kml[i] - ql[i]
        l2[i] = ql[i] - kpl[i]
    ub = _spinors(km, m_l)
    v = _vspinors(kp, m_l)
    out = np.empty((2, 2, 2, 4), dtype=np.complex128)
    for a in range(2):
        r0 = _bar(ub[a])
        r1 = _prop_row(_slash_row(r0, Jl), l1, m_l, d1)
        for b in range(2):
            c1 = _slash_col(Jl, v[b])
            c2 = _prop_col(l2, m_l, d2, c1)
            out[0, a, b] = _sandwich(r1, v[b])
            out[1, a, b] = _sandwich(r0, c2)
    return out


@njit(cache=True)
def _currents(pa, ma, pb, mb, anti_b):
    """Vector currents ū_a(pa) γ^ν u_b(pb) (or v_b if ``anti_b``) as [2, 2, 4]."""
    ub = _spinors(pa, ma)
    w = _vspinors(pb, mb) if anti_b else _spinors(pb, mb)
    out = np.empty((2, 2, 4), dtype=np.complex128)
    for a in range(2):
        r = _bar(ub[a])
        for b in range(2):
            out[a, b] = _sandwich(r, w[b])
    return out


@njit(cache=True)
def _diagrams(p, pp, km, kp, q, J, m_mu, m_l, out):
    """Fill out[d, λp, λp', λk₋, λk₊] with the four diagrams d = BH₁, BH₂, rad₁, rad₂ (μ⁻ beam,
    no exchange term, no e⁴ZF/q²). BH₁/BH₂: nucleus photon next to ℓ⁻/ℓ⁺; rad₁: nucleus photon
    absorbed before the pair is emitted (propagator p' + K), rad₂: after (p − K)."""
    # BH: muon current over Q_μ² = (p − p')² = 2m² − 2p·p'
    qmu2 = 2.0 * m_mu * m_mu - 2.0 * _onshell_dot(p, m_mu, pp, m_mu)
    jmu = _currents(pp, m_mu, p, m_mu, False)  # [λp', λp, ν]
    tpair = _pair_tensor_parts(km, kp, q, J, m_l)  # [d, λk₋, λk₊, ν]
    # radiation: pair current over K² and the muon line with J
    kpk = _onshell_dot(km, m_l, kp, m_l)
    k2 = 2.0 * m_l * m_l + 2.0 * kpk
    cpair = _currents(km, m_l, kp, m_l, True)  # [λk₋, λk₊, ν]
    pk = _onshell_dot(p, m_mu, km, m_l) + _onshell_dot(p, m_mu, kp, m_l)
    ppk = _onshell_dot(pp, m_mu, km, m_l) + _onshell_dot(pp, m_mu, kp, m_l)
    d3 = k2 + 2.0 * ppk  # (p' + K)² − m_μ²
    d4 = k2 - 2.0 * pk  # (p − K)² − m_μ²
    pl = _lc(p, m_mu, True)
    ppl = _lc(pp, m_mu, True)
    kml = _lc(km, m_l, True)
    kpl = _lc(kp, m_l, True)
    Jl = _lc(J, 0.0, False)
    l3 = np.empty(6)
    l4 = np.empty(6)
    for i in range(6):
        l3[i] = ppl[i] + kml[i] + kpl[i]
        l4[i] = pl[i] - kml[i] - kpl[i]
    u = _spinors(p, m_mu)
    ubp = _spinors(pp, m_mu)
    rmu = np.empty((2, 2, 2, 4), dtype=np.complex128)  # [d, λp', λp, ν]
    for a in range(2):
        r0 = _bar(ubp[a])
        r4 = _prop_row(_slash_row(r0, Jl), l4, m_mu, d4)
        for b in range(2):
            c3 = _prop_col(l3, m_mu, d3, _slash_col(Jl, u[b]))
            rmu[0, a, b] = _sandwich(r0, c3)
            rmu[1, a, b] = _sandwich(r4, u[b])
    for lp in range(2):
        for lpp in range(2):
            for a in range(2):
                for b in range(2):
                    for d in range(2):
                        out[d, lp, lpp, a, b] = _mdot(jmu[lpp, lp], tpair[d, a, b]) / qmu2
                        out[2 + d, lp, lpp, a, b] = _mdot(rmu[d, lpp, lp], cpair[a, b]) / k2


@njit(cache=True)
def _amplitudes(p, pp, km, kp, q, J, m_mu, m_l, out_bh, out_rad):
    """Fill A_BH and A_rad [λp, λp', λk₋, λk₊] (sums of the two diagrams of each topology)."""
    dg = np.empty((4, 2, 2, 2, 2), dtype=np.complex128)
    _diagrams(p, pp, km, kp, q, J, m_mu, m_l, dg)
    for i0 in range(2):
        for i1 in range(2):
            for i2 in range(2):
                for i3 in range(2):
                    out_bh[i0, i1, i2, i3] = dg[0, i0, i1, i2, i3] + dg[1, i0, i1, i2, i3]
                    out_rad[i0, i1, i2, i3] = dg[2, i0, i1, i2, i3] + dg[3, i0, i1, i2, i3]


@njit(cache=True)
def _me2_point(p, pp, km, kp, q, J, m_mu, m_l, identical, which=0):
    """Σ over all 16 helicities of |A|² (no spin average, no e⁸Z²F²/t²), μ⁻ beam.

    ``which`` = 0: all diagrams; 1: Bethe–Heitler only; 2: radiation only (diagnostics)."""
    bh = np.empty((2, 2, 2, 2), dtype=np.complex128)
    rad = np.empty((2, 2, 2, 2), dtype=np.complex128)
    _amplitudes(p, pp, km, kp, q, J, m_mu, m_l, bh, rad)
    if which == 1:
        rad[:] = 0.0
    elif which == 2:
        bh[:] = 0.0
    if not identical:
        s = 0.0
        for i0 in range(2):
            for i1 in range(2):
                for i2 in range(2):
                    for i3 in range(2):
                        a = bh[i0, i1, i2, i3] + rad[i0, i1, i2, i3]
                        s += a.real * a.real + a.imag * a.imag
        return s
    bh2 = np.empty((2, 2, 2, 2), dtype=np.complex128)
    rad2 = np.empty((2, 2, 2, 2), dtype=np.complex128)
    _amplitudes(p, km, pp, kp, q, J, m_mu, m_l, bh2, rad2)  # p' ↔ k₋ (both μ⁻)
    if which == 1:
        rad2[:] = 0.0
    elif which == 2:
        bh2[:] = 0.0
    s = 0.0
    for i0 in range(2):
        for i1 in range(2):
            for i2 in range(2):
                for i3 in range(2):
                    a = bh[i0, i1, i2, i3] + rad[i0, i1, i2, i3]
                    a -= bh2[i0, i2, i1, i3] + rad2[i0, i2, i1, i3]
                    s += a.real * a.real + a.imag * a.imag
    return s


def trident_amplitudes(
    p: np.ndarray,
    p_out: np.ndarray,
    k_minus: np.ndarray,
    k_plus: np.ndarray,
    q: np.ndarray,
    J: np.ndarray,
    m_mu: float,
    m_l: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(A_BH, A_rad) of one μ⁻ N → μ⁻ N ℓ⁻ℓ⁺ point, each complex [2, 2, 2, 2] (see module doc).

    Single four-vectors (px, py, pz, E) in GeV; ``q`` = P − P' (computed accurately), ``J`` the
    nuclear current (P + P', 2P, or q for the gauge test). Excludes e⁴ Z F(t)/q²; no exchange
    term."""
    bh = np.empty((2, 2, 2, 2), dtype=np.complex128)
    rad = np.empty((2, 2, 2, 2), dtype=np.complex128)
    args = [np.ascontiguousarray(v, dtype=np.float64) for v in (p, p_out, k_minus, k_plus, q, J)]
    _amplitudes(*args, float(m_mu), float(m_l), bh, rad)
    return bh, rad


def trident_diagrams(
    p: np.ndarray,
    p_out: np.ndarray,
    k_minus: np.ndarray,
    k_plus: np.ndarray,
    q: np.ndarray,
    J: np.ndarray,
    m_mu: float,
    m_l: float,
) -> np.ndarray:
    """The four diagrams (BH₁, BH₂, rad₁, rad₂), complex [4, 2, 2, 2, 2] (see ``_diagrams``)."""
    out = np.empty((4, 2, 2, 2, 2), dtype=np.complex128)
    args = [np.ascontiguousarray(v, dtype=np.float64) for v in (p, p_out, k_minus, k_plus, q, J)]
    _diagrams(*args, float(m_mu), float(m_l), out)
    return out


def trident_me2(
    p: np.ndarray,
    p_out: np.ndarray,
    k_minus: np.ndarray,
    k_plus: np.ndarray,
    q: np.ndarray,
    J: np.ndarray,
    m_mu: float,
    m_l: float,
    *,
    identical: bool = False,
    beam_charge: int = -1,
) -> float:
    """Σ_hel |A|² (sum over all helicities, not averaged; no e⁸Z²F²/t²) at one point.

    ``identical`` adds the exchange of the two same-charge muons (ℓ = μ). ``beam_charge = +1``
    evaluates the μ⁺-beam process by C-conjugation (pair momenta swapped, see module doc)."""
    args = [np.ascontiguousarray(v, dtype=np.float64) for v in (p, p_out, k_minus, k_plus, q, J)]
    if beam_charge > 0:
        args[2], args[3] = args[3], args[2]
    return float(_me2_point(*args, float(m_mu), float(m_l), identical))


@njit(cache=True)
def _photo_me2_point(km, kp, q, J, m_l):
    """Σ_hel Σ_pol |ε·T|² for γ(ω ẑ) N → ℓ⁻ℓ⁺ N (no photon-polarization average; no e⁶Z²F²/t²).

    Real photon along +z with ε = x̂, ŷ: ε·T = −T^x, −T^y (T·k_γ = 0 makes this the full sum)."""
    t = _pair_tensor(km, kp, q, J, m_l)
    s = 0.0
    for a in range(2):
        for b in range(2):
            for i in range(2):
                z = t[a, b, i]
                s += z.real * z.real + z.imag * z.imag
    return s


def photo_amplitudes(
    k_minus: np.ndarray, k_plus: np.ndarray, q: np.ndarray, J: np.ndarray, m_l: float
) -> np.ndarray:
    """BH pair tensor T[λk₋, λk₊, ν] of γ*γ*(J) → ℓ⁻ℓ⁺ contracted with J; ν runs over the
    light-cone components (x, y, t + z, t − z)."""
    args = [np.ascontiguousarray(v, dtype=np.float64) for v in (k_minus, k_plus, q, J)]
    return np.asarray(_pair_tensor(*args, float(m_l)))
