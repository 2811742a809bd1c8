"""Unweighted trident events μ A → μ A ℓ⁺ℓ⁻ as EventBatches (alpgen.background)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alpgen.background.api import BackgroundParams, background_events
from alpgen.background.conservation import vertex_displacement_mismatch, vertex_imbalance
from alpgen.background.trident import SLOT_LMINUS, SLOT_LPLUS, TridentSampler
from alpgen.constants import CTAU_TAU_MM, M_TAU
from alpgen.events import STATUS_BEAM, STATUS_DECAYED, STATUS_FINAL, EventBatch
from alpgen.targets import get_target

N = 3000


@pytest.fixture(scope="module")
def tautau(fast_params):
    res, it = background_events("sm_tautau", fast_params, N, seed=11)
    return res, EventBatch.concatenate(list(it))


def test_slot_layout_and_decays(tautau):
    res, b = tautau
    pb = get_target("Pb")
    assert len(b) == N and b.n_slots == 24
    assert res.sigma_pb == pytest.approx(4876.0, rel=0.1)  # docs/backgrounds.md: 4876 ± 9.5 pb
    assert np.all(b.pid[:, :6] == [13, pb.pdgid, 13, pb.pdgid, 15, -15])
    assert np.all(b.status[:, :4] == [STATUS_BEAM, STATUS_BEAM, STATUS_FINAL, STATUS_FINAL])
    # every τ decayed (status 2) with daughters appended, helicity ±1 drawn with ½ each
    assert np.all(b.status[:, [SLOT_LMINUS, SLOT_LPLUS]] == STATUS_DECAYED)
    assert np.all(b.daughter[:, SLOT_LMINUS, 0] >= 6)
    hel = b.spin[:, [SLOT_LMINUS, SLOT_LPLUS]].ravel()
    assert set(np.unique(hel)) == {-1.0, 1.0}
    assert abs(hel.mean()) < 4.0 / math.sqrt(hel.size)
    assert np.all(b.weight == 1.0)
    # masses: on-shell τ's
    m2 = b.p[:, 4, 3] ** 2 - np.sum(b.p[:, 4, :3] ** 2, axis=1)
    assert np.allclose(np.sqrt(m2), M_TAU, rtol=1e-6)


def test_four_momentum_and_vertices(tautau):
    _, b = tautau
    assert vertex_imbalance(b).max() < 1e-9
    assert vertex_displacement_mismatch(b).max() < 1e-9
    # interaction point uniform in the 2 cm target on the axis, ct = z
    z = b.vertex[:, 0, 2]
    assert z.min() >= 0.0 and z.max() <= 20.0
    assert z.mean() == pytest.approx(10.0, abs=4 * 20 / math.sqrt(12 * N))
    assert np.all(b.vertex[:, :6, :2] == 0.0) and np.all(b.vertex[:, :6, 3] == b.vertex[:, :6, 2])
    # τ⁻ flight: lab decay length exponential with mean βγ cτ
    d = b.decay_vertex(SLOT_LMINUS)[:, :3] - b.vertex[:, SLOT_LMINUS, :3]
    p = np.linalg.norm(b.p[:, SLOT_LMINUS, :3], axis=1)
    ell0 = np.linalg.norm(d, axis=1) * M_TAU / p
    assert ell0.mean() == pytest.approx(CTAU_TAU_MM, rel=4 / math.sqrt(N))


def test_random_azimuth(tautau):
    _, b = tautau
    phi = np.arctan2(b.p[:, 2, 1], b.p[:, 2, 0])
    assert abs(np.cos(phi).mean()) < 4 / math.sqrt(2 * N)
    assert abs(np.sin(phi).mean()) < 4 / math.sqrt(2 * N)


def test_unweighted_reproduces_weighted_distribution(tautau, fast_params):
    """⟨m_ττ⟩ and the coherent fraction of the unweighted events equal the weight-averaged
    values on an independent weighted sample of the same vegas map."""
    res, b = tautau
    s: TridentSampler = res.sampler
    rng = np.random.default_rng(99)
    mom, w = s._weights(rng.random((100_000, s.dim)))
    pair = mom[:, 2] + mom[:, 3]
    m = np.sqrt(np.maximum(pair[:, 3] ** 2 - np.sum(pair[:, :3] ** 2, axis=1), 0.0))
    wm = np.sum(w[:, 0] * m) / np.sum(w[:, 0])
    assert b.info["m_pair"].mean() == pytest.approx(
        wm, rel=5 * b.info["m_pair"].std() / wm / math.sqrt(N) + 0.01
    )
    f_coh = np.sum(w[:, 1]) / np.sum(w[:, 0])
    assert f_coh == pytest.approx(res.sigma_coherent_pb / res.sigma_pb, abs=0.03)
    frac = np.mean(b.info["component"] == 0)
    assert frac == pytest.approx(f_coh, abs=4 * math.sqrt(f_coh * (1 - f_coh) / N) + 0.01)
    # x = E'/E, whose low end (soft scattered muon, radiation diagrams) holds the weight's tail
    # that the stratification cells isolate: same mean and same share below x = 0.5
    x_w = mom[:, 1, 3] / mom[:, 0, 3]
    x_u = b.info["x"]
    assert x_u.mean() == pytest.approx(
        np.sum(w[:, 0] * x_w) / np.sum(w[:, 0]), abs=5 * x_u.std() / math.sqrt(N)
    )
    f_w = np.sum(w[x_w < 0.5, 0]) / np.sum(w[:, 0])
    assert np.mean(x_u < 0.5) == pytest.approx(f_w, abs=5 * math.sqrt(f_w * (1 - f_w) / N))


def test_sampler_statistics(tautau):
    res, _ = tautau
    s: TridentSampler = res.sampler
    assert s.n_accepted == N
    assert s.efficiency > s.efficiency_true_max > 0.0
    assert s.efficiency == pytest.approx(res.details["unweighting_efficiency"], rel=0.2)
    assert s.overweight_sigma_fraction < 0.01
    assert s.trial_overweight_sigma_fraction < 0.01
    assert s.overweight_fraction < 0.01
    assert s.n_cells == 16  # 50 000 pre-scan points: 2 bins in each of the 4 stratified dims
    assert res.details["unweighting_cells"] == 16


def test_stratification_raises_the_efficiency(tautau):
    """Per-cell maxima beat the global maximum of the same pre-scan on the same vegas map, and
    their bias, measured on points that did not set them, stays small."""
    res, _ = tautau
    xs = res.sampler.xsec
    plain = TridentSampler(xs, seed=3, prescan=50_000, bins=1)
    strat = TridentSampler(xs, seed=3, prescan=50_000)
    assert plain.n_cells == 1 and plain.w_max == pytest.approx(plain.prescan_mean / plain._eff0)
    assert strat._eff0 > 1.5 * plain._eff0
    assert strat.overweight_sigma_fraction < 0.01
    rng = np.random.default_rng(1)
    strat.sample(2000, rng)
    assert strat.efficiency == pytest.approx(strat._eff0, rel=0.15)


def test_deterministic_and_batch_independent(fast_params):
    from dataclasses import replace

    bp = replace(fast_params, prescan=20_000)
    _, it = background_events("sm_mumu", bp, 1500, seed=5)
    a = list(it)
    _, it2 = background_events("sm_mumu", bp, 1500, seed=5)
    b = list(it2)
    assert len(a) == 2 and len(a[1]) == 500
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.p, y.p) and np.array_equal(x.vertex, y.vertex)
    # μμ: the scattered muon is the more energetic same-charge muon; no τ decays
    ev = EventBatch.concatenate(a)
    assert np.all(ev.pid[:, 4:6] == [13, -13]) and np.all(ev.n_particles == 6)
    assert np.all(ev.p[:, 2, 3] >= ev.p[:, 4, 3])
    assert vertex_imbalance(ev).max() < 1e-9


def test_mu_plus_beam(fast_params):
    from dataclasses import replace

    bp = replace(fast_params, beam_particle="mu+", prescan=20_000)
    _, it = background_events("sm_mumu", bp, 300, seed=2)
    ev = next(it)
    assert np.all(ev.pid[:, [0, 2]] == -13)
    # μ⁺ beam: the same-charge muon is ℓ⁺ (slot 5); p' is the more energetic one
    assert np.all(ev.p[:, 2, 3] >= ev.p[:, 5, 3])
    assert vertex_imbalance(ev).max() < 1e-9


def test_bad_inputs():
    from alpgen.errors import CardError

    with pytest.raises(CardError, match=r"process\.name"):
        background_events("sm_ee", BackgroundParams(), 10, seed=1)
    with pytest.raises(CardError, match=r"beam\.particle"):
        BackgroundParams(beam_particle="e-")
    with pytest.raises(CardError, match="nope"):
        BackgroundParams.coerce({"nope": 1})


@pytest.mark.parametrize("name", ["na64mu_160GeV.toml", "thin_target_1p5TeV.toml", "fasernu2.toml"])
def test_params_from_run_card(name):
    from pathlib import Path

    from alpgen.card import load_card
    from alpgen.errors import CardError

    path = Path(__file__).resolve().parents[3] / "cards" / name
    card = load_card(path, check_files=False)
    if card.beam.energy is None:  # a spectrum card: backgrounds need a fixed energy
        with pytest.raises(CardError, match=r"beam\.energy"):
            BackgroundParams.coerce(card)
        return
    bp = BackgroundParams.coerce(card)
    assert bp.beam_energy == card.beam.energy
    assert bp.target == card.target.material
    assert bp.thickness_cm == card.target.thickness_cm
    assert bp.beam_pid == (13 if card.beam.particle == "mu-" else -13)
    assert bp.t_max == card.production.t_max
