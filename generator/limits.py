"""Validity ranges of alpgen's physical inputs (documented in README "Validity ranges").

A light module (no imports): the command line checks ``--precision`` against the same range
as the card's ``production.precision`` before anything heavy is imported.
"""

from __future__ import annotations

#: Beam energy in GeV: (0, 1e8] (the lab-frame kinematics lose precision far above).
MAX_BEAM_ENERGY_GEV = 1e8
#: ALP and χ masses in GeV: (0, 1e4].
MAX_MASS_GEV = 1e4
#: C/Λ in TeV⁻¹: (0, 1e4]; a card whose couplings make the ALP wider than heavy is refused.
MAX_C_OVER_LAMBDA = 1e4
#: Yukawa couplings g and g_χ: at most 4π (perturbativity).
MAX_YUKAWA = 12.566370614359172
#: Target thickness in cm: (0, 1e3].
MAX_THICKNESS_CM = 1e3
#: Upper end of the momentum transfer t_max in GeV²: (0, 1e4].
MAX_T_MAX = 1e4
#: Relative precision of σ: [1e-3, 0.5). Below 1e-3 the integration time grows as 1/precision²
#: into hours; it is refused rather than run without bound.
PRECISION_MIN = 1e-3
PRECISION_MAX = 0.5


def precision_error(value: float) -> str | None:
    """Why ``value`` is not an allowed relative precision (``None`` if it is)."""
    if PRECISION_MIN <= value < PRECISION_MAX:
        return None
    return f"must lie in [{PRECISION_MIN:g}, {PRECISION_MAX:g}) (relative precision of σ)"
