"""The detector on events decayed by the generator's own decay chain.

The hard process is built by hand (plain numpy, slots 0–4); ``alpgen.decays.chain`` appends
the ALP and τ decay products. Independent numbers: the τ channel table's branching ratios and
daughter lists, the exponential decay law, and the ½ charge-flip split.
"""

from __future__ import annotations

import numpy as np
import pytest

from alpgen.constants import CTAU_TAU_MM, M_MU, M_TAU
from alpgen.decays import chain, registry
from alpgen.detectors import fastsim
from alpgen.detectors.config import DetectorConfig
from alpgen.detectors.counting import count_signal
from alpgen.events import EventBatch
from alpgen.model import ALPModel

N = 6000


def _hard(n: int, rng: np.random.Generator, e_beam: float = 1500.0) -> EventBatch:
    b = EventBatch.empty(n)
    b.pid[:, :5] = [13, 1000822080, 15, 1000822080, 9000005]
    b.status[:, :5] = [4, 4, 1, 1, 1]
    b.mother[:, 2:5] = [0, 1]
    pt = 0.5 * rng.random(n)
    ptau = e_beam * rng.uniform(0.02, 0.9, n)
    b.p[:, 0] = [0.0, 0.0, np.sqrt(e_beam**2 - M_MU**2), e_beam]
    b.p[:, 1, 3] = b.p[:, 3, 3] = 193.7
    b.p[:, 2, 0], b.p[:, 2, 2] = pt, ptau
    b.p[:, 2, 3] = np.sqrt(ptau**2 + pt**2 + M_TAU**2)
    pa = e_beam - ptau
    b.p[:, 4, 0], b.p[:, 4, 2] = -pt, pa
    b.p[:, 4, 3] = np.sqrt(pa**2 + pt**2 + 4.0)
    b.m[:, 0], b.m[:, 2], b.m[:, 4] = M_MU, M_TAU, 2.0
    b.vertex[:, 2:5, 2] = rng.uniform(0.0, 20.0, n)[:, None]
    b.n_particles[:] = 5
    b.beam_energy[:] = e_beam
    return b


@pytest.fixture(scope="module")
def model():
    return ALPModel.from_C_over_Lambda(2.0, 1.0, np.pi / 4, m_in=M_MU, m_out=M_TAU)


@pytest.fixture(scope="module")
def visible(model):
    rng = np.random.default_rng(2407)
    return chain.decay_batch(_hard(N, rng), model, chain.DecayConfig(alp="visible"), rng)


def _prong_fractions(model) -> dict[int, float]:
    """Fraction of τ⁻ decays with k charged daughters, from the channel table."""
    chans = registry.channels_for(15)
    br = np.array([c.branching(model) for c in chans])
    prongs = [int(np.sum(fastsim.charges(np.array(c.daughters)) != 0)) for c in chans]
    out: dict[int, float] = {}
    for k, b in zip(prongs, br / br.sum(), strict=True):
        out[k] = out.get(k, 0.0) + b
    return out


def test_tau_modes_match_channel_table(visible, model):
    obs = fastsim.analyse(visible)
    frac = _prong_fractions(model)
    for tau in (obs.tau, obs.alp_tau):
        assert tau.decayed.all()
        for k in (1, 3):
            sigma = np.sqrt(frac[k] * (1 - frac[k]) / N)
            assert abs(np.mean(tau.n_prongs == k) - frac[k]) < 4 * sigma, k
    mu = registry.get("tau->mu nu nu")
    br_mu = mu.branching(model) / sum(c.branching(model) for c in registry.channels_for(15))
    assert abs(obs.tau.is_muonic.mean() - br_mu) < 4 * np.sqrt(br_mu * (1 - br_mu) / N)


def test_decay_lengths_follow_exponential_law(visible):
    obs = fastsim.analyse(visible)
    p = obs.tau.momentum
    for d in (2.0, 20.0):
        analytic = np.mean(np.exp(-d * M_TAU / (p * CTAU_TAU_MM)))
        sigma = np.sqrt(analytic * (1 - analytic) / N)
        assert abs(np.mean(obs.tau.decay_length_mm > d) - analytic) < 4 * sigma


def test_visible_selection_on_decayed_events(visible, model):
    obs = fastsim.analyse(visible)
    assert obs.alp_visible.all()
    assert abs(obs.charge_flip.mean() - 0.5) < 4 * np.sqrt(0.25 / N)
    cfg = DetectorConfig.default("thin_target", selection="visible_charge_flip", resolution_mm=0)
    res = count_signal(cfg, visible, sigma_pb=1.0)
    b3 = _prong_fractions(model)[3]
    expected = 0.5 * b3**2
    assert abs(res.efficiency - expected) < 4 * np.sqrt(expected / N)
    ult = count_signal(cfg.replace(selection="ultimate"), visible, sigma_pb=1.0)
    assert ult.efficiency == pytest.approx(obs.charge_flip.mean())
