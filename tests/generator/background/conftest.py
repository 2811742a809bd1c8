"""Shared small background samples (module-scoped: σ and the pre-scan are the slow parts)."""

from __future__ import annotations

import pytest

from alpgen.background.api import BackgroundParams

#: A small, fast trident setup: τ⁺τ⁻ at 1.5 TeV on Pb, 5 % σ, a short vegas adaptation.
FAST = {
    "beam_energy": 1500.0,
    "target": "Pb",
    "thickness_cm": 2.0,
    "batch_size": 1000,
    "precision": 0.05,
    "prescan": 50_000,
    "n_adapt": 10_000,
    "nitn_adapt": 5,
}


@pytest.fixture(scope="session")
def fast_params() -> BackgroundParams:
    return BackgroundParams(**FAST)  # type: ignore[arg-type]
