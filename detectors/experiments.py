"""Experiment selections as ordered lists of named, vectorised cuts (physics.md §6.1–§6.3).

A :class:`Selection` is built from a :class:`~alpgen.detectors.config.DetectorConfig` and the
target thickness. Each :class:`Cut` maps the batch's
:class:`~alpgen.detectors.fastsim.EventObservables` to a boolean mask [N]; cuts are applied
in order (an event passes cut i if it passes cuts 0..i).

Selections (``config.selection`` per ``config.name``):

* **na64mu / invisible** — interaction in the target; τ → μνν; E_μ' < ``muon_energy_max``;
  exactly one charged track (no ALP products, no other τ prongs). The τ track is not resolved.
* **fasernu2 / chain** — interaction in the target; τ → μνν; τ decay length > ``resolution_mm``;
  no extra tracks (the τ's muon is the only charged final-state particle, so nothing else at
  the production or the decay vertex). Both incident charges are handled alike.
* **thin_target / invisible** — interaction in the target; no charged ALP products (missing
  energy); τ 3-prong; τ decay length > ``resolution_mm``.
* **thin_target / visible_charge_flip** — interaction in the target; ALP → μτ; charge flip;
  both τ 3-prong; both τ decay lengths > ``resolution_mm`` (physics.md §7 item 6); with
  ``alp_decay_max_mm`` set, the ALP must also decay within that distance of the interaction
  point (a long-lived ALP escapes the tracking volume).
* **ultimate** (every experiment) — interaction in the target; all τ modes, no decay-length
  cut; for visible ALP decays the charge flip is still required when
  ``charge_flip_in_ultimate`` (physics.md §7 item 7 [keep ½]); invisible events all pass.

When ``geometric_acceptance`` is on, a last cut requires all tracks in the face / angle
acceptance (:func:`alpgen.detectors.fastsim.tracks_in_acceptance`); never in "ultimate".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..events import SLOT_ALP, EventBatch
from . import fastsim
from .config import DetectorConfig
from .fastsim import EventObservables

CutFunction = Callable[[EventObservables], np.ndarray]


@dataclass(frozen=True)
class Cut:
    """A named, vectorised cut: ``func(observables) -> bool[N]``."""

    name: str
    description: str
    func: CutFunction

    def __call__(self, events: EventBatch | EventObservables) -> np.ndarray:
        obs = fastsim.analyse(events) if isinstance(events, EventBatch) else events
        return np.asarray(self.func(obs), bool)


@dataclass(frozen=True)
class Selection:
    """An ordered list of cuts."""

    name: str
    cuts: tuple[Cut, ...]

    @property
    def cut_names(self) -> list[str]:
        return [c.name for c in self.cuts]

    def cumulative_masks(self, events: EventBatch | EventObservables) -> list[np.ndarray]:
        """Masks [N] of the events passing cuts 0..i, one per cut."""
        obs = fastsim.analyse(events) if isinstance(events, EventBatch) else events
        keep = np.ones(len(obs.batch), bool)
        out = []
        for cut in self.cuts:
            keep = keep & cut(obs)
            out.append(keep)
        return out

    def passed(self, events: EventBatch | EventObservables) -> np.ndarray:
        """Mask [N] of the events passing every cut."""
        return self.cumulative_masks(events)[-1]


# -- cut factories ----------------------------------------------------------------------------
def _in_target(thickness_mm: float) -> Cut:
    return Cut(
        "interaction_in_target",
        f"hard-interaction vertex at 0 ≤ z ≤ {thickness_mm:g} mm",
        lambda o: fastsim.interaction_in_target(o.batch, thickness_mm),
    )


_TAU_MUONIC = Cut("tau_to_mu_nu_nu", "produced τ → μνν", lambda o: o.tau.is_muonic)


def _muon_energy_max(e_max: float) -> Cut:
    return Cut(
        "muon_energy_below_max",
        f"muon from τ decay with E < {e_max:g} GeV",
        lambda o: o.tau.muon_energy < e_max,
    )


def _decay_length(d_mm: float, *, both: bool = False) -> Cut:
    if both:
        return Cut(
            "both_tau_decay_length",
            f"both τ decay lengths > {d_mm:g} mm",
            lambda o: (o.tau.decay_length_mm > d_mm) & (o.alp_tau.decay_length_mm > d_mm),
        )
    return Cut(
        "tau_decay_length",
        f"τ decay length > {d_mm:g} mm",
        lambda o: o.tau.decay_length_mm > d_mm,
    )


_SINGLE_TRACK = Cut(
    "single_charged_track", "exactly one charged outgoing track", lambda o: o.n_tracks == 1
)
_NO_EXTRA_TRACKS = Cut(
    "no_extra_tracks",
    "no charged track besides the τ's muon at either vertex",
    lambda o: o.tau.is_muonic & (o.n_tracks == 1),
)
_ALP_INVISIBLE = Cut(
    "alp_invisible", "no charged ALP decay products (missing energy)", lambda o: o.alp_n_tracks == 0
)
_TAU_3PRONG = Cut(
    "tau_3prong", "produced τ decays to 3 charged prongs", lambda o: o.tau.n_prongs == 3
)
_ALP_VISIBLE = Cut("alp_to_mu_tau", "ALP decays to μτ", lambda o: o.alp_visible)
_CHARGE_FLIP = Cut(
    "charge_flip",
    "muon from the ALP has the charge opposite to the incident lepton",
    lambda o: o.charge_flip,
)
_BOTH_3PRONG = Cut(
    "both_tau_3prong",
    "both τ decay to 3 charged prongs",
    lambda o: (o.tau.n_prongs == 3) & (o.alp_tau.n_prongs == 3),
)
_FLIP_IF_VISIBLE = Cut(
    "charge_flip_if_visible",
    "visible ALP decays: charge-flip mode only (½ kept in 'ultimate')",
    lambda o: ~o.alp_visible | o.charge_flip,
)


def _acceptance(config: DetectorConfig, thickness_mm: float) -> Cut:
    face_mm = None if config.face_cm is None else 10.0 * config.face_cm
    return Cut(
        "geometric_acceptance",
        "all tracks within the face / angular acceptance",
        lambda o: fastsim.tracks_in_acceptance(
            o.batch,
            o.tracks,
            length_mm=thickness_mm,
            face_mm=face_mm,
            max_angle_rad=config.max_angle_rad,
        ),
    )


def _alp_decay_within(max_mm: float) -> Cut:
    def passes(o: EventObservables) -> np.ndarray:
        b = o.batch
        dist = fastsim.decay_length(b, SLOT_ALP)  # interaction point → ALP decay vertex
        return ~o.alp_visible | (np.nan_to_num(dist, nan=np.inf) <= max_mm)

    return Cut("alp_decay_in_volume", f"visible ALP decays within {max_mm:g} mm", passes)


def build_selection(config: DetectorConfig, thickness_cm: float) -> Selection:
    """The ordered cuts of ``config.selection`` for ``config.name`` with a target of
    ``thickness_cm`` (cm; used for the interaction-in-target and acceptance cuts)."""
    t_mm = 10.0 * float(thickness_cm)
    d = config.resolution_mm
    name, sel = config.name, config.selection
    cuts: list[Cut] = [_in_target(t_mm)]
    if sel == "ultimate":
        if config.charge_flip_in_ultimate:
            cuts.append(_FLIP_IF_VISIBLE)
        return Selection(f"{name}/{sel}", tuple(cuts))
    if name == "na64mu" and sel == "invisible":
        cuts.append(_TAU_MUONIC)
        if config.muon_energy_max is not None:
            cuts.append(_muon_energy_max(config.muon_energy_max))
        cuts.append(_SINGLE_TRACK)
    elif name == "fasernu2" and sel == "chain":
        cuts += [_TAU_MUONIC, _decay_length(d), _NO_EXTRA_TRACKS]
    elif name == "thin_target" and sel == "invisible":
        cuts += [_ALP_INVISIBLE, _TAU_3PRONG, _decay_length(d)]
    elif name == "thin_target" and sel == "visible_charge_flip":
        cuts += [_ALP_VISIBLE, _CHARGE_FLIP]
        if config.alp_decay_max_mm is not None:
            cuts.append(_alp_decay_within(config.alp_decay_max_mm))
        cuts += [_BOTH_3PRONG, _decay_length(d, both=True)]
    else:  # pragma: no cover - DetectorConfig validates the pair
        raise ValueError(f"no selection {sel!r} for experiment {name!r}")
    if config.geometric_acceptance:
        cuts.append(_acceptance(config, t_mm))
    return Selection(f"{name}/{sel}", tuple(cuts))


def selection_needs_tau_decays(selection: Selection) -> bool:
    """Whether any cut reads τ decay products (to warn about undecayed samples)."""
    return any(
        c.name
        in {
            "tau_to_mu_nu_nu",
            "tau_decay_length",
            "tau_3prong",
            "both_tau_3prong",
            "both_tau_decay_length",
            "no_extra_tracks",
        }
        for c in selection.cuts
    )
