"""Tests of alpgen.phenomenology: (g−2)_μ (physics.md §3) and dark matter (§4)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate

from alpgen.constants import M_E, M_MU, M_TAU
from alpgen.model import ALPModel
from alpgen.phenomenology import (
    RELIC_SIGMA_V_CM3_S,
    G2Inputs,
    cm3_s_to_gev2,
    delta_a_mu,
    delta_a_mu_C_over_Lambda,
    delta_a_mu_chiral_approx,
    delta_a_mu_from_couplings,
    delta_a_mu_light_alp,
    f_loop,
    g2_band_C_over_Lambda,
    gev2_to_cm3_s,
    relic_g_chi_aa,
    relic_g_mutau,
    sigma_v_chichi_to_aa,
    sigma_v_chichi_to_mutau,
    sigma_v_chichi_to_visible,
)

G = 4e-3


def da_theta(m_a, theta, g=G):
    return delta_a_mu_from_couplings((g * math.sin(theta)) ** 2, (g * math.cos(theta)) ** 2, m_a)


# -- (g−2): §3.5 check values (paper convention: couplings g sinθ, g cosθ, g = C m_τ/Λ) -------
def test_check_theta_pi2_at_m_tau():
    da = da_theta(M_TAU, math.pi / 2)
    assert da == pytest.approx(4.08e-9, abs=0.005e-9)
    g_c = G * math.sqrt(249e-11 / da)
    assert g_c == pytest.approx(3.13e-3, abs=0.005e-3)
    assert g_c / (M_TAU * 1e-3) == pytest.approx(1.76, abs=0.005)
    lo, hi = g2_band_C_over_Lambda(M_TAU, math.pi / 2)
    assert lo == pytest.approx(1.38, abs=0.005)
    assert hi == pytest.approx(2.07, abs=0.005)
    # the band edges really are where Δa_μ = 153e-11 and 345e-11
    assert delta_a_mu_C_over_Lambda(M_TAU, lo, math.pi / 2) == pytest.approx(153e-11, rel=1e-12)
    assert delta_a_mu_C_over_Lambda(M_TAU, hi, math.pi / 2) == pytest.approx(345e-11, rel=1e-12)


@pytest.mark.parametrize(
    ("m_a", "val", "tol"),
    [
        (2.0, 3.83e-9, 0.005e-9),
        (5.0, 1.88e-9, 0.005e-9),
        (10.0, 8.5e-10, 0.05e-10),
        (20.0, 3.3e-10, 0.05e-10),
    ],
)
def test_check_table_g_4e_3(m_a, val, tol):
    assert da_theta(m_a, math.pi / 2) == pytest.approx(val, abs=tol)
    # θ = 0: "about the negatives" (differ by the non-enhanced term, O(m_μ/m_τ))
    assert da_theta(m_a, 0.0) == pytest.approx(-val, rel=2 * M_MU / M_TAU)


def test_check_theta_pi4():
    assert da_theta(2.0, math.pi / 4) == pytest.approx(5.4e-11, abs=0.05e-11)


def test_sign_and_band_none():
    # positive for π/4 < θ < 3π/4 (cos2θ < 0), negative otherwise (away from θ = π/4)
    for th in [0.9, 1.3, 2.0]:
        assert da_theta(5.0, th) > 0
    for th in [0.0, 0.5, 2.6]:
        assert da_theta(5.0, th) < 0
    assert g2_band_C_over_Lambda(5.0, 0.0) is None
    assert g2_band_C_over_Lambda(5.0, 0.0, couplings="exact") is None


def test_band_configurable_and_convention_scaling():
    # a band reaching below zero starts at C/Λ = 0
    lo, hi = g2_band_C_over_Lambda(5.0, math.pi / 2, inputs=G2Inputs(38e-11, 63e-11, 1.0))
    assert lo == 0.0
    assert delta_a_mu_C_over_Lambda(5.0, hi, math.pi / 2) == pytest.approx(101e-11, rel=1e-12)
    assert g2_band_C_over_Lambda(5.0, 1.3, inputs=G2Inputs(-300e-11, 10e-11)) is None
    # at θ = π/2 only S contributes: exact S² = paper S² (m_τ − m_μ)²/m_τ², so the exact band is
    # wider by m_τ/(m_τ − m_μ)
    p = g2_band_C_over_Lambda(3.0, math.pi / 2)
    e = g2_band_C_over_Lambda(3.0, math.pi / 2, couplings="exact")
    for a, b in zip(p, e, strict=True):
        assert b / a == pytest.approx(M_TAU / (M_TAU - M_MU), rel=1e-12)


def test_model_interface_and_vectorisation():
    m = ALPModel.from_C_over_Lambda(7.0, 1.5, 1.1, m_in=M_MU, m_out=M_TAU, couplings="exact")
    assert delta_a_mu(m) == pytest.approx(delta_a_mu_from_couplings(m.S2, m.P2, 7.0), rel=1e-15)
    masses = np.array([0.1, 1.0, 5.0, 50.0])
    vec = delta_a_mu_from_couplings(1e-5, 2e-6, masses)
    assert vec.shape == (4,)
    for mm, v in zip(masses, vec, strict=True):
        assert v == pytest.approx(delta_a_mu_from_couplings(1e-5, 2e-6, mm), rel=1e-14)


# -- (g−2): numerics ------------------------------------------------------------------------
def quad_reference(S2, P2, m_a, m_in=M_MU, m_out=M_TAU):
    """(3.1) by adaptive Gauss–Kronrod (scipy), written out independently."""

    def integrand(x):
        d = m_in**2 * x**2 + (m_out**2 - m_in**2) * x + m_a**2 * (1 - x)
        k = m_out / m_in * x**2
        return (S2 * (x**2 - x**3 + k) + P2 * (x**2 - x**3 - k)) / d

    pts = sorted({p for k in range(1, 9) for p in (10.0**-k, 1 - 10.0**-k)})
    val, _ = integrate.quad(integrand, 0.0, 1.0, points=pts, epsabs=0.0, epsrel=1e-13, limit=500)
    return m_in**2 / (8 * math.pi**2) * val


@pytest.mark.parametrize("m_a", [1e-3, 0.05, 0.5, M_TAU, 2.0, 10.0, 100.0, 1000.0])
@pytest.mark.parametrize("theta", [0.0, 0.6, math.pi / 4, math.pi / 2])
def test_gauss_legendre_vs_quad(m_a, theta):
    S2, P2 = (G * math.sin(theta)) ** 2, (G * math.cos(theta)) ** 2
    ref = quad_reference(S2, P2, m_a)
    assert delta_a_mu_from_couplings(S2, P2, m_a) == pytest.approx(ref, rel=1e-9, abs=1e-25)


@pytest.mark.parametrize("r", [1e-8, 1e-3, 0.3, 0.95, 1.0, 1.2, 30.0, 1e4, 1e6])
def test_quadrature_vs_closed_form_f(r):
    # With m_in → 0 (1e-9 GeV) the chirally enhanced (3.2) becomes exact up to O(m_in/m_out):
    # a sharp test of the graded Gauss–Legendre rule against the analytic f(r), also at r ≫ 1
    # where the integrand is peaked within 1/r of x = 1.
    m_in = 1e-9
    m_a = M_TAU * math.sqrt(r)
    full = delta_a_mu_from_couplings(0.0, G**2, m_a, m_in=m_in)
    approx = delta_a_mu_chiral_approx(G, 0.0, m_a, m_in=m_in)
    assert full == pytest.approx(approx, rel=1e-10)


def test_chiral_approx_and_light_alp_limit():
    for m_a in [0.01, 1.0, 5.0, 20.0]:
        for th in [0.0, math.pi / 2]:
            approx = delta_a_mu_chiral_approx(G, th, m_a)
            assert da_theta(m_a, th) == pytest.approx(approx, rel=M_MU / M_TAU)
    # (3.3) for m_a ≪ m_τ: the neglected non-enhanced part is ~ m_μ/(3 m_τ) ≈ 2 %
    for th in [0.0, 0.3, math.pi / 2]:
        light = delta_a_mu_light_alp(G, th)
        assert da_theta(1e-3, th) == pytest.approx(light, rel=M_MU / M_TAU)
        assert da_theta(1e-3, th) != pytest.approx(light, rel=1e-3)  # the difference is real


def test_general_masses():
    # electron g−2 with a muon in the loop: chirally enhanced form holds to O(m_e/m_μ)
    for m_a in [0.05, 0.5]:
        full = delta_a_mu_from_couplings(G**2, 0.0, m_a, m_in=M_E, m_out=M_MU)
        approx = delta_a_mu_chiral_approx(G, math.pi / 2, m_a, m_in=M_E, m_out=M_MU)
        assert full == pytest.approx(approx, rel=2 * M_E / M_MU)
    # τ g−2 with a muon in the loop: fine once τ → μ a is closed ...
    S2, P2 = 1e-6, 3e-6
    assert delta_a_mu_from_couplings(S2, P2, 2.0, m_in=M_TAU, m_out=M_MU) == pytest.approx(
        quad_reference(S2, P2, 2.0, m_in=M_TAU, m_out=M_MU), rel=1e-9
    )
    # ... and refused while it is open (D(x) has a zero in [0, 1])
    with pytest.raises(ValueError, match="kinematically open"):
        delta_a_mu_from_couplings(S2, P2, 1.0, m_in=M_TAU, m_out=M_MU)


# -- f(r) ----------------------------------------------------------------------------------
def test_f_limits():
    assert f_loop(1e-8) == pytest.approx(0.5, abs=1e-7)
    assert f_loop(0.0) == 0.5
    assert f_loop(1.0) == pytest.approx(1 / 3, rel=1e-15)
    assert f_loop(1 - 1e-9) == pytest.approx(1 / 3, abs=1e-9)
    assert f_loop(1 + 1e-9) == pytest.approx(1 / 3, abs=1e-9)
    for r in [1e4, 1e6, 1e9]:
        assert f_loop(r) == pytest.approx((math.log(r) - 1.5) / r, rel=5 * math.log(r) / r)


@pytest.mark.parametrize("r", [1e-6, 0.2, 0.899, 0.9, 0.901, 0.97, 1.03, 1.099, 1.1, 1.101, 5.0])
def test_f_vs_mpmath_integral(r):
    # the defining integral in 30-digit arithmetic (scipy's quad is only ~1e-11 at r = 1e-6);
    # r values straddle the switch to the series at |r − 1| = 0.1
    with mpmath.workdps(30):
        rr = mpmath.mpf(r)
        val = mpmath.quad(lambda x: x * x / (x + rr * (1 - x)), [0, min(r, 0.5), 0.5, 1])
    assert f_loop(r) == pytest.approx(float(val), rel=1e-13)


def test_f_vectorised():
    r = np.array([0.0, 0.5, 1.0, 2.0])
    out = f_loop(r)
    assert out.shape == (4,)
    assert out == pytest.approx([f_loop(x) for x in r], rel=1e-15)
    with pytest.raises(ValueError, match="r ≥ 0"):
        f_loop(-1.0)


# -- dark matter ---------------------------------------------------------------------------
def test_unit_conversion():
    assert gev2_to_cm3_s(1.0) == pytest.approx(1.167e-17, rel=1e-3)
    assert cm3_s_to_gev2(gev2_to_cm3_s(3.0)) == pytest.approx(3.0, rel=1e-15)


@pytest.mark.parametrize("m_a", [0.1, 1.0, 10.0])
def test_relic_g_chi_aa(m_a):
    # §4.3: m_χ = 3 m_a, x_f = 20 gives g_χ = 0.11 √(m_a/GeV)
    g = relic_g_chi_aa(m_a, 3 * m_a)
    assert g / math.sqrt(m_a) == pytest.approx(0.11, abs=0.005)
    sv = sigma_v_chichi_to_aa(g, 3 * m_a, m_a, 6 / 20)
    assert gev2_to_cm3_s(sv) == pytest.approx(RELIC_SIGMA_V_CM3_S, rel=1e-12)
    assert math.isnan(relic_g_chi_aa(m_a, 0.5 * m_a))


def test_sigma_v_aa_scaling():
    base = sigma_v_chichi_to_aa(0.5, 3.0, 1.0, 0.3)
    assert sigma_v_chichi_to_aa(1.0, 3.0, 1.0, 0.3) == pytest.approx(16 * base, rel=1e-14)
    assert sigma_v_chichi_to_aa(0.5, 3.0, 1.0, 0.6) == pytest.approx(2 * base, rel=1e-14)
    assert sigma_v_chichi_to_aa(0.5, 1.0, 3.0, 0.3) == 0.0
    # dimension: σv·m_χ² is invariant under a common rescaling of all masses
    assert sigma_v_chichi_to_aa(0.5, 30.0, 10.0, 0.3) == pytest.approx(base / 100, rel=1e-14)


# -- χχ̄ → aa from an explicit Dirac trace (physics.md §4.2) ------------------------------------
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_PAULI = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
_G0 = np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)
_GI = [np.block([[_Z2, s], [-s, _Z2]]).astype(complex) for s in _PAULI]
_G5 = np.block([[_Z2, _I2], [_I2, _Z2]]).astype(complex)
_ONE = np.eye(4, dtype=complex)


def _slash(p):
    return p[0] * _G0 - p[1] * _GI[0] - p[2] * _GI[1] - p[3] * _GI[2]


def _mdot(a, b):
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]


def _sigma_v_aa_trace(g: float, m: float, m_a: float, beta: float, n: int = 48) -> float:
    """σ v_rel(χχ̄ → aa) in the CM frame from −i g a χ̄γ5χ: t- and u-channel χ exchange,
    ¼ Σ|M|² = ¼ Tr[(p̸₂ − m) Γ (p̸₁ + m) Γ̄] with 4×4 Dirac matrices, integrated over the
    angle by Gauss–Legendre; σ v_rel = ½ (identical a's) ∫|M|² dΦ₂ / (4 E₁E₂), v_rel = 2β."""
    e = m / math.sqrt(1 - beta**2)
    p1, p2 = np.array([e, 0, 0, beta * e]), np.array([e, 0, 0, -beta * e])
    k = math.sqrt(e**2 - m_a**2)
    x, w = np.polynomial.legendre.leggauss(n)
    total = 0.0
    for c, wi in zip(x, w, strict=True):
        st = math.sqrt(1 - c * c)
        k1 = np.array([e, k * st, 0, k * c])
        qt, qu = p1 - k1, p1 - (p1 + p2 - k1)
        gam = (
            g
            * g
            * sum(_G5 @ (_slash(q) + m * _ONE) @ _G5 / (_mdot(q, q) - m * m) for q in (qt, qu))
        )
        gbar = _G0 @ gam.conj().T @ _G0
        m2 = 0.25 * np.trace((_slash(p2) - m * _ONE) @ gam @ (_slash(p1) + m * _ONE) @ gbar).real
        total += wi * m2
    dphi = k / (16 * math.pi**2 * 2 * e) * 2 * math.pi  # |k|/(16π²√s) × ∫dφ
    return 0.5 * dphi * total / (4 * e * e)


@pytest.mark.parametrize(
    ("m_chi", "m_a", "beta"), [(3.0, 1.0, 0.01), (10.0, 0.1, 0.01), (2.0, 1.9, 0.002)]
)
def test_sigma_v_aa_vs_explicit_trace(m_chi, m_a, beta):
    """(4.2) is the β → 0 limit of the tree-level trace: agreement to 10⁻³ at small β, and the
    difference is O(β²) (it grows ×4 when β doubles)."""
    g = 0.7
    ratio = _sigma_v_aa_trace(g, m_chi, m_a, beta) / sigma_v_chichi_to_aa(
        g, m_chi, m_a, 4 * beta**2
    )
    assert ratio == pytest.approx(1.0, abs=1e-3)
    ratio2 = _sigma_v_aa_trace(g, m_chi, m_a, 2 * beta) / sigma_v_chichi_to_aa(
        g, m_chi, m_a, 16 * beta**2
    )
    assert (ratio2 - 1) / (ratio - 1) == pytest.approx(4.0, rel=0.05)


@pytest.mark.parametrize(("m_chi", "m_a"), [(1.5, 9.0), (3.0, 9.0), (10.0, 3.0), (50.0, 150.0)])
def test_sigma_v_mutau_vs_width_factorisation(m_chi, m_a):
    # s-channel spin-0 exchange at threshold: σv = g_χ² √s Γ_vis(a* of mass √s)/(s − m_a²)²,
    # with Γ_vis from the model's (2.2) at m_μ = 0: an independent route to (4.1)
    g_chi, g = 0.7, 2e-3
    model = ALPModel.from_g(m_a, g, 0.4, m_in=0.0, m_out=M_TAU, m_chi=m_chi, g_chi=g_chi)
    ref = sigma_v_chichi_to_visible(model)
    assert ref > 0
    assert sigma_v_chichi_to_mutau(g_chi, g, m_chi, m_a) == pytest.approx(ref, rel=1e-12)
    # with the physical muon mass the exact route differs only by O(m_μ/m_τ)
    model_mu = ALPModel.from_g(m_a, g, 0.4, m_in=M_MU, m_out=M_TAU, m_chi=m_chi, g_chi=g_chi)
    assert sigma_v_chichi_to_visible(model_mu) == pytest.approx(ref, rel=2 * M_MU / M_TAU)


def test_sigma_v_mutau_scaling_pole_threshold():
    base = sigma_v_chichi_to_mutau(1.0, 1e-3, 5.0, 15.0)
    assert sigma_v_chichi_to_mutau(2.0, 3e-3, 5.0, 15.0) == pytest.approx(36 * base, rel=1e-14)
    # pole at m_a = 2 m_χ, regulated by the ALP width when given
    near = [sigma_v_chichi_to_mutau(1.0, 1e-3, 5.0, 10.0 * (1 + d)) for d in (1e-1, 1e-2, 1e-3)]
    assert near[0] < near[1] < near[2]
    assert near[2] / near[1] == pytest.approx(100, rel=0.01)  # ∝ 1/(4m_χ² − m_a²)²
    assert math.isinf(sigma_v_chichi_to_mutau(1.0, 1e-3, 5.0, 10.0))
    gam = 0.1
    at_pole = sigma_v_chichi_to_mutau(1.0, 1e-3, 5.0, 10.0, width_a=gam)
    ref = 1e-6 * (100.0 - M_TAU**2) ** 2 / (16 * math.pi * 25.0 * 100.0 * gam**2)
    assert at_pole == pytest.approx(ref, rel=1e-14)
    # closed below 2m_χ = m_τ + m_μ
    assert sigma_v_chichi_to_mutau(1.0, 1e-3, 0.5 * (M_TAU + M_MU) * 0.999, 5.0) == 0.0
    assert sigma_v_chichi_to_mutau(1.0, 1e-3, 0.5 * (M_TAU + M_MU) * 1.001, 5.0) > 0.0


def test_relic_g_mutau():
    g = relic_g_mutau(15.0, 5.0, 1.0)
    sv = sigma_v_chichi_to_mutau(1.0, g, 5.0, 15.0)
    assert gev2_to_cm3_s(sv) == pytest.approx(RELIC_SIGMA_V_CM3_S, rel=1e-12)
    # g ∝ 1/g_χ at fixed σv
    assert relic_g_mutau(15.0, 5.0, 0.5) == pytest.approx(2 * g, rel=1e-14)
    assert math.isnan(relic_g_mutau(15.0, 0.5, 1.0))
