"""Decay chain on an EventBatch: record structure, vertices, weights, BR fractions, helicities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alpgen.constants import CTAU_TAU_MM, M_MU, M_TAU, PID_ALP, PID_CHI
from alpgen.decays import alp
from alpgen.decays.chain import DecayConfig, decay_batch
from alpgen.decays.registry import channels_for
from alpgen.events import SLOT_ALP, SLOT_LEPTON, STATUS_DECAYED, STATUS_FINAL, EventBatch
from alpgen.model import ALPModel


def _momenta(rng, n, p_lo, p_hi, theta_max):
    """[n, 3] momenta: |p| log-uniform in [p_lo, p_hi] GeV, polar angle < theta_max, any φ."""
    p = np.exp(rng.uniform(math.log(p_lo), math.log(p_hi), n))
    th = theta_max * np.sqrt(rng.random(n))
    ph = 2 * math.pi * rng.random(n)
    return p[:, None] * np.stack(
        [np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=1
    )


def hard_batch(n, ma=3.0, p_tau=None, p_alp=None, spin=0.0, tau_pid=15, rng=None):
    """Hard-process records as the pipeline writes them: every event has its own τ and ALP
    momenta (unless ``p_tau``/``p_alp`` fix them), on shell, and its own interaction point
    0 ≤ z ≤ 20 mm on the beam axis with ct = z (the ultra-relativistic beam)."""
    rng = np.random.default_rng(20240) if rng is None else rng
    ev = EventBatch.empty(n)
    ev.n_particles[:] = 5
    ev.pid[:, :5] = [13, 1000822080, tau_pid, 1000822080, PID_ALP]
    ev.status[:, :5] = [4, 4, 1, 1, 1]
    ev.m[:, 2], ev.m[:, 4] = M_TAU, ma
    pt = _momenta(rng, n, 20.0, 800.0, 0.01) if p_tau is None else np.broadcast_to(p_tau, (n, 3))
    pa = _momenta(rng, n, 50.0, 1000.0, 0.005) if p_alp is None else np.broadcast_to(p_alp, (n, 3))
    ev.p[:, 2, :3] = pt
    ev.p[:, 2, 3] = np.sqrt(np.sum(pt**2, axis=1) + M_TAU**2)
    ev.p[:, 4, :3] = pa
    ev.p[:, 4, 3] = np.sqrt(np.sum(pa**2, axis=1) + ma**2)
    z = rng.uniform(0.0, 20.0, n)
    ev.vertex[:, :5, 2] = z[:, None]
    ev.vertex[:, :5, 3] = z[:, None]
    ev.spin[:, 2] = spin
    ev.beam_energy[:] = 1000.0
    return ev


def visible_model(ma=3.0, theta=0.5, cl=1.0):
    return ALPModel.from_C_over_Lambda(ma, cl, theta, m_in=M_MU, m_out=M_TAU)


@pytest.fixture(scope="module")
def decayed():
    n = 4000
    model = visible_model(cl=1e-2)  # displaced ALP: cτ ≈ 0.1 mm scale
    ev = hard_batch(n)
    return ev, model, decay_batch(ev, model, DecayConfig(), np.random.default_rng(1))


def test_record_structure(decayed):
    ev, _, out = decayed
    assert np.all(ev.status[:, SLOT_ALP] == 1)  # input untouched
    n = len(out)
    rows = np.arange(n)
    assert np.all(out.status[:, SLOT_ALP] == STATUS_DECAYED)
    assert np.all(out.status[:, SLOT_LEPTON] == STATUS_DECAYED)
    for i in range(0, n, 97):
        k = out.n_particles[i]
        assert np.all(out.status[i, k:] == 0) and np.all(out.status[i, :k] > 0)
        for s in range(k):
            d0, d1 = out.daughter[i, s]
            if out.status[i, s] == STATUS_DECAYED:
                assert 0 <= d0 <= d1 < k
                assert np.all(out.mother[i, d0 : d1 + 1] == s)
                # momentum conservation at every vertex
                ptot = out.p[i, d0 : d1 + 1].sum(axis=0)
                assert np.allclose(ptot, out.p[i, s], rtol=0, atol=1e-10 * out.p[i, s, 3])
            else:
                assert d0 == -1 and d1 == -1
        # no τ left undecayed
        assert not np.any((np.abs(out.pid[i, :k]) == 15) & (out.status[i, :k] == STATUS_FINAL))
    # ALP daughters are μ τ pairs with opposite charges
    d0 = out.daughter[rows, SLOT_ALP, 0]
    pair = np.stack([out.pid[rows, d0], out.pid[rows, d0 + 1]], axis=1)
    assert set(map(tuple, pair)) == {(13, -15), (-13, 15)}
    frac = np.mean(pair[:, 0] == 13)
    assert abs(frac - 0.5) < 4 * math.sqrt(0.25 / n)
    assert np.all(out.weight == 1.0)


def test_decay_lengths(decayed):
    ev, model, out = decayed
    n = len(out)
    rows = np.arange(n)
    # τ from production: lab decay length exponential with mean λ_i = |p_i|/m cτ per event,
    # so L_i/λ_i is Exp(1)
    d0 = out.daughter[rows, SLOT_LEPTON, 0]
    disp = out.vertex[rows, d0] - out.vertex[rows, SLOT_LEPTON]
    length = np.linalg.norm(disp[:, :3], axis=1)
    p_tau = ev.p[:, SLOT_LEPTON]
    p = np.linalg.norm(p_tau[:, :3], axis=1)
    u = length / (p / M_TAU * CTAU_TAU_MM)
    assert abs(u.mean() - 1) < 4 / math.sqrt(n)
    assert abs(u.std() - 1) < 6 / math.sqrt(n)  # exponential: σ = mean
    # along each τ's momentum, from its own interaction point, and Δct = L/β
    np.testing.assert_allclose(out.vertex[rows, SLOT_LEPTON], ev.vertex[rows, SLOT_LEPTON])
    np.testing.assert_allclose(disp[:, :3], length[:, None] * p_tau[:, :3] / p[:, None], atol=1e-12)
    np.testing.assert_allclose(disp[:, 3], length * p_tau[:, 3] / p, rtol=1e-12, atol=1e-12)
    # ALP: mean βγ cτ_a from the model, event by event
    d0 = out.daughter[rows, SLOT_ALP, 0]
    dv = out.vertex[rows, d0] - ev.vertex[rows, SLOT_ALP]
    la = np.linalg.norm(dv[:, :3], axis=1)
    pa = np.linalg.norm(ev.p[:, SLOT_ALP, :3], axis=1)
    ua = la / (pa / model.m_a * model.ctau_mm)
    assert abs(ua.mean() - 1) < 4 / math.sqrt(n)
    np.testing.assert_allclose(dv[:, 3], la * ev.p[:, SLOT_ALP, 3] / pa, rtol=1e-12, atol=1e-12)
    # τ from the ALP starts at the ALP decay point
    tslot = np.where(np.abs(out.pid[rows, d0]) == 15, d0, d0 + 1)
    assert np.allclose(out.vertex[rows, tslot], out.vertex[rows, d0])


def test_tau_branching_fractions_reproduced():
    n = 30000
    model = visible_model()
    out = decay_batch(hard_batch(n), model, DecayConfig(alp="invisible"), np.random.default_rng(2))
    rows = np.arange(n)
    d0 = out.daughter[rows, SLOT_LEPTON, 0]
    d1 = out.daughter[rows, SLOT_LEPTON, 1]
    sig = [tuple(out.pid[i, d0[i] : d1[i] + 1]) for i in range(n)]
    chans = channels_for(15)
    counts = np.array([sum(s == c.daughters for s in sig) for c in chans])
    assert counts.sum() == n
    exp = n * np.array([c.branching() for c in chans])
    chi2 = np.sum((counts - exp) ** 2 / exp)
    ndf = len(chans) - 1
    assert chi2 < ndf + 5 * math.sqrt(2 * ndf)
    # prong counting from the record
    nch = np.array([sum(1 for p in s if abs(p) in (11, 13, 211, 321)) for s in sig])
    assert abs(np.mean(nch == 3) - 0.1456) < 4 * math.sqrt(0.1456 * 0.85 / n)


def test_forced_channels_weight():
    n = 6000
    model = visible_model()
    brs = {c.name: c.branching() for c in channels_for(15)}
    b3 = sum(c.branching() for c in channels_for(15) if "3prong" in c.tags)
    out = decay_batch(
        hard_batch(n), model, DecayConfig(alp="visible", tau=("3prong",)), np.random.default_rng(3)
    )
    # two τ per event (production + ALP), each forced to 3-prong
    assert np.allclose(out.weight, b3**2 * model.br_visible)
    rows = np.arange(n)
    d0 = out.daughter[rows, SLOT_LEPTON, 0]
    first = out.pid[rows, d0]
    ntrk = [
        np.sum(np.isin(np.abs(out.pid[i, d0[i] : out.daughter[i, SLOT_LEPTON, 1] + 1]), (211, 321)))
        for i in range(n)
    ]
    assert set(ntrk) == {3}
    assert first.size == n
    # proportions within the forced set follow BR / ΣBR
    frac_3pi = np.mean(
        [tuple(out.pid[i, d0[i] : d0[i] + 4]) == (-211, -211, 211, 16) for i in range(n)]
    )
    p = brs["tau->3pi nu"] / b3
    assert abs(frac_3pi - p) < 4 * math.sqrt(p * (1 - p) / n)
    # by name, σ × BR stays right
    out = decay_batch(
        hard_batch(100),
        model,
        DecayConfig(alp="invisible", tau=("tau->mu nu nu", "tau->e nu nu")),
        np.random.default_rng(4),
    )
    assert np.allclose(
        out.weight, (brs["tau->mu nu nu"] + brs["tau->e nu nu"]) * model.br_invisible
    )
    with pytest.raises(ValueError, match="unknown decay channel"):
        decay_batch(hard_batch(3), model, DecayConfig(tau=("4prong",)), np.random.default_rng(0))


def test_invisible_and_threshold():
    model = ALPModel.from_C_over_Lambda(3.0, 1.0, 0.5, m_in=M_MU, m_out=M_TAU, m_chi=1.0, g_chi=1.0)
    out = decay_batch(hard_batch(500), model, DecayConfig(), np.random.default_rng(5))
    rows = np.arange(500)
    d0 = out.daughter[rows, SLOT_ALP, 0]
    chi = out.pid[rows, d0] == PID_CHI
    assert chi.mean() > 0.99  # BR(χχ̄) ≈ 1 for g_χ = 1
    assert np.allclose(out.m[rows[chi], d0[chi]], 1.0)
    s = out.p[rows, d0] + out.p[rows, d0 + 1]
    assert np.allclose(np.sqrt(s[:, 3] ** 2 - np.sum(s[:, :3] ** 2, axis=1)), 3.0, rtol=1e-8)
    # below every threshold: the ALP stays final, the τ still decays
    light = ALPModel.from_C_over_Lambda(1.0, 1.0, 0.5, m_in=M_MU, m_out=M_TAU)
    out = decay_batch(hard_batch(50, ma=1.0), light, DecayConfig(), np.random.default_rng(6))
    assert np.all(out.status[:, SLOT_ALP] == STATUS_FINAL)
    assert np.all(out.daughter[:, SLOT_ALP] == -1)
    assert np.all(out.status[:, SLOT_LEPTON] == STATUS_DECAYED)


def test_tau_none_and_helicities():
    n = 4000
    out = decay_batch(
        hard_batch(n), visible_model(), DecayConfig(tau="none"), np.random.default_rng(7)
    )
    taus = (np.abs(out.pid) == 15) & (out.status > 0)
    assert np.all(out.status[taus] == STATUS_FINAL)
    assert np.all(np.abs(out.spin[taus]) == 1.0)
    assert abs(np.mean(out.spin[:, SLOT_LEPTON] > 0) - 0.5) < 4 * math.sqrt(0.25 / n)
    assert np.all(out.n_particles == 7)
    # given helicity is kept
    out = decay_batch(
        hard_batch(10, spin=-1.0),
        visible_model(),
        DecayConfig(tau="none"),
        np.random.default_rng(7),
    )
    assert np.all(out.spin[:, SLOT_LEPTON] == -1.0)


def test_neutrino_helicities_and_determinism():
    ev = hard_batch(300)
    m = visible_model()
    a = decay_batch(ev, m, DecayConfig(), np.random.default_rng(8))
    b = decay_batch(ev, m, DecayConfig(), np.random.default_rng(8))
    for col in ("pid", "status", "p", "vertex", "spin", "weight", "daughter", "mother"):
        assert np.array_equal(getattr(a, col), getattr(b, col))
    used = a.status > 0
    assert np.all(a.spin[used & (a.pid == 16)] == -1) and np.all(a.spin[used & (a.pid == -16)] == 1)
    assert np.all(a.spin[used & (a.pid == -14)] == 1)


def test_alp_tau_polarization_at_rest():
    # ALP at rest, θ = π/4 (maximal A_h): the τ⁺ of a → μ⁻τ⁺ has helicity +1 with prob (1+A_h)/2
    n = 8000
    model = visible_model(theta=math.pi / 4)
    a_h = alp.helicity_asymmetry(model)
    ev = hard_batch(n, p_alp=(0.0, 0.0, 0.0))
    out = decay_batch(ev, model, DecayConfig(alp="visible", tau="none"), np.random.default_rng(9))
    rows = np.arange(n)
    d0 = out.daughter[rows, SLOT_ALP, 0]
    mu_minus = out.pid[rows, d0] == 13
    h_tau = out.spin[rows, d0 + 1]
    h_mu = out.spin[rows, d0]
    assert np.all(h_tau == h_mu)
    assert abs(np.mean(h_tau[mu_minus] > 0) - (1 + a_h) / 2) < 4 * math.sqrt(0.25 / n) + 1e-3
    assert abs(np.mean(h_tau[~mu_minus] > 0) - (1 - a_h) / 2) < 4 * math.sqrt(0.25 / n) + 1e-3


def test_tau_plus_from_production():
    n = 20000
    out = decay_batch(
        hard_batch(n, tau_pid=-15, spin=1.0, p_tau=(0.0, 0.0, 2000.0)),
        visible_model(),
        DecayConfig(alp="invisible", tau=("tau->pi nu",)),
        np.random.default_rng(10),
    )
    rows = np.arange(n)
    d0 = out.daughter[rows, SLOT_LEPTON, 0]
    assert np.all(out.pid[rows, d0] == 211) and np.all(out.pid[rows, d0 + 1] == -16)
    x = out.p[rows, d0, 3] / out.p[rows, SLOT_LEPTON, 3]
    assert abs(x.mean() - 1 / 3) < 0.01  # τ⁺ with h = +1: soft π⁺
