"""Every JSON alpgen writes is strict JSON (no NaN, no Infinity): summary.json with and without
sensitivity, ``detect --json``, ``model --json`` of a stable ALP, ``xsec --json`` and
scan.json with a closed mass; undefined reach-like values are null and ``sensitivity`` is
``"ok"`` or ``"none"``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from alpgen.cli import main
from alpgen.io.jsonutil import dumps, json_safe

REPO = Path(__file__).resolve().parents[2]
C = REPO / "cards" / "thin_target_1p5TeV.toml"
CI = REPO / "cards" / "thin_target_1p5TeV_invisible.toml"
SMALL = ["--set", "run.events=300", "--set", "run.batch_size=300"]
SMALL += ["--set", "production.precision=0.05"]
REACH_LIKE = (
    "reach_C_over_Lambda_invTeV",
    "reach_C_over_Lambda_err_invTeV",
    "reach_fixed_br_invTeV",
    "reach_upper_C_over_Lambda_invTeV",
    "effective_fraction",
)


def _strict(text: str):
    def refuse(const):
        raise AssertionError(f"{const} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two real runs of C: the visible selection (sensitive) and the invisible one (not)."""
    out = {}
    for name, selection in (("ok", "visible_charge_flip"), ("none", "invisible")):
        d = tmp_path_factory.mktemp(name) / "out"
        argv = ["run", str(C), *SMALL, "--quiet", "--set", f"output.dir={d}"]
        argv += ["--set", f"detector.selection={selection}", "--set", 'output.formats=["hepmc3"]']
        assert main(argv) == 0
        out[name] = d
    return out


@pytest.mark.parametrize("name", ["ok", "none"])
def test_summary_json_is_strict_with_null_reach_where_undefined(runs, name):
    summary = _strict((runs[name] / "summary.json").read_text())
    det = summary["detector"]
    assert det["sensitivity"] == name
    if name == "none":
        for key in REACH_LIKE:
            assert det[key] is None, key
        # nothing selected: the counting gives up after 2×10⁴ events, not at the cap
        assert det["counting"]["stop"] == "no_selected_events"
        assert 20_000 <= det["counting"]["count_events"] < 20_000 + 300  # whole batches
    else:
        assert det["reach_C_over_Lambda_invTeV"] > 0


def test_detect_json_is_strict_without_sensitivity(runs, capsys):
    f = runs["none"] / "events.hepmc3"
    assert main(["detect", str(f), "--detector", "thin_target", "--json"]) == 0
    doc = _strict(capsys.readouterr().out)
    assert doc["sensitivity"] == "none" and doc["reach_fixed_br_invTeV"] is None


@pytest.mark.parametrize(
    ("argv", "null_key"),
    [
        (["model", str(C), "--set", "model.m_a=1.5", "--set", "decays.alp=auto"], "ctau_a_mm"),
        (["xsec", str(C), "--precision", "0.05"], None),
    ],
)
def test_command_json_is_strict(argv, null_key, capsys):
    assert main([*argv, "--json"]) == 0
    doc = _strict(capsys.readouterr().out)
    if null_key:
        assert doc[null_key] is None


def test_scan_json_is_strict_with_a_closed_mass(tmp_path, capsys):
    out = tmp_path / "scan"
    argv = ["scan", str(CI), "--masses", "2:60:2", "--set", "beam.energy=40"]
    argv += ["--set", "run.events=200", "--set", "production.precision=0.05", "--out", str(out)]
    # a 40 GeV beam hardly reaches a 2 cm τ decay length: no 2 % reach in a few events
    argv += ["--set", "run.max_count_events=5000"]
    assert main(argv) == 0, capsys.readouterr().err
    doc = _strict((out / "scan.json").read_text())
    closed = [p for p in doc["points"] if p["status"] == "closed"]
    assert closed, "the 60 GeV point should be closed at 40 GeV"


def test_json_safe_catalogue():
    import numpy as np

    values = {
        "nan": math.nan,
        "inf": math.inf,
        "-inf": -math.inf,
        "np_nan": np.float64("nan"),
        "array": np.array([1.0, np.inf]),
        "tuple": (1, math.nan),
        "nested": {"x": [math.inf]},
    }
    doc = _strict(dumps(values))
    assert doc == {
        "nan": None,
        "inf": None,
        "-inf": None,
        "np_nan": None,
        "array": [1.0, None],
        "tuple": [1, None],
        "nested": {"x": [None]},
    }
    assert json_safe(np.int64(3)) == 3
