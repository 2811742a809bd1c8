"""τ decay channels: BR table, polarised spectra against textbook formulas, kinematics."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from alpgen.constants import M_E, M_MU, M_PI, M_PI0, M_TAU, mass
from alpgen.decays import tau
from alpgen.decays.kinematics import two_body_momentum
from alpgen.decays.polarization import collinear_pion_fraction_pdf, michel_pdf
from alpgen.decays.registry import channels_for, get

REF = Path(__file__).resolve().parents[2] / "data" / "tau_decay_reference.csv"
N = 40000


def _run(name, p4, hel, seed, pid=15):
    ch = next(c for c in channels_for(pid) if c.name == name)
    rng = np.random.default_rng(seed)
    return ch.run(p4, hel, rng.random((len(p4), ch.n_random)))


def _at_rest(n):
    p4 = np.zeros((n, 4))
    p4[:, 3] = M_TAU
    return p4


def _along_z(n, p):
    p4 = np.zeros((n, 4))
    p4[:, 2] = p
    p4[:, 3] = math.hypot(p, M_TAU)
    return p4


def _reference():
    rows = [r for r in open(REF) if not r.startswith("#")]
    return {r["quantity"]: float(r["value"]) for r in csv.DictReader(rows)}


# --- branching fractions -------------------------------------------------------------------
def test_br_table():
    ref = _reference()
    chans = channels_for(15)
    brs = {c.name: c.branching() for c in chans}
    assert sum(brs.values()) == pytest.approx(1.0, abs=1e-12)
    assert brs["tau->mu nu nu"] == ref["BR(tau->mu nu nu)"]
    assert brs["tau->e nu nu"] == ref["BR(tau->e nu nu)"]
    three = sum(c.branching() for c in chans if "3prong" in c.tags)
    # exclusive topological 3-prong: mean of the verified L3 and DELPHI values (±0.0002)
    assert three == pytest.approx(
        0.5 * (ref["BR(3-prong) L3"] + ref["BR(3-prong) DELPHI"]), abs=2e-4
    )
    assert sum(c.branching() for c in chans if "5prong" in c.tags) == ref["BR(5-prong)"]
    one = sum(c.branching() for c in chans if "1prong" in c.tags)
    assert one == pytest.approx(0.5 * (ref["BR(1-prong) L3"] + ref["BR(1-prong) DELPHI"]), abs=1e-3)
    # prong count of each channel = number of charged daughters
    for c in chans:
        nch = sum(1 for d in c.daughters if mass(d) > 0 and abs(d) in (11, 13, 211, 321))
        assert f"{nch}prong" in c.tags, c.name
    assert all(b > 0 for b in brs.values())


# --- kinematics ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tev_decays():
    rng = np.random.default_rng(11)
    n = 3000
    p = 3000.0
    c = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    p4 = np.stack(
        [
            p * np.sqrt(1 - c * c) * np.cos(phi),
            p * np.sqrt(1 - c * c) * np.sin(phi),
            p * c,
            np.full(n, math.hypot(p, M_TAU)),
        ],
        axis=1,
    )
    p4[:5] = [[0, 0, -p, math.hypot(p, M_TAU)]] * 5  # exactly along −z (rotation edge case)
    hel = rng.choice([-1.0, 1.0], n)
    out = {}
    for k, ch in enumerate(channels_for(15)):
        out[ch.name] = (ch, p4, ch.run(p4, hel, np.random.default_rng(k).random((n, ch.n_random))))
    return out


def test_conservation_and_on_shell_tev(tev_decays):
    for name, (ch, p4, d) in tev_decays.items():
        e = p4[:, 3]
        assert np.max(np.abs(d.sum(axis=1) - p4).max(axis=1) / e) < 1e-10, name
        m = np.array([mass(x) for x in ch.daughters])
        p2 = d[..., 3] ** 2 - np.sum(d[..., :3] ** 2, axis=2)
        assert np.max(np.abs(p2 - m**2) / e[:, None] ** 2) < 1e-10, name
        assert np.all(d[..., 3] > 0)


def test_invariant_mass_equals_tau_mass():
    n = 2000
    p4 = _along_z(n, 5.0)
    for ch in channels_for(15):
        d = ch.run(p4, np.ones(n), np.random.default_rng(3).random((n, ch.n_random)))
        s = d.sum(axis=1)
        minv = np.sqrt(s[:, 3] ** 2 - np.sum(s[:, :3] ** 2, axis=1))
        assert np.max(np.abs(minv - M_TAU)) < 1e-11, ch.name


# --- leptonic: polarised Michel spectrum -----------------------------------------------------
def _chi2_michel(x, c, P, x0, nx=12, nc=4):
    xe = np.linspace(x0, 1.0, nx + 1)
    ce = np.linspace(-1, 1, nc + 1)
    obs, _, _ = np.histogram2d(x, c, bins=[xe, ce])
    exp = np.empty_like(obs)
    for i in range(nx):
        xs = np.linspace(xe[i], xe[i + 1], 201)
        for j in range(nc):
            cs = np.linspace(ce[j], ce[j + 1], 21)
            f = michel_pdf(xs[:, None], cs[None, :], P, x0)
            exp[i, j] = np.trapezoid(np.trapezoid(f, cs, axis=1), xs)
    exp *= obs.sum() / exp.sum()
    return float(np.sum((obs - exp) ** 2 / exp)), obs.size - 1


@pytest.mark.parametrize(("name", "ml"), [("tau->mu nu nu", M_MU), ("tau->e nu nu", M_E)])
@pytest.mark.parametrize("P", [1.0, -1.0, 0.0, 0.4])
def test_michel_spectrum_rest_frame(name, ml, P):
    d = _run(name, _at_rest(N), np.full(N, P), seed=int(17 + 10 * P))
    emax = (M_TAU**2 + ml**2) / (2 * M_TAU)
    x = d[:, 0, 3] / emax
    c = d[:, 0, 2] / np.linalg.norm(d[:, 0, :3], axis=1)
    x0 = ml / emax
    chi2, ndf = _chi2_michel(x, c, P, x0)
    assert chi2 < ndf + 5 * math.sqrt(2 * ndf), (chi2, ndf)
    if P != 0.0:  # the test is sensitive: the opposite polarisation is strongly excluded
        chi2_wrong, _ = _chi2_michel(x, c, -P, x0)
        assert chi2_wrong > ndf + 20 * math.sqrt(2 * ndf)


@pytest.mark.parametrize("h", [1.0, -1.0])
def test_leptonic_collinear_mean(h):
    # textbook collinear limit (m_e → 0): dN/dx = [5 − 9x² + 4x³ + h(1 − 9x² + 8x³)]/3,
    # so ⟨x⟩ = 7/20 − h/20
    n = N
    d = _run("tau->e nu nu", _along_z(n, 2000.0), np.full(n, h), seed=22 + int(h))
    x = d[:, 0, 3] / math.hypot(2000.0, M_TAU)
    assert abs(x.mean() - (0.35 - h / 20)) < 4 * x.std() / math.sqrt(n)


# --- τ → π ν ---------------------------------------------------------------------------------
@pytest.mark.parametrize("h", [1.0, -1.0])
def test_pion_energy_fraction_collinear(h):
    n = N
    r = (M_PI / M_TAU) ** 2
    d = _run("tau->pi nu", _along_z(n, 2000.0), np.full(n, h), seed=32 + int(h))
    x = d[:, 0, 3] / math.hypot(2000.0, M_TAU)
    # right-handed τ⁻ (h = +1): hard π (⟨x⟩ = 2/3 for m_π → 0); h = −1: soft (1/3)
    mean = (1 + r) / 2 + h * (1 - r) / 6
    assert abs(x.mean() - mean) < 4 * x.std() / math.sqrt(n)
    assert (x.mean() > 0.6) if h > 0 else (x.mean() < 0.4)

    def cdf(t):
        t = np.clip(t, r, 1)
        a = (t - r) / (1 - r)
        return a + h * (a * a - a)  # ∫ pdf with u = (x−r)/(1−r): u + h(u² − u)

    assert np.allclose(
        np.trapezoid(
            collinear_pion_fraction_pdf(np.linspace(r, 1, 2001), h, r), np.linspace(r, 1, 2001)
        ),
        1.0,
    )
    assert stats.kstest(x, cdf).pvalue > 1e-3


def test_pion_angular_distribution_rest():
    n = N
    for P in (1.0, -0.5):
        d = _run("tau->pi nu", _at_rest(n), np.full(n, P), seed=41)
        c = d[:, 0, 2] / np.linalg.norm(d[:, 0, :3], axis=1)
        # ⟨cosθ⟩ = P/3 for 1 + P cosθ
        assert abs(c.mean() - P / 3) < 4 * math.sqrt(1 / 3 / n)
        k = two_body_momentum(M_TAU, M_PI, 0.0)
        assert np.allclose(np.linalg.norm(d[:, 0, :3], axis=1), k, rtol=1e-13)


# --- spin-1 hadronic systems -----------------------------------------------------------------
def _system(d, nh):
    s = d[:, :nh].sum(axis=1)
    q2 = s[:, 3] ** 2 - np.sum(s[:, :3] ** 2, axis=1)
    c = s[:, 2] / np.linalg.norm(s[:, :3], axis=1)
    return q2, c


@pytest.mark.parametrize(
    ("name", "nh"),
    [("tau->pi pi0 nu", 2), ("tau->3pi nu", 3), ("tau->pi 2pi0 nu", 3), ("tau->3pi pi0 nu", 4)],
)
def test_hadronic_system_polarization(name, nh):
    # for a transverse spin-1 current, given Q²: dN/dcosθ ∝ 1 + P α(Q²) cosθ with
    # α = (m² − 2Q²)/(m² + 2Q²), so ⟨cosθ − P α/3⟩ = 0 (the ρ kernel does not use α)
    n = 20000
    P = 1.0
    d = _run(name, _at_rest(n), np.full(n, P), seed=51)
    q2, c = _system(d, nh)
    alpha = (M_TAU**2 - 2 * q2) / (M_TAU**2 + 2 * q2)
    resid = c - P * alpha / 3
    assert abs(resid.mean()) < 4 * resid.std() / math.sqrt(n)
    assert abs(c.mean()) > 10 * c.std() / math.sqrt(n) or name != "tau->pi pi0 nu"


def test_rho_helicity_fractions():
    n = 30000
    d = _run("tau->pi pi0 nu", _at_rest(n), np.zeros(n), seed=61)
    q2, _ = _system(d, 2)
    # pion decay angle ψ in the ρ frame relative to the ρ direction: longitudinal fraction
    # f_L = m²/(m² + 2s) → ⟨cos²ψ | s⟩ = (3/5) f_L + (1/5)(1 − f_L)
    rho = d[:, 0] + d[:, 1]
    beta = rho[:, :3] / rho[:, 3:4]
    bmag = np.linalg.norm(beta, axis=1)
    nhat = beta / bmag[:, None]
    gam = 1 / np.sqrt(1 - bmag**2)
    pi = d[:, 0]
    ppar = np.sum(pi[:, :3] * nhat, axis=1)
    ppar_star = gam * (ppar - bmag * pi[:, 3])
    pperp2 = np.sum(pi[:, :3] ** 2, axis=1) - ppar**2
    cos2 = ppar_star**2 / (ppar_star**2 + pperp2)
    f_l = M_TAU**2 / (M_TAU**2 + 2 * q2)
    resid = cos2 - (0.6 * f_l + 0.2 * (1 - f_l))
    assert abs(resid.mean()) < 4 * resid.std() / math.sqrt(n)


def test_a1_rho_dominance():
    # ρπ dominance: one of the two π⁺π⁻ pairs sits near the ρ far more often than phase space
    n = 10000
    d = _run("tau->3pi nu", _at_rest(n), np.zeros(n), seed=71)
    d0 = _run("tau->other 3prong", _at_rest(n), np.zeros(n), seed=71)  # phase space (Kππ)

    def near_rho(dd, i, j):
        s = dd[:, i] + dd[:, j]
        m = np.sqrt(s[:, 3] ** 2 - np.sum(s[:, :3] ** 2, axis=1))
        return np.abs(m - tau.M_RHO) < 0.1

    frac = np.mean(near_rho(d, 0, 2) | near_rho(d, 1, 2))
    frac0 = np.mean(near_rho(d0, 1, 2))
    assert frac > 0.6 and frac > 2 * frac0


# --- ρ and a₁ lineshapes against their formulas ----------------------------------------------
def _kallen(x, y, z):
    return x * x + y * y + z * z - 2 * (x * y + x * z + y * z)


def _f_rho(s, m1, m2, running=True):
    """ρ(770) form factor of the module docs: m²/(m² − s − i√s Γ(s)),
    Γ(s) = Γ_ρ (m_ρ/√s)(k(s)/k(m_ρ²))³ (written out here, not tau.rho_ff)."""
    m, g = tau.M_RHO, tau.G_RHO
    k = np.sqrt(np.clip(_kallen(s, m1**2, m2**2), 0, None)) / (2 * np.sqrt(s))
    k0 = math.sqrt(_kallen(m * m, m1**2, m2**2)) / (2 * m)
    gam = g * (m / np.sqrt(s)) * (k / k0) ** 3 if running else g * np.ones_like(s)
    return m * m / (m * m - s - 1j * np.sqrt(s) * gam)


def _binned(pdf, edges, n_sub=200):
    """Probabilities of the bins [edges] for the (unnormalised) density pdf(x)."""
    p = []
    for lo, hi in itertools.pairwise(edges):
        x, w = np.polynomial.legendre.leggauss(n_sub)
        xx = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
        p.append(0.5 * (hi - lo) * np.sum(w * pdf(xx)))
    p = np.array(p)
    return p / p.sum()


def _chi2_pvalue(counts, prob):
    expected = prob * counts.sum()
    keep = expected > 5
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    return stats.chi2.sf(chi2, keep.sum() - 1)


def _rho_mass_pdf(m_pipi, running=True):
    """dΓ/dm of τ⁻ → π⁻π⁰ν for J = F_ρ(s)(p_π⁻ − p_π⁰) (V−A, unpolarised, s = m²):
    dΓ/ds ∝ (m_τ² − s)² λ^½/s³ [(m_τ² + 2s) λ/3 + Δ² m_τ²] |F_ρ(s)|², λ = λ(s, m_π², m_π0²),
    Δ = m_π² − m_π0² (the transverse spin-1 part and the tiny longitudinal one)."""
    s = m_pipi**2
    lam = np.clip(_kallen(s, M_PI**2, M_PI0**2), 0, None)
    delta = M_PI**2 - M_PI0**2
    mt2 = M_TAU**2
    ds = (mt2 - s) ** 2 * np.sqrt(lam) / s**3 * ((mt2 + 2 * s) * lam / 3 + delta**2 * mt2)
    return ds * np.abs(_f_rho(s, M_PI, M_PI0, running)) ** 2 * 2 * m_pipi


def test_rho_lineshape_against_formula():
    n = 60000
    d = _run("tau->pi pi0 nu", _at_rest(n), np.zeros(n), seed=61)
    q2, _ = _system(d, 2)
    m = np.sqrt(q2)
    edges = np.linspace(M_PI + M_PI0, M_TAU, 41)
    counts = np.histogram(m, edges)[0]
    assert counts.sum() == n
    assert _chi2_pvalue(counts, _binned(_rho_mass_pdf, edges)) > 1e-3
    # the test can tell: a constant-width ρ is rejected by the same sample
    wrong = _binned(lambda x: _rho_mass_pdf(x, running=False), edges)
    assert _chi2_pvalue(counts, wrong) < 1e-6
    # and the kernel's F_ρ is the formula
    s = np.linspace(0.1, 3.0, 50)
    np.testing.assert_allclose(
        [tau.rho_ff(x, M_PI, M_PI0) for x in s], _f_rho(s, M_PI, M_PI0), rtol=1e-12
    )


def _minus_jt2(masses, big_q2, s13, s23, current="a1"):
    """−J_T·J_T* of the a₁ → ρπ current (module docs) from the invariants (Q², s₁₃, s₂₃):
    −J·J* + |J·Q|²/Q² with a = q₁ − q₃, b = q₂ − q₃; ``current`` "no_resonances": F = 1,
    "constant": 1."""
    m1, m2, m3 = masses
    s12 = big_q2 + m1**2 + m2**2 + m3**2 - s13 - s23
    q1q3 = 0.5 * (s13 - m1**2 - m3**2)
    q2q3 = 0.5 * (s23 - m2**2 - m3**2)
    q1q2 = 0.5 * (s12 - m1**2 - m2**2)
    aa = m1**2 + m3**2 - 2 * q1q3
    bb = m2**2 + m3**2 - 2 * q2q3
    ab = q1q2 - q1q3 - q2q3 + m3**2
    aq = m1**2 + q1q2 + q1q3 - q1q3 - q2q3 - m3**2
    bq = q1q2 + m2**2 + q2q3 - q1q3 - q2q3 - m3**2
    f1, f2 = _f_rho(s13, m1, m3), _f_rho(s23, m2, m3)
    if current != "a1":  # no ρ: F = 1
        f1, f2 = np.ones_like(f1), np.ones_like(f2)
    jj = np.abs(f1) ** 2 * aa + np.abs(f2) ** 2 * bb + 2 * np.real(f1 * np.conj(f2)) * ab
    jq = f1 * aq + f2 * bq
    minus_jt2 = np.abs(jq) ** 2 / big_q2 - jj
    if current == "constant":  # the phase-space channels: −J·J* = const
        minus_jt2 = np.ones_like(minus_jt2)
    return minus_jt2


def _a1_s13_pdf(masses, s13, n_grid=48, current="a1"):
    """dΓ/ds₁₃ of τ⁻ → (3π)⁻ν (the odd pion q₃ paired with q₁): ∫dQ² (V−A factor) |BW_a₁|²
    ∫ds₂₃ (−J_T·J_T*)/Q² (as :func:`_a1_q2_pdf`, integrated in the other order)."""
    m1, m2, m3 = masses
    x, w = np.polynomial.legendre.leggauss(n_grid)
    mt2 = M_TAU**2
    out = np.empty(len(s13))
    for i, s in enumerate(s13):
        lo, hi = (math.sqrt(s) + m2) ** 2, mt2
        q2 = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
        e3 = (s - m1**2 + m3**2) / (2 * math.sqrt(s))
        e2 = (q2 - s - m2**2) / (2 * math.sqrt(s))
        p3 = math.sqrt(max(e3**2 - m3**2, 0.0))
        p2 = np.sqrt(np.clip(e2**2 - m2**2, 0, None))
        s23_lo = (e2 + e3) ** 2 - (p2 + p3) ** 2
        s23_hi = (e2 + e3) ** 2 - (p2 - p3) ** 2
        s23 = 0.5 * (s23_hi - s23_lo)[:, None] * x[None, :] + 0.5 * (s23_hi + s23_lo)[:, None]
        q2b = np.broadcast_to(q2[:, None], s23.shape)
        inner = 0.5 * (s23_hi - s23_lo) * (_minus_jt2(masses, q2b, s, s23, current) @ w)
        lep = (mt2 - q2) ** 2 * (mt2 + 2 * q2) / (mt2 * q2)
        bw2 = 1.0 / ((q2 - tau.M_A1**2) ** 2 + (tau.M_A1 * tau.G_A1) ** 2)
        out[i] = 0.5 * (hi - lo) * np.sum(w * lep * bw2 * inner / q2)
    return out


def _a1_q2_pdf(masses, q2, n_grid=48, current="a1"):
    """dΓ/dQ² of τ⁻ → (3π)⁻ν for J = BW_a₁(Q²)[F_ρ(s₁₃)(q₁ − q₃) + F_ρ(s₂₃)(q₂ − q₃)]_T
    (module docs): (m_τ² − Q²)²(m_τ² + 2Q²)/(m_τ²Q²) |BW_a₁|² ∫dΦ₃ (−J_T·J_T*), with dΦ₃ ∝
    ds₁₃ ds₂₃/Q² integrated over the Dalitz plot by Gauss–Legendre and −J_T·J_T* from the
    invariants: −J·J* + |J·Q|²/Q²."""
    m1, m2, m3 = masses
    x, w = np.polynomial.legendre.leggauss(n_grid)
    out = np.empty(len(q2))
    for i, big_q2 in enumerate(q2):
        q = math.sqrt(big_q2)
        lo, hi = (m1 + m3) ** 2, (q - m2) ** 2
        s13 = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
        # s23 range at fixed s13 (PDG kinematics, Dalitz plot)
        e3 = (s13 - m1**2 + m3**2) / (2 * np.sqrt(s13))
        e2 = (big_q2 - s13 - m2**2) / (2 * np.sqrt(s13))
        p3 = np.sqrt(np.clip(e3**2 - m3**2, 0, None))
        p2 = np.sqrt(np.clip(e2**2 - m2**2, 0, None))
        s23_lo = (e2 + e3) ** 2 - (p2 + p3) ** 2
        s23_hi = (e2 + e3) ** 2 - (p2 - p3) ** 2
        s23 = 0.5 * (s23_hi - s23_lo)[:, None] * x[None, :] + 0.5 * (s23_hi + s23_lo)[:, None]
        s13b = np.broadcast_to(s13[:, None], s23.shape)
        minus_jt2 = _minus_jt2(masses, big_q2, s13b, s23, current)
        inner = 0.5 * (s23_hi - s23_lo) * (minus_jt2 @ w)
        out[i] = 0.5 * (hi - lo) * np.sum(w * inner) / big_q2
    mt2 = M_TAU**2
    lep = (mt2 - q2) ** 2 * (mt2 + 2 * q2) / (mt2 * q2)
    bw2 = 1.0 / ((q2 - tau.M_A1**2) ** 2 + (tau.M_A1 * tau.G_A1) ** 2) if current == "a1" else 1.0
    return lep * bw2 * out


@pytest.mark.parametrize(
    ("name", "masses"),
    [("tau->3pi nu", (M_PI, M_PI, M_PI)), ("tau->pi 2pi0 nu", (M_PI0, M_PI0, M_PI))],
)
def test_a1_lineshape_against_formula(name, masses):
    """The 3π mass spectrum (Q²) and, at fixed Q², the ρ peak in the odd-pion pairs."""
    n = 30000
    d = _run(name, _at_rest(n), np.zeros(n), seed=71)
    q2, _ = _system(d, 3)
    edges = np.linspace(sum(masses) ** 2, M_TAU**2, 31)
    counts = np.histogram(q2, edges)[0]
    prob = _binned(lambda x: _a1_q2_pdf(masses, x), edges, n_sub=12)
    assert _chi2_pvalue(counts, prob) > 1e-3
    # the same current without the a₁ and ρ resonances is rejected by the same sample
    flat = _binned(lambda x: _a1_q2_pdf(masses, x, current="no_resonances"), edges, n_sub=12)
    assert _chi2_pvalue(counts, flat) < 1e-6


@pytest.mark.parametrize(
    ("name", "masses"),
    [("tau->3pi nu", (M_PI, M_PI, M_PI)), ("tau->pi 2pi0 nu", (M_PI0, M_PI0, M_PI))],
)
def test_a1_dalitz_against_formula(name, masses):
    """The mass spectrum of an odd-pion pair (s₁₃, the ρ band of the Dalitz plot) against the
    current integrated over Q² and s₂₃: checks the ρ-peaked Dalitz sampling of the kernel."""
    n = 30000
    d = _run(name, _at_rest(n), np.zeros(n), seed=73)
    p = d[:, 0] + d[:, 2]
    s13 = p[:, 3] ** 2 - np.sum(p[:, :3] ** 2, axis=1)
    m1, m2, m3 = masses
    edges = np.linspace((m1 + m3) ** 2, (M_TAU - m2) ** 2, 31)
    counts = np.histogram(s13, edges)[0]
    assert counts.sum() == n
    prob = _binned(lambda x: _a1_s13_pdf(masses, x), edges, n_sub=8)
    assert _chi2_pvalue(counts, prob) > 1e-3
    # without the ρ the same sample is rejected
    flat = _binned(lambda x: _a1_s13_pdf(masses, x, current="no_resonances"), edges, n_sub=8)
    assert _chi2_pvalue(counts, flat) < 1e-6


def test_phase_space_channel_mass_spectrum():
    """Constant current (K⁻π⁻π⁺ν standing in for the other 3-prong modes): dΓ/dQ² ∝ V−A factor
    × Φ₃(Q), with Φ₃ from the Dalitz-plot area. Fails without the phase-space Jacobian
    (Q − Σm)/Q between GENBOD's weight and dΦ₃ (the bug this test found: the 3π mass spectra
    were distorted by that factor)."""
    masses = (tau.M_K, M_PI, M_PI)
    n = 30000
    d = _run("tau->other 3prong", _at_rest(n), np.zeros(n), seed=81)
    q2, _ = _system(d, 3)
    edges = np.linspace(sum(masses) ** 2, M_TAU**2, 31)
    counts = np.histogram(q2, edges)[0]
    prob = _binned(lambda x: _a1_q2_pdf(masses, x, current="constant"), edges, n_sub=12)
    assert _chi2_pvalue(counts, prob) > 1e-3
    q = np.sqrt(0.5 * (edges[1:] + edges[:-1]))
    biased = prob * q / (q - sum(masses))  # the old GENBOD-weight-only spectrum
    assert _chi2_pvalue(counts, biased / biased.sum()) < 1e-6


# --- unpolarised limits and CP ------------------------------------------------------------
@pytest.mark.parametrize("name", ["tau->mu nu nu", "tau->pi nu", "tau->pi pi0 nu", "tau->3pi nu"])
def test_random_helicity_is_unpolarized(name):
    n = 15000
    p4 = _along_z(n, 50.0)
    rng = np.random.default_rng(81)
    d0 = _run(name, p4, np.zeros(n), seed=82)
    dr = _run(name, p4, rng.choice([-1.0, 1.0], n), seed=83)
    dp = _run(name, p4, np.ones(n), seed=84)
    x0, xr, xp = (dd[:, 0, 3] / p4[:, 3] for dd in (d0, dr, dp))
    assert stats.ks_2samp(x0, xr).pvalue > 1e-3
    if name != "tau->3pi nu":  # one pion of three carries little polarisation information
        assert stats.ks_2samp(x0, xp).pvalue < 1e-6  # the comparison tells polarisations apart


def test_cp_conjugate_tau_plus():
    names = {c.name: c for c in channels_for(-15)}
    assert names["tau->pi nu"].daughters == (211, -16)
    assert names["tau->mu nu nu"].daughters == (-13, 14, -16)
    assert names["tau->pi pi0 nu"].daughters == (211, 111, -16)
    n = N
    p4 = _along_z(n, 2000.0)
    # τ⁺ with h = +1 behaves as τ⁻ with h = −1: soft π⁺ (⟨x⟩ ≈ 1/3), hard e⁺ (⟨x⟩ = 0.40)
    x = _run("tau->pi nu", p4, np.ones(n), seed=91, pid=-15)[:, 0, 3] / p4[:, 3]
    r = (M_PI / M_TAU) ** 2
    assert abs(x.mean() - ((1 + r) / 2 - (1 - r) / 6)) < 4 * x.std() / math.sqrt(n)
    x = _run("tau->e nu nu", p4, np.ones(n), seed=92, pid=-15)[:, 0, 3] / p4[:, 3]
    assert abs(x.mean() - 0.40) < 4 * x.std() / math.sqrt(n)


def test_get_and_tags():
    assert get("tau->3pi nu").tags >= {"3prong", "hadronic"}
    assert get("tau->mu nu nu").tags >= {"leptonic", "muonic", "1prong"}
    with pytest.raises(KeyError):
        get("tau->nonsense")
