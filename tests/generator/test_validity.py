"""Validity ranges of every physical input, σ that is zero or not finite, an ALP wider than
heavy, and the inputs that used to end in a traceback: a catalogue of bad inputs, each of
which must exit 2 before any work, naming the key, with no traceback and no output directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpgen.cli import main
from alpgen.limits import PRECISION_MIN

REPO = Path(__file__).resolve().parents[2]
C = REPO / "cards" / "thin_target_1p5TeV.toml"
CI = REPO / "cards" / "thin_target_1p5TeV_invisible.toml"
NA = REPO / "cards" / "na64mu_160GeV.toml"
FASER = REPO / "cards" / "fasernu2.toml"

# (command, card, overrides, words the message must contain)
CATALOGUE = {
    "energy_1e26": ("xsec", C, ["beam.energy=1e26"], ["beam.energy", "1e+08"]),
    "energy_1e300": ("xsec", C, ["beam.energy=1e300"], ["beam.energy"]),
    "energy_inf": ("xsec", C, ["beam.energy=inf"], ["beam.energy"]),
    "energy_nan": ("xsec", C, ["beam.energy=nan"], ["beam.energy"]),
    "C_over_Lambda_1e308": ("run", C, ["model.C_over_Lambda=1e308"], ["model.C_over_Lambda"]),
    "C_over_Lambda_zero": ("xsec", C, ["model.C_over_Lambda=0"], ["model.C_over_Lambda"]),
    "g_above_4pi": ("model", C, ["model.g=20"], ["model.g"]),
    "g_chi_1e200": ("run", NA, ["model.g_chi=1e200"], ["model.g_chi"]),
    "g_chi_width_above_mass": ("run", NA, ["model.g_chi=12"], ["model.g_chi", "width"]),
    "C_over_Lambda_width_above_mass": (
        "model",
        C,
        ["model.m_a=10", "model.C_over_Lambda=9000"],
        ["model.C_over_Lambda", "width", "above its mass"],
    ),
    "m_a_huge": ("xsec", C, ["model.m_a=1e5"], ["model.m_a"]),
    "m_chi_huge": ("model", NA, ["model.m_chi=1e6"], ["model.m_chi"]),
    "thickness_huge": ("xsec", C, ["target.thickness_cm=1e9"], ["target.thickness_cm"]),
    "thickness_zero": ("xsec", C, ["target.thickness_cm=0"], ["target.thickness_cm"]),
    "t_max_huge": ("xsec", C, ["production.t_max=1e9"], ["production.t_max"]),
    "precision_below_floor": ("run", C, ["production.precision=1e-9"], ["production.precision"]),
    "precision_half": ("xsec", C, ["production.precision=0.5"], ["production.precision"]),
    "output_dir_empty": ("run", C, ["output.dir="], ["output.dir", "empty"]),
    "below_threshold_digits": ("run", C, ["model.m_a=1.8825"], ["1.8825 GeV", "1.8825883755 GeV"]),
}


@pytest.mark.parametrize("case", sorted(CATALOGUE))
def test_catalogue_of_out_of_range_inputs(case, tmp_path, capsys, monkeypatch):
    command, card, overrides, words = CATALOGUE[case]
    monkeypatch.chdir(tmp_path)  # a default output directory would appear here
    argv = [command, str(card)]
    for o in overrides:
        argv += ["--set", o]
    if command == "run" and not any(o.startswith("output.dir") for o in overrides):
        argv += ["--set", f"output.dir={tmp_path / 'out'}"]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    assert list(tmp_path.iterdir()) == [], "no output may be left for bad input"


@pytest.mark.parametrize("value", ["1e-12", "1e-4", "0", "0.5", "2"])
def test_xsec_precision_has_the_card_range(value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["xsec", str(C), "--precision", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--precision" in err and f"{PRECISION_MIN:g}" in err


def test_precision_floor_is_the_same_for_card_and_option(capsys):
    """The floor itself is allowed by both (the card check runs first, so xsec stops there)."""
    from alpgen.card import load_card

    assert load_card(C, [f"production.precision={PRECISION_MIN}"]).production.precision == (
        PRECISION_MIN
    )


def test_zero_spectrum_exits_2(tmp_path, capsys):
    csv = tmp_path / "zero.csv"
    csv.write_text("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n10,0,0\n100,0,0\n")
    rc = main(["xsec", str(FASER), "--set", f"beam.spectrum={csv}"])
    err = capsys.readouterr().err
    assert rc == 2 and "beam.spectrum" in err and "0" in err and "Traceback" not in err


def test_card_with_byte_order_mark_is_accepted(tmp_path, capsys):
    card = tmp_path / "bom.toml"
    card.write_bytes(b"\xef\xbb\xbf" + C.read_bytes())
    assert main(["model", str(card), "--json"]) == 0


def test_spectrum_with_byte_order_mark_says_so(tmp_path, capsys):
    csv = tmp_path / "bom.csv"
    csv.write_bytes(b"\xef\xbb\xbfE_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n10,1,1\n100,1,1\n")
    rc = main(["xsec", str(FASER), "--set", f"beam.spectrum={csv}"])
    err = capsys.readouterr().err
    if rc != 0:  # accepted, or refused with the reason
        assert rc == 2 and "byte-order mark" in err, err


@pytest.mark.parametrize(("value", "words"), [(0.0, "vanishes"), (float("nan"), "not finite")])
def test_zero_or_non_finite_sigma_is_an_error(value, words, monkeypatch, capsys):
    import dataclasses

    import alpgen.production.integrator as integrator

    real = integrator.integrate

    def fake(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), sigma_pb=value)

    monkeypatch.setattr(integrator, "integrate", fake)
    rc = main(["xsec", str(C), "--precision", "0.05", "--json"])
    out, err = capsys.readouterr()
    assert rc == 2 and out == "" and words in err, err


def test_reach_solver_couplings_are_exempt_from_the_width_check():
    """The reach solver tries couplings far above the card's; they never build a card."""
    from alpgen.card import load_card

    card = load_card(C, ["model.m_a=10"])
    wide = card.alp_model(C_over_Lambda=9000.0)
    assert wide.width_total > card.model.m_a  # would be refused in a card
