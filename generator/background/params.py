"""Inputs and results of the Standard-Model background processes (plain data).

:class:`BackgroundParams` is the card-like subset of inputs, :class:`BackgroundCrossSection` a
process's σ (pb per nucleus) with its event generator; :data:`PROCESSES` the process names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import CardError

__all__ = ["PROCESSES", "BackgroundCrossSection", "BackgroundParams"]

#: The Standard-Model processes: name → (kind, produced lepton flavour for tridents).
PROCESSES: dict[str, tuple[str, str | None]] = {
    "sm_tautau": ("trident", "tau"),
    "sm_mumu": ("trident", "mu"),
    "charm": ("charm", None),
}

_BEAMS = {"mu-": 13, "mu+": -13}


@dataclass(frozen=True)
class BackgroundParams:
    """The card-like inputs of a background run. Energies GeV, lengths cm, t GeV².

    ``beam_particle`` "mu-" | "mu+"; ``beam_energy`` the lab energy on the target at rest;
    ``target`` a symbol of :mod:`alpgen.targets`; ``thickness_cm`` the target thickness (the
    interaction point is uniform through it); ``precision`` the relative MC precision of the
    trident σ; ``t_max``, ``form_factors`` as for the signal (tridents); ``decay_taus``: decay
    the τ's (unpolarized); ``unweight_quantile``, ``prescan``: the trident unweighting
    (:class:`~.trident.TridentSampler`: the q-quantile of each stratification cell's pre-scan
    weights is its maximum; 1 = the cell's largest weight); ``charm_q2_max`` (GeV², Pythia's
    ``Photon:Q2max``) and
    ``charm_w_min`` (GeV, ``Photon:Wmin``) the photon-flux limits of the charm process,
    ``charm_sigma_events`` the number of Pythia events per nucleon behind the charm σ estimate;
    ``n_adapt``, ``nitn_adapt`` the vegas adaptation of the trident σ (evaluations per
    iteration, iterations)."""

    beam_particle: str = "mu-"
    beam_energy: float = 1500.0
    target: str = "Pb"
    thickness_cm: float = 2.0
    batch_size: int = 10_000
    precision: float = 0.01
    t_max: float | None = 1.0
    form_factors: tuple[str, ...] = ("coherent", "incoherent")
    decay_taus: bool = True
    unweight_quantile: float = 1.0
    prescan: int = 400_000
    charm_q2_max: float = 1.0
    charm_w_min: float = 5.0
    charm_sigma_events: int = 2000
    n_adapt: int = 40_000
    nitn_adapt: int = 10

    def __post_init__(self) -> None:
        if self.beam_particle not in _BEAMS:
            raise CardError(
                "beam.particle",
                f"backgrounds need a muon beam ('mu-' or 'mu+'), not {self.beam_particle!r}",
            )
        if not (math.isfinite(self.beam_energy) and self.beam_energy > 0.0):
            raise CardError(
                "beam.energy", f"must be a positive energy in GeV, not {self.beam_energy}"
            )
        if not self.thickness_cm > 0.0:
            raise CardError("target.thickness_cm", f"must be positive, not {self.thickness_cm}")
        if self.batch_size < 1:
            raise CardError("run.batch_size", f"must be ≥ 1, not {self.batch_size}")

    @property
    def beam_pid(self) -> int:
        return _BEAMS[self.beam_particle]

    @classmethod
    def from_card(cls, card: Any) -> BackgroundParams:
        """The inputs a :class:`~alpgen.card.RunCard` fixes: ``beam.particle``, ``beam.energy``
        (a beam spectrum is run at energy nodes: :mod:`.mixture`), ``target.material``,
        ``target.thickness_cm``, ``run.batch_size``, ``production.precision``,
        ``production.t_max`` and ``production.form_factors``; the rest keep their defaults."""
        if getattr(card.beam, "energy", None) is None:
            raise CardError(
                "beam.energy",
                "needs a fixed beam energy here (a beam spectrum runs at energy nodes: "
                "alpgen.background.mixture)",
            )
        return cls(
            beam_particle=card.beam.particle,
            beam_energy=float(card.beam.energy),
            target=card.target.material,
            thickness_cm=float(card.target.thickness_cm),
            batch_size=int(card.run.batch_size),
            precision=float(card.production.precision),
            t_max=card.production.t_max,
            form_factors=tuple(card.production.form_factors),
        )

    @classmethod
    def coerce(cls, obj: Any) -> BackgroundParams:
        """A :class:`BackgroundParams` from itself, a run card (:meth:`from_card`), a mapping of
        its field names, or an object with those attributes (missing ones take the defaults)."""
        if isinstance(obj, cls):
            return obj
        if all(hasattr(obj, k) for k in ("beam", "target", "run", "production")):
            return cls.from_card(obj)
        names = [f.name for f in fields(cls)]
        if isinstance(obj, Mapping):
            unknown = sorted(set(obj) - set(names))
            if unknown:
                raise CardError(unknown[0], f"unknown background parameter; allowed: {names}")
            return cls(**dict(obj))
        return cls(**{k: getattr(obj, k) for k in names if hasattr(obj, k)})


@dataclass
class BackgroundCrossSection:
    """σ of a background process in pb, per target nucleus (the unit of the signal's σ).

    For tridents also the coherent / incoherent split; for charm ``sigma_per_nucleon_pb`` and
    the proton / neutron values are in ``details``. ``details`` holds the process-specific
    numbers (sampler efficiency, Pythia settings, ...), ``sampler`` the object that generates the
    events (its statistics update as the iterator is consumed). For a beam spectrum
    (:mod:`.mixture`) σ is the flux average and ``nodes`` holds (E_k in GeV, flux share w_k, σ at
    E_k without its sampler) of each energy node; empty for a fixed beam energy."""

    process: str
    sigma_pb: float
    sigma_err_pb: float
    sigma_coherent_pb: float | None = None
    sigma_incoherent_pb: float | None = None
    sigma_per_nucleon_pb: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    sampler: Any = field(default=None, repr=False)
    nodes: tuple[tuple[float, float, BackgroundCrossSection], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-data summary (no sampler)."""
        return {
            "process": self.process,
            "sigma_pb": self.sigma_pb,
            "sigma_err_pb": self.sigma_err_pb,
            "sigma_coherent_pb": self.sigma_coherent_pb,
            "sigma_incoherent_pb": self.sigma_incoherent_pb,
            "sigma_per_nucleon_pb": self.sigma_per_nucleon_pb,
            **self.details,
        }
