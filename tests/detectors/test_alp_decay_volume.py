"""The optional fiducial cut on displaced visible ALP decays (``detector.alp_decay_max_mm``)
against the analytic survival law, on events from the real generator."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from alpgen.card import load_card
from alpgen.detectors import fastsim
from alpgen.detectors.config import DetectorConfig
from alpgen.detectors.experiments import build_selection
from alpgen.events import SLOT_ALP
from alpgen.pipeline import EventSource

CARD = Path(__file__).resolve().parents[2] / "cards" / "thin_target_1p5TeV.toml"


def test_alp_decay_volume_cut_matches_exponential_law():
    # C/Λ = 0.003 TeV⁻¹ at m_a = 2 GeV: cτ_a ≈ 1.1 mm, so βγcτ ~ 0.5 m at ~1 TeV
    card = load_card(
        CARD,
        [
            "model.C_over_Lambda=0.003",
            "run.events=4000",
            "run.batch_size=4000",
            "production.precision=0.03",
            "decays.tau=none",
        ],
    )
    source = EventSource(card)
    batch = next(source.batches())
    max_mm = 400.0
    config = DetectorConfig.from_card({**dict(card.detector), "alp_decay_max_mm": max_mm})
    sel = build_selection(config, card.target.thickness_cm)
    names = sel.cut_names
    i = names.index("alp_decay_in_volume")
    obs = fastsim.analyse(batch)
    masks = sel.cumulative_masks(obs)
    before, after = masks[i - 1], masks[i]
    p = np.linalg.norm(batch.p[before, SLOT_ALP, :3], axis=1)
    lam = p / card.model.m_a * source.model.ctau_mm
    expected = np.mean(-np.expm1(-max_mm / lam))
    n = before.sum()
    measured = after.sum() / n
    assert 0.2 < expected < 0.9  # the cut matters at this coupling
    assert abs(measured - expected) < 4 * math.sqrt(expected * (1 - expected) / n)
