"""Tests of the τ helicity amplitudes (generator/production/helicity.py).

Independent references built here:
* exact 2→3 kinematics in 50-digit mpmath (physics.md §5.3 construction), rounded to double for
  the kernel only at the end;
* the spin-averaged closed form (5.1) evaluated in mpmath;
* a separate scalar implementation of the same spinor formulas with the *full* nuclear current
  P_i + P_f, run in mpmath (reference) or in plain double with textbook (naive) invariants;
* explicit v-spinor amplitudes for μ⁺ N → τ⁺ N a (vertex g_S + g_P γ5) for the CP map.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

from alpgen.constants import M_MU, M_TAU
from alpgen.production.helicity import (
    _helicity_spinor,
    helicity_amplitudes,
    helicity_me2,
    sample_helicity,
    tau_helicity_probability,
)
from alpgen.targets import get_target

mp.mp.dps = 50
M_PB = get_target("Pb").nucleus_mass
MMU = mp.mpf(M_MU)
MTAU = mp.mpf(M_TAU)


# --------------------------------------------------------------------------------------------
# exact kinematics (mpmath)
# --------------------------------------------------------------------------------------------
def _t_limits(E, Ea, th, M, ma):
    p = mp.sqrt(E**2 - MMU**2)
    k = mp.sqrt(Ea**2 - ma**2)
    V = mp.sqrt((p - k) ** 2 + 4 * p * k * mp.sin(th / 2) ** 2)
    u = (E - Ea) ** 2 - V**2 - MTAU**2
    W = E - Ea + M
    disc = 4 * M**2 * V**2 + u * (4 * M * W + u)
    if disc < 0:
        return None
    R = M * (W * u + 2 * M * V**2 + V * mp.sqrt(disc))
    return (M * u) ** 2 / R, R / (W**2 - V**2)


def _build(E, Ea, th, t, phq, M, ma, rot):
    """Exact four-vectors (px, py, pz, E) of p, P_i, p', P_f, k; beam along +z."""
    p = mp.sqrt(E**2 - MMU**2)
    k = mp.sqrt(Ea**2 - ma**2)
    pv = mp.matrix([0, 0, p])
    kv = mp.matrix([k * mp.sin(th), 0, k * mp.cos(th)])
    Vv = pv - kv
    V = mp.norm(Vv)
    u = (E - Ea) ** 2 - V**2 - MTAU**2
    Qm = mp.sqrt(t + t**2 / (4 * M**2))
    Ef = M + t / (2 * M)
    cq = ((1 + (E - Ea) / M) * t - u) / (2 * Qm * V)
    assert abs(cq) <= 1
    eV = Vv / V
    e1 = mp.matrix([eV[2], 0, -eV[0]])
    e2 = mp.matrix([0, 1, 0])
    Qv = Qm * (cq * eV + mp.sqrt(1 - cq**2) * (mp.cos(phq) * e1 + mp.sin(phq) * e2))
    ppv = pv - Qv - kv
    Ep = E + M - Ef - Ea
    c, s = mp.cos(rot), mp.sin(rot)

    def v4(x, e):
        return [c * x[0] - s * x[1], s * x[0] + c * x[1], x[2], e]

    kin = {
        "p": v4(pv, E),
        "Pi": [mp.mpf(0), mp.mpf(0), mp.mpf(0), M],
        "pp": v4(ppv, Ep),
        "Pf": v4(Qv, Ef),
        "k": v4(kv, Ea),
        "ma": ma,
        "t": t,
    }
    assert abs(_mdot(kin["pp"], kin["pp"]) - MTAU**2) < mp.mpf(10) ** -30
    return kin


def _mdot(a, b):
    return a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2]


def _random_point(rng, E, ma, M=M_PB, t_window=None):
    """Random physical point; t log-uniform in [t₋, min(t₊, 1)] (or inside ``t_window``)."""
    E, ma, M = mp.mpf(E), mp.mpf(ma), mp.mpf(M)
    for _ in range(10000):
        Ea = ma + (E - MTAU - ma) * mp.mpf(rng.uniform(0.02, 0.98))
        th = mp.mpf(10 ** rng.uniform(-5.5, 0.0))
        lim = _t_limits(E, Ea, th, M, ma)
        if lim is None:
            continue
        tm, tp = lim[0], min(lim[1], mp.mpf(1))
        if t_window is not None:
            tm, tp = max(tm * mp.mpf(1.02), mp.mpf(t_window[0])), min(tp, mp.mpf(t_window[1]))
        if not tm < tp:
            continue
        t = tm * (tp / tm) ** mp.mpf(rng.uniform())
        return _build(E, Ea, th, t, mp.mpf(rng.uniform(0, 2 * math.pi)), M, ma,
                      mp.mpf(rng.uniform(0, 2 * math.pi)))  # fmt: skip
    raise RuntimeError("no physical point found")


def _to_arrays(kins):
    return [np.array([[float(x) for x in kin[key]] for kin in kins]) for key in _KEYS]


_KEYS = ("p", "Pi", "pp", "Pf", "k")


# --------------------------------------------------------------------------------------------
# references
# --------------------------------------------------------------------------------------------
def _closed_form(kin, gs, gp):
    """(g_S² + g_P²) 𝒜₀ + g_P² 𝒜_PV of physics.md (5.1), all in mpmath."""
    p, Pi, pp, Pf, k = (kin[key] for key in _KEYS)
    Pn = [Pi[i] + Pf[i] for i in range(4)]
    q = [Pi[i] - Pf[i] for i in range(4)]
    t = -_mdot(q, q)
    ka = [pp[i] + k[i] for i in range(4)]
    kb = [p[i] - k[i] for i in range(4)]
    s = _mdot(ka, ka) - MMU**2
    u = _mdot(kb, kb) - MTAU**2
    P2, Pk, Pp, Ppp = _mdot(Pn, Pn), _mdot(Pn, k), _mdot(Pn, p), _mdot(Pn, pp)
    B = P2 * t - 4 * ((u * Pp + s * Ppp) / (s + u)) ** 2
    r = (s + u) ** 2 / (s * u)
    A0 = r * P2 - 4 * t / (s * u) * Pk**2 + r / (s * u) * (kin["ma"] ** 2 - (MMU + MTAU) ** 2) * B
    Apv = 4 * MMU * MTAU * r / (s * u) * B
    return (gs**2 + gp**2) * A0 + gp**2 * Apv


def _xi(px, py, pz, lam, sqrt, cplx):
    a = sqrt(px * px + py * py + pz * pz)
    apz = a + pz if pz >= 0 else (px * px + py * py) / (a - pz)
    c = sqrt(apz / (2 * a))
    sp = cplx(px, py) / sqrt(2 * a * apz)
    return [cplx(c, 0), sp] if lam > 0 else [-sp.conjugate(), cplx(c, 0)]


def _ref_spinor(p4, m, lam, anti, naive, sqrt, cplx):
    """u_λ (anti=False) or v_λ (anti=True) in the chiral representation."""
    a = sqrt(p4[0] ** 2 + p4[1] ** 2 + p4[2] ** 2)
    e = p4[3]
    small = sqrt(e - a) if naive else sqrt(m * m / (e + a))
    big = sqrt(e + a)
    if not anti:
        x = _xi(p4[0], p4[1], p4[2], lam, sqrt, cplx)
        fl, fr = (small, big) if lam > 0 else (big, small)
        return [fl * x[0], fl * x[1]], [fr * x[0], fr * x[1]]
    # v_λ = (√(E + λ|p|) ξ_{−λ}, −√(E − λ|p|) ξ_{−λ})
    x = _xi(p4[0], p4[1], p4[2], -lam, sqrt, cplx)
    fl, fr = (big, small) if lam > 0 else (small, big)
    return [fl * x[0], fl * x[1]], [-fr * x[0], -fr * x[1]]


def _sig(a, sign, cplx):
    return [
        [cplx(a[3] + sign * a[2], 0), cplx(sign * a[0], -sign * a[1])],
        [cplx(sign * a[0], sign * a[1]), cplx(a[3] - sign * a[2], 0)],
    ]


def _slash(a, cplx):
    """4×4 a̸ in the chiral representation (as nested lists)."""
    s, sb = _sig(a, -1, cplx), _sig(a, 1, cplx)
    z = cplx(0, 0)
    return [
        [z, z, s[0][0], s[0][1]],
        [z, z, s[1][0], s[1][1]],
        [sb[0][0], sb[0][1], z, z],
        [sb[1][0], sb[1][1], z, z],
    ]


def _mat(a, b):
    return [[sum(a[i][r] * b[r][j] for r in range(4)) for j in range(4)] for i in range(4)]


def _lin(terms, cplx):
    out = [[cplx(0, 0)] * 4 for _ in range(4)]
    for c, m in terms:
        out = [[out[i][j] + c * m[i][j] for j in range(4)] for i in range(4)]
    return out


def _ref_amps(kin, gs, gp, *, hp=True, naive=False, antiparticle=False):
    """Reference helicity amplitudes [λ_in][λ_out] with the FULL current J = P_i + P_f, 4×4
    matrices. hp=True: mpmath with exact s, u; hp=False, naive=True: textbook double precision
    (s, u as Minkowski squares, √(E − |p|) directly). antiparticle: μ⁺ → τ⁺ with v spinors."""
    sqrt, cplx = (mp.sqrt, mp.mpc) if hp else (math.sqrt, complex)
    m_in, m_out = (MMU, MTAU) if hp else (M_MU, M_TAU)
    p, Pi, pp, Pf, k = (kin[key] for key in _KEYS)
    J = [Pi[i] + Pf[i] for i in range(4)]
    ka = [pp[i] + k[i] for i in range(4)]
    kb = [p[i] - k[i] for i in range(4)]
    s = _mdot(ka, ka) - m_in**2
    u = _mdot(kb, kb) - m_out**2
    one = [[cplx(float(i == j), 0) for j in range(4)] for i in range(4)]
    g5 = [[cplx((-1.0 if i < 2 else 1.0) * (i == j), 0) for j in range(4)] for i in range(4)]
    Js = _slash(J, cplx)
    if not antiparticle:
        V = _lin([(gs, one), (-gp, g5)], cplx)
        gam = _lin(
            [
                (1 / u, _mat(Js, _mat(_lin([(1, _slash(kb, cplx)), (m_out, one)], cplx), V))),
                (1 / s, _mat(V, _mat(_lin([(1, _slash(ka, cplx)), (m_in, one)], cplx), Js))),
            ],
            cplx,
        )
    else:  # v̄(p)[V'(−p̸+k̸+m_τ)J̸/u + J̸(−p̸'−k̸+m_μ)V'/s]v(p'),  V' = g_S + g_P γ5
        V = _lin([(gs, one), (gp, g5)], cplx)
        gam = _lin(
            [
                (1 / u, _mat(V, _mat(_lin([(-1, _slash(kb, cplx)), (m_out, one)], cplx), Js))),
                (1 / s, _mat(Js, _mat(_lin([(-1, _slash(ka, cplx)), (m_in, one)], cplx), V))),
            ],
            cplx,
        )
    amps = [[None, None], [None, None]]
    for li, lam in enumerate((-1, 1)):
        for lo, lamp in enumerate((-1, 1)):
            if not antiparticle:
                lt, rt = _ref_spinor(p, m_in, lam, False, naive, sqrt, cplx)
                lb, rb = _ref_spinor(pp, m_out, lamp, False, naive, sqrt, cplx)
            else:
                lt, rt = _ref_spinor(pp, m_out, lamp, True, naive, sqrt, cplx)
                lb, rb = _ref_spinor(p, m_in, lam, True, naive, sqrt, cplx)
            right = lt + rt
            bar = [x.conjugate() for x in rb + lb]  # ψ̄ = ψ†γ⁰ swaps the chiral blocks
            amps[li][lo] = sum(bar[i] * gam[i][j] * right[j] for i in range(4) for j in range(4))
    return amps


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generic_points():
    """Random physical points, E from 10 GeV to 1.5 TeV on Pb."""
    rng = np.random.default_rng(20240715)
    kins = []
    for E in (10.0, 40.0, 160.0, 500.0, 1000.0, 1500.0):
        for ma in (0.5, 2.0, 5.0):
            if ((ma + M_TAU) ** 2 / (2 * E)) ** 2 > 0.2:  # t₋ too close to the 1 GeV² cut
                continue
            for _ in range(3):
                kins.append(_random_point(rng, E, ma))
    return kins


@pytest.fixture(scope="module")
def tiny_t_points():
    """1.5 TeV points with 10⁻⁶ < t < 10⁻⁵ GeV² (light ALP so that t₋ < 10⁻⁵ GeV²)."""
    rng = np.random.default_rng(7)
    kins = []
    for ma in (0.05, 0.2, 0.5):
        for _ in range(4):
            kins.append(_random_point(rng, 1500.0, ma, t_window=(1e-6, 1e-5)))
    return kins


def _kernel_me2(kins, gs, gp, beam_pol=0.0, **kw):
    arrs = _to_arrays(kins)
    ma = np.array([float(kin["ma"]) for kin in kins])
    return helicity_me2(*arrs, M_MU, M_TAU, gs, gp, beam_pol, m_a=ma, **kw)


COUPLINGS = [(1.0, 0.0), (0.0, 1.0), (0.6, 0.8), (-0.3, 1.1)]


# --------------------------------------------------------------------------------------------
# (a) helicity sum = closed form (5.1)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("current", ["lab", "full"])
@pytest.mark.parametrize(("gs", "gp"), COUPLINGS)
def test_helicity_sum_reproduces_closed_form(generic_points, gs, gp, current):
    me2 = _kernel_me2(generic_points, gs, gp, current=current)
    ref = np.array([float(_closed_form(kin, mp.mpf(gs), mp.mpf(gp))) for kin in generic_points])
    assert np.all(ref > 0)
    rel = np.abs(me2.sum(axis=1) / ref - 1)
    assert rel.max() < 1e-10, rel.max()


def test_reference_spinor_code_matches_closed_form(generic_points):
    # validates the mpmath reference used in (b) and (e) at 50 digits
    for kin in generic_points[::4]:
        a = _ref_amps(kin, mp.mpf(0.6), mp.mpf(0.8))
        tot = sum(abs(a[i][j]) ** 2 for i in range(2) for j in range(2)) / 2
        assert abs(tot / _closed_form(kin, mp.mpf(0.6), mp.mpf(0.8)) - 1) < mp.mpf(10) ** -40


@pytest.mark.parametrize(("gs", "gp"), [(0.6, 0.8), (-0.3, 1.1), (1.0, 0.0)])
def test_each_helicity_matches_reference(generic_points, gs, gp):
    """Per (λ, λ') |A|² vs the independent 4×4, full-current, 50-digit implementation."""
    kins = generic_points[::3]
    ref = np.array(
        [
            [[float(abs(x) ** 2) for x in row] for row in _ref_amps(kin, mp.mpf(gs), mp.mpf(gp))]
            for kin in kins
        ]
    )
    arrs = _to_arrays(kins)
    ma = np.array([float(kin["ma"]) for kin in kins])
    got = np.abs(helicity_amplitudes(*arrs, M_MU, M_TAU, gs, gp, m_a=ma)) ** 2
    assert (np.abs(got - ref).max(axis=(1, 2)) / ref.sum(axis=(1, 2))).max() < 1e-10
    assert np.abs(got.sum(axis=1) / ref.sum(axis=1) - 1).max() < 1e-9
    if gp == 0.0:  # parity (see test (c)) holds in the reference too, not just in the kernel
        h = ref.sum(axis=1)
        assert np.abs(h[:, 1] / h.sum(axis=1) - 0.5).max() < 1e-12


def test_rotation_invariance(generic_points):
    """Helicity rates are rotation invariant: rotate whole events (beam leaves the z axis, some
    momenta point backwards) and compare."""
    arrs = _to_arrays(generic_points)
    ma = np.array([float(kin["ma"]) for kin in generic_points])
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rot = [np.concatenate([a[:, :3] @ q.T, a[:, 3:]], axis=1) for a in arrs]
    ref = helicity_me2(*arrs, M_MU, M_TAU, 0.6, 0.8, 0.3, m_a=ma)
    got = helicity_me2(*rot, M_MU, M_TAU, 0.6, 0.8, 0.3, m_a=ma)
    assert np.abs(got / ref - 1).max() < 1e-9


# --------------------------------------------------------------------------------------------
# (b) tiny t: double precision kernel vs 50-digit full-current evaluation
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_t_comparison(tiny_t_points):
    gs, gp = 0.6, 0.8
    ref = []
    naive = []
    for kin in tiny_t_points:
        a = _ref_amps(kin, mp.mpf(gs), mp.mpf(gp))
        ref.append([[float(abs(a[i][j]) ** 2) for j in range(2)] for i in range(2)])
        dkin = {key: [float(x) for x in kin[key]] for key in _KEYS}
        b = _ref_amps(dkin, gs, gp, hp=False, naive=True)
        naive.append([[abs(b[i][j]) ** 2 for j in range(2)] for i in range(2)])
    arrs = _to_arrays(tiny_t_points)
    ma = np.array([float(kin["ma"]) for kin in tiny_t_points])
    out = {"ref": np.array(ref), "naive": np.array(naive)}
    for cur in ("lab", "full"):
        amp = helicity_amplitudes(*arrs, M_MU, M_TAU, gs, gp, m_a=ma, current=cur)
        out[cur] = np.abs(amp) ** 2
    return out


def _errors(got, ref):
    """Worst relative error per τ helicity (unpolarised) and per (λ, λ') w.r.t. the total."""
    per_h = np.abs(got.sum(axis=1) / ref.sum(axis=1) - 1).max()
    per_amp = (np.abs(got - ref).max(axis=(1, 2)) / ref.sum(axis=(1, 2))).max()
    return max(per_h, per_amp)


def test_tiny_t_matches_high_precision(tiny_t_points, tiny_t_comparison):
    ts = np.array([float(kin["t"]) for kin in tiny_t_points])
    assert ts.min() < 3e-6 and ts.max() <= 1e-5
    c = tiny_t_comparison
    assert _errors(c["lab"], c["ref"]) < 1e-8
    # the gauge-equivalent full current is just as good once s, u and √(E−|p|) are stable
    assert _errors(c["full"], c["ref"]) < 1e-8


def test_naive_double_precision_is_much_worse(tiny_t_comparison):
    """Textbook double precision (full current, s and u as Minkowski squares of TeV vectors,
    √(E − |p|) directly) loses ≳ 5 digits at t ~ 10⁻⁶–10⁻⁵ GeV² (measured: ~10⁻⁶–10⁻⁵)."""
    c = tiny_t_comparison
    err_naive = _errors(c["naive"], c["ref"])
    err_ours = _errors(c["lab"], c["ref"])
    assert err_naive > 1e-8
    assert err_naive > 1e3 * err_ours


# --------------------------------------------------------------------------------------------
# (c) derived coupling-structure properties
# --------------------------------------------------------------------------------------------
def test_pure_scalar_or_pseudoscalar_gives_unpolarised_tau(generic_points):
    """Parity: helicity-odd terms of |A|² are ∝ g_S g_P (no T-odd ε terms at tree level), so an
    unpolarised beam with g_S g_P = 0 gives P(h=+1) = ½ at every point."""
    arrs = _to_arrays(generic_points)
    ma = np.array([float(kin["ma"]) for kin in generic_points])
    for gs, gp in ((1.0, 0.0), (0.0, 1.0)):
        prob = tau_helicity_probability(*arrs, M_MU, M_TAU, gs, gp, m_a=ma)
        assert np.abs(prob - 0.5).max() < 1e-10
    # ... while a mixed coupling polarises the τ, with the sign of g_S g_P
    p_mix = tau_helicity_probability(*arrs, M_MU, M_TAU, 0.6, 0.8, m_a=ma)
    p_flip = tau_helicity_probability(*arrs, M_MU, M_TAU, 0.6, -0.8, m_a=ma)
    assert np.abs(p_mix - 0.5).max() > 0.1
    assert np.abs(p_mix + p_flip - 1).max() < 1e-10


def test_massless_muon_chirality(generic_points):
    """m_μ = 0: the vertex g(1 ∓ γ5) projects on one muon chirality = helicity, so the other beam
    helicity decouples exactly; and γ5 u_λ = λ u_λ makes pure g_P amplitudes equal to −λ × pure
    g_S ones, so |A|² per (λ, λ') is the same for pure S and pure P and
    ⟨h_τ⟩(unpolarised; g_S, g_P) = −2 g_S g_P/(g_S² + g_P²) · ⟨h_τ⟩(beam λ=+1; pure S)."""
    arrs = _to_arrays(generic_points)
    ma = np.array([float(kin["ma"]) for kin in generic_points])

    def amps(gs, gp):
        return np.abs(helicity_amplitudes(*arrs, 0.0, M_TAU, gs, gp, m_a=ma)) ** 2

    a_vma = amps(1.0, 1.0)  # V = 1 − γ5: left-handed muon only
    assert np.all(a_vma[:, 1, :] == 0.0)
    assert np.all(a_vma[:, 0, :].sum(axis=1) > 0)
    a_vpa = amps(1.0, -1.0)
    assert np.all(a_vpa[:, 0, :] == 0.0)
    a_s, a_p = amps(1.0, 0.0), amps(0.0, 1.0)
    assert np.abs(a_p / a_s - 1).max() < 1e-10

    def mean_h(me2):
        return (me2[:, 1] - me2[:, 0]) / me2.sum(axis=1)

    kw = {"m_a": ma}
    h_pol_s = mean_h(helicity_me2(*arrs, 0.0, M_TAU, 1.0, 0.0, 1.0, **kw))
    for gs, gp in ((0.6, 0.8), (-0.3, 1.1)):
        h_unpol = mean_h(helicity_me2(*arrs, 0.0, M_TAU, gs, gp, 0.0, **kw))
        pred = -2 * gs * gp / (gs**2 + gp**2) * h_pol_s
        assert np.abs(h_unpol - pred).max() < 1e-10


# --------------------------------------------------------------------------------------------
# (d) beam polarization
# --------------------------------------------------------------------------------------------
def test_beam_polarization_average_and_chirality(generic_points):
    unpol = _kernel_me2(generic_points, 0.6, 0.8, 0.0)
    plus = _kernel_me2(generic_points, 0.6, 0.8, 1.0)
    minus = _kernel_me2(generic_points, 0.6, 0.8, -1.0)
    assert np.abs((plus + minus) / 2 / unpol - 1).max() < 1e-12
    half = _kernel_me2(generic_points, 0.6, 0.8, 0.5)
    assert np.abs(half / (0.75 * plus + 0.25 * minus) - 1).max() < 1e-12
    # helicity label check with the physical muon mass: g_S = g_P (V ∝ 1 − γ5, left-handed
    # projector) suppresses beam helicity +1 by the chirality flip ~ m_μ²/(virtuality), not 0
    vma_plus = _kernel_me2(generic_points, 1.0, 1.0, 1.0).sum(axis=1)
    vma_minus = _kernel_me2(generic_points, 1.0, 1.0, -1.0).sum(axis=1)
    assert np.all(vma_plus < 0.05 * vma_minus)
    assert np.all(vma_plus > 0)


# --------------------------------------------------------------------------------------------
# (e) μ⁺ beams: CP map vs explicit v-spinor amplitudes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beam_pol", [0.0, 1.0, -0.4])
def test_antimuon_cp_map(generic_points, beam_pol):
    kins = generic_points[::3]
    gs, gp = 0.6, 0.8
    ref = []
    for kin in kins:
        a = _ref_amps(kin, mp.mpf(gs), mp.mpf(gp), antiparticle=True)
        w = ((1 - beam_pol) / 2, (1 + beam_pol) / 2)
        ref.append([sum(w[i] * float(abs(a[i][j]) ** 2) for i in range(2)) for j in range(2)])
    ref = np.array(ref)
    got = _kernel_me2(kins, gs, gp, beam_pol, charge=+1)
    assert (np.abs(got - ref).max(axis=1) / ref.sum(axis=1)).max() < 1e-10
    assert np.abs(got / ref - 1).max() < 1e-8
    # and the μ⁺ τ helicity is genuinely different from the μ⁻ one at the same point
    assert np.abs(got - _kernel_me2(kins, gs, gp, beam_pol)).max() > 1e-3 * ref.max()


# --------------------------------------------------------------------------------------------
# spinors and helpers
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lam", [-1, 1])
def test_spinors_are_helicity_eigenstates(lam):
    rng = np.random.default_rng(11)
    sig = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
    for _ in range(20):
        m = rng.uniform(0.1, 2.0)
        pv = rng.normal(size=3) * 10 ** rng.uniform(-1, 3)
        if rng.uniform() < 0.2:
            pv[:2] *= 1e-9  # near ±z
        p = np.array([*pv, math.hypot(np.linalg.norm(pv), m)])
        u = _helicity_spinor(p, m, lam)
        n = pv / np.linalg.norm(pv)
        h = sum(n[i] * sig[i] for i in range(3))
        for blk in (u[:2], u[2:]):
            assert np.allclose(h @ blk, lam * blk, atol=1e-12 * np.abs(u).max())
        # ū u = 2 m  (ū = (u_R†, u_L†))
        ubar_u = 2 * np.real(np.vdot(u[2:], u[:2]))
        assert ubar_u == pytest.approx(2 * m, rel=1e-12)


def test_sample_helicity_and_validation(generic_points):
    prob = np.array([0.0, 1.0, 0.3])
    h = sample_helicity(prob, np.array([0.5, 0.5, 0.2]))
    assert h.tolist() == [-1.0, 1.0, 1.0]
    arrs = _to_arrays(generic_points[:2])
    with pytest.raises(ValueError, match="beam_pol"):
        helicity_me2(*arrs, M_MU, M_TAU, 1.0, 0.0, 2.0)
    with pytest.raises(ValueError, match="current"):
        helicity_amplitudes(*arrs, M_MU, M_TAU, 1.0, 0.0, current="x")
    # m_a from k² per event agrees with the explicit mass to ~1e-8 at these energies
    ma = np.array([float(kin["ma"]) for kin in generic_points[:2]])
    a = helicity_me2(*arrs, M_MU, M_TAU, 0.6, 0.8, m_a=ma)
    b = helicity_me2(*arrs, M_MU, M_TAU, 0.6, 0.8)
    assert np.abs(a / b - 1).max() < 1e-6


# --------------------------------------------------------------------------------------------
# (f) beam-helicity split used by the production integrand (issue 15)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("gs", "gp"),
    [(1.0, 1.0), (M_MU - M_TAU, M_MU + M_TAU), (0.6, 0.8)],
    ids=["paper_pi4", "exact_pi4", "generic"],
)
def test_beam_helicity_sums_match_reference(generic_points, gs, gp):
    """Σ_λ'|A(h, λ')|² of ``beam_helicity_sums`` (the integrand's kernel) vs the 50-digit
    full-current reference, each beam helicity to its own size — including the chirality-suppressed
    one (10⁻⁶–10⁻³ of the other for V ∝ 1 − γ5)."""
    from alpgen.production.helicity import beam_helicity_sums

    kins = generic_points[::2]
    worst = 0.0
    smallest = 1.0
    for kin in kins:
        ref = _ref_amps(kin, mp.mpf(gs), mp.mpf(gp))
        ref_h = [float(sum(abs(ref[i][j]) ** 2 for j in range(2))) for i in range(2)]
        mom = np.array([[float(x) for x in kin[key]] for key in _KEYS])
        got = beam_helicity_sums(mom, M_MU, M_TAU, float(kin["ma"]), gs, gp)
        for g, r in zip(got, ref_h, strict=True):
            worst = max(worst, abs(g / r - 1))
        smallest = min(smallest, min(ref_h) / max(ref_h))
    assert worst < 1e-8, worst
    if gs == gp:
        assert smallest < 1e-3  # the check does include strongly suppressed helicities
