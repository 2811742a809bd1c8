"""The paper's quoted statements, checked end to end with generated events (arXiv:2407.15942)."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from alpgen.card import apply_overrides, build_card, load_card
from alpgen.detectors.config import DetectorConfig
from alpgen.detectors.counting import Counter
from alpgen.engine import Engine
from alpgen.events import SLOT_LEPTON
from alpgen.runner import simulate

CARDS = Path(__file__).resolve().parents[2] / "cards"
FAST = ["run.events=3000", "run.batch_size=3000", "production.precision=0.02"]


def test_na64mu_existing_data_reach_at_2_GeV():
    """NA64-μ with 2×10¹⁰ MOT excludes C/Λ ≳ 100 TeV⁻¹ at m_a = 2 GeV (paper; the spec's
    cross-check §6.1 puts N = 3 near 140). docs/results.md quotes 145 ± 2 TeV⁻¹ from 10⁴
    events at an unpolarized beam, with BR(a → χχ̄) taken at the excluded coupling; pinned here.
    The selection must keep τ → μνν with E_μ < 80 GeV and nothing else (τ → eνν, with almost
    the same branching ratio, must not pass): checked event by event on the record."""
    card = load_card(CARDS / "na64mu_160GeV.toml", ["run.events=10000", "detector.mot=2e10"])
    assert card.beam.polarization == 0.0
    source = Engine(card)
    counter = Counter(
        DetectorConfig.from_card(dict(card.detector)),
        target=card.target_material,
        thickness_cm=card.target.thickness_cm,
        n_generated=card.run.events,
        coupling_C_over_Lambda=card.C_over_Lambda,
    )
    n_mu = n_e = n_mu_soft = 0
    for batch in source.batches():
        counter.add(batch)
        selected = counter.selected(batch)
        # the produced τ's decay products, from the record
        rows = np.arange(len(batch))
        d0, d1 = batch.daughter[rows, SLOT_LEPTON, 0], batch.daughter[rows, SLOT_LEPTON, 1]
        slots = np.arange(batch.pid.shape[1])
        own = (slots[None, :] >= d0[:, None]) & (slots[None, :] <= d1[:, None])
        has_mu = (own & (np.abs(batch.pid) == 13)).any(axis=1)
        has_e = (own & (np.abs(batch.pid) == 11)).any(axis=1)
        e_mu = np.where(own & (np.abs(batch.pid) == 13), batch.p[..., 3], 0.0).sum(axis=1)
        assert not np.any(selected & has_e)
        np.testing.assert_array_equal(selected, has_mu & (e_mu < 80.0))
        n_mu += int(has_mu.sum())
        n_e += int(has_e.sum())
        n_mu_soft += int((has_mu & (e_mu < 80.0)).sum())
    n = card.run.events
    assert abs(n_mu / n - 0.1739) < 4 * math.sqrt(0.1739 * 0.8261 / n)
    assert abs(n_e / n - 0.1782) < 4 * math.sqrt(0.1782 * 0.8218 / n)
    result = counter.result(sigma_pb=source.sigma_pb)
    assert result.mot == 2e10
    assert result.n_mc_selected == n_mu_soft
    # N ∝ (C/Λ)² BR(a → χχ̄)(C/Λ): the reach at the coupling-consistent branching ratio
    reach = result.reach_fixed_br_invTeV
    br_ref = card.alp_model().br_invisible
    for _ in range(5):
        reach = result.reach_fixed_br_invTeV * math.sqrt(
            br_ref / card.alp_model(C_over_Lambda=reach).br_invisible
        )
    # 145 ± 2 in docs/results.md is one MC standard deviation (δC/C = ½ δN/N with about
    # 1.4×10³ selected events); the sharded streams (0.2) drew other events: 3σ of this sample
    assert reach == pytest.approx(145.0, abs=3 * 0.5 * reach / math.sqrt(n_mu_soft))
    assert 0 < reach / result.reach_fixed_br_invTeV - 1 < 0.01  # the BR effect, +0.3 %


def test_thin_plate_production_probability_below_fasernu2():
    """'More than two orders of magnitude' less production probability in the 2 cm Pb plate
    than in FASERν2's 6.4 m of W, at the same muon energy (here 1.5 TeV, m_a = 2 GeV)."""
    thin = load_card(CARDS / "thin_target_1p5TeV_invisible.toml", FAST)
    doc = apply_overrides(tomllib.loads((CARDS / "fasernu2.toml").read_text()), FAST)
    del doc["beam"]["spectrum"]  # a monochromatic 1.5 TeV beam on the FASERν2 target
    doc["beam"]["energy"] = 1500.0
    faser = build_card(doc, path=str(CARDS / "fasernu2.toml"))
    probs = []
    for card in (thin, faser):
        src, _ = simulate(card, n_events=1000)
        t = card.target_material
        probs.append(t.number_density * card.target.thickness_cm * src.sigma_pb * 1e-36)
    assert probs[1] / probs[0] > 100.0
