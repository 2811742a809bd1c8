"""Every selection's efficiency on a small real ``alpgen run`` against an independent number
computed from that run's own event record.

The hand-made batches of tests/detectors/conftest.py test single functions; here the events are
what users get (the run's HepMC3 file and its ``summary.json``). The reference for each
selection is a per-event pass probability p_i computed from the record's τ momenta and
helicities with textbook physics, not with the detector code:

* τ survival to a distance d: exp(−d/λ), λ = |p⃗| cτ/m_τ (cτ, m_τ from tests/data);
* B₃ (exclusive 3-prong topology) and B_μ from tests/data/tau_decay_reference.csv (LEP average);
* the muon of τ⁻ → μ⁻νν with helicity h in the collinear limit (E_τ ≫ m_τ): P(x < x₀) =
  (5x₀ − 3x₀³ + x₀⁴)/3 + h (x₀ − 3x₀³ + 2x₀⁴)/3, x = E_μ/E_τ;
* the charge flip: BR(a → μ⁺τ⁻) = BR(a → μ⁻τ⁺) = ½.

The selected count is then compared with Σp_i within 4 standard deviations (Σp_i(1 − p_i)).
Forced decays (``decays.tau`` = the 3-prong channels) keep the thin-target visible selection
statistically useful at a few thousand events; the weights must then be B₃² per event.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from alpgen.cli import main
from alpgen.constants import CTAU_TAU_MM, M_TAU
from alpgen.events import SLOT_LEPTON
from alpgen.io.hepmc import read_hepmc3

REF = Path(__file__).resolve().parents[1] / "data" / "tau_decay_reference.csv"
THREE_PRONG = '["tau->3pi nu", "tau->3pi pi0 nu", "tau->other 3prong"]'
N_SIGMA = 4.0


def _reference() -> dict[str, float]:
    rows = [r for r in REF.read_text().splitlines() if not r.startswith("#")]
    return {r["quantity"]: float(r["value"]) for r in csv.DictReader(rows)}


_REF = _reference()
B3 = 0.5 * (_REF["BR(3-prong) L3"] + _REF["BR(3-prong) DELPHI"])
B_MU = _REF["BR(tau->mu nu nu)"]
CTAU = _REF["c_tau"] * 1e-3  # µm → mm


def _load(out: Path):
    summary = json.loads((out / "summary.json").read_text())
    return summary, read_hepmc3(out / summary["files"]["hepmc3"])


def _survival(p3: np.ndarray, d_mm: float) -> np.ndarray:
    lam = np.linalg.norm(p3, axis=-1) * CTAU / M_TAU
    return np.exp(-d_mm / lam)


def _all_taus(batch) -> np.ndarray:
    """[N, 2, 3] momenta of the two τ of visible events (produced, from the ALP)."""
    is_tau = np.abs(batch.pid) == 15
    assert np.all(is_tau.sum(axis=1) == 2)
    rows, slots = np.nonzero(is_tau)
    return batch.p[rows, slots, :3].reshape(len(batch), 2, 3)


def _compare(n_selected: int, p: np.ndarray) -> None:
    expected = float(p.sum())
    sigma = math.sqrt(float((p * (1 - p)).sum()))
    assert expected > 25, "the check needs a few dozen expected events"
    assert abs(n_selected - expected) < N_SIGMA * sigma, (n_selected, expected, sigma)


def test_reference_constants_match_the_generator():
    assert CTAU == pytest.approx(CTAU_TAU_MM, rel=1e-3)
    assert B3 == pytest.approx(0.1456, abs=2e-4)


@pytest.mark.parametrize("stem", ["thin_target_1p5TeV", "thin_target_1p5TeV_2mm"])
def test_thin_target_visible_charge_flip(card_run, stem):
    """ε = ½ B₃² ⟨exp(−d/λ₁) exp(−d/λ₂)⟩ (d = resolution_mm) with both τ forced to 3 prongs."""
    summary, batch = _load(card_run(stem, f"decays.tau={THREE_PRONG}"))
    det = summary["detector"]
    d = summary["card"]["detector"]["resolution_mm"]
    np.testing.assert_allclose(batch.weight, B3**2, rtol=2e-3)  # forced BRs in the weights
    s = _survival(_all_taus(batch), d)
    p = 0.5 * s[:, 0] * s[:, 1]
    _compare(det["n_mc_selected"], p)
    assert det["efficiency"] == pytest.approx(det["n_mc_selected"] * B3**2 / len(batch), rel=2e-3)


def test_thin_target_invisible(card_run):
    """ε = B₃ ⟨exp(−d/λ)⟩ for the produced τ (inclusive decays, invisible ALP)."""
    summary, batch = _load(card_run("thin_target_1p5TeV_invisible"))
    d = summary["card"]["detector"]["resolution_mm"]
    p = B3 * _survival(batch.p[:, SLOT_LEPTON, :3], d)
    _compare(summary["detector"]["n_mc_selected"], p)


def _muon_cdf(x0: np.ndarray, h: np.ndarray) -> np.ndarray:
    x0 = np.clip(x0, 0.0, 1.0)
    return (5 * x0 - 3 * x0**3 + x0**4) / 3 + h * (x0 - 3 * x0**3 + 2 * x0**4) / 3


@pytest.mark.parametrize("overrides", [(), ("beam.polarization=-0.8",)], ids=["unpol", "pol"])
def test_na64mu_invisible(card_run, overrides):
    """ε = B_μ ⟨P(E_μ < 80 GeV | E_τ, h)⟩ with the record's τ energy and helicity."""
    summary, batch = _load(card_run("na64mu_160GeV", *overrides))
    e_max = 80.0
    assert summary["card"]["detector"].get("muon_energy_max", e_max) == e_max
    assert np.all(batch.pid[:, SLOT_LEPTON] == 15)  # μ⁻ beam: τ⁻
    e_tau = batch.p[:, SLOT_LEPTON, 3]
    h = batch.spin[:, SLOT_LEPTON]
    p = B_MU * _muon_cdf(e_max / e_tau, h)
    _compare(summary["detector"]["n_mc_selected"], p)


def test_fasernu2_chain(card_run):
    """ε = B_μ ⟨exp(−2 mm/λ)⟩ for μ⁺ and μ⁻ beams alike."""
    summary, batch = _load(card_run("fasernu2"))
    d = summary["card"]["detector"]["resolution_mm"]
    p = B_MU * _survival(batch.p[:, SLOT_LEPTON, :3], d)
    _compare(summary["detector"]["n_mc_selected"], p)


@pytest.mark.parametrize(
    "stem", ["thin_target_1p5TeV", "thin_target_1p5TeV_invisible", "na64mu_160GeV"]
)
def test_ultimate(card_run, capsys, stem):
    """'ultimate' on the same files via ``alpgen detect``: visible ALPs keep the charge-flip
    half (BR(a → μ⁺τ⁻) = ½), invisible ones all pass; the invisible cards force a → χχ̄, so
    ε = BR(a → χχ̄) exactly (the model's, from ``alpgen model``)."""
    out = card_run(stem)
    summary = json.loads((out / "summary.json").read_text())
    name = summary["card"]["detector"]["name"]
    capsys.readouterr()
    rc = main(
        [
            "detect",
            str(out / summary["files"]["hepmc3"]),
            "--detector",
            name,
            "--json",
            "--set",
            "detector.selection=ultimate",
        ]
    )
    det = json.loads(capsys.readouterr().out)
    assert rc == 0
    n = det["n_generated"]
    if summary["card"]["decays"]["alp"] == "invisible":
        assert det["efficiency"] == pytest.approx(summary["model"]["br_invisible"], rel=1e-12)
    else:
        assert summary["model"]["br_visible"] == 1.0
        assert abs(det["efficiency"] - 0.5) < N_SIGMA * math.sqrt(0.25 / n)
