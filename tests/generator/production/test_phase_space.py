"""Phase-space formula (5.2) + the hypercube map against a brute-force 3-body integration.

Brute force: sequential two-body decays in the CM frame, (p + P_i) → X(m_X) N, X → ℓ_out a, with
dΦ₃ = dΦ₂(s; m_X, M) dm_X²/2π dΦ₂(m_X²; m_out, m_a), and σ = ∫|M̄|² dΦ₃ / (4 M |p⃗_lab|).
Point-like unit charge (F = 1, Z = 1), no t cut, both S and P couplings on. The two methods share
only the closed-form |M̄|² (tested separately against Dirac traces).
"""

from __future__ import annotations

import math

import numpy as np

from alpgen.constants import E_CHARGE_SQ, M_MU, M_TAU
from alpgen.production.kinematics import hypercube_to_momenta
from alpgen.production.matrix_element import amplitude_terms_batch

E, M, M_A = 10.0, 5.0, 3.0  # the spec's test point (physics.md §5.3)
G2, GP2 = 1.0, 0.4


def mdot(a, b):
    return a[:, 3] * b[:, 3] - np.sum(a[:, :3] * b[:, :3], axis=1)


def amp2(p, Pi, pp, Pf, k):
    s = mdot(pp + k, pp + k) - M_MU**2
    u = mdot(p - k, p - k) - M_TAU**2
    t = -mdot(Pi - Pf, Pi - Pf)
    e_lab = mdot(p, Pi) / M
    ea_lab = mdot(k, Pi) / M
    a = amplitude_terms_batch(s, u, t, e_lab, ea_lab, M, M_MU, M_TAU, M_A)
    return E_CHARGE_SQ**2 / t**2 * (G2 * a[:, 0] + GP2 * a[:, 1])


def two_body(msq_parent, m1, m2):
    lam = (msq_parent - (m1 + m2) ** 2) * (msq_parent - (m1 - m2) ** 2)
    return np.sqrt(np.maximum(lam, 0.0)) / (2.0 * np.sqrt(msq_parent))


def random_dirs(rng, n):
    c = rng.uniform(-1, 1, n)
    ph = rng.uniform(0, 2 * np.pi, n)
    s = np.sqrt(1 - c * c)
    return np.stack([s * np.cos(ph), s * np.sin(ph), c], axis=1)


def boost(v, beta):
    """Boost four-vectors v[n,4] by velocity beta[n,3]."""
    b2 = np.sum(beta**2, axis=1)
    g = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * v[:, :3], axis=1)
    g2 = np.where(b2 > 0, (g - 1.0) / np.where(b2 > 0, b2, 1.0), 0.0)
    out = np.empty_like(v)
    out[:, :3] = v[:, :3] + (g2 * bp + g * v[:, 3])[:, None] * beta
    out[:, 3] = g * (v[:, 3] + bp)
    return out


def brute_force(n, rng):
    p_lab = math.sqrt(E * E - M_MU**2)
    s = M_MU**2 + M * M + 2 * M * E
    rs = math.sqrt(s)
    pcm = float(two_body(np.array([s]), M_MU, M)[0])
    p = np.tile([0, 0, pcm, math.hypot(pcm, M_MU)], (n, 1))
    Pi = np.tile([0, 0, -pcm, math.hypot(pcm, M)], (n, 1))
    lo, hi = (M_TAU + M_A) ** 2, (rs - M) ** 2
    mx2 = rng.uniform(lo, hi, n)
    p1 = two_body(np.full(n, s), np.sqrt(mx2), M)
    d1 = random_dirs(rng, n)
    Pf = np.concatenate([-p1[:, None] * d1, np.sqrt(p1**2 + M * M)[:, None]], axis=1)
    X = np.concatenate([p1[:, None] * d1, np.sqrt(p1**2 + mx2)[:, None]], axis=1)
    p2 = two_body(mx2, M_TAU, M_A)
    d2 = random_dirs(rng, n)
    tau_r = np.concatenate([p2[:, None] * d2, np.sqrt(p2**2 + M_TAU**2)[:, None]], axis=1)
    a_r = np.concatenate([-p2[:, None] * d2, np.sqrt(p2**2 + M_A**2)[:, None]], axis=1)
    beta = X[:, :3] / X[:, 3:4]
    pp, k = boost(tau_r, beta), boost(a_r, beta)
    w = (hi - lo) / (2 * np.pi) * p1 / (4 * np.pi * rs) * p2 / (4 * np.pi * np.sqrt(mx2))
    w = w * amp2(p, Pi, pp, Pf, k) / (4 * M * p_lab)
    return w.mean(), w.std() / math.sqrt(n)


def formula_52(n, rng):
    jac, mom, _ = hypercube_to_momenta(rng.random((n, 4)), E, M_MU, M_TAU, M_A, M, 1e9)
    ok = jac > 0
    mom = mom[ok]
    p, Pi, pp, Pf, k = (mom[:, j] for j in range(5))
    kk = np.linalg.norm(k[:, :3], axis=1)
    sin_th = np.hypot(k[:, 0], k[:, 1]) / kk
    pabs = np.linalg.norm(p[:, :3], axis=1)
    V = np.linalg.norm(p[:, :3] - k[:, :3], axis=1)
    w = np.zeros(n)
    w[ok] = jac[ok] * kk * sin_th * amp2(p, Pi, pp, Pf, k) / (1024 * np.pi**4 * M**2 * pabs * V)
    return w.mean(), w.std() / math.sqrt(n)


def test_formula_52_equals_brute_force_three_body():
    rng = np.random.default_rng(2024)
    bf, bf_err = brute_force(1_000_000, rng)
    ps, ps_err = formula_52(1_000_000, rng)
    err = math.hypot(bf_err, ps_err)
    assert err < 0.005 * bf  # the comparison is meaningful at the 0.5 % level
    assert abs(ps - bf) < 4 * err, (ps, bf, err)
