"""Target materials by element symbol.

Z, A (mass number of the dominant / reference isotope used for the nuclear radius and the
nucleus PDG id), molar mass, density and radiation length. Densities, molar masses and
radiation lengths are PDG "Atomic and nuclear properties" values. The nuclear mass is
M = Z m_p + (A − Z) m_n, the convention of the thesis code (physics.md §5.6; binding energy
is a ≲1 % effect on M and negligible for σ).
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import AVOGADRO, M_NEUTRON, M_PROTON


@dataclass(frozen=True)
class Target:
    """A target material. Lengths in cm, density in g/cm³, masses in GeV."""

    symbol: str
    Z: int
    A: int  #: mass number used for R_A = 1.2 fm A^(1/3) and the PDG nucleus id
    molar_mass: float  #: g/mol (natural isotopic mix)
    density: float  #: g/cm³
    radiation_length_cm: float

    @property
    def nucleus_mass(self) -> float:
        """Nuclear mass M = Z m_p + (A − Z) m_n in GeV."""
        return self.Z * M_PROTON + (self.A - self.Z) * M_NEUTRON

    @property
    def number_density(self) -> float:
        """Nuclei per cm³, n = ρ N_A / A_mol."""
        return self.density * AVOGADRO / self.molar_mass

    @property
    def pdgid(self) -> int:
        """PDG nucleus code 10LZZZAAAI."""
        return 1000000000 + self.Z * 10000 + self.A * 10


# PDG atomic and nuclear properties (pdg.lbl.gov/AtomicNuclearProperties): molar mass,
# density, radiation length X0 in cm.
TARGETS: dict[str, Target] = {
    t.symbol: t
    for t in (
        Target("H", 1, 1, 1.008, 0.0708, 890.4),  # liquid hydrogen
        Target("C", 6, 12, 12.0107, 2.210, 19.32),  # graphite
        Target("Al", 13, 27, 26.9815, 2.699, 8.897),
        Target("Fe", 26, 56, 55.845, 7.874, 1.757),
        Target("Cu", 29, 63, 63.546, 8.960, 1.436),
        Target("W", 74, 184, 183.84, 19.30, 0.3504),
        Target("Au", 79, 197, 196.967, 19.32, 0.3344),
        Target("Pb", 82, 208, 207.2, 11.35, 0.5612),
    )
}


def get_target(symbol: str) -> Target:
    """Look a target up by element symbol (case-sensitive, e.g. ``"Pb"``)."""
    try:
        return TARGETS[symbol]
    except KeyError:
        raise KeyError(f"unknown target material {symbol!r}; known: {', '.join(TARGETS)}") from None
