"""Integrated trident cross sections against independent numbers (physics.md §8.2–8.3).

Modest precision here (1–2 %); scripts/validate_tridents.py runs the tighter versions and writes
the table of docs/backgrounds.md. Every comparison can fail:

* Furry: σ(μ⁺) = σ(μ⁻) for τ⁺τ⁻, and the BH × radiation interference integrates to zero;
* equivalent photons: exact σ(μA → μAℓℓ) vs ∫ n_μ(ω) σ_exact(γA → ℓℓA) within 25 % at 1.5 TeV
  on Pb for ττ and μμ, with Q²_max = (2m_ℓ)² (the pair-mass threshold); the band
  m_ℓ² ≤ Q²_max ≤ 16 m_ℓ² must bracket the exact result;
* μ⁺μ⁻: Kelner–Kokoulin–Petrukhin (as published, 4/3π with 0 < ρ < ρ_max) within 10 % in the
  bulk 0.01 < v < 0.5 at 160 GeV and 1.5 TeV on Pb;
* e⁺e⁻: b_pair in lead within 10 % of the Groom–Mokhov–Striganov values at 100 GeV and 1 TeV.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from alpgen.constants import AVOGADRO, M_MU, M_TAU, PB_TO_CM2
from alpgen.production.trident import trident_cross_section
from alpgen.production.trident.references import (
    b_pair_kp,
    epa_cross_section,
    kkp_mumu_sigma_pb,
)
from alpgen.targets import get_target

pytestmark = pytest.mark.slow


def _close(a: float, ea: float, b: float, eb: float, nsig: float = 3.5) -> bool:
    return abs(a - b) < nsig * math.hypot(ea, eb)


@pytest.fixture(scope="module")
def tau_1500() -> dict[str, Any]:
    """σ(μ^± Pb → μ^± Pb τ⁺τ⁻) at 1.5 TeV: both beams, and the μ⁻ beam's diagram classes."""
    kw = {"precision": 0.01}
    return {
        "minus": trident_cross_section(13, 1500.0, "tau", "Pb", seed=1, **kw),
        "plus": trident_cross_section(-13, 1500.0, "tau", "Pb", seed=2, **kw),
        "bh": trident_cross_section(13, 1500.0, "tau", "Pb", seed=3, diagrams="bh", **kw),
        "rad": trident_cross_section(13, 1500.0, "tau", "Pb", seed=4, diagrams="rad", **kw),
    }


def test_furry_tau_pairs(tau_1500: dict[str, Any]) -> None:
    """σ(μ⁺ Pb → μ⁺ Pb τ⁺τ⁻) = σ(μ⁻ ...) and σ_all − σ_BH − σ_rad (the interference) = 0 within
    MC errors, at 1.5 TeV (measured: 4883 ± 9 vs 4893 ± 10 pb; interference < 0.3 % of σ)."""
    m, p, bh, rad = (tau_1500[k] for k in ("minus", "plus", "bh", "rad"))
    assert _close(m.sigma_pb, m.sigma_err_pb, p.sigma_pb, p.sigma_err_pb)
    interference = m.sigma_pb - bh.sigma_pb - rad.sigma_pb
    err = math.sqrt(m.sigma_err_pb**2 + bh.sigma_err_pb**2 + rad.sigma_err_pb**2)
    assert abs(interference) < 3.5 * err
    # and the split is physical: BH dominates, radiation is a ~7 % part
    assert 0.02 < rad.sigma_pb / m.sigma_pb < 0.2


#: The paper's τ pairs (physics.md §8.2): 2.1×10⁵ in 2 cm of lead at 1.5 TeV for 10¹⁶ MOT.
PAPER_TAU_PAIRS, PAPER_MOT, PAPER_L_CM = 2.1e5, 1e16, 2.0


def test_paper_tau_pairs(tau_1500: dict[str, Any]) -> None:
    """Ratio to the paper's ≈ 2.1×10⁵ τ pairs (≈ 320 pb). Expected pairs N = σ n_A L × MOT
    (n_A from alpgen.targets). The exact σ is ≈ 15 × the paper's; the two radiation diagrams
    alone (the signal's topology with the ALP replaced by a time-like γ* → τ⁺τ⁻) reproduce it
    (measured 4883 ± 9 pb → 3.2×10⁶ pairs, ratio 15.3; radiation only 346 ± 1 pb → 2.3×10⁵,
    ratio 1.08): the paper's estimate most likely kept only that topology."""
    tg = get_target("Pb")
    lumi_per_pb = tg.number_density * PAPER_L_CM * PAPER_MOT * PB_TO_CM2  # pb⁻¹
    assert PAPER_TAU_PAIRS / lumi_per_pb == pytest.approx(320.0, rel=0.03)  # physics.md's 320 pb
    n_all = tau_1500["minus"].sigma_pb * lumi_per_pb
    n_rad = tau_1500["rad"].sigma_pb * lumi_per_pb
    assert 10.0 < n_all / PAPER_TAU_PAIRS < 25.0
    assert n_rad / PAPER_TAU_PAIRS == pytest.approx(1.0, abs=0.2)


@pytest.mark.parametrize(("lepton", "m"), [("tau", M_TAU), ("mu", M_MU)])
def test_equivalent_photons(lepton: str, m: float) -> None:
    """Exact σ(μ Pb → μ Pb ℓℓ) at 1.5 TeV vs the equivalent-photon fold of the exact
    σ(γ Pb → ℓℓ Pb), same form factors and t ≤ 1 GeV². Measured (Q²_max = 4m², m², 16m²):
    ττ exact/EPA = 0.90 (1.14, 0.75); μμ 0.99 (1.30, 0.78)."""
    exact = trident_cross_section(13, 1500.0, lepton, "Pb", precision=0.01, seed=7)
    q2 = [4 * m * m, m * m, 16 * m * m]
    epa, _ = epa_cross_section(1500.0, lepton, "Pb", q2, n_nodes=12, precision=0.015, seed=8)
    assert exact.sigma_pb == pytest.approx(epa[0], rel=0.25)
    assert epa[2] < exact.sigma_pb < epa[1] or epa[1] < exact.sigma_pb < epa[2]


@pytest.mark.parametrize("v_max", [0.5, 1.0])
@pytest.mark.parametrize("E", [160.0, 1500.0])
def test_mumu_vs_kkp(E: float, v_max: float) -> None:
    """0.01 < v < v_max (v = energy lost by the leading μ⁻ / E): exact (coherent + incoherent,
    t ≤ 1 GeV²) vs KKP within 10 %, in the bulk (v < 0.5) and for the whole v > 0.01 (issue 14's
    bullet). Measured exact/KKP: 0.933 (bulk) and 0.903 (v > 0.01) at 160 GeV, 0.971 and 0.948
    at 1.5 TeV; the parametrisation is harder than the exact result near v → 1. Geant4's coding
    of the same formula is a factor ≈ 2 lower (half the ρ range): it would fail."""
    r = trident_cross_section(13, E, "mu", "Pb", precision=0.01, seed=9, v_min=0.01, v_max=v_max)
    kkp = kkp_mumu_sigma_pb(E, "Pb", 0.01, v_max)
    assert r.sigma_pb == pytest.approx(kkp, rel=0.10)


#: b_pair (g⁻¹cm²) of muons in lead, e⁺e⁻ pair production, at total energy ≈ 100 GeV and 1 TeV:
#: "pair" = 0.7905 MeV cm²/g at T = 100 GeV and 10.15 MeV cm²/g at T = 1 TeV, b = pair/E, from the
#: PDG-format muon energy-loss table of lead in github.com/niess/pumas-materials (dedx/muon/
#: lead.txt, generated with PUMAS v1.00, whose README states the PDG tables — Groom, Mokhov &
#: Striganov, ADNDT 78 (2001) 183 — can be used interchangeably below 100 TeV). The GMS table
#: itself could not be retrieved here. Independent check of the number: our implementation of
#: the Kokoulin–Petrukhin formula that GMS tabulate (references.b_pair_kp, after Geant4's
#: G4MuPairProductionModel) gives 7.896×10⁻⁶ and 1.0154×10⁻⁵, the table to 0.1 %.
GMS_B_PAIR_PB = {100.0: 0.7905e-3 / 100.106, 1000.0: 10.15e-3 / 1000.106}


@pytest.mark.parametrize("E", [100.0, 1000.0])
def test_b_pair_electrons_lead(E: float) -> None:
    """The same code with ℓ = e: b_pair = (N_A/A) ∫ v dσ/dv within 10 % of GMS (measured: +2.1 %
    at 100 GeV, −0.1 % at 1 TeV; no Coulomb correction, incoherent part on nucleons instead of
    GMS's atomic-electron term)."""
    r = trident_cross_section(13, E, "e", "Pb", precision=0.01, seed=10, v_weighted=True)
    tg = get_target("Pb")
    b = r.sigma_pb * PB_TO_CM2 * AVOGADRO / tg.molar_mass
    assert b == pytest.approx(GMS_B_PAIR_PB[E], rel=0.10)
    # the reference formula itself reproduces the table
    assert b_pair_kp(E, "Pb") == pytest.approx(GMS_B_PAIR_PB[E], rel=0.01)
