"""Physical constants and particle properties in alpgen units.

Units: GeV for energy, momentum and mass; mm for lengths (cτ, vertices); pb for cross sections.
Masses, lifetimes and PDG ids come from the ``particle`` package (which returns MeV and ns / mm);
this module is the single place where they are converted.
"""

from __future__ import annotations

import math
from functools import cache

from particle import Particle

#: Fine-structure constant (Thomson limit); the paper's photon couplings use α(0).
ALPHA_EM: float = 1.0 / 137.035999084
#: Elementary charge squared in natural (Heaviside–Lorentz) units, e² = 4πα.
E_CHARGE_SQ: float = 4.0 * math.pi * ALPHA_EM
#: ħc in GeV·mm (PDG: 197.3269804 MeV fm).
HBARC_GEV_MM: float = 197.3269804e-3 * 1e-12
#: ħc in GeV·fm.
HBARC_GEV_FM: float = 0.1973269804
#: (ħc)² in GeV²·pb: 1 GeV⁻² = 0.3893793721 mb = 3.893793721e8 pb.
GEV2_TO_PB: float = 0.3893793721e9
#: Avogadro's number (mol⁻¹).
AVOGADRO: float = 6.02214076e23
#: 1 pb in cm².
PB_TO_CM2: float = 1e-36
#: Conversion of ⟨σv⟩ from GeV⁻² to cm³/s: (ħc)² c = 0.3893794e-27 cm² × 2.99792458e10 cm/s.
GEV2_TO_CM3_PER_S: float = 0.3893793721e-27 * 2.99792458e10

# PDG Monte Carlo ids
PID_E = 11
PID_NU_E = 12
PID_MU = 13
PID_NU_MU = 14
PID_TAU = 15
PID_NU_TAU = 16
PID_GAMMA = 22
PID_PI0 = 111
PID_PI = 211
PID_RHO = 213
PID_K = 321
#: ALP id (BSM range used by MadGraph / Pythia 8 conventions for a generic pseudoscalar).
PID_ALP = 9000005
#: Dark-matter Dirac fermion χ (χ̄ is −9000006).
PID_CHI = 9000006


@cache
def mass(pid: int) -> float:
    """Mass of a PDG particle in GeV (from ``particle``; neutrinos are massless)."""
    m = Particle.from_pdgid(abs(pid)).mass
    return 0.0 if m is None else m * 1e-3


@cache
def width(pid: int) -> float:
    """Total width of a PDG particle in GeV (from ``particle``; 0 where none is listed)."""
    w = Particle.from_pdgid(abs(pid)).width
    return 0.0 if w is None else w * 1e-3


@cache
def ctau(pid: int) -> float:
    """Proper decay length cτ in mm (``inf`` for stable particles)."""
    c = Particle.from_pdgid(abs(pid)).ctau
    return math.inf if c is None else float(c)


@cache
def charge(pid: int) -> float:
    """Electric charge in units of e."""
    q = Particle.from_pdgid(pid).charge
    if q is None:
        raise ValueError(f"particle has no charge: PDG id {pid}")
    return float(q)


M_E: float = mass(PID_E)
M_MU: float = mass(PID_MU)
M_TAU: float = mass(PID_TAU)
M_PI: float = mass(PID_PI)
M_PI0: float = mass(PID_PI0)
M_PROTON: float = mass(2212)
M_NEUTRON: float = mass(2112)
CTAU_TAU_MM: float = ctau(PID_TAU)

#: Lepton name → (PDG id of the negative lepton, mass in GeV).
LEPTONS: dict[str, tuple[int, float]] = {
    "e": (PID_E, M_E),
    "mu": (PID_MU, M_MU),
    "tau": (PID_TAU, M_TAU),
}
