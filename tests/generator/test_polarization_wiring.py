"""The produced τ's helicity in the event record follows the helicity-resolved matrix element.

Independent reference: ``tau_helicity_probability`` evaluated here on the event record's own
momenta (slots 0–4) with the couplings written out by hand from the card (paper convention,
S = g sinθ, P = g cosθ), not through ``pipeline.tau_helicity_function``. Given the events, the
record's helicities are independent ±1 draws with mean a_i = 2P_i − 1, so

    ⟨h⟩ − ⟨a⟩ has variance Σ(1 − a_i²)/N²,   ⟨h·a⟩ − ⟨a²⟩ has variance Σ a_i²(1 − a_i²)/N².

Physics (generator/production/helicity.py docstring): the net τ polarization is ∝ g_S g_P, so it
vanishes at θ = π/2 (pure scalar) at every phase-space point, and is non-zero at θ = π/4.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from alpgen.card import load_card
from alpgen.engine import Engine
from alpgen.events import SLOT_ALP, SLOT_BEAM, SLOT_LEPTON, SLOT_RECOIL, SLOT_TARGET
from alpgen.production.helicity import tau_helicity_probability

CARD = Path(__file__).resolve().parents[2] / "cards" / "thin_target_1p5TeV.toml"
N = 3000
N_SIGMA = 4.0


def _source(theta: float, mode: str = "matrix_element") -> Engine:
    card = load_card(
        CARD,
        [
            f"run.events={N}",
            "production.precision=0.05",
            f"model.theta={theta!r}",
            f"decays.tau_polarization={mode}",
        ],
    )
    return Engine(card)


def _sample(theta: float, mode: str = "matrix_element"):
    """(record helicities of the produced τ, a = 2P − 1 recomputed on the same events, batch)."""
    source = _source(theta, mode)
    card = source.card
    batch = next(source.batches())
    assert len(batch) == N
    assert np.all(batch.pid[:, SLOT_LEPTON] == 15)  # μ⁻ beam → τ⁻
    p = batch.p
    model = card.alp_model()
    assert card.model.couplings == "paper"
    g_s, g_p = model.g * math.sin(theta), model.g * math.cos(theta)
    prob = tau_helicity_probability(
        p[:, SLOT_BEAM],
        p[:, SLOT_TARGET],
        p[:, SLOT_LEPTON],
        p[:, SLOT_RECOIL],
        p[:, SLOT_ALP],
        batch.m[0, SLOT_BEAM],
        batch.m[0, SLOT_LEPTON],
        g_s,
        g_p,
        m_a=card.model.m_a,
    )
    return batch.spin[:, SLOT_LEPTON], 2.0 * prob - 1.0, batch


@pytest.fixture(scope="module")
def polarized():
    return _sample(math.pi / 4)


@pytest.fixture(scope="module")
def unpolarized():
    return _sample(math.pi / 4, "unpolarized")


def test_record_helicities_are_pm1(polarized):
    h, _, _ = polarized
    assert set(np.unique(h)) == {-1.0, 1.0}


def test_mean_helicity_matches_matrix_element_at_pi_over_4(polarized):
    h, a, _ = polarized
    sigma = math.sqrt(np.sum(1.0 - a**2)) / N
    assert abs(h.mean() - a.mean()) < N_SIGMA * sigma, (h.mean(), a.mean(), sigma)
    # θ = π/4 polarizes the τ: the mean is far from 0 (measured ≈ 0.35 for this card)
    assert a.mean() > 10.0 / math.sqrt(N)
    assert h.mean() > N_SIGMA / math.sqrt(N)


def test_helicity_follows_the_event_by_event_probability(polarized):
    """Stronger than the mean: the draws correlate with the per-event a_i as E[h·a] = E[a²]."""
    h, a, _ = polarized
    sigma = math.sqrt(np.sum(a**2 * (1.0 - a**2))) / N
    assert abs(np.mean(h * a) - np.mean(a**2)) < N_SIGMA * sigma
    # a shuffled assignment (same mean, no correlation) would fail: E[a]² < E[a²] here
    assert np.mean(a**2) - a.mean() ** 2 > 2 * N_SIGMA * sigma


def test_pure_scalar_gives_no_polarization():
    h, a, _ = _sample(math.pi / 2)
    # g_P = g cos(π/2) ≈ 6e-17 g: P(+1) = ½ up to rounding at every point
    assert np.max(np.abs(a)) < 1e-9
    assert abs(h.mean()) < N_SIGMA / math.sqrt(N)


def test_unpolarized_switch(polarized, unpolarized):
    h, a, batch = unpolarized
    _, a_pol, batch_pol = polarized
    assert abs(h.mean()) < N_SIGMA / math.sqrt(N)
    # the same events (same seed): the switch changes only the drawn helicities, whose
    # matrix-element mean is far from 0 on them
    np.testing.assert_array_equal(batch.p[:, :5], batch_pol.p[:, :5])
    np.testing.assert_allclose(a, a_pol)
    assert a.mean() > 10.0 / math.sqrt(N)
    assert abs(h.mean() - a.mean()) > N_SIGMA * math.sqrt(np.sum(1.0 - a**2)) / N


def test_spectrum_beam_charge_sets_pdg_ids_and_helicity_sign():
    """FASERν2 (μ⁺ and μ⁻ from the spectrum, θ = π/4): every event's beam charge is drawn from
    the spectrum's charge fraction at its energy; the beam and τ PDG ids carry that charge
    (μ⁻ → τ⁻, μ⁺ → τ⁺), and so does the τ helicity: CP maps μ⁻ N → τ⁻ N a with τ helicity h to
    μ⁺ N → τ⁺ N a with −h, so on μ⁺ events ⟨h⟩ = −⟨2P⁻ − 1⟩ with P⁻ the μ⁻ probability on the
    same momenta."""
    n = 6000
    card = load_card(
        CARD.parent / "fasernu2.toml", [f"run.events={n}", "production.precision=0.05"]
    )
    source = Engine(card)
    batch = next(source.batches())
    pid_beam, pid_tau = batch.pid[:, SLOT_BEAM], batch.pid[:, SLOT_LEPTON]
    assert set(np.unique(pid_beam)) == {-13, 13}
    np.testing.assert_array_equal(pid_tau, 15 * np.sign(pid_beam))
    minus = pid_beam == 13

    # charge fractions in energy bins against the spectrum (σ does not depend on the charge)
    spec = source.integrated.params.spectrum
    energy = batch.p[:, SLOT_BEAM, 3]
    edges = np.quantile(energy, np.linspace(0, 1, 7))
    for lo, hi in itertools.pairwise(edges):
        sel = (energy >= lo) & (energy < hi)
        f = spec.fraction_minus(energy[sel])
        expected, var = f.sum(), (f * (1 - f)).sum()
        assert abs(minus[sel].sum() - expected) < N_SIGMA * math.sqrt(var) + 1, (lo, hi)

    model = card.alp_model()
    p = batch.p
    prob_minus = tau_helicity_probability(
        p[:, SLOT_BEAM],
        p[:, SLOT_TARGET],
        p[:, SLOT_LEPTON],
        p[:, SLOT_RECOIL],
        p[:, SLOT_ALP],
        batch.m[0, SLOT_BEAM],
        batch.m[0, SLOT_LEPTON],
        model.g * math.sin(card.model.theta),
        model.g * math.cos(card.model.theta),
        m_a=card.model.m_a,
        charge=-1,
    )
    a = np.where(minus, 2 * prob_minus - 1, -(2 * prob_minus - 1))
    h = batch.spin[:, SLOT_LEPTON]
    for sel in (minus, ~minus):
        sigma = math.sqrt(np.sum(1.0 - a[sel] ** 2)) / sel.sum()
        assert abs(h[sel].mean() - a[sel].mean()) < N_SIGMA * sigma
        assert abs(a[sel].mean()) > 2 * N_SIGMA / math.sqrt(sel.sum())
    assert np.sign(h[minus].mean()) == -np.sign(h[~minus].mean())
