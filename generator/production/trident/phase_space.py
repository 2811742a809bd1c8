"""Four-body phase space of μ(p) N(P) → μ(p') N(P') ℓ⁻(k₋) ℓ⁺(k₊) in the nucleus rest frame.

Nested factorisation (physics.md §8.2 / issue 14), K = k₋ + k₊ the pair, M_K² = K²:

    dΦ₄ = dΦ₃(p P → p' P' K) · dM_K²/(2π) · dΦ₂(K → ℓ⁻ℓ⁺)

with variables chosen so that the Bethe–Heitler peaks are single variables:

* ω = E − E' (energy of the muon's photon) in ln ω;
* Q² = −(p − p')² > 0 (its virtuality) in ln Q², between Q²_min = 2m²ω²/(EE' + pp' − m²) (stable
  form of 2(EE' − pp' − m²)) and the kinematic/t-cut limit;
* M_K² in ln M_K² from 4m_ℓ²;
* t = −(P − P')² in ln t between t₋ and min(t₊, t_cut), with the azimuth φ of P⃗' about
  Q⃗ = p⃗ − p⃗'. Writing X = p + P − p' (X⃗ = Q⃗, X⁰ = M + ω), the condition (X − P')² = M_K²
  fixes the angle α between P⃗' and Q⃗ without cancellation:

      cos α = [(1 + ω/M) t/2 + (Q² + M_K²)/2] / (|Q⃗| |P⃗'|),   |P⃗'| = √(t + t²/4M²),

  and |cos α| ≤ 1 gives t± as the roots of (W²/4M²) t² + (2ab − |Q⃗|²) t + b² = 0, a = (1 + ω/M)/2,
  b = (Q² + M_K²)/2, W² = M² + 2Mω − Q² (t₋ = 2b²/(−B + √D), no cancellation);
* the ℓ⁻ direction in the pair rest frame: polar angle θ* about the direction of the nucleus photon
  q there (the γ*γ* axis), mapped by cos θ* = tanh(u)/β_ℓ so that the BH peak
  1/(1 − β_ℓ² cos²θ*) is flat in u, and azimuth φ*.

Integrating out the deltas (X⃗ = Q⃗, δ((X − P')² − M_K²) fixes cos α) and the trivial muon azimuth
(2π):

    dΦ₃ = (2π)⁻⁴ dω dQ² dt dφ / (32 |p⃗| M |Q⃗|),     dΦ₂ = β_ℓ dΩ*/(32π²),

and with the flux 1/(4M|p⃗|):  dσ = |M̄|² β_ℓ / (131072 π⁷ M² |p⃗|² |Q⃗|) dω dQ² dt dφ dM_K² dΩ*.

Photoproduction γ(ω ẑ) N → ℓ⁻ℓ⁺ N (the same construction with Q² = 0, |Q⃗| = ω and flux
1/(4Mω)):  dσ = |M̄|² β_ℓ / (8192 π⁵ M² ω²) dt dφ dM_K² dΩ*.

All momenta are (px, py, pz, E) in GeV, beam along +z, the scattered muon in the x–z plane (the
event generator rotates events by a random azimuth). q = P − P' = (−P⃗', −t/2M) is returned
separately; it is formed from the recoil, never as a difference of TeV vectors.
"""

from __future__ import annotations

import math

from numba import njit

TWO_PI = 2.0 * math.pi
#: Phase-space constants (see module docstring).
C_LEPTO = 1.0 / (131072.0 * math.pi**7)
C_PHOTO = 1.0 / (8192.0 * math.pi**5)


@njit(cache=True)
def _log_map(y, lo, hi):
    """x = lo (hi/lo)^y and its Jacobian dx/dy = x ln(hi/lo)."""
    L = math.log(hi / lo)
    x = lo * math.exp(y * L)
    return x, x * L


@njit(cache=True)
def t_limits(a, b, qv2, w2, M):
    """(t₋, t₊) from |cos α| ≤ 1, or (−1, −1) if the region is empty (see module docstring)."""
    A = w2 / (4.0 * M * M)
    mB = qv2 - 2.0 * a * b
    if mB <= 0.0:
        return -1.0, -1.0
    C = b * b
    disc = mB * mB - 4.0 * A * C
    if disc < 0.0:
        return -1.0, -1.0
    sq = math.sqrt(disc)
    return 2.0 * C / (mB + sq), (mB + sq) / (2.0 * A)


@njit(cache=True)
def _pair_decay(K, MK, qv, m_l, y_c, y_phi, km, kp):
    """ℓ⁻ℓ⁺ momenta (lab) from the pair K (lab, mass MK) and (cos θ*, φ*) about q's direction
    in the K rest frame. Returns (β_ℓ, dcosθ*/dy_c)."""
    r = 4.0 * m_l * m_l / (MK * MK)
    beta = math.sqrt(max(1.0 - r, 0.0))
    if beta <= 0.0:
        return 0.0, 0.0
    one_m_beta = r / (1.0 + beta)
    U = 0.5 * math.log1p(2.0 * beta / one_m_beta)  # atanh β
    u = U * (2.0 * y_c - 1.0)
    th = math.tanh(u)
    c = th / beta
    if c > 1.0:
        c = 1.0
    elif c < -1.0:
        c = -1.0
    jac_c = (1.0 - th * th) / beta * 2.0 * U
    s = math.sqrt(max((1.0 - c) * (1.0 + c), 0.0))
    phi = TWO_PI * y_phi
    # boost parameters of K
    e_k = K[3]
    bx, by, bz = K[0] / e_k, K[1] / e_k, K[2] / e_k
    g = e_k / MK
    gg = g * g / (g + 1.0)
    # q in the K rest frame (boost by −β)
    bq = bx * qv[0] + by * qv[1] + bz * qv[2]
    fac = gg * bq - g * qv[3]
    nx, ny, nz = qv[0] + fac * bx, qv[1] + fac * by, qv[2] + fac * bz
    nn = math.sqrt(nx * nx + ny * ny + nz * nz)
    nx, ny, nz = nx / nn, ny / nn, nz / nn
    # orthonormal e1, e2 ⊥ n
    if abs(nx) < 0.7:
        ax, ay, az = 1.0, 0.0, 0.0
    else:
        ax, ay, az = 0.0, 1.0, 0.0
    d = ax * nx + ay * ny + az * nz
    e1x, e1y, e1z = ax - d * nx, ay - d * ny, az - d * nz
    n1 = math.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
    e1x, e1y, e1z = e1x / n1, e1y / n1, e1z / n1
    e2x, e2y, e2z = ny * e1z - nz * e1y, nz * e1x - nx * e1z, nx * e1y - ny * e1x
    kst = 0.5 * beta * MK
    est = 0.5 * MK
    cp, sp = math.cos(phi), math.sin(phi)
    dx = s * (cp * e1x + sp * e2x) + c * nx
    dy = s * (cp * e1y + sp * e2y) + c * ny
    dz = s * (cp * e1z + sp * e2z) + c * nz
    for sign in (1.0, -1.0):
        kx, ky, kz = sign * kst * dx, sign * kst * dy, sign * kst * dz
        bk = bx * kx + by * ky + bz * kz
        f2 = gg * bk + g * est
        lx, ly, lz = kx + f2 * bx, ky + f2 * by, kz + f2 * bz
        el = math.sqrt(lx * lx + ly * ly + lz * lz + m_l * m_l)
        out = km if sign > 0.0 else kp
        out[0], out[1], out[2], out[3] = lx, ly, lz, el
    return beta, jac_c


@njit(cache=True)
def lepto_point(y, E, M, m_mu, m_l, t_cut, v_lo, v_hi, p, pp, km, kp, Pf, qv):
    """Map y ∈ [0,1)^7 to momenta (filled in place) and return (jacobian × phase-space factor, t).

    The returned factor J (GeV⁻⁶) gives σ = ∫ d⁷y J · |M̄|² in GeV⁻², |M̄|² the spin-averaged
    squared amplitude (GeV⁻⁴). Returns (0, 0) outside the physical region. ``t_cut`` ≤ 0 or
    ≥ 1e300 means no cut. ``v_lo``, ``v_hi`` restrict v = ω/E (the fractional energy lost by the
    beam muon = pair energy plus the nucleus recoil t/2M ≤ 2.6 MeV); 0 and 1 for none."""
    pz = math.sqrt((E - m_mu) * (E + m_mu))
    w_lo = max(2.0 * m_l, v_lo * E)
    w_hi = min(E - m_mu, v_hi * E)
    if w_hi <= w_lo:
        return 0.0, 0.0
    w, jw = _log_map(y[0], w_lo, w_hi)
    e2 = E - w
    p2 = math.sqrt(max((e2 - m_mu) * (e2 + m_mu), 0.0))
    den = E * e2 + pz * p2 - m_mu * m_mu
    q2_min = 2.0 * m_mu * m_mu * w * w / den
    q2_hi = 2.0 * den
    q2_hi = min(q2_hi, 2.0 * M * w - 4.0 * M * m_l - 4.0 * m_l * m_l)
    has_cut = t_cut > 0.0 and t_cut < 1e300
    s_cut = 0.0
    if has_cut:
        s_cut = math.sqrt(t_cut * (1.0 + t_cut / (4.0 * M * M)))
        bq = 8.0 * m_l * m_l - 4.0 * s_cut * s_cut
        cq = 16.0 * m_l**4 - 4.0 * s_cut * s_cut * w * w
        dq = bq * bq - 4.0 * cq
        if dq < 0.0:
            return 0.0, 0.0
        q2_hi = min(q2_hi, 0.5 * (-bq + math.sqrt(dq)))
    if q2_hi <= q2_min:
        return 0.0, 0.0
    Q2, jq = _log_map(y[1], q2_min, q2_hi)
    qv2 = w * w + Q2
    qvn = math.sqrt(qv2)
    w2 = M * M + 2.0 * M * w - Q2
    mk_lo = 4.0 * m_l * m_l
    mk_hi = ((2.0 * M * w - Q2) / (math.sqrt(w2) + M)) ** 2
    if has_cut:
        mk_hi = min(mk_hi, 2.0 * qvn * s_cut - Q2)
    if mk_hi <= mk_lo:
        return 0.0, 0.0
    MK2, jm = _log_map(y[2], mk_lo, mk_hi)
    a = 0.5 * (1.0 + w / M)
    b = 0.5 * (Q2 + MK2)
    tm, tp = t_limits(a, b, qv2, w2, M)
    if tm <= 0.0:
        return 0.0, 0.0
    thi = min(tp, t_cut) if has_cut else tp
    if thi <= tm:
        return 0.0, 0.0
    t, jt = _log_map(y[3], tm, thi)
    # muon
    omc = (Q2 - q2_min) / (2.0 * pz * p2)  # 1 − cos θ'
    if omc > 2.0:
        omc = 2.0
    st = math.sqrt(max(omc * (2.0 - omc), 0.0))
    ct = 1.0 - omc
    p[0], p[1], p[2], p[3] = 0.0, 0.0, pz, E
    pp[0], pp[1], pp[2], pp[3] = p2 * st, 0.0, p2 * ct, e2
    qx = -p2 * st
    qz = w * (E + e2) / (pz + p2) + p2 * omc  # p − p' cos θ'
    qn = math.sqrt(qx * qx + qz * qz)
    ex, ez = qx / qn, qz / qn
    # recoil
    pf = math.sqrt(t + t * t / (4.0 * M * M))
    ca = (a * t + b) / (qvn * pf)
    if ca > 1.0:
        ca = 1.0
    elif ca < -1.0:
        ca = -1.0
    sa = math.sqrt(max((1.0 - ca) * (1.0 + ca), 0.0))
    phi = TWO_PI * y[4]
    cph, sph = math.cos(phi), math.sin(phi)
    # e1 = (ez, 0, −ex) in the x–z plane, e2 = ŷ
    Pf[0] = pf * (ca * ex + sa * cph * ez)
    Pf[1] = pf * sa * sph
    Pf[2] = pf * (ca * ez - sa * cph * ex)
    Pf[3] = M + t / (2.0 * M)
    qv[0], qv[1], qv[2], qv[3] = -Pf[0], -Pf[1], -Pf[2], -t / (2.0 * M)
    K = (qx - Pf[0], -Pf[1], qz - Pf[2], w - t / (2.0 * M))
    beta, jc = _pair_decay(K, math.sqrt(MK2), qv, m_l, y[5], y[6], km, kp)
    if beta <= 0.0:
        return 0.0, 0.0
    jac = jw * jq * jm * jt * TWO_PI * jc * TWO_PI
    return C_LEPTO * beta * jac / (M * M * pz * pz * qvn), t


@njit(cache=True)
def photo_point(y, w, M, m_l, t_cut, km, kp, Pf, qv):
    """γ(ω ẑ) N → ℓ⁻ℓ⁺ N: map y ∈ [0,1)^5 to momenta; return (jacobian × phase-space factor, t)
    with σ_γ = ∫ d⁵y J · ½Σ_pol Σ_hel |M|² (GeV⁻²)."""
    has_cut = t_cut > 0.0 and t_cut < 1e300
    w2 = M * M + 2.0 * M * w
    mk_lo = 4.0 * m_l * m_l
    mk_hi = (2.0 * M * w / (math.sqrt(w2) + M)) ** 2
    if has_cut:
        mk_hi = min(mk_hi, 2.0 * w * math.sqrt(t_cut * (1.0 + t_cut / (4.0 * M * M))))
    if mk_hi <= mk_lo:
        return 0.0, 0.0
    MK2, jm = _log_map(y[0], mk_lo, mk_hi)
    a = 0.5 * (1.0 + w / M)
    b = 0.5 * MK2
    tm, tp = t_limits(a, b, w * w, w2, M)
    if tm <= 0.0:
        return 0.0, 0.0
    thi = min(tp, t_cut) if has_cut else tp
    if thi <= tm:
        return 0.0, 0.0
    t, jt = _log_map(y[1], tm, thi)
    pf = math.sqrt(t + t * t / (4.0 * M * M))
    ca = (a * t + b) / (w * pf)
    if ca > 1.0:
        ca = 1.0
    elif ca < -1.0:
        ca = -1.0
    sa = math.sqrt(max((1.0 - ca) * (1.0 + ca), 0.0))
    phi = TWO_PI * y[2]
    Pf[0] = pf * sa * math.cos(phi)
    Pf[1] = pf * sa * math.sin(phi)
    Pf[2] = pf * ca
    Pf[3] = M + t / (2.0 * M)
    qv[0], qv[1], qv[2], qv[3] = -Pf[0], -Pf[1], -Pf[2], -t / (2.0 * M)
    K = (-Pf[0], -Pf[1], w - Pf[2], w - t / (2.0 * M))
    beta, jc = _pair_decay(K, math.sqrt(MK2), qv, m_l, y[3], y[4], km, kp)
    if beta <= 0.0:
        return 0.0, 0.0
    jac = jm * jt * TWO_PI * jc * TWO_PI
    return C_PHOTO * beta * jac / (M * M * w * w), t
