"""Detector configuration: paper defaults, card overrides, errors that name the key."""

from __future__ import annotations

import dataclasses

import pytest

from alpgen.detectors.config import (
    ALLOWED_KEYS,
    EXPERIMENTS,
    SELECTIONS,
    DetectorConfig,
    DetectorConfigError,
    experiment_defaults,
)
from alpgen.detectors.experiments import build_selection
from alpgen.targets import get_target


def test_paper_defaults():
    na64 = DetectorConfig.default("na64mu")
    assert na64.mot == 1e13 and na64.muon_energy_max == 80.0 and na64.selection == "invisible"
    # ~40 X0 of lead (physics.md §6.1), X0 from the target table
    assert na64.target_thickness_cm == pytest.approx(40 * get_target("Pb").radiation_length_cm)
    assert na64.beam_energy_GeV == 160.0

    fas = DetectorConfig.default("fasernu2")
    assert (fas.resolution_mm, fas.target_material, fas.target_thickness_cm) == (2.0, "W", 640.0)
    assert fas.selection == "chain" and fas.face_cm == 40.0 and not fas.geometric_acceptance
    assert 5e10 < fas.mot < 2e11  # "≈ 1e11" (derivation tested in test_fasernu_flux.py)

    thin = DetectorConfig.default("thin_target")
    assert (thin.mot, thin.resolution_mm, thin.target_thickness_cm) == (1e16, 20.0, 2.0)
    assert thin.beam_energy_GeV == 1500.0 and thin.charge_flip_in_ultimate


def test_allowed_keys_and_default_tomls():
    assert {f.name for f in dataclasses.fields(DetectorConfig)} == ALLOWED_KEYS
    for name in EXPERIMENTS:
        table = experiment_defaults(name)
        assert set(table) <= ALLOWED_KEYS, name
        assert table["name"] == name
        for sel in SELECTIONS[name]:  # every declared selection builds
            build_selection(DetectorConfig.default(name, selection=sel), 1.0)


def test_card_overrides_merge():
    cfg = DetectorConfig.from_card(
        {"name": "thin_target", "selection": "visible_charge_flip", "resolution_mm": 2, "mot": 1e18}
    )
    assert cfg.resolution_mm == 2.0 and isinstance(cfg.resolution_mm, float)
    assert cfg.mot == 1e18 and cfg.selection == "visible_charge_flip"
    assert cfg.target_thickness_cm == 2.0  # untouched default


@pytest.mark.parametrize(
    ("section", "key", "fragment"),
    [
        ({"name": "na64mu", "resolution": 2.0}, "detector.resolution", "resolution_mm"),
        ({"name": "na64mu", "selection": "chain"}, "detector.selection", "'invisible'"),
        ({"name": "fasernu2", "selection": "visible_charge_flip"}, "detector.selection", "chain"),
        ({"name": "thin_target", "mot": -1.0}, "detector.mot", "> 0"),
        ({"name": "thin_target", "mot": "1e16"}, "detector.mot", "number"),
        ({"name": "thin_target", "resolution_mm": True}, "detector.resolution_mm", "number"),
        ({"name": "thin_target", "background": -0.5}, "detector.background", "≥ 0"),
        ({"name": "na64mu", "muon_energy_max": 0.0}, "detector.muon_energy_max", "> 0"),
        (
            {"name": "na64mu", "geometric_acceptance": "yes"},
            "detector.geometric_acceptance",
            "true",
        ),
        ({"name": "na64mu", "geometric_acceptance": True}, "detector.geometric_acceptance", "face"),
        ({"name": "na64mu", "target_material": "Xx"}, "detector.target_material", "Pb"),
        ({"name": "lhc"}, "detector.name", "'fasernu2'"),
        ({"selection": "chain"}, "detector.name", "required"),
    ],
)
def test_errors_name_the_key(section, key, fragment):
    with pytest.raises(DetectorConfigError) as info:
        DetectorConfig.from_card(section)
    msg = str(info.value)
    assert key in msg and fragment in msg
    assert info.value.key.startswith(key)
    assert isinstance(info.value, ValueError)


def test_bad_value_is_quoted():
    with pytest.raises(DetectorConfigError, match=r"detector\.mot = -5\.0"):
        DetectorConfig.default("na64mu", mot=-5)


def test_direct_construction_is_validated():
    with pytest.raises(DetectorConfigError, match=r"detector\.selection"):
        DetectorConfig(name="na64mu", selection="ultimatum", resolution_mm=0.0, mot=1.0)
    with pytest.raises(DetectorConfigError, match=r"detector\.resolution_mm"):
        DetectorConfig.default("fasernu2").replace(resolution_mm=-2.0)
