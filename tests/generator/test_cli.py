"""The ``alpgen`` command line: help, version, ``model --json``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from alpgen import __version__
from alpgen.cli import main

CARD = Path(__file__).resolve().parents[2] / "cards" / "thin_target_1p5TeV.toml"


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("run", "xsec", "model", "scan", "detect"):
        assert cmd in out


def test_console_script_entry_point():
    res = subprocess.run(
        [sys.executable, "-m", "alpgen.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0 and "alpgen" in res.stdout


def test_model_json(capsys):
    assert (
        main(
            [
                "model",
                str(CARD),
                "--json",
                "--set",
                "model.theta=1.5707963267948966",
                "--set",
                "model.m_a=10",
            ]
        )
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    for key in (
        "m_a_GeV",
        "g_mutau",
        "width_mu_minus_tau_plus_GeV",
        "width_mu_plus_tau_minus_GeV",
        "width_chichi_GeV",
        "width_total_GeV",
        "ctau_a_mm",
        "br_visible",
        "br_invisible",
        "delta_a_mu",
        "g2_band_C_over_Lambda_invTeV",
    ):
        assert key in d
    # paper convention, θ = π/2, m_a = 10 GeV: Γ_one = g² m_a/(8π) (1 − m_τ²/m_a²)² up to m_μ
    g = d["g_mutau"]
    approx = g**2 * 10 / (8 * math.pi) * (1 - (1.77693 / 10) ** 2) ** 2
    assert d["width_mu_minus_tau_plus_GeV"] == pytest.approx(approx, rel=0.03)
    assert d["width_total_GeV"] == pytest.approx(2 * d["width_mu_plus_tau_minus_GeV"])
    assert d["br_visible"] == 1.0 and d["br_invisible"] == 0.0
    # cτ = ħc/Γ
    assert d["ctau_a_mm"] == pytest.approx(1.973269804e-13 / d["width_total_GeV"], rel=1e-9)
    lo, hi = d["g2_band_C_over_Lambda_invTeV"]
    assert 0 < lo < hi


def test_model_table(capsys):
    """The table shows the same numbers as ``model --json`` (6 significant digits)."""
    assert main(["model", str(CARD), "--json"]) == 0
    ref = json.loads(capsys.readouterr().out)
    assert main(["model", str(CARD)]) == 0
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 2 and cells[0] in ref:
            rows[cells[0]] = cells[1]
    numeric = {k: v for k, v in ref.items() if isinstance(v, float | int) and v is not True}
    assert set(numeric) <= set(rows)
    for key, value in numeric.items():
        assert float(rows[key]) == pytest.approx(value, rel=1e-5, abs=1e-300), key
    lo, hi = ref["g2_band_C_over_Lambda_invTeV"]
    assert rows["g2_band_C_over_Lambda_invTeV"] == f"[{lo:.4g}, {hi:.4g}]"
