"""Production cross section: reference values, scaling, reproducibility and edge cases.

References: physics.md §5.7 (an independent implementation of (5.1)-(5.6); S² = g², P² = 0, i.e.
θ = π/2) and the author's thesis curve (data/marcarelli_thesis_xsec_mu_to_tau_Pb_1TeV.csv, its
"scalar" = our θ = π/2, g normalisation irrelevant since σ/g² is compared).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from alpgen.constants import M_MU, M_TAU
from alpgen.production.integrator import integrate
from alpgen.production.process import ProcessParams
from alpgen.spectrum import BeamSpectrum
from alpgen.targets import get_target

PB = get_target("Pb")
DATA = Path(__file__).resolve().parents[2] / "data" / "marcarelli_thesis_xsec_mu_to_tau_Pb_1TeV.csv"


def pb_params(E, m_a, **kw):
    base = dict(
        E_beam=E,
        m_in=M_MU,
        m_out=M_TAU,
        m_a=m_a,
        Z=PB.Z,
        A=PB.A,
        M=PB.nucleus_mass,
        g2_sum=1.0,
        gP2=0.0,
    )
    base.update(kw)
    return ProcessParams(**base)


# physics.md §5.7: (E, m_a, total, coherent, incoherent); None = fewer than 3 significant figures
TABLE = [
    (1500, 2, 9.02e5, 8.55e5, 4.69e4),
    (1500, 10, 5.09e3, 1.97e3, 3.12e3),
    (1000, 2, 5.81e5, 5.41e5, 3.97e4),
    (1000, 5, 5.28e4, 4.18e4, 1.11e4),
    (1000, 10, 2.34e3, None, 2.14e3),
    (160, 2, 1.82e4, 5.96e3, 1.22e4),
    (160, 10, 51.1, None, 51.1),
]


@pytest.mark.parametrize(("E", "m_a", "tot", "coh", "inc"), TABLE)
def test_reference_table(E, m_a, tot, coh, inc):
    r = integrate(pb_params(E, m_a), seed=7, precision=0.005)
    assert r.sigma_pb == pytest.approx(tot, rel=0.03)
    if coh is not None:
        assert r.sigma_coherent_pb == pytest.approx(coh, rel=0.03)
    assert r.sigma_incoherent_pb == pytest.approx(inc, rel=0.03)
    assert r.sigma_pb == pytest.approx(r.sigma_coherent_pb + r.sigma_incoherent_pb, rel=1e-12)
    assert r.sigma_err_pb <= 0.005 * r.sigma_pb


def test_pv_term_reference():
    """σ_PV/g² (× cos²θ) of §5.7 at 1.5 TeV, m_a = 2 GeV: −1.9e4 (2 significant figures)."""
    a = integrate(pb_params(1500, 2), seed=3, precision=0.002)
    b = integrate(pb_params(1500, 2, gP2=1.0), seed=3, precision=0.002)
    assert b.sigma_pb - a.sigma_pb == pytest.approx(-1.9e4, rel=0.25)


def _thesis_scalar_points():
    lines = [ln for ln in DATA.read_text().splitlines() if not ln.startswith("#")]
    rows = list(csv.DictReader(lines))
    return [
        (float(r["m_phi_GeV"]), float(r["sigma_over_g2_pb"]))
        for r in rows
        if r["coupling"].startswith("scalar") and float(r["m_phi_GeV"]) <= 5.0
    ]


def test_thesis_curve_below_5_GeV():
    """Thesis 1 TeV μ⁻Pb curve (with atomic screening) within 5 % for m ≤ 5 GeV.

    We agree to ≤ 2 % there (with coherent_norm "Z"; the author's code uses Z − 1, which moves
    us by −2.4 % on the coherent part). Above ~7 GeV, where the incoherent part dominates, the
    thesis curve lies ~10 % below us (and below the independent §5.7 numbers, which we match to
    < 1 %); its code uses the same Eq. 19 form factor, so we attribute the difference to its
    fixed-grid quadrature. Those points are not asserted here (see scripts/xsec_vs_mass.py)."""
    pts = _thesis_scalar_points()
    assert len(pts) > 10
    for m, ref in pts[::4]:  # every 4th vertex keeps the test fast
        r = integrate(pb_params(1000, m), seed=11, precision=0.01)
        assert r.sigma_pb == pytest.approx(ref, rel=0.05), m


def test_sigma_scales_with_coupling_squared_and_is_reproducible():
    a = integrate(pb_params(1000, 5), seed=1, precision=0.01)
    b = integrate(pb_params(1000, 5, g2_sum=3.7e-6), seed=1, precision=0.01)
    assert b.sigma_pb == pytest.approx(3.7e-6 * a.sigma_pb, rel=1e-12)  # same seed, same points
    c = integrate(pb_params(1000, 5), seed=1, precision=0.01)
    assert c.sigma_pb == a.sigma_pb and c.sigma_err_pb == a.sigma_err_pb
    d = integrate(pb_params(1000, 5), seed=2, precision=0.01)
    assert d.sigma_pb != a.sigma_pb
    assert abs(d.sigma_pb - a.sigma_pb) < 4 * math.hypot(a.sigma_err_pb, d.sigma_err_pb)


def test_components_switches_and_coherent_norm():
    full = integrate(pb_params(1000, 2), seed=4, precision=0.005)
    coh = integrate(pb_params(1000, 2, incoherent=False), seed=4, precision=0.005)
    assert coh.sigma_incoherent_pb == 0.0
    assert coh.sigma_pb == pytest.approx(full.sigma_coherent_pb, rel=0.015)
    zm1 = integrate(
        pb_params(1000, 2, coherent_norm="Z-1", incoherent=False), seed=4, precision=0.005
    )
    assert zm1.sigma_pb / coh.sigma_pb == pytest.approx((81 / 82) ** 2, rel=1e-9)


@pytest.mark.parametrize(
    "kw",
    [
        dict(E=10.0, m_a=4.0),  # above threshold, but t_min ≈ 2.8 GeV² > t_max = 1
        dict(E=5.0, m_a=2.0),  # below threshold
        dict(E=1500.0, m_a=60.0),  # t_min ≈ 2.7 GeV² > t_max
        dict(E=1500.0, m_a=2.0, t_max=1e-6),  # tiny t cut below t_min
    ],
)
def test_closed_process_gives_exact_zero(kw):
    E, m_a = kw.pop("E"), kw.pop("m_a")
    r = integrate(pb_params(E, m_a, **kw), seed=1)
    assert r.sigma_pb == 0.0 and r.sigma_err_pb == 0.0 and r.integrator is None


@pytest.mark.parametrize(
    "kw",
    [
        dict(E=1500.0, m_a=0.0),  # massless ALP
        dict(E=1500.0, m_a=2.0, t_max=3e-5),  # t window barely open above t_min = 2.26e-5
        dict(E=None, m_a=2.0),  # 1 % above threshold (light target)
        dict(E=5e4, m_a=2.0),  # 50 TeV
    ],
)
def test_near_edges_finite(kw):
    E, m_a = kw.pop("E"), kw.pop("m_a")
    target = dict(Z=6, A=12, M=get_target("C").nucleus_mass) if E is None else {}
    p = pb_params(1.0 if E is None else E, m_a, **target, **kw)
    if E is None:
        p = dataclasses.replace(p, E_beam=p.threshold_energy * 1.01, t_max=100.0)
    r = integrate(p, seed=1, precision=0.02)
    for v in (r.sigma_pb, r.sigma_err_pb, r.sigma_coherent_pb, r.sigma_incoherent_pb):
        assert math.isfinite(v)
    assert r.sigma_pb > 0.0
    assert r.sigma_err_pb < 0.05 * r.sigma_pb


def test_spectrum_flux_average():
    """Two narrow lines at 500 and 1500 GeV with weights 3:1 → ⟨σ⟩ = (3σ(500) + σ(1500))/4."""
    e = np.array([499.0, 500.0, 501.0, 1499.0, 1500.0, 1501.0])
    f = np.array([0.0, 3.0, 0.0, 0.0, 1.0, 0.0])
    spec = BeamSpectrum(energies=e, dn_de_minus=0.5 * f, dn_de_plus=0.5 * f)
    avg = integrate(pb_params(1000, 2, spectrum=spec), seed=5, precision=0.005)
    s500 = integrate(pb_params(500, 2), seed=5, precision=0.003).sigma_pb
    s1500 = integrate(pb_params(1500, 2), seed=5, precision=0.003).sigma_pb
    # σ(E) is smooth over ±1 GeV, so the triangular lines act as deltas
    assert avg.sigma_pb == pytest.approx((3 * s500 + s1500) / 4, rel=0.015)


def test_spectrum_flux_average_vs_quadrature():
    """The FASERν run-3 spectrum on W: ⟨σ⟩ = ∫φσ dE/∫φ dE from the 5-d integration equals a
    quadrature of σ(E)φ(E) over monochromatic cross sections at 13 energies (cubic spline in
    log σ vs log E, Simpson on 4000 log-spaced points)."""
    from scipy.integrate import simpson
    from scipy.interpolate import CubicSpline

    from alpgen.spectrum import load_spectrum

    spec = load_spectrum(
        Path(__file__).resolve().parents[3] / "cards" / "data" / "fasernu_run3_muon_spectrum.csv"
    )
    w = get_target("W")
    kw = dict(Z=w.Z, A=w.A, M=w.nucleus_mass)
    avg = integrate(pb_params(1000.0, 2.0, spectrum=spec, **kw), seed=3, precision=0.005)
    e_nodes = np.geomspace(spec.e_min, spec.e_max, 13)
    runs = [integrate(pb_params(e, 2.0, **kw), seed=3, precision=0.005) for e in e_nodes]
    sig = np.array([r.sigma_pb for r in runs])
    spline = CubicSpline(np.log(e_nodes), np.log(sig))
    x = np.geomspace(spec.e_min, spec.e_max, 4001)
    quad = simpson(np.exp(spline(np.log(x))) * spec.dn_de_at(x), x=x) / spec.integral()
    rel_err = math.hypot(avg.sigma_err_pb / avg.sigma_pb, max(r.relative_error for r in runs))
    assert avg.sigma_pb == pytest.approx(quad, rel=max(4 * rel_err, 0.01))
