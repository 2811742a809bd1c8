"""The decay chain each selection needs (for variance reduction in the counting).

A selection rejects every event whose decays it cannot accept, so the counting may decay only
the channels it accepts and carry the product of their branching ratios as the event weight
(:mod:`alpgen.precision`). :func:`decay_needs` says which, per experiment and selection
(physics.md §6.2–§6.3):

* thin target / visible charge flip: a → the charge-flip mode (a → μ⁺τ⁻ for a μ⁻ beam), every
  τ 3-prong, every τ decay length > ``resolution_mm``, and with ``alp_decay_max_mm`` the ALP
  decay within that distance;
* thin target / invisible: τ 3-prong with decay length > ``resolution_mm`` (the ALP as it is);
* NA64-μ / invisible: τ → μνν;
* FASERν2 / chain: τ → μνν with decay length > ``resolution_mm``;
* "ultimate": nothing.

"Every τ" is safe also where a selection reads only the produced τ: the events in which the ALP
yields a τ fail those selections (charged ALP products) whatever that τ does. Plain data only:
the generator turns it into a decay configuration (this package never imports the engine).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import DetectorConfig

__all__ = ["DecayNeeds", "decay_needs"]


@dataclass(frozen=True)
class DecayNeeds:
    """What a selection can accept of the signal's decays.

    ``alp_charge_flip``: only the ALP's charge-flip mode (its lepton of the beam flavour with the
    charge opposite to the beam's) can pass; ``tau``: τ channel names or tags every τ must
    decay to (``None``: any); ``tau_min_decay_mm``: lab decay length (mm) every τ must exceed
    (0: no such cut); ``alp_max_decay_mm``: lab distance (mm) within which the ALP must decay
    (0: no such cut).
    """

    alp_charge_flip: bool = False
    tau: tuple[str, ...] | None = None
    tau_min_decay_mm: float = 0.0
    alp_max_decay_mm: float = 0.0

    @property
    def forces_anything(self) -> bool:
        return (
            self.alp_charge_flip
            or self.tau is not None
            or self.tau_min_decay_mm > 0.0
            or self.alp_max_decay_mm > 0.0
        )


def decay_needs(config: DetectorConfig) -> DecayNeeds:
    """The :class:`DecayNeeds` of ``config``'s selection (module docstring)."""
    name, sel, d = config.name, config.selection, config.resolution_mm
    if sel == "ultimate":
        return DecayNeeds()
    if name == "thin_target" and sel == "visible_charge_flip":
        return DecayNeeds(
            alp_charge_flip=True,
            tau=("3prong",),
            tau_min_decay_mm=d,
            alp_max_decay_mm=config.alp_decay_max_mm or 0.0,
        )
    if name == "thin_target" and sel == "invisible":
        return DecayNeeds(tau=("3prong",), tau_min_decay_mm=d)
    if name == "na64mu" and sel == "invisible":
        return DecayNeeds(tau=("tau->mu nu nu",))
    if name == "fasernu2" and sel == "chain":
        return DecayNeeds(tau=("tau->mu nu nu",), tau_min_decay_mm=d)
    return DecayNeeds()  # pragma: no cover - DetectorConfig validates the pair
