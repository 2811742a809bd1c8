"""Detector configuration: one frozen dataclass per experiment setup.

Each experiment has a default definition in ``detectors/<name>.toml`` (paper values, each with
its source in a comment). A run card's ``[detector]`` table names the experiment and overrides
any of its keys; :meth:`DetectorConfig.from_card` merges the two and validates every value.
Errors are :class:`DetectorConfigError` and name the card key as ``detector.<key>``, the bad
value and what is allowed.

Units: lengths in mm (``resolution_mm``) or cm (``face_cm``, ``target_thickness_cm``), energies
in GeV, angles in rad, ``mot`` in muons on target, ``background`` in expected events,
``muon_veto_inefficiency`` and ``charge_misid`` probabilities. The four background parameters
(``muon_veto_inefficiency``, ``charge_misid``, ``track_min_energy_GeV``,
``track_min_angle_rad``) leave the signal of every default card unchanged: the signal has no
scattered muon, the charge misidentification enters only the background's fake roles
(:mod:`alpgen.detectors.fakes`), and the track thresholds default to 0.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..targets import TARGETS

_HERE = Path(__file__).resolve().parent

#: Experiments with a default definition ``detectors/<name>.toml``.
EXPERIMENTS: tuple[str, ...] = ("na64mu", "fasernu2", "thin_target")

#: Selections each experiment supports (implemented in :mod:`alpgen.detectors.experiments`).
SELECTIONS: dict[str, tuple[str, ...]] = {
    "na64mu": ("invisible", "ultimate"),
    "fasernu2": ("chain", "ultimate"),
    "thin_target": ("invisible", "visible_charge_flip", "ultimate"),
}


class DetectorConfigError(ValueError):
    """Invalid detector configuration; the message names the card key ``detector.<key>``,
    which is also available as the ``key`` attribute (e.g. ``"detector.mot"``)."""

    def __init__(self, message: str, key: str = "detector") -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class DetectorConfig:
    """A detector / experiment setup (see the module docstring for units).

    ``muon_energy_max``, ``face_cm`` and ``max_angle_rad`` are optional (``None``: no cut).
    ``target_material``, ``target_thickness_cm``, ``beam_energy_GeV`` and ``beam_spectrum`` are
    the experiment's nominal setup; the run card's ``[target]``/``[beam]`` take precedence where
    the caller passes them (e.g. to :func:`alpgen.detectors.counting.count_signal`).
    """

    name: str
    selection: str
    resolution_mm: float
    mot: float
    muon_energy_max: float | None = None
    face_cm: float | None = None
    max_angle_rad: float | None = None
    #: visible ALP decays must happen within this distance (mm) of the interaction point, e.g.
    #: before the tracking volume ends (None: no cut; the paper assumes prompt decays)
    alp_decay_max_mm: float | None = None
    geometric_acceptance: bool = False
    background: float = 0.0
    charge_flip_in_ultimate: bool = True
    target_material: str | None = None
    target_thickness_cm: float | None = None
    beam_energy_GeV: float | None = None
    beam_spectrum: str | None = None
    #: the experiment's realistic longitudinal beam polarization (mean lab helicity of the beam
    #: lepton, −1 … 1), for information only: the run card's ``beam.polarization`` is what the
    #: generator uses (scripts/polarization_reach.py marks this value)
    beam_polarization: float | None = None
    label: str = ""
    #: probability that the scattered beam muon of a background event goes unseen (so that the
    #: event can fake a signal without a scattered muon); the signal has no scattered muon.
    #: 1: no veto credited (every experiment's default, detectors/<name>.toml)
    muon_veto_inefficiency: float = 1.0
    #: probability that the charge of a track or of a 3-prong vertex is measured wrong (used for
    #: the background's fake-signal roles; the signal's efficiency loss 1 − p is neglected)
    charge_misid: float = 0.0
    #: a charged final-state particle is a track only with E ≥ this (GeV) ...
    track_min_energy_GeV: float = 0.0
    #: ... and a polar angle to the beam axis ≥ this (rad; separated from the beam line)
    track_min_angle_rad: float = 0.0

    def __post_init__(self) -> None:
        _validate(self)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_card(cls, section: dict[str, Any]) -> DetectorConfig:
        """Merge the experiment's default TOML with a card's ``[detector]`` table.

        ``section["name"]`` picks the experiment; every other key overrides its default.
        Integers are accepted for float keys. Unknown keys and bad values raise
        :class:`DetectorConfigError` naming ``detector.<key>``.
        """
        if not isinstance(section, dict):
            raise DetectorConfigError(
                f"[detector] must be a table, got {type(section).__name__}: {section!r}"
            )
        if "name" not in section:
            raise DetectorConfigError(
                f"detector.name is required; allowed: {', '.join(map(repr, EXPERIMENTS))}",
                "detector.name",
            )
        name = section["name"]
        if name not in EXPERIMENTS:
            raise DetectorConfigError(
                f"detector.name = {name!r} is not a known experiment; "
                f"allowed: {', '.join(map(repr, EXPERIMENTS))}",
                "detector.name",
            )
        for key in section:
            if key not in ALLOWED_KEYS:
                raise DetectorConfigError(
                    f"detector.{key} = {section[key]!r} is not a known key; "
                    f"allowed: {', '.join(sorted(ALLOWED_KEYS))}",
                    f"detector.{key}",
                )
        merged = {**experiment_defaults(name), **section}
        return cls(**{k: _coerce(k, v) for k, v in merged.items()})

    @classmethod
    def default(cls, name: str, **overrides: Any) -> DetectorConfig:
        """The experiment's default setup, optionally with overrides (same rules as cards)."""
        return cls.from_card({"name": name, **overrides})

    def replace(self, **changes: Any) -> DetectorConfig:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in changes.items()})

    @property
    def resolution_cm(self) -> float:
        return self.resolution_mm / 10.0

    @property
    def track_thresholds(self) -> dict[str, float]:
        """What a reconstructed track needs, as keywords of :func:`fastsim.analyse`."""
        return {"min_energy": self.track_min_energy_GeV, "min_angle": self.track_min_angle_rad}

    @property
    def ideal_tracks(self) -> bool:
        """No track threshold: every charged final-state particle is a track."""
        return self.track_min_energy_GeV == 0.0 and self.track_min_angle_rad == 0.0


_FIELDS = {f.name: f for f in dataclasses.fields(DetectorConfig)}
#: Keys allowed in a card's ``[detector]`` table (the dataclass fields).
ALLOWED_KEYS: frozenset[str] = frozenset(_FIELDS)

_FLOAT_KEYS = {
    "resolution_mm",
    "mot",
    "muon_energy_max",
    "face_cm",
    "max_angle_rad",
    "alp_decay_max_mm",
    "background",
    "target_thickness_cm",
    "beam_energy_GeV",
    "beam_polarization",
    "muon_veto_inefficiency",
    "charge_misid",
    "track_min_energy_GeV",
    "track_min_angle_rad",
}
_BOOL_KEYS = {"geometric_acceptance", "charge_flip_in_ultimate"}
_STR_KEYS = {"name", "selection", "label", "target_material", "beam_spectrum"}


def experiment_defaults(name: str) -> dict[str, Any]:
    """The default key/value table of an experiment, read from ``detectors/<name>.toml``."""
    if name not in EXPERIMENTS:
        raise DetectorConfigError(
            f"detector.name = {name!r} is not a known experiment; "
            f"allowed: {', '.join(map(repr, EXPERIMENTS))}",
            "detector.name",
        )
    with (_HERE / f"{name}.toml").open("rb") as f:
        return tomllib.load(f)


def _coerce(key: str, value: Any) -> Any:
    """Type-check one key (ints accepted for floats); raise naming ``detector.<key>``."""
    if key in _FLOAT_KEYS:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DetectorConfigError(
                f"detector.{key} = {value!r}: must be a number", f"detector.{key}"
            )
        return float(value)
    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise DetectorConfigError(
                f"detector.{key} = {value!r}: must be true or false", f"detector.{key}"
            )
        return value
    if key in _STR_KEYS:
        if value is not None and not isinstance(value, str):
            raise DetectorConfigError(
                f"detector.{key} = {value!r}: must be a string", f"detector.{key}"
            )
        return value
    raise _bad(key, value, f"not a known key; allowed: {', '.join(sorted(ALLOWED_KEYS))}")


def _bad(key: str, value: Any, allowed: str) -> DetectorConfigError:
    return DetectorConfigError(f"detector.{key} = {value!r}: {allowed}", f"detector.{key}")


def _validate(c: DetectorConfig) -> None:
    for key in _FLOAT_KEYS:
        v = getattr(c, key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise _bad(key, v, "must be a number")
    if c.name not in EXPERIMENTS:
        raise _bad("name", c.name, f"allowed: {', '.join(map(repr, EXPERIMENTS))}")
    if c.selection not in SELECTIONS[c.name]:
        raise _bad(
            "selection",
            c.selection,
            f"allowed for {c.name}: {', '.join(map(repr, SELECTIONS[c.name]))}",
        )
    if not (math.isfinite(c.resolution_mm) and c.resolution_mm >= 0.0):
        raise _bad("resolution_mm", c.resolution_mm, "must be a finite length ≥ 0 (mm)")
    if not (math.isfinite(c.mot) and c.mot > 0.0):
        raise _bad("mot", c.mot, "must be a finite number of muons on target > 0")
    for key in ("muon_energy_max", "face_cm", "max_angle_rad", "alp_decay_max_mm"):
        v = getattr(c, key)
        if v is not None and not v > 0.0:
            raise _bad(key, v, "must be > 0 (inf for no cut) or left out")
    if c.beam_polarization is not None and not -1.0 <= c.beam_polarization <= 1.0:
        raise _bad("beam_polarization", c.beam_polarization, "must lie in [-1, 1]")
    for key in ("muon_veto_inefficiency", "charge_misid"):
        v = getattr(c, key)
        if not 0.0 <= v <= 1.0:
            raise _bad(key, v, "must be a probability in [0, 1]")
    for key in ("track_min_energy_GeV", "track_min_angle_rad"):
        v = getattr(c, key)
        if not (math.isfinite(v) and v >= 0.0):
            raise _bad(key, v, "must be a finite number ≥ 0 (0: no requirement)")
    if c.track_min_angle_rad >= math.pi:
        raise _bad("track_min_angle_rad", c.track_min_angle_rad, "must be below π")
    if not (math.isfinite(c.background) and c.background >= 0.0):
        raise _bad("background", c.background, "must be a finite expected event count ≥ 0")
    if c.geometric_acceptance and c.face_cm is None and c.max_angle_rad is None:
        raise _bad(
            "geometric_acceptance",
            True,
            "needs detector.face_cm and/or detector.max_angle_rad to be set",
        )
    if c.target_material is not None and c.target_material not in TARGETS:
        raise _bad("target_material", c.target_material, f"allowed: {', '.join(TARGETS)}")
    for key in ("target_thickness_cm", "beam_energy_GeV"):
        v = getattr(c, key)
        if v is not None and not (math.isfinite(v) and v > 0.0):
            raise _bad(key, v, "must be a finite number > 0")
    for key in ("geometric_acceptance", "charge_flip_in_ultimate"):
        if not isinstance(getattr(c, key), bool):
            raise _bad(key, getattr(c, key), "must be true or false")
