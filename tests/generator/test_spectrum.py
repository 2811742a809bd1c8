"""Beam spectrum: loader errors (file and line named), interpolation and integrals."""

from __future__ import annotations

import numpy as np
import pytest

from alpgen.spectrum import BeamSpectrum, SpectrumError, load_spectrum

GOOD = """# label: test spectrum
# a comment
E_GeV,dN_dE_mu_minus,dN_dE_mu_plus
10,4.0,2.0
# comments may sit between rows
100,0.04,0.02
1000,0.0004,0.0002
"""


def _write(tmp_path, text, name="spec.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_load_good_file(tmp_path):
    spec = load_spectrum(_write(tmp_path, GOOD))
    np.testing.assert_array_equal(spec.energies, [10, 100, 1000])
    np.testing.assert_array_equal(spec.dn_de_minus, [4.0, 0.04, 0.0004])
    np.testing.assert_array_equal(spec.dn_de_plus, [2.0, 0.02, 0.0002])
    assert spec.label == "test spectrum" and spec.source.endswith("spec.csv")
    assert spec.fraction_minus(50.0) == pytest.approx(2 / 3)


def test_extra_and_reordered_columns(tmp_path):
    text = "dN_dE_mu_plus,E_GeV,note,dN_dE_mu_minus\n1,10,a,2\n0.5,20,b,1\n"
    spec = load_spectrum(_write(tmp_path, text))
    np.testing.assert_array_equal(spec.energies, [10, 20])
    np.testing.assert_array_equal(spec.dn_de_minus, [2, 1])
    assert spec.label == "spec"  # the file stem when no label comment


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("# only comments\n\n", "empty"),
        ("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n", "at least 2"),
        ("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n10,1,1\n", "at least 2"),
        ("E_GeV,dN_dE_mu_minus\n10,1\n20,1\n", ":1: header lacks required column(s) dN_dE_mu_plus"),
        ("# c\nE_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n10,1,1\n20,1\n", ":4: malformed row"),
        ("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n10,1,1\n20,x,1\n", ":3: malformed row"),
        ("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n10,1,1\n20,1,-1\n", ":3: negative"),
        ("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n10,1,1\n20,1,1\n15,1,1\n", ":4: energies must be"),
        ("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n10,1,1\n10,1,1\n", ":3: energies must be"),
        ("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n0,1,1\n10,1,1\n", ":2: energy must be positive"),
        ("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n1,nan,1\n10,1,1\n", ":2: non-finite"),
    ],
)
def test_loader_errors_name_file_and_line(tmp_path, text, fragment):
    p = _write(tmp_path, text)
    with pytest.raises(SpectrumError) as info:
        load_spectrum(p)
    msg = str(info.value)
    assert str(p) in msg
    assert fragment in msg
    assert isinstance(info.value, ValueError)


def test_missing_file(tmp_path):
    p = tmp_path / "nope.csv"
    with pytest.raises(SpectrumError, match="not found") as info:
        load_spectrum(p)
    assert str(p) in str(info.value)


def test_power_law_interpolation_and_integral_exact():
    """A pure power law E^-2 is reproduced exactly between nodes, and so is its integral."""
    e = np.array([10.0, 100.0, 1000.0])
    spec = BeamSpectrum(e, 1e4 * e**-2, 5e3 * e**-2)
    x = np.array([10.0, 31.6, 250.0, 999.0])
    np.testing.assert_allclose(spec.dn_de_at(x), 1.5e4 * x**-2, rtol=1e-12)
    np.testing.assert_allclose(spec.dn_de_at(x, "minus"), 1e4 * x**-2, rtol=1e-12)
    assert spec.dn_de_at(5.0) == 0.0 and spec.dn_de_at(2000.0) == 0.0
    # ∫ 1.5e4 E^-2 dE = 1.5e4 (1/a − 1/b)
    assert spec.integral() == pytest.approx(1.5e4 * (1 / 10 - 1 / 1000), rel=1e-12)
    assert spec.integral(20.0, 500.0) == pytest.approx(1.5e4 * (1 / 20 - 1 / 500), rel=1e-12)
    assert spec.integral(charge="plus") == pytest.approx(5e3 * (0.1 - 0.001), rel=1e-12)
    # E^-1 (k = −1 branch): ∫ = c ln(b/a)
    flat = BeamSpectrum(e, 1.0 / e, 1.0 / e)
    assert flat.integral() == pytest.approx(2 * np.log(100.0), rel=1e-12)


def test_zero_node_is_linear():
    spec = BeamSpectrum(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 0.0]), np.zeros(3))
    assert spec.dn_de_at(2.5) == pytest.approx(1.0)
    assert spec.integral() == pytest.approx(2.0 + 1.0)
    assert spec.integral(2.5, 3.0) == pytest.approx(0.5 * 1.0 * 0.5)


def _spectra():
    from pathlib import Path

    card = Path(__file__).resolve().parents[2] / "cards" / "data" / "fasernu_run3_muon_spectrum.csv"
    e = np.array([10.0, 30.0, 100.0, 101.0, 400.0, 1000.0])
    f = np.array([5.0, 1.0, 0.2, 0.0, 0.0, 3e-3])  # zero nodes: linear segments
    return [
        load_spectrum(card),
        BeamSpectrum(energies=e, dn_de_minus=0.3 * f, dn_de_plus=0.7 * f),
        BeamSpectrum(
            energies=np.array([1.0, 2.0, 4.0]),
            dn_de_minus=np.array([4.0, 2.0, 1.0]),  # index −1 exactly: the logarithmic case
            dn_de_plus=np.zeros(3),
        ),
    ]


@pytest.mark.parametrize("spec", _spectra(), ids=["fasernu_card", "zero_nodes", "E^-1"])
def test_integrand_spectrum_equals_beam_spectrum(spec):
    """The production integrand's own spectrum integral and interpolation
    (``production.integrand.spectrum_integral``/``spectrum_value``, used to normalise and
    evaluate φ(E) inside the numba kernels) equal :class:`BeamSpectrum`'s."""
    from alpgen.production.integrand import spectrum_integral, spectrum_value

    e, f = np.asarray(spec.energies, float), np.asarray(spec.dn_de, float)
    assert spectrum_integral(e, f) == pytest.approx(spec.integral(), rel=1e-12)
    rng = np.random.default_rng(11)
    pts = np.exp(rng.uniform(np.log(e[0]), np.log(e[-1]), 500))
    pts = np.concatenate([pts, e])
    kernel = np.array([spectrum_value(x, e, f) for x in pts])
    np.testing.assert_allclose(kernel, spec.dn_de_at(pts), rtol=1e-12, atol=0.0)
    # and ∫ of the interpolant by brute-force quadrature
    x = np.unique(np.concatenate([np.geomspace(e[0], e[-1], 200_001), e]))
    y = spec.dn_de_at(x)
    assert np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x)) == pytest.approx(spec.integral(), rel=1e-6)
