"""Every beam / produced-lepton pair a card allows is generated and decayed consistently:
ℓ_in N → ℓ_out N a with ℓ_out of the beam's charge, and a → ℓ_in ℓ_out (both charge modes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alpgen.card import load_card
from alpgen.engine import Engine
from alpgen.events import SLOT_ALP, SLOT_BEAM, SLOT_LEPTON

CARD = Path(__file__).resolve().parents[2] / "cards" / "thin_target_1p5TeV.toml"
PID = {"e": 11, "mu": 13, "tau": 15}


@pytest.mark.parametrize(
    ("beam", "out"),
    [("mu-", "tau"), ("mu+", "tau"), ("e-", "tau"), ("e-", "mu"), ("mu-", "e")],
)
def test_flavour_pairs(beam, out):
    card = load_card(
        CARD,
        [
            f"beam.particle={beam}",
            f"production.lepton_out={out}",
            "run.events=300",
            "run.batch_size=300",
            "production.precision=0.05",
            "decays.tau=none",
        ],
    )
    batch = next(Engine(card).batches())
    sign = 1 if beam.endswith("-") else -1  # PDG: negative leptons have positive ids
    pid_in = PID[beam.rstrip("+-")]
    assert (batch.pid[:, SLOT_BEAM] == sign * pid_in).all()
    assert (batch.pid[:, SLOT_LEPTON] == sign * PID[out]).all()
    first, last = batch.daughter[:, SLOT_ALP, 0], batch.daughter[:, SLOT_ALP, 1]
    assert (first >= 0).all() and (last == first + 1).all()
    rows = np.arange(len(batch))
    pair = np.sort(np.stack([batch.pid[rows, first], batch.pid[rows, last]], 1), axis=1)
    modes = {tuple(p) for p in pair.tolist()}
    assert modes == {tuple(sorted((pid_in, -PID[out]))), tuple(sorted((-pid_in, PID[out])))}
