"""Unweighted sampling: exact counts, determinism, kinematics and agreement with the weighted
integrand (independent plain-MC weighted averages)."""

from __future__ import annotations

import numpy as np
import pytest

from alpgen.constants import M_MU, M_TAU
from alpgen.production.integrand import evaluate
from alpgen.production.integrator import integrate
from alpgen.production.kinematics import hypercube_to_momenta
from alpgen.production.process import ProcessParams
from alpgen.production.sampler import UnweightedSampler
from alpgen.spectrum import BeamSpectrum
from alpgen.targets import get_target

PB = get_target("Pb")


def params(**kw):
    base = dict(
        E_beam=1500.0,
        m_in=M_MU,
        m_out=M_TAU,
        m_a=2.0,
        Z=PB.Z,
        A=PB.A,
        M=PB.nucleus_mass,
        g2_sum=1.0,
        gP2=0.0,
    )
    base.update(kw)
    return ProcessParams(**base)


@pytest.fixture(scope="module")
def setup():
    p = params()
    xs = integrate(p, seed=1, precision=0.01)
    return p, xs, UnweightedSampler(p, xs, seed=2, prescan=50_000)


def test_exact_count_and_determinism(setup):
    _, _, smp = setup
    a = smp.sample(1234, np.random.default_rng(9))
    b = smp.sample(1234, np.random.default_rng(9))
    assert len(a) == 1234
    for name in ("p_in", "p_out", "P_f", "k", "t", "component", "beam_charge"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = smp.sample(1234, np.random.default_rng(10))
    assert not np.array_equal(a.t, c.t)
    assert len(smp.sample(1, np.random.default_rng(1))) == 1
    assert len(smp.sample(0, np.random.default_rng(1))) == 0
    assert 0.0 < smp.efficiency <= 1.0
    assert smp.overweight_fraction < 1e-3
    assert np.all(a.beam_charge == 0)


def test_event_kinematics(setup):
    p, _, smp = setup
    ev = smp.sample(20_000, np.random.default_rng(3))
    tot = ev.p_in + ev.P_i - ev.p_out - ev.P_f - ev.k
    assert np.max(np.abs(tot)) / p.E_beam < 1e-10

    def m2(v):
        return v[:, 3] ** 2 - np.sum(v[:, :3] ** 2, axis=1)

    assert np.max(np.abs(m2(ev.p_out) - M_TAU**2)) / p.E_beam**2 < 1e-10
    assert np.max(np.abs(m2(ev.k) - p.m_a**2)) / p.E_beam**2 < 1e-10
    q = ev.P_i - ev.P_f
    np.testing.assert_allclose(-m2(q), ev.t, rtol=1e-6)
    # the random overall azimuth makes the ALP azimuth uniform
    phi = np.arctan2(ev.k[:, 1], ev.k[:, 0])
    h, _ = np.histogram(phi, bins=8, range=(-np.pi, np.pi))
    assert np.all(np.abs(h - h.mean()) < 5 * np.sqrt(h.mean()))
    np.testing.assert_array_equal(ev.p_in[:, :3], np.tile([0.0, 0.0, ev.p_in[0, 2]], (len(ev), 1)))


def test_unweighted_moments_match_weighted_integrand(setup):
    """⟨ln t⟩, ⟨E_a/E⟩ and the coherent fraction from unweighted events vs a plain weighted MC
    over the unit cube (no vegas map involved)."""
    p, xs, smp = setup
    ev = smp.sample(40_000, np.random.default_rng(4))
    y = np.random.default_rng(5).random((1_000_000, 4))
    w = evaluate(p, y)
    _, mom, inv = hypercube_to_momenta(y, p.E_beam, p.m_in, p.m_out, p.m_a, p.M, p.t_max)
    W = w[:, 0]
    for ev_val, wt_val in (
        (np.log(ev.t), np.log(np.where(W > 0, inv[:, 2], 1.0))),
        (ev.k[:, 3] / p.E_beam, mom[:, 4, 3] / p.E_beam),
    ):
        mean_w = np.sum(W * wt_val) / W.sum()
        err = ev_val.std() / np.sqrt(len(ev_val))
        assert abs(ev_val.mean() - mean_w) < 5 * err + 2e-3 * abs(mean_w)
    frac = np.mean(ev.component == 0)
    assert frac == pytest.approx(xs.sigma_coherent_pb / xs.sigma_pb, abs=0.006)


def test_spectrum_beam_charge():
    e = np.array([200.0, 500.0, 1000.0])
    spec = BeamSpectrum(
        energies=e, dn_de_minus=np.array([3.0, 1.0, 0.3]), dn_de_plus=np.array([1.0, 1.0, 0.3])
    )
    p = params(spectrum=spec)
    xs = integrate(p, seed=3, precision=0.01)
    smp = UnweightedSampler(p, xs, seed=4, prescan=30_000)
    ev = smp.sample(5000, np.random.default_rng(6))
    E = ev.beam_energy
    assert np.all((E >= 200.0) & (E <= 1000.0))
    expect = spec.fraction_minus(E).mean()
    assert np.mean(ev.beam_charge == -1) == pytest.approx(expect, abs=0.03)
    assert set(np.unique(ev.beam_charge)) <= {-1, 1}
    tot = ev.p_in + ev.P_i - ev.p_out - ev.P_f - ev.k
    assert np.max(np.abs(tot)) / 1000.0 < 1e-10


def test_zero_cross_section_refused():
    p = params(E_beam=5.0)
    with pytest.raises(ValueError, match="zero cross section"):
        UnweightedSampler(p, integrate(p, seed=1), seed=1)
