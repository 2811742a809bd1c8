"""The card's ``[process]``: the ALP signal's :class:`~alpgen.engine.Engine` or a Standard-Model
background's :class:`~alpgen.background.engine.BackgroundEngine` (the same per-batch interface),
and the σ of either (``alpgen xsec``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .card import RunCard
    from .engine import CrossSection, StageTimer

__all__ = ["card_cross_section", "make_engine"]


def make_engine(card: RunCard, *, timer: StageTimer | None = None) -> Any:
    """The engine of the card's ``[process]``: :class:`~alpgen.engine.Engine` for the ALP
    signal, a :class:`~alpgen.background.engine.BackgroundEngine` for a Standard-Model
    process."""
    if card.process.is_alp:
        from .engine import Engine

        return Engine(card, timer=timer)
    from .background.engine import BackgroundEngine

    return BackgroundEngine(card, timer=timer)


def card_cross_section(card: RunCard, *, precision: float | None = None) -> CrossSection:
    """σ of the card's process (``alpgen xsec``): the ALP production σ (zero is an error) or
    a Standard-Model background's σ (pb per nucleus; σ_± = σ by parity)."""
    if card.process.is_alp:
        from .engine import compute_cross_section

        return compute_cross_section(card, precision=precision, allow_zero=False).cross_section
    from .background.engine import background_cross_section_of, cross_section_record

    res = background_cross_section_of(card, card.process.name, precision=precision)
    return cross_section_record(res, card.beam.polarization)
