"""The background estimate through the detector and the reach with background, on what users
get: ``alpgen run``'s summary.json, ``alpgen scan``'s scan.csv and ``alpgen background --json``."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from alpgen.background.estimate import poisson_mean_upper
from alpgen.cli import main
from alpgen.detectors.counting import signal_limit

ROOT = Path(__file__).resolve().parents[3]
INVISIBLE = str(ROOT / "cards" / "thin_target_1p5TeV_invisible.toml")
SMALL = [
    "--set",
    "run.events=1000",
    "--set",
    "run.max_count_events=2000",
    "--set",
    "run.batch_size=1000",
    "--set",
    "production.precision=0.02",
    "--set",
    "background.events=600",
]
WITH_BKG = ["--set", 'background.processes=["sm_tautau"]']


@pytest.fixture(scope="module")
def run_with_background(tmp_path_factory):
    out = tmp_path_factory.mktemp("bkg") / "run"
    sets = [*SMALL, *WITH_BKG, "--set", f"output.dir={out}", "--set", 'output.formats=["lhe"]']
    assert main(["run", INVISIBLE, "--quiet", *sets]) == 0
    return json.loads((out / "summary.json").read_text())


def test_poisson_mean_upper():
    assert math.isclose(poisson_mean_upper(0), -math.log(0.05), rel_tol=1e-9)
    # k = 3: the classical 95 % CL upper limit 7.75 (PDG table 40.3)
    assert math.isclose(poisson_mean_upper(3), 7.754, rel_tol=1e-3)


def test_summary_has_background_and_reach_with_it(run_with_background):
    s = run_with_background
    bkg, det = s["background"], s["detector"]
    (tt,) = bkg["processes"]
    assert tt["process"] == "sm_tautau" and tt["n_generated"] == 600
    b = bkg["total"]["expected_events"]
    assert b == tt["expected_events"] > 0.0  # τ⁻ → 3 prongs beyond 2 cm, muon not vetoed
    # the normalisation is the signal's: produced = MOT n_T L σ
    assert math.isclose(
        tt["produced_events"], det["mot"] * det["number_density_cm3"] * 2.0 * tt["sigma_pb"] * 1e-36
    )
    # invisible ALP: N ∝ (C/Λ)² exactly, so the reach scales as √N_limit
    r0, rb = det["reach_C_over_Lambda_invTeV"], det["reach_with_background_C_over_Lambda_invTeV"]
    assert det["n_limit"] == 3.0
    assert math.isclose(rb / r0, math.sqrt(signal_limit(b) / 3.0), rel_tol=1e-6)
    assert det["reach_with_background_C_over_Lambda_err_invTeV"] > 0.0


def test_background_json_keys_and_required_rejection(capsys):
    rc = main(["background", INVISIBLE, "--json", *SMALL, *WITH_BKG])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    keys = {
        "process",
        "sigma_pb",
        "sigma_err_pb",
        "expected_events",
        "expected_events_err",
        "expected_events_upper95",
        "required_rejection",
    }
    (p,) = out["processes"]
    assert keys <= set(p) and keys <= set(out["total"])
    if p["n_mc_passed"]:
        assert p["required_rejection"] == max(1.0, p["expected_events"])
    else:
        assert p["required_rejection"] == max(1.0, p["expected_events_upper95"])
    assert p["expected_events_upper95"] > p["expected_events"]


def test_unknown_background_process_exits_2(capsys):
    rc = main(["background", INVISIBLE, "--set", 'background.processes=["sm_ee"]'])
    assert rc == 2 and "background.processes" in capsys.readouterr().err


def test_sm_process_card_with_a_missing_spectrum_exits_2(tmp_path, capsys):
    card = str(ROOT / "cards" / "fasernu2.toml")
    missing = f"beam.spectrum={tmp_path / 'nowhere.csv'}"
    rc = main(["xsec", card, "--set", "process.name=sm_tautau", "--set", missing])
    err = capsys.readouterr().err
    assert rc == 2 and "beam.spectrum" in err and "nowhere.csv" in err


def test_scan_csv_gains_reach_with_background(tmp_path):
    out = tmp_path / "scan"
    rc = main(["scan", INVISIBLE, "--masses", "2:2:1", "--out", str(out), *SMALL, *WITH_BKG])
    assert rc == 0
    (row,) = list(csv.DictReader((out / "scan.csv").open()))
    r0 = float(row["reach_C_over_Lambda_invTeV"])
    rb = float(row["reach_with_background_C_over_Lambda_invTeV"])
    assert rb > r0 > 0.0 and float(row["reach_with_background_C_over_Lambda_err_invTeV"]) > 0
    meta = json.loads((out / "scan.json").read_text())
    assert meta["background"]["processes"][0]["process"] == "sm_tautau"


def test_sm_scan_is_refused(capsys):
    rc = main(["scan", INVISIBLE, "--masses", "2:2:1", "--set", "process.name=sm_tautau"])
    assert rc == 2 and "process.name" in capsys.readouterr().err
