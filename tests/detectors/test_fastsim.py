"""Fast-simulation observables against the truth put into synthetic batches."""

from __future__ import annotations

import numpy as np
import pytest

from alpgen.detectors import fastsim


def test_charges_particle_package_and_bsm_neutral():
    pids = np.array([[13, -13, 15, -15], [211, -211, 111, 22], [9000005, 9000006, -9000006, 16]])
    expected = np.array([[-1, 1, -1, 1], [1, -1, 0, 0], [0, 0, 0, 0]], float)
    np.testing.assert_array_equal(fastsim.charges(pids), expected)
    with pytest.raises(ValueError, match="1234567"):
        fastsim.particle_charge(1234567)


def test_decay_length_is_the_vertex_distance(synth):
    """fastsim's τ decay length is the distance between the production and decay vertices
    (3-D, along a tilted τ). The exponential law itself is checked on real runs:
    tests/generator/test_pipeline.py (decay lengths) and test_selections_on_runs.py (the
    decay-length cuts against ⟨exp(−d/λ)⟩ from the record's τ momenta)."""
    rng = np.random.default_rng(12345)
    n = 50
    p = np.linspace(5.0, 400.0, n)
    lengths = np.linspace(0.01, 30.0, n)
    batch = synth(n, rng, tau_p=p, tau_lengths=lengths, tau_modes="mu", theta=0.02)
    obs = fastsim.analyse(batch)
    np.testing.assert_allclose(obs.tau.decay_length_mm, lengths, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(
        [c(obs).sum() for c in _length_cuts()], [(lengths > d).sum() for d in (0.5, 2.0, 20.0)]
    )


def _length_cuts():
    from alpgen.detectors.experiments import _decay_length

    return [_decay_length(d) for d in (0.5, 2.0, 20.0)]


def test_prong_counts_and_muonic_flag(synth, mode_sampler):
    rng = np.random.default_rng(7)
    fractions = {"mu": 0.1739, "e": 0.1782, "pi": 0.1082, "3pi": 0.09, "3pi_a1": 0.05, "pipi0": 1}
    modes = mode_sampler(10000, fractions, rng)
    obs = fastsim.analyse(synth(10000, rng, tau_modes=modes))
    expected_prongs = np.where(np.isin(modes, ["3pi", "3pi_a1"]), 3, 1)
    np.testing.assert_array_equal(obs.tau.n_prongs, expected_prongs)
    np.testing.assert_array_equal(obs.tau.is_muonic, modes == "mu")
    assert np.mean(obs.tau.n_prongs == 3) == pytest.approx(0.14, abs=1e-12)
    assert np.mean(obs.tau.is_muonic) == pytest.approx(0.1739, abs=1e-12)
    # invisible ALP: only the τ products are tracks
    np.testing.assert_array_equal(obs.n_tracks, expected_prongs)
    assert not obs.alp_visible.any()


def test_descendants_follow_intermediate_decays(synth):
    rng = np.random.default_rng(1)
    b = synth(3, rng, tau_modes=np.array(["3pi_a1", "3pi", "none"], dtype=object))
    desc = fastsim.descendants(b, np.array([2, 2, 2]))
    tracks = fastsim.charged_final(b)
    np.testing.assert_array_equal((desc & tracks).sum(axis=1), [3, 3, 0])
    # a₁ (decayed) and ρ⁰ (decayed) are descendants but not tracks
    assert desc[0].sum() == 1 + 1 + 1 + 2 + 1  # a1, ν, ρ, π⁻(from a1), π⁺π⁻ (from ρ)
    # the undecayed τ has no decay length and no prongs
    obs = fastsim.analyse(b)
    assert np.isnan(obs.tau.decay_length_mm[2]) and obs.tau.n_prongs[2] == 0


def test_muon_energy_from_tau_decay(synth):
    rng = np.random.default_rng(3)
    frac = np.array([0.1, 0.5, 0.9])
    b = synth(3, rng, tau_p=100.0, tau_modes="mu", muon_fraction=frac)
    obs = fastsim.analyse(b)
    np.testing.assert_allclose(obs.tau.muon_energy, np.sqrt((100 * frac) ** 2 + 0.10566**2), 1e-4)


@pytest.mark.parametrize("beam_pid", [13, -13])
def test_charge_flip_selects_flip_half(synth, beam_pid):
    rng = np.random.default_rng(99)
    n = 4000
    labels = rng.choice(np.array(["flip", "same"], dtype=object), n)
    obs = fastsim.analyse(synth(n, rng, beam_pid=beam_pid, alp=labels))
    np.testing.assert_array_equal(obs.charge_flip, labels == "flip")
    assert obs.alp_visible.all()
    # for μ⁻ the flip is a → μ⁺ τ⁻: the ALP muon is positive
    q_mu = obs.alp_muon_charge[labels == "flip"]
    assert np.all(q_mu == (1.0 if beam_pid == 13 else -1.0))
    # (the ½ flip fraction of real ALP decays: test_selections_on_runs.py::test_ultimate)


def test_interaction_in_target_and_acceptance(synth):
    rng = np.random.default_rng(5)
    z = np.array([-1.0, 0.0, 10.0, 20.0, 20.5])
    b = synth(5, rng, vertex_z=z, tau_modes="mu")
    np.testing.assert_array_equal(fastsim.interaction_in_target(b, 20.0), [0, 1, 1, 1, 0])

    # a track at angle θ from the axis leaves a 40 cm face of a 6.4 m stack if tan θ·L > 20 cm
    theta = np.array([0.01, 0.03, 0.05])
    b = synth(3, rng, theta=theta, tau_modes="mu", tau_lengths=np.zeros(3) + 1e-9)
    tr = fastsim.charged_final(b)
    ok = fastsim.tracks_in_acceptance(b, tr, length_mm=6400.0, face_mm=400.0)
    np.testing.assert_array_equal(ok, np.tan(theta) * 6400 <= 200)
    ok = fastsim.tracks_in_acceptance(b, tr, length_mm=6400.0, max_angle_rad=0.04)
    np.testing.assert_array_equal(ok, [True, True, False])


def test_recoil_slot_is_a_track_unless_it_holds_a_nucleus():
    """Slot 3 is the recoiling nucleus in signal and trident records (never a track) but an
    ordinary particle in a Pythia charm record (a track when charged and final)."""
    from alpgen.events import STATUS_FINAL, EventBatch

    b = EventBatch.empty(3, 6)
    b.status[:, 2:5] = STATUS_FINAL
    b.pid[:, 2] = 13
    b.pid[:, 4] = 211
    b.pid[:, 3] = [1000822080, 211, 2212]  # Pb recoil, then a π⁺ and a proton from charm
    b.p[:, 2:5] = [0.0, 0.0, 10.0, 10.0]
    tracks = fastsim.charged_final(b)
    np.testing.assert_array_equal(tracks[:, 3], [False, True, True])
    np.testing.assert_array_equal(fastsim.n_tracks(b), [2, 3, 3])
