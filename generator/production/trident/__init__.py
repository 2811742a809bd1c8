"""Standard-Model trident backgrounds μ N → μ N ℓ⁺ℓ⁻ (exact tree-level QED), physics.md §8.2.

Modules: :mod:`.amplitude` (helicity amplitudes), :mod:`.phase_space` (lab-frame 4-body and
photoproduction phase space), :mod:`.integrand` (batched weights), :mod:`.cross_section` (vegas,
public API), :mod:`.references` (independent formulas used for validation).
"""

from .cross_section import (
    TridentCrossSection,
    TridentParams,
    lepto_events,
    photo_cross_section,
    trident_cross_section,
    trident_params,
)

__all__ = [
    "TridentCrossSection",
    "TridentParams",
    "lepto_events",
    "photo_cross_section",
    "trident_cross_section",
    "trident_params",
]
