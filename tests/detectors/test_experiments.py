"""Experiment selections as unit tests of the cut logic on hand-made batches: each cut keeps
exactly the events whose truth labels say it should. These recover only what the fixture put
in; the efficiencies users get are checked on real runs against independent numbers in
tests/detectors/test_selections_on_runs.py."""

from __future__ import annotations

import numpy as np
import pytest

from alpgen.detectors import fastsim
from alpgen.detectors.config import DetectorConfig
from alpgen.detectors.experiments import build_selection

TAU_FRACTIONS = {"mu": 0.1739, "e": 0.1782, "3pi": 0.10, "3pi_a1": 0.05, "pi": 0.1082, "pipi0": 1}
P_3PRONG = 0.15


@pytest.fixture(scope="module")
def invisible_sample(synth, mode_sampler):
    """4000 invisible-ALP events, τ modes in known proportions, τ decay length put in."""
    rng = np.random.default_rng(2024)
    n = 4000
    modes = mode_sampler(n, TAU_FRACTIONS, rng)
    lengths = rng.uniform(0.0, 40.0, n)  # mm
    mu_frac = rng.uniform(0.0, 1.0, n)
    b = synth(
        n, rng, beam_energy=160.0, tau_p=120.0, tau_modes=modes, tau_lengths=lengths,
        muon_fraction=mu_frac,
    )  # fmt: skip
    return b, modes, lengths, mu_frac


def _pass(config, batch, thickness_cm=2.0):
    return build_selection(config, thickness_cm).passed(batch)


def test_na64_invisible(invisible_sample):
    b, modes, _, mu_frac = invisible_sample
    cfg = DetectorConfig.default("na64mu")
    e_mu = np.hypot(mu_frac * 120.0, 0.10566)
    expected = (modes == "mu") & (e_mu < 80.0)
    np.testing.assert_array_equal(_pass(cfg, b, 22.448), expected)
    # without the energy cut the efficiency is exactly the B(τ→μνν) put in (to rounding of n)
    cfg = cfg.replace(muon_energy_max=None)
    assert _pass(cfg, b, 22.448).sum() == round(0.1739 * len(b))


def test_fasernu2_chain_and_charge_symmetry(invisible_sample, synth):
    b, modes, lengths, _ = invisible_sample
    cfg = DetectorConfig.default("fasernu2")
    expected = (modes == "mu") & (lengths > 2.0)
    np.testing.assert_array_equal(_pass(cfg, b, 640.0), expected)
    assert (
        cfg.replace(selection="ultimate")
        and _pass(cfg.replace(selection="ultimate"), b, 640.0).all()
    )
    # μ⁺ beam: the charge-conjugate sample passes identically (incident charge not needed)
    rng = np.random.default_rng(11)
    m = np.array(["mu", "mu", "3pi", "e", "mu"], dtype=object)
    ln = np.array([3.0, 1.0, 5.0, 5.0, 2.5])
    minus = _pass(cfg, synth(5, rng, beam_pid=13, tau_modes=m, tau_lengths=ln), 640.0)
    plus = _pass(cfg, synth(5, rng, beam_pid=-13, tau_modes=m, tau_lengths=ln), 640.0)
    np.testing.assert_array_equal(minus, plus)
    np.testing.assert_array_equal(minus, [True, False, False, False, True])


def test_chain_rejects_extra_tracks(synth):
    """A visible ALP adds tracks at the production vertex: no longer a clean μ→τ→μ chain."""
    rng = np.random.default_rng(4)
    b = synth(
        2, rng, tau_modes="mu", tau_lengths=np.array([5.0, 5.0]), alp=["inv", "flip"],
        muon_fraction=0.1,
    )  # fmt: skip
    np.testing.assert_array_equal(_pass(DetectorConfig.default("fasernu2"), b, 640.0), [1, 0])
    np.testing.assert_array_equal(_pass(DetectorConfig.default("na64mu"), b, 22.4), [1, 0])


@pytest.mark.parametrize("d_mm", [2.0, 20.0])
def test_thin_target_invisible(invisible_sample, d_mm):
    b, modes, lengths, _ = invisible_sample
    cfg = DetectorConfig.default("thin_target", resolution_mm=d_mm)
    expected = np.isin(modes, ["3pi", "3pi_a1"]) & (lengths > d_mm)
    np.testing.assert_array_equal(_pass(cfg, b), expected)
    # with no length cut: exactly the 3-prong fraction put in
    assert _pass(cfg.replace(resolution_mm=0.0), b).mean() == pytest.approx(P_3PRONG, abs=1e-12)


def test_thin_target_visible_charge_flip(synth, mode_sampler):
    rng = np.random.default_rng(8)
    n = 4000
    labels = mode_sampler(n, {"flip": 0.5, "same": 0.5}, rng)
    t1 = mode_sampler(n, {"3pi": 0.15, "mu": 0.1739, "pipi0": 1}, rng)
    t2 = mode_sampler(n, {"3pi_pi0": 0.15, "e": 0.1782, "pi": 1}, rng)
    l1, l2 = rng.uniform(0, 30, n), rng.uniform(0, 30, n)
    b = synth(
        n, rng, alp=labels, tau_modes=t1, alp_tau_modes=t2, tau_lengths=l1, alp_tau_lengths=l2
    )
    cfg = DetectorConfig.default("thin_target", selection="visible_charge_flip")
    sel = build_selection(cfg, 2.0)
    expected = (labels == "flip") & (t1 == "3pi") & (t2 == "3pi_pi0") & (l1 > 20) & (l2 > 20)
    np.testing.assert_array_equal(sel.passed(b), expected)
    masks = sel.cumulative_masks(b)
    assert masks[sel.cut_names.index("charge_flip")].mean() == pytest.approx(0.5, abs=1e-12)
    # no length cut: 1/2 × B3² of the sample's own fractions (independent of how they pair up
    # only in expectation, so compare with the exact count of the labels)
    cfg0 = cfg.replace(resolution_mm=0.0)
    exact = np.mean((labels == "flip") & (t1 == "3pi") & (t2 == "3pi_pi0"))
    assert _pass(cfg0, b).mean() == pytest.approx(exact, abs=1e-12)


def test_ultimate_keeps_half_for_visible(synth, mode_sampler):
    rng = np.random.default_rng(9)
    n = 1000
    labels = mode_sampler(n, {"flip": 0.3, "same": 0.3, "inv": 1}, rng)
    b = synth(n, rng, alp=labels, tau_modes="pipi0")
    cfg = DetectorConfig.default("thin_target", selection="ultimate")
    np.testing.assert_array_equal(_pass(cfg, b), labels != "same")
    cfg = cfg.replace(charge_flip_in_ultimate=False)
    assert _pass(cfg, b).all()


def test_geometric_acceptance_cut_only_when_enabled():
    cfg = DetectorConfig.default("fasernu2")
    assert "geometric_acceptance" not in build_selection(cfg, 640.0).cut_names
    cfg = cfg.replace(geometric_acceptance=True)
    assert build_selection(cfg, 640.0).cut_names[-1] == "geometric_acceptance"
    ult = cfg.replace(selection="ultimate")
    assert "geometric_acceptance" not in build_selection(ult, 640.0).cut_names


def test_cut_callable_on_batch_and_observables(invisible_sample):
    b = invisible_sample[0]
    sel = build_selection(DetectorConfig.default("na64mu"), 22.448)
    obs = fastsim.analyse(b)
    for cut in sel.cuts:
        np.testing.assert_array_equal(cut(b), cut(obs))
