"""The FASERν Run-3 flux converter and the FASERν2 default MOT derived from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from alpgen.detectors.config import DetectorConfig
from alpgen.spectrum import load_spectrum

REPO = Path(__file__).resolve().parents[2]
FLUKA = REPO / "tests" / "data" / "fasernu_run3_muon_flux_fluka.csv"
CONVERTED = REPO / "cards" / "data" / "fasernu_run3_muon_spectrum.csv"


@pytest.fixture(scope="module")
def converter():
    spec = importlib.util.spec_from_file_location(
        "convert_fasernu_flux", REPO / "scripts" / "convert_fasernu_flux.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_conversion_round_trip(converter, tmp_path):
    out = tmp_path / "spec.csv"
    assert converter.main([str(FLUKA), str(out)]) == 0
    spec = load_spectrum(out)
    table = converter.read_fluka_table(FLUKA)
    e = table["E_mu_GeV"]
    np.testing.assert_allclose(spec.energies, e, rtol=1e-5)
    # dN/dE × E = the source's dN/dlnE column
    np.testing.assert_allclose(
        spec.dn_de_minus * e, table["dN_dlnE_mu_minus_var2_per_cm2_per_fb-1"], rtol=1e-5
    )
    np.testing.assert_allclose(
        spec.dn_de_plus * e, table["dN_dlnE_mu_plus_var2_per_cm2_per_fb-1"], rtol=1e-5
    )
    # total flux: data README / benchmark_setups.csv quote 1.75e4 μ/cm²/fb⁻¹ (25×30 cm face)
    assert spec.integral() == pytest.approx(1.75e4, rel=0.02)
    text = out.read_text()
    assert "STAND-IN" in text and "NOT the FPF/FASERnu2 flux" in text
    assert "per cm^2 per fb^-1" in text
    # the shipped file is what the converter produces
    assert CONVERTED.read_text() == text


def test_fasernu2_default_mot_from_flux():
    spec = load_spectrum(CONVERTED)
    mot = spec.integral() * 40.0 * 40.0 * 3000.0  # per cm² per fb⁻¹ × face × 3 ab⁻¹
    assert DetectorConfig.default("fasernu2").mot == pytest.approx(mot, rel=1e-3)
    assert 5e10 < mot < 2e11
    assert "stand-in" in spec.label.lower()
