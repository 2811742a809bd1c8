"""Run-card validation: every bad card exits with status 2 and a message naming key and value."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from alpgen.card import (
    CardError,
    apply_overrides,
    load_card,
    parse_set,
    production_threshold,
)
from alpgen.cli import main
from alpgen.constants import M_MU, M_TAU
from alpgen.production.process import global_t_min
from alpgen.targets import get_target

REPO = Path(__file__).resolve().parents[2]
CARD = REPO / "cards" / "thin_target_1p5TeV.toml"


def test_reference_card_parses():
    card = load_card(CARD)
    assert card.beam.particle == "mu-"
    assert card.beam.energy == 1500.0
    assert card.target.material == "Pb"
    assert card.model.theta == pytest.approx(math.pi / 4)
    model = card.alp_model()
    # paper convention: g = C m_τ/Λ, C/Λ = 1 TeV⁻¹ → 1.777e-3 (physics.md §1.2)
    assert model.g == pytest.approx(1.777e-3, rel=1e-3)
    assert card.production.form_factors == ("coherent", "incoherent")


def test_set_overrides_are_toml_values():
    assert parse_set("model.theta=0.785") == ("model", "theta", 0.785)
    assert parse_set('production.form_factors=["coherent"]') == (
        "production",
        "form_factors",
        ["coherent"],
    )
    assert parse_set("decays.alp=visible") == ("decays", "alp", "visible")
    card = load_card(CARD, ["model.g=0.003"])
    assert card.model.g == 0.003 and card.model.C_over_Lambda is None
    card = load_card(CARD, ["model.g=0.003", "model.C_over_Lambda=2"])
    assert card.model.g is None and card.model.C_over_Lambda == 2.0


def test_overrides_do_not_mutate_document():
    doc = {"model": {"m_a": 2.0}}
    new = apply_overrides(doc, ["model.m_a=3"])
    assert doc["model"]["m_a"] == 2.0 and new["model"]["m_a"] == 3


def test_thresholds_by_hand():
    pb = get_target("Pb")
    # E_thr = ((M + m_τ + m_a)² − m_μ² − M²)/(2M) ≈ m_τ + m_a for a heavy nucleus
    e = production_threshold(M_MU, M_TAU, 2.0, pb.nucleus_mass)
    assert e == pytest.approx(M_TAU + 2.0, rel=0.02)
    assert e > M_TAU + 2.0
    # physics.md §5.3: E = 1.5 TeV, m_a = 2 GeV → t_min = 2.26e-5 GeV²
    assert global_t_min(1500.0, M_MU, M_TAU, 2.0, pb.nucleus_mass) == pytest.approx(
        2.26e-5, rel=5e-3
    )
    # §6.4: (m_a²/2E)² = 1 GeV² at m_a = 44.7 GeV, E = 1 TeV (m_τ ≪ m_a limit)
    assert global_t_min(1000.0, 0.0, 0.0, 44.72, 1e9) == pytest.approx(1.0, rel=1e-3)


# (overrides, words the message must contain)
BAD = [
    (["run.events=0"], ["run.events", "0"]),
    (["run.events=-5"], ["run.events"]),
    (["run.events=1e9"], ["run.events", "wrong type"]),
    (["run.events=200000000"], ["run.events", "100000000"]),
    (["run.seed=-1"], ["run.seed"]),
    (["run.colour=3"], ["run.colour", "unknown key"]),
    (["beam.particle=pi-"], ["beam.particle", "pi-", "mu-"]),
    (["beam.energy=-1500"], ["beam.energy", "-1500", "> 0"]),
    (["beam.energy=0"], ["beam.energy", "> 0"]),
    (["beam.energy=abc"], ["beam.energy", "wrong type", "number"]),
    (["beam.energy=3.0"], ["beam.energy", "threshold"]),
    # --set beam.spectrum replaces beam.energy (as model.g replaces C/Λ): the file must exist
    (["beam.spectrum=flux.csv"], ["beam.spectrum", "flux.csv"]),
    (["beam.polarization=2"], ["beam.polarization", "[-1, 1]"]),
    (["target.material=Xx"], ["target.material", "Xx", "Pb"]),
    (["target.thickness_cm=0"], ["target.thickness_cm"]),
    (["model.m_a=-2"], ["model.m_a", "> 0"]),
    (["model.m_a=0"], ["model.m_a"]),
    (["model.m_a=1.5"], ["model.m_a", "visible", "1.88"]),
    (["model.theta=4"], ["model.theta", "3.14"]),
    (["model.theta=-0.1"], ["model.theta"]),
    (["model.couplings=exotic"], ["model.couplings", "paper", "exact"]),
    (["model.g=0.002", "model.couplings=exact"], ["model.g", "exact", "C_over_Lambda"]),
    (["model.m_chi=0.1", "model.g_chi=-1"], ["model.g_chi", "≥ 0"]),
    (["decays.alp=invisible"], ["model.m_chi", "required"]),
    (["decays.alp=invisible", "model.m_chi=1.2", "model.g_chi=1"], ["model.m_chi", "2 m_chi"]),
    (["decays.alp=invisible", "model.m_chi=0.5", "model.g_chi=0"], ["model.g_chi", "> 0"]),
    (["decays.alp=everything"], ["decays.alp", "auto", "visible"]),
    (['decays.tau=["nonsense"]'], ["decays.tau", "nonsense"]),
    (["decays.tau=some"], ["decays.tau"]),
    (["production.lepton_out=mu"], ["production.lepton_out", "flavour"]),
    (["production.lepton_out=nu"], ["production.lepton_out", "tau"]),
    (['production.form_factors=["elastic"]'], ["production.form_factors", "coherent"]),
    (["production.form_factors=[]"], ["production.form_factors", "non-empty"]),
    (["production.t_max=1e-6"], ["production.t_max", "t_min"]),
    (["production.atomic_screening=1"], ["production.atomic_screening", "true/false"]),
    (["production.coherent_norm=A"], ["production.coherent_norm", "Z-1"]),
    (['output.formats=["csv"]'], ["output.formats", "hepmc3"]),
    (["detectorx.name=foo"], ["detectorx", "unknown section"]),
    (["model"], ["section.key=value"]),
    (["model.m_a.x=3"], ["section.key"]),
]


@pytest.mark.parametrize(("overrides", "words"), BAD, ids=[" ".join(o) for o, _ in BAD])
def test_bad_card_exits_2_with_clear_message(overrides, words, capsys):
    argv = ["model", str(CARD)]
    for o in overrides:
        argv += ["--set", o]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("alpgen: error:")
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_model_and_g_both_given(tmp_path):
    text = CARD.read_text().replace("C_over_Lambda = 1.0", "C_over_Lambda = 1.0\ng = 0.002")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(CardError, match=r"model.C_over_Lambda.*exactly one"):
        load_card(bad)


def test_missing_required_key(tmp_path):
    text = CARD.read_text().replace("m_a = 2.0", "")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(CardError, match=r"model.m_a.*required"):
        load_card(bad)


def test_missing_and_malformed_card_files(tmp_path, capsys):
    assert main(["model", str(tmp_path / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\nm_a = 2")
    assert main(["model", str(broken)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
