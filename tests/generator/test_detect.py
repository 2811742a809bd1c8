"""``alpgen detect`` on a real run's HepMC3 file reproduces that run's detector summary.

A run with ``variance_reduction = "none"`` that counts no events beyond those it writes (the
end-to-end runs of tests/conftest.py) counts exactly the events of its files, so ``alpgen
detect`` on its ``events.hepmc3`` with the card's detector section must give the same
efficiency, signal and reach as ``summary.json`` (exactly, up to the float round trip of the
file). With the default counting (forced decays redrawn on the run's hard events, counting on
to the target precision) the two agree within their combined MC errors. Cards: every
experiment, a card with ``model.g`` instead of ``model.C_over_Lambda`` (the coupling the
reach is quoted in must come from the file's run metadata, not a default of 1 TeV⁻¹), the
spectrum beam of FASERν2 and a polarized beam. A HepMC3 file without alpgen's run metadata
needs the coupling on the command line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyhepmc
import pytest

from alpgen.cli import main
from alpgen.constants import M_TAU

#: (card stem, extra overrides) of the runs checked
CASES = {
    "thin_target": ("thin_target_1p5TeV", ()),
    "thin_target_2mm": ("thin_target_1p5TeV_2mm", ()),
    "thin_target_invisible": ("thin_target_1p5TeV_invisible", ()),
    "na64mu": ("na64mu_160GeV", ()),
    "fasernu2_spectrum": ("fasernu2", ()),
    "model_g": ("thin_target_1p5TeV", ("model.g=0.0035",)),
    "polarized_beam": ("na64mu_160GeV", ("beam.polarization=-0.8",)),
}


def _detect(path: Path, detector: dict, capsys, *extra: str) -> tuple[int, dict | str]:
    argv = ["detect", str(path), "--detector", detector["name"], "--json"]
    for key, value in detector.items():
        if key != "name":
            argv += ["--set", f"detector.{key}={json.dumps(value)}"]
    for item in extra:
        argv += ["--set", item]
    capsys.readouterr()
    rc = main(argv)
    cap = capsys.readouterr()
    return rc, (json.loads(cap.out) if rc == 0 else cap.err)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_detect_reproduces_the_run(case, card_run, capsys):
    stem, overrides = CASES[case]
    out = card_run(stem, *overrides)
    summary = json.loads((out / "summary.json").read_text())
    run_det = summary["detector"]
    rc, det = _detect(out / summary["files"]["hepmc3"], summary["card"]["detector"], capsys)
    assert rc == 0, det
    # the coupling is the run's, whatever form the card gave it in
    c_run = summary["model"]["C_over_Lambda_invTeV"]
    assert det["coupling_C_over_Lambda"] == pytest.approx(c_run, rel=1e-12)
    assert run_det["coupling_C_over_Lambda"] == pytest.approx(c_run, rel=1e-12)
    assert det["n_generated"] == run_det["n_generated"] == summary["events"]
    assert det["n_mc_selected"] == run_det["n_mc_selected"]
    assert run_det["n_mc_selected"] > 0, "the check needs selected events"
    for key in (
        "efficiency",
        "efficiency_error",
        "signal_events",
        "signal_per_mot",
        "produced_events",
        "n_limit",
        "reach_C_over_Lambda_invTeV",
        "reach_C_over_Lambda_err_invTeV",
        "reach_fixed_br_invTeV",
    ):
        assert det[key] == pytest.approx(run_det[key], rel=1e-9, abs=0.0), key
    for row_det, row_run in zip(det["cutflow"], run_det["cutflow"], strict=True):
        assert row_det["cut"] == row_run["cut"]
        assert row_det["n_mc"] == row_run["n_mc"]
    if case == "model_g":
        # g = C m_τ / Λ (paper couplings): C/Λ = 0.0035 / m_τ[TeV] = 1.97 TeV⁻¹, not 1
        assert det["coupling_C_over_Lambda"] == pytest.approx(0.0035 / (M_TAU * 1e-3))
        assert "model.g" in det["coupling_source"]
    else:
        assert "model.C_over_Lambda" in det["coupling_source"]


def _strip_metadata(src: Path, dst: Path) -> None:
    """Copy a HepMC3 file without alpgen's run info (as another generator would write it)."""
    with pyhepmc.open(src) as f, pyhepmc.open(dst, "w") as g:
        for event in f:
            ri = pyhepmc.GenRunInfo()
            event.run_info = ri
            g.write(event)


def test_detect_without_run_metadata_needs_the_coupling(thin_target_run, capsys, tmp_path):
    summary = json.loads((thin_target_run / "summary.json").read_text())
    foreign = tmp_path / "foreign.hepmc3"
    _strip_metadata(thin_target_run / summary["files"]["hepmc3"], foreign)
    det = dict(summary["card"]["detector"])
    det.update(target_material="Pb", target_thickness_cm=2.0)
    sigma = ["--sigma-pb", repr(summary["sigma_pb"])]

    argv = ["detect", str(foreign), "--detector", "thin_target", "--json", *sigma]
    for key, value in det.items():
        if key != "name":
            argv += ["--set", f"detector.{key}={json.dumps(value)}"]
    capsys.readouterr()
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert "model.C_over_Lambda" in err and "Traceback" not in err

    # with the coupling given, the same numbers as the run
    rc = main([*argv, "--set", f"model.C_over_Lambda={summary['model']['C_over_Lambda_invTeV']}"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    d = json.loads(cap.out)
    run_det = summary["detector"]
    assert d["coupling_source"].startswith("--set")
    for key in ("efficiency", "signal_events", "reach_C_over_Lambda_invTeV"):
        assert d[key] == pytest.approx(run_det[key], rel=1e-9), key
    # the reach scales as C/Λ: twice the reference coupling, twice the reach
    rc = main([*argv, "--set", "model.C_over_Lambda=2.0"])
    d2 = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert d2["reach_C_over_Lambda_invTeV"] == pytest.approx(
        2.0 * run_det["reach_C_over_Lambda_invTeV"], rel=1e-9
    )
    assert math.isfinite(d2["reach_C_over_Lambda_invTeV"])


def test_detect_text_names_the_coupling(card_run, capsys):
    out = card_run("thin_target_1p5TeV", "model.g=0.0035")
    summary = json.loads((out / "summary.json").read_text())
    capsys.readouterr()
    det = summary["card"]["detector"]
    argv = ["detect", str(out / summary["files"]["hepmc3"]), "--detector", det["name"]]
    rc = main([*argv, "--set", f"detector.selection={det['selection']}"])
    text = capsys.readouterr().out
    assert rc == 0
    c = summary["model"]["C_over_Lambda_invTeV"]
    assert f"C/Lambda = {c:g} TeV^-1" in text
    assert "model.g" in text


#: the default counting on top of the end-to-end runs' settings
AUTO = ("run.variance_reduction=auto", "run.max_count_events=200000")


@pytest.mark.parametrize(
    "stem", ["thin_target_1p5TeV", "thin_target_1p5TeV_invisible", "na64mu_160GeV"], ids=str
)
def test_detect_agrees_with_the_default_counting(stem, card_run, capsys):
    """The run's forced, biased counting and ``detect`` on the run's physical events agree
    within their combined MC errors; the run reaches the 2 % target on the reach and counted
    at least the events it wrote."""
    out = card_run(stem, *AUTO)
    summary = json.loads((out / "summary.json").read_text())
    run_det = summary["detector"]
    counting = run_det["counting"]
    assert counting["variance_reduction"] == "auto"
    assert counting["stop"] == "target_precision"
    assert run_det["n_generated"] == counting["count_events"] >= summary["events"]
    rel = run_det["reach_C_over_Lambda_err_invTeV"] / run_det["reach_C_over_Lambda_invTeV"]
    assert rel <= 0.02
    rc, det = _detect(out / summary["files"]["hepmc3"], summary["card"]["detector"], capsys)
    assert rc == 0, det
    assert det["n_generated"] == summary["events"]  # the file holds exactly [run] events
    if det["n_mc_selected"] == 0:  # a handful expected for the thin target: cannot compare
        assert run_det["efficiency"] < 5.0 / summary["events"]
        return
    for key, err in (
        ("efficiency", "efficiency_error"),
        ("reach_C_over_Lambda_invTeV", "reach_C_over_Lambda_err_invTeV"),
    ):
        pull = (det[key] - run_det[key]) / math.hypot(det[err], run_det[err])
        assert abs(pull) < 4.0, (key, det[key], run_det[key], pull)
