"""ALP decays: helicity amplitudes (checked against Dirac traces), kinematics, lab helicities."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from alpgen.constants import M_E, M_MU, M_TAU
from alpgen.decays import alp
from alpgen.decays.polarization import frame_polarization
from alpgen.decays.registry import channels_for, get
from alpgen.model import ALPModel

# --- explicit Dirac algebra (Dirac representation), independent of alp.py ---------------------
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_SIG = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
G0 = np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)
GI = [np.block([[_Z2, s], [-s, _Z2]]).astype(complex) for s in _SIG]
G5 = 1j * G0 @ GI[0] @ GI[1] @ GI[2]
ONE = np.eye(4, dtype=complex)


def slash(v):  # v = (t, x, y, z)
    return v[0] * G0 - v[1] * GI[0] - v[2] * GI[1] - v[3] * GI[2]


def helicity_spin_vector(k3, m, lam):
    k = np.linalg.norm(k3)
    e = math.hypot(k, m)
    return lam * np.array([k / m, *(e * np.asarray(k3) / (k * m))])


def amp2_trace(S, P, ma, m1, m2, lam1, lam2, gamma_sign=+1):
    """|ū₁(S + Pγ5)v₂|² for fermion 1 (helicity lam1) along +z and antifermion 2 along −z,
    using u ū = (p̸ + m)(1 + γ5 s̸)/2 and v v̄ = (p̸ − m)(1 + γ5 s̸)/2 (s = physical spin)."""
    k = math.sqrt((ma**2 - (m1 + m2) ** 2) * (ma**2 - (m1 - m2) ** 2)) / (2 * ma)
    p1 = np.array([math.hypot(k, m1), 0, 0, k])
    p2 = np.array([math.hypot(k, m2), 0, 0, -k])
    s1 = helicity_spin_vector([0, 0, k], m1, lam1)
    s2 = helicity_spin_vector([0, 0, -k], m2, lam2)
    gam = S * ONE + gamma_sign * P * G5
    gbar = G0 @ gam.conj().T @ G0
    rho1 = (slash(p1) + m1 * ONE) @ (ONE + G5 @ slash(s1)) / 2
    rho2 = (slash(p2) - m2 * ONE) @ (ONE + G5 @ slash(s2)) / 2
    return float(np.trace(rho1 @ gam @ rho2 @ gbar).real)


def test_projector_convention():
    # (p̸ + m)(1 + γ5 s̸)/2 at rest with s = +z must project on spin up: σ_z-like eigenvalue +1
    m = 1.0
    proj = (slash([m, 0, 0, 0]) + m * ONE) @ (ONE + G5 @ slash([0, 0, 0, 1])) / 2
    sz = np.block([[_SIG[2], _Z2], [_Z2, _SIG[2]]])
    assert np.allclose(sz @ proj, proj)  # range of the projector has spin +1/2 along z


@pytest.mark.parametrize("theta", [0.0, 0.3, math.pi / 4, 1.2, math.pi / 2])
@pytest.mark.parametrize("ma", [1.9, 3.0, 10.0])
def test_helicity_amplitudes_vs_traces(theta, ma):
    model = ALPModel.from_C_over_Lambda(ma, 1.0, theta, m_in=M_MU, m_out=M_TAU, couplings="exact")
    S = math.sqrt(model.S2) * alp.sign_sp(model)
    P = math.sqrt(model.P2)
    tr = {(a, b): amp2_trace(S, P, ma, M_MU, M_TAU, a, b) for a in (1, -1) for b in (1, -1)}
    scale = max(tr.values())
    # spin 0: only equal helicities
    assert abs(tr[(1, -1)]) < 1e-12 * scale and abs(tr[(-1, 1)]) < 1e-12 * scale
    mpp, mmm = alp.helicity_amplitudes2(model, M_MU, M_TAU)
    assert mpp == pytest.approx(tr[(1, 1)], rel=1e-9, abs=1e-12 * scale)
    assert mmm == pytest.approx(tr[(-1, -1)], rel=1e-9, abs=1e-12 * scale)
    # helicity sum reproduces the width: Γ = λ^{1/2}/(16π m_a³) Σ|M|²
    lam = (ma**2 - (M_MU + M_TAU) ** 2) * (ma**2 - (M_MU - M_TAU) ** 2)
    gamma = math.sqrt(lam) / (16 * math.pi * ma**3) * (mpp + mmm)
    assert gamma == pytest.approx(model.width_one_charge_mode(), rel=1e-12)
    a_h = alp.helicity_asymmetry(model)
    assert a_h == pytest.approx(
        (tr[(1, 1)] - tr[(-1, -1)]) / (tr[(1, 1)] + tr[(-1, -1)]), abs=1e-10
    )
    # conjugate mode ū_τ(S − Pγ5)v_μ: opposite asymmetry (CP image)
    c = {lam_: amp2_trace(S, P, ma, M_TAU, M_MU, lam_, lam_, gamma_sign=-1) for lam_ in (1, -1)}
    assert (c[1] - c[-1]) / (c[1] + c[-1]) == pytest.approx(-a_h, abs=1e-10)


def test_theta_pi_over_4_fully_polarized():
    # m_in → 0 (paper limit): |A_h| = sin2θ = 1 at θ = π/4. The sign follows sign(S·P):
    # paper Eq. 3 (S = g sinθ, P = g cosθ, S·P > 0) gives A_h = −sin2θ; the exact Eq. 2 coupling
    # (S ∝ (m_μ − m_τ) sinθ < 0) gives +sin2θ.
    model = ALPModel.from_g(3.0, 1e-3, math.pi / 4, m_in=0.0, m_out=M_TAU)
    assert model.sign_SP == 1.0
    assert alp.helicity_asymmetry(model) == pytest.approx(-1.0, abs=1e-14)
    exact = dataclasses.replace(model, sign_SP=-1.0)
    assert alp.helicity_asymmetry(exact) == pytest.approx(1.0, abs=1e-14)
    for theta in (0.2, 0.7, 1.3):
        model = ALPModel.from_g(3.0, 1e-3, theta, m_in=0.0, m_out=M_TAU)
        assert alp.helicity_asymmetry(model) == pytest.approx(-math.sin(2 * theta), abs=1e-14)
    # with the muon mass it is 1 − O(m_μ²/(m_a² − m_τ²))
    model = ALPModel.from_g(3.0, 1e-3, math.pi / 4, m_in=M_MU, m_out=M_TAU)
    assert -1.0 < alp.helicity_asymmetry(model) < -0.99
    # pure scalar or pseudoscalar: unpolarised
    assert alp.helicity_asymmetry(ALPModel.from_g(3.0, 1e-3, 0.0, m_in=M_MU, m_out=M_TAU)) == 0.0


def _alp_p4(n, p, ma, rng):
    cth = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    sth = np.sqrt(1 - cth**2)
    p4 = np.empty((n, 4))
    p4[:, 0], p4[:, 1], p4[:, 2] = p * sth * np.cos(phi), p * sth * np.sin(phi), p * cth
    p4[:, 3] = np.hypot(p, ma)
    return p4


def test_two_body_kinematics_tev():
    rng = np.random.default_rng(1)
    ma = 2.5
    model = ALPModel.from_C_over_Lambda(ma, 1.0, 0.4, m_in=M_MU, m_out=M_TAU)
    p4 = _alp_p4(2000, 3000.0, ma, rng)
    for ch in channels_for(9000005):
        if ch.branching(model) == 0 and "visible" in ch.tags:
            continue
        m = ALPModel(ma, M_MU, M_TAU, model.S2, model.P2, m_chi=0.5, g_chi=1.0)
        d = ch.run(p4, np.zeros(len(p4)), rng.random((len(p4), ch.n_random)), m)
        dm = ch.daughter_masses(m)
        e = p4[:, 3]
        assert np.max(np.abs(d.sum(axis=1) - p4).max(axis=1) / e) < 1e-10
        for j in range(2):
            p2 = d[:, j, 3] ** 2 - np.sum(d[:, j, :3] ** 2, axis=1)
            assert np.max(np.abs(p2 - dm[j] ** 2) / e**2) < 1e-10


def test_isotropic_in_rest_frame():
    rng = np.random.default_rng(2)
    n = 20000
    p4 = np.zeros((n, 4))
    p4[:, 3] = 3.0
    d = get("a->mu- tau+").run(p4, np.zeros(n), rng.random((n, 2)))
    c = d[:, 0, 2] / np.linalg.norm(d[:, 0, :3], axis=1)
    # uniform cosθ: mean 0 ± 1/sqrt(3n), second moment 1/3
    assert abs(c.mean()) < 4 / math.sqrt(3 * n)
    assert abs((c**2).mean() - 1 / 3) < 4 * math.sqrt(4 / 45 / n)
    k = np.linalg.norm(d[:, 0, :3], axis=1)
    kexp = math.sqrt((9 - (M_MU + M_TAU) ** 2) * (9 - (M_TAU - M_MU) ** 2)) / 6
    assert np.allclose(k, kexp, rtol=1e-13)


def test_branching_ratios():
    model = ALPModel.from_C_over_Lambda(
        3.0, 1.0, 0.4, m_in=M_MU, m_out=M_TAU, m_chi=1.0, g_chi=1e-3
    )
    brs = {c.name: c.branching(model) for c in channels_for(9000005)}
    assert brs["a->mu- tau+"] == pytest.approx(model.br_visible / 2)
    assert brs["a->mu+ tau-"] == pytest.approx(model.br_visible / 2)
    assert brs["a->chi chibar"] == pytest.approx(model.br_invisible)
    assert brs["a->e- tau+"] == 0.0 and brs["a->e- mu+"] == 0.0
    assert sum(brs.values()) == pytest.approx(1.0, abs=1e-14)
    # the (e, μ) pair model selects the e-μ channels
    em = ALPModel.from_C_over_Lambda(1.0, 1.0, 0.4, m_in=M_E, m_out=M_MU)
    assert get("a->e- mu+").branching(em) == pytest.approx(0.5)


def test_frame_polarization_limits():
    # ALP at rest: lab helicity = ALP-frame helicity
    ma = 3.0
    k = math.sqrt((ma**2 - (M_MU + M_TAU) ** 2) * (ma**2 - (M_TAU - M_MU) ** 2)) / (2 * ma)
    par = np.array([[0.0, 0.0, 0.0, ma]])
    tau_rest = np.array([[0.0, k, 0.0, math.hypot(k, M_TAU)]])
    assert frame_polarization(par, ma, tau_rest, M_TAU, M_MU)[0] == pytest.approx(1.0)
    # collinear boost along z (γ = 100): τ emitted backwards in the ALP frame is overtaken by the
    # boost (β_ALP > β*), so its lab momentum is forward while its spin still points backwards
    gam = 100.0
    beta = math.sqrt(1 - 1 / gam**2)
    par = np.array([[0.0, 0.0, gam * beta * ma, gam * ma]] * 2)
    e_s = math.hypot(k, M_TAU)
    fwd = np.array([[0, 0, gam * (k + beta * e_s), gam * (e_s + beta * k)]])
    bwd = np.array([[0, 0, gam * (-k + beta * e_s), gam * (e_s - beta * k)]])
    pl = frame_polarization(par, ma, np.vstack([fwd, bwd]), M_TAU, M_MU)
    assert pl[0] == pytest.approx(1.0, abs=1e-12)
    assert pl[1] == pytest.approx(-1.0, abs=1e-12)


def _boost_matrix(beta: np.ndarray) -> np.ndarray:
    """Lorentz boost Λ (acting on (px, py, pz, E)) that takes a frame at rest to velocity β⃗."""
    b2 = float(beta @ beta)
    g = 1.0 / math.sqrt(1.0 - b2)
    lam = np.eye(4)
    lam[3, 3] = g
    lam[3, :3] = lam[:3, 3] = g * beta
    lam[:3, :3] += (g - 1.0) * np.outer(beta, beta) / b2
    return lam


def _mdot(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[3] * b[3] - a[:3] @ b[:3])


@pytest.mark.parametrize(("m_a", "m", "m_other"), [(3.0, M_TAU, M_MU), (2.0, M_TAU, M_MU)])
def test_frame_polarization_vs_explicit_spin_boost(m_a, m, m_other):
    """At random ALP momenta and decay angles: the spin four-vector of helicity +1 in the ALP
    frame, s* = (|k*|/m n̂*, E*/m), boosted to the lab with an explicit Lorentz matrix and
    projected on the lab helicity axis (P_L = −s·s_hel) gives frame_polarization."""
    rng = np.random.default_rng(2024)
    k_star = math.sqrt((m_a**2 - (m + m_other) ** 2) * (m_a**2 - (m - m_other) ** 2)) / (2 * m_a)
    e_star = math.hypot(k_star, m)
    n = 200
    parents, daughters, expected = [], [], []
    for _ in range(n):
        p_par = rng.normal(size=3) * 10.0 ** rng.uniform(-1, 2.5)  # 0.1–300 GeV
        e_par = math.sqrt(p_par @ p_par + m_a**2)
        lam = _boost_matrix(p_par / e_par)
        nhat = rng.normal(size=3)
        nhat /= np.linalg.norm(nhat)
        k_rest = np.array([*(k_star * nhat), e_star])
        s_rest = np.array([*(e_star / m * nhat), k_star / m])
        k_lab, s_lab = lam @ k_rest, lam @ s_rest
        assert _mdot(s_lab, s_lab) == pytest.approx(-1.0, abs=1e-9)
        assert _mdot(s_lab, k_lab) == pytest.approx(0.0, abs=1e-9 * k_lab[3])
        kabs = np.linalg.norm(k_lab[:3])
        s_hel = np.array([*(k_lab[3] / m * k_lab[:3] / kabs), kabs / m])
        parents.append([*p_par, e_par])
        daughters.append(k_lab)
        expected.append(-_mdot(s_lab, s_hel))
    pl = frame_polarization(np.array(parents), m_a, np.array(daughters), m, m_other)
    np.testing.assert_allclose(pl, expected, rtol=0, atol=1e-9)
    assert np.ptp(expected) > 1.0  # the random angles do reach both signs of P_L


def test_daughter_helicity_sampling():
    rng = np.random.default_rng(5)
    n = 40000
    model = ALPModel.from_C_over_Lambda(3.0, 1.0, 0.6, m_in=M_MU, m_out=M_TAU)
    a_h = alp.helicity_asymmetry(model)
    p4 = np.zeros((n, 4))
    p4[:, 3] = 3.0  # at rest: lab = ALP-frame helicities, equal for both leptons
    for name, sign in (("a->mu- tau+", 1), ("a->mu+ tau-", -1)):
        ch = get(name)
        d = ch.run(p4, np.zeros(n), rng.random((n, 2)), model)
        h = ch.daughter_helicity(model, p4, d, rng.random((n, 3)))
        assert np.all(h[:, 0] == h[:, 1])
        frac = (h[:, 1] > 0).mean()
        assert abs(frac - 0.5 * (1 + sign * a_h)) < 4 * math.sqrt(0.25 / n)
