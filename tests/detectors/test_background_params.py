"""The detector parameters for backgrounds (muon_veto_inefficiency, charge_misid,
track_min_energy_GeV, track_min_angle_rad): bad input, signal unchanged at the defaults, and
how a Standard-Model event fakes a selection (alpgen.detectors.fakes) on real trident events."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alpgen.background.api import background_cross_section
from alpgen.background.trident import trident_batch
from alpgen.card import load_card
from alpgen.detectors import fastsim
from alpgen.detectors.config import DetectorConfig, DetectorConfigError
from alpgen.detectors.experiments import build_selection
from alpgen.detectors.fakes import fake_weights
from alpgen.errors import CardError

KEYS = ("muon_veto_inefficiency", "charge_misid", "track_min_energy_GeV", "track_min_angle_rad")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("muon_veto_inefficiency", 1.5),
        ("muon_veto_inefficiency", -0.1),
        ("charge_misid", 2.0),
        ("charge_misid", "x"),
        ("track_min_energy_GeV", -1.0),
        ("track_min_energy_GeV", math.inf),
        ("track_min_angle_rad", -0.1),
        ("track_min_angle_rad", 4.0),
    ],
)
def test_bad_values_name_the_key(key, value):
    with pytest.raises(DetectorConfigError) as exc:
        DetectorConfig.default("thin_target", **{key: value})
    assert exc.value.key == f"detector.{key}"


def test_bad_value_on_a_card_exits_2(tmp_path, capsys):
    from alpgen.cli import main

    card = "cards/thin_target_1p5TeV.toml"
    rc = main(["xsec", card, "--set", "detector.charge_misid=3"])
    assert rc == 2 and "detector.charge_misid" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["na64mu", "fasernu2", "thin_target"])
def test_documented_defaults(name):
    cfg = DetectorConfig.default(name)
    assert cfg.muon_veto_inefficiency == 1.0 and cfg.charge_misid == 0.0
    assert cfg.track_min_energy_GeV == 0.0 and cfg.track_min_angle_rad == 0.0
    assert cfg.ideal_tracks
    text = open(f"detectors/{name}.toml", encoding="utf-8").read()
    for key in KEYS:
        assert f"\n{key} = " in text  # each default stated, with its source above it


@pytest.fixture(scope="module")
def tautau(fast_params_module):
    res = background_cross_section("sm_tautau", fast_params_module, seed=7)
    rng = np.random.default_rng(7)
    mom, _, comp = res.sampler.sample(1500, rng)
    kw = {"beam_pid": 13, "lepton": "tau", "target": "Pb", "thickness_cm": 2.0, "rng": rng}
    return trident_batch(mom, comp, **kw)


@pytest.fixture(scope="module")
def fast_params_module():
    from alpgen.background.params import BackgroundParams

    return BackgroundParams(
        beam_energy=1500.0, precision=0.05, prescan=50_000, n_adapt=10_000, nitn_adapt=5
    )


def _fake(batch, name, selection, **kw):
    cfg = DetectorConfig.default(name, selection=selection, **kw)
    return fake_weights(batch, build_selection(cfg, 2.0), cfg)


def test_zero_thresholds_leave_the_observables_unchanged(tautau):
    a = fastsim.analyse(tautau)
    b = fastsim.analyse(tautau, min_energy=0.0, min_angle=0.0)
    assert np.array_equal(a.tracks, b.tracks) and np.array_equal(a.tau.n_prongs, b.tau.n_prongs)
    # a threshold above every energy leaves no track
    assert not fastsim.charged_final(tautau, min_energy=1e4).any()


def test_muon_veto_inefficiency_scales_the_thin_target_fake(tautau):
    w1 = _fake(tautau, "thin_target", "invisible")[-1]
    w0 = _fake(tautau, "thin_target", "invisible", muon_veto_inefficiency=0.0)[-1]
    w3 = _fake(tautau, "thin_target", "invisible", muon_veto_inefficiency=0.3)[-1]
    assert w1.sum() > 0  # the τ⁻ → 3 prongs beyond 2 cm fakes it when the muon goes unseen
    # a seen scattered muon is a prompt extra track: no fake; the rest is linear in p
    assert w0.sum() == 0.0
    assert np.allclose(w3, 0.3 * w1, rtol=1e-12, atol=0)


def test_thin_target_fake_is_a_displaced_beam_charge_3prong(tautau):
    w = _fake(tautau, "thin_target", "invisible")[-1]
    obs = fastsim.analyse(tautau)
    tau_minus = fastsim.tau_observables(tautau, np.full(len(tautau), 4), obs.tracks)
    tau_plus = fastsim.tau_observables(tautau, np.full(len(tautau), 5), obs.tracks)
    # independent expectation: τ⁻ (beam charge) 3-prong beyond 20 mm, and the τ⁺'s tracks not
    # prompt (its decay beyond 20 mm) — with charge_misid = 0 the τ⁺ never plays the τ
    expect = (
        (tau_minus.n_prongs == 3)
        & (tau_minus.decay_length_mm > 20.0)
        & (tau_plus.decay_length_mm > 20.0)
    )
    assert np.array_equal(w > 0, expect)
    assert set(np.unique(w)) <= {0.0, 1.0}


def test_charge_misid_lets_the_wrong_charge_play_the_tau(tautau):
    w0 = _fake(tautau, "thin_target", "invisible")[-1]
    w1 = _fake(tautau, "thin_target", "invisible", charge_misid=0.01)[-1]
    extra = (w1 > 0) & (w0 == 0)
    assert extra.any() and np.allclose(w1[extra], 0.01)
    assert np.array_equal(w1[w0 > 0], w0[w0 > 0])  # the best assignment is kept


def test_visible_charge_flip_needs_more_than_one_pair(tautau):
    # μ⁻ beam: a τ⁺τ⁻ pair gives at most one negative 3-prong vertex (physics.md §8.1)
    assert _fake(tautau, "thin_target", "visible_charge_flip")[-1].sum() == 0.0
    # with the scattered μ⁻ seen and charges misidentified (μ⁻ as μ⁺, τ⁺ as τ⁻): misid²
    w = _fake(
        tautau,
        "thin_target",
        "visible_charge_flip",
        muon_veto_inefficiency=0.0,
        charge_misid=0.1,
    )[-1]
    assert w.sum() > 0 and np.allclose(w[w > 0], 0.1**2)


def test_track_energy_threshold_loses_tracks(tautau):
    w = _fake(tautau, "thin_target", "invisible", track_min_energy_GeV=1e4)[-1]
    assert w.sum() == 0.0  # no prongs at all


@pytest.mark.parametrize("key", ["background.processes", "background.events"])
def test_background_section_bad_input(key):
    card = "cards/thin_target_1p5TeV_invisible.toml"
    bad = {"background.processes": '["sm_ee"]', "background.events": "5"}[key]
    with pytest.raises(CardError) as exc:
        load_card(card, [f"{key}={bad}"])
    assert exc.value.key == key
    with pytest.raises(CardError, match=r"background\.processes"):
        load_card(
            "cards/na64mu_160GeV.toml",
            ['background.processes=["sm_tautau"]', "beam.particle=e-"],
        )


def test_signal_does_not_depend_on_veto_and_misid():
    """The signal has no scattered muon and charge_misid enters only the background's roles:
    any values (here far from the defaults) give the identical signal result and reach; the
    track thresholds at 0 equal no thresholds."""
    from alpgen.runner import simulate

    small = ["run.events=500", "run.max_count_events=1000", "production.precision=0.02"]
    card = "cards/thin_target_1p5TeV_invisible.toml"
    _, ref = simulate(load_card(card, small))
    odd = [
        "detector.muon_veto_inefficiency=0.25",
        "detector.charge_misid=0.5",
        "detector.track_min_energy_GeV=0.0",
        "detector.track_min_angle_rad=0.0",
    ]
    _, res = simulate(load_card(card, [*small, *odd]))
    assert ref is not None and res is not None
    assert res.to_dict() == ref.to_dict()


def test_spectrum_nodes_share_the_flux():
    from alpgen.background.estimate import SPECTRUM_NODES, spectrum_nodes

    card = load_card("cards/fasernu2.toml")
    nodes = spectrum_nodes(card)
    e = np.array([n[0] for n in nodes])
    w = np.array([n[1] for n in nodes])
    assert len(nodes) == SPECTRUM_NODES and np.all(np.diff(e) > 0)
    assert np.allclose(w, 1.0 / SPECTRUM_NODES, rtol=2e-3) and math.isclose(w.sum(), 1.0)
    # the flux-weighted mean energy of the nodes is the spectrum's (503 GeV by the trapezoid
    # rule on the file's nodes, docs/backgrounds.md; the power-law interpolation differs a bit)
    assert 480.0 < float((w * e).sum()) < 520.0
