"""Standard-Model backgrounds of the μ A → τ A a signatures (physics.md §8, issue 14).

* :mod:`.trident` — unweighted μ A → μ A ℓ⁺ℓ⁻ events (exact QED, :mod:`alpgen.production.trident`)
  as :class:`~alpgen.events.EventBatch`;
* :mod:`.charm` — μ N → μ c c̄ X by photon–gluon fusion in Pythia 8 (optional ``pythia`` extra);
* :mod:`.api` — :func:`background_events`, the function-level entry point;
* :mod:`.params` — inputs and results; :mod:`.conservation` — record checks.
"""

from .api import background_cross_section, background_events
from .params import PROCESSES, BackgroundCrossSection, BackgroundParams

__all__ = [
    "PROCESSES",
    "BackgroundCrossSection",
    "BackgroundParams",
    "background_cross_section",
    "background_events",
]
