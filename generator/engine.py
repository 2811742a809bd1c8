"""The engine: card → process parameters → σ → hard events → decays → :class:`EventBatch`.

Pure and without I/O: nothing here writes files, prints or installs signal handlers; messages
go to the ``alpgen`` logger. :class:`Engine` integrates a card once and then yields fully decayed
event batches; ``alpgen run`` (:mod:`alpgen.runner`), scans (:mod:`alpgen.scanning`) and the
Python API (:func:`alpgen.generate`) all draw their events from it, so they agree event by event.

Random numbers follow :mod:`alpgen.streams`: vegas on ``STREAM_VEGAS``, the pre-scan on
``STREAM_PRESCAN``, batch ``i`` of the event loop on ``(STREAM_EVENTS, i)``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import interrupts
from .constants import LEPTONS, PID_ALP
from .decays.polarization import draw_helicity
from .errors import CardError
from .events import (
    N_HARD,
    SLOT_ALP,
    SLOT_BEAM,
    SLOT_LEPTON,
    SLOT_RECOIL,
    SLOT_TARGET,
    STATUS_BEAM,
    STATUS_FINAL,
    EventBatch,
)
from .streams import STREAM_EVENTS, STREAM_PRESCAN, STREAM_VEGAS, int_seed, rng_for

if TYPE_CHECKING:
    from .card import RunCard
    from .production.integrator import CrossSection as _Integration
    from .production.process import ProcessParams
    from .production.sampler import HardEvents
    from .spectrum import BeamSpectrum

__all__ = [
    "CrossSection",
    "Engine",
    "StageTimer",
    "beam_info",
    "beam_spectrum",
    "compute_cross_section",
    "hard_batch",
    "lepton_pids",
    "model_summary",
    "process_params",
    "tau_helicity_function",
]

log = logging.getLogger("alpgen")


# --------------------------------------------------------------------------------------------
# cross section


def beam_spectrum(card: RunCard) -> BeamSpectrum | None:
    """The card's beam spectrum (``None`` for a monochromatic beam)."""
    path = card.spectrum_path()
    if path is None:
        return None
    from .spectrum import load_spectrum

    try:
        return load_spectrum(path)
    except (OSError, ValueError) as exc:
        raise CardError("beam.spectrum", str(exc)) from None


def process_params(card: RunCard) -> ProcessParams:
    """The production-process parameters of a card."""
    from .production.process import ProcessParams

    prod = card.production
    spectrum = beam_spectrum(card)
    if card.beam.energy is not None:
        energy = card.beam.energy
    else:
        assert spectrum is not None  # the card has exactly one of energy and spectrum
        energy = spectrum.e_max
    return ProcessParams.from_model(
        card.alp_model(),
        card.target_material,
        energy,
        coherent="coherent" in prod.form_factors,
        incoherent="incoherent" in prod.form_factors,
        atomic_screening=prod.atomic_screening,
        t_max=prod.t_max,
        coherent_norm=prod.coherent_norm,
        a_el=prod.a_el,
        a_inel=prod.a_inel,
        ws_a0_fm=prod.ws_a0_fm,
        include_pv=prod.include_pv,
        spectrum=spectrum,
        beam_charge=card.beam.charge,
        polarization=card.beam.polarization,
    )


@dataclass(frozen=True)
class CrossSection:
    """Production cross section of a card in pb (flux-averaged for a spectrum beam).

    The fields are the keys of ``alpgen xsec --json`` and of summary.json: σ(P) at the beam
    polarization P and its MC error, the coherent and incoherent parts with theirs, P itself,
    the σ of a fully polarized beam of helicity −1 and +1 (the helicity of the beam lepton in
    the lab, whatever its charge; σ(P) = Σ_h (1 + hP)/2 σ_h) with their errors, the relative
    precision reached, the integration time (s) and the number of integrand evaluations.
    """

    sigma_pb: float
    sigma_err_pb: float
    sigma_coherent_pb: float
    sigma_coherent_err_pb: float
    sigma_incoherent_pb: float
    sigma_incoherent_err_pb: float
    beam_polarization: float
    sigma_helicity_minus_pb: float
    sigma_helicity_minus_err_pb: float
    sigma_helicity_plus_pb: float
    sigma_helicity_plus_err_pb: float
    relative_precision: float
    time_s: float
    n_eval: int

    def to_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Integrated:
    """A card's integrated process: its parameters, the vegas result with the adapted map (used
    by the sampler) and the public :class:`CrossSection`."""

    params: ProcessParams
    xsec: _Integration

    @property
    def cross_section(self) -> CrossSection:
        x = self.xsec
        return CrossSection(
            sigma_pb=x.sigma_pb,
            sigma_err_pb=x.sigma_err_pb,
            sigma_coherent_pb=x.sigma_coherent_pb,
            sigma_coherent_err_pb=x.sigma_coherent_err_pb,
            sigma_incoherent_pb=x.sigma_incoherent_pb,
            sigma_incoherent_err_pb=x.sigma_incoherent_err_pb,
            beam_polarization=x.polarization,
            sigma_helicity_minus_pb=x.sigma_helicity_minus_pb,
            sigma_helicity_minus_err_pb=x.sigma_helicity_minus_err_pb,
            sigma_helicity_plus_pb=x.sigma_helicity_plus_pb,
            sigma_helicity_plus_err_pb=x.sigma_helicity_plus_err_pb,
            relative_precision=x.sigma_err_pb / x.sigma_pb if x.sigma_pb > 0 else 0.0,
            time_s=x.time_s,
            n_eval=x.n_eval,
        )


def compute_cross_section(
    card: RunCard, *, precision: float | None = None, allow_zero: bool = True
) -> Integrated:
    """Integrate the card's production cross section to ``precision`` (relative; default
    ``production.precision``) with vegas seeded from the card's seed.

    A non-finite σ is always a :class:`CardError` (never a result); σ = 0 is one unless
    ``allow_zero`` (a scan marks such a mass "no signal")."""
    from .production.integrator import integrate

    params = process_params(card)
    prec = card.production.precision if precision is None else precision
    xs = integrate(params, seed=int_seed(card.run.seed, STREAM_VEGAS), precision=prec)
    values = (xs.sigma_pb, xs.sigma_err_pb, xs.sigma_coherent_pb, xs.sigma_incoherent_pb)
    if not all(math.isfinite(v) for v in values):
        raise CardError(
            "model",
            f"the cross section is not finite (σ = {xs.sigma_pb!r} pb) for m_a = "
            f"{card.model.m_a!r} GeV, E = {params.E_beam!r} GeV, C/Λ = {card.C_over_Lambda!r} "
            "TeV⁻¹: the inputs lie outside the range the integrand is accurate in",
        )
    if not allow_zero and not xs.sigma_pb > 0.0:
        raise CardError(
            "model.m_a",
            f"the cross section vanishes for m_a = {card.model.m_a!r} GeV with this beam and "
            "target (σ = 0 is not a result)",
        )
    return Integrated(params, xs)


# --------------------------------------------------------------------------------------------
# the event record of the hard process


def lepton_pids(card: RunCard) -> tuple[int, int]:
    """|PDG id| of the beam lepton and of the produced lepton (the particle, not the charge)."""
    return LEPTONS[card.beam.flavour][0], LEPTONS[card.production.lepton_out][0]


#: ``fn(hard, u_beam, u_tau) → (beam helicity, τ helicity)``, each ±1 per event
HelicityFn = Callable[["HardEvents", np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def hard_batch(
    hard: HardEvents,
    card: RunCard,
    rng: np.random.Generator,
    *,
    helicity_fn: HelicityFn | None = None,
) -> EventBatch:
    """Fill the five hard-process slots of an :class:`EventBatch` from sampled momenta.

    The interaction point is uniform through the target thickness along the beam axis
    (x = y = 0, z in mm from the front face, ct = z for the ultra-relativistic beam).
    Randoms drawn from ``rng`` in this order: interaction point, beam helicity, τ helicity
    (one uniform each per event); the helicities jointly from the helicity-resolved matrix
    element (:func:`tau_helicity_function`).
    """
    n = len(hard.t)
    batch = EventBatch.empty(n)
    target = card.target_material
    beam_pid, lepton_pid = lepton_pids(card)
    # beam charge per event: from the spectrum's charge fractions, else the card's beam
    charge = np.where(hard.beam_charge != 0, hard.beam_charge, card.beam.charge).astype(np.int32)
    sign = -charge  # a negative lepton has a positive PDG id
    batch.pid[:, SLOT_BEAM] = sign * beam_pid
    batch.pid[:, SLOT_TARGET] = target.pdgid
    batch.pid[:, SLOT_LEPTON] = sign * lepton_pid
    batch.pid[:, SLOT_RECOIL] = target.pdgid
    batch.pid[:, SLOT_ALP] = PID_ALP
    batch.status[:, [SLOT_BEAM, SLOT_TARGET]] = STATUS_BEAM
    batch.status[:, [SLOT_LEPTON, SLOT_RECOIL, SLOT_ALP]] = STATUS_FINAL
    for slot, p4 in (
        (SLOT_BEAM, hard.p_in),
        (SLOT_TARGET, hard.P_i),
        (SLOT_LEPTON, hard.p_out),
        (SLOT_RECOIL, hard.P_f),
        (SLOT_ALP, hard.k),
    ):
        batch.p[:, slot] = p4
    batch.m[:, SLOT_BEAM] = card.m_in
    batch.m[:, SLOT_TARGET] = target.nucleus_mass
    batch.m[:, SLOT_LEPTON] = card.m_out
    batch.m[:, SLOT_RECOIL] = target.nucleus_mass
    batch.m[:, SLOT_ALP] = card.model.m_a
    batch.mother[:, [SLOT_LEPTON, SLOT_RECOIL, SLOT_ALP]] = (SLOT_BEAM, SLOT_TARGET)
    batch.daughter[:, [SLOT_BEAM, SLOT_TARGET]] = (SLOT_LEPTON, SLOT_ALP)
    z = rng.uniform(0.0, card.target.thickness_cm * 10.0, n)  # mm
    batch.vertex[:, :N_HARD, 2] = z[:, None]
    batch.vertex[:, :N_HARD, 3] = z[:, None]
    batch.beam_energy[:] = hard.p_in[:, 3]
    batch.n_particles[:] = N_HARD
    # helicities: the beam's longitudinal polarization, the τ from the matrix element
    u_beam = rng.uniform(size=n)
    u_hel = rng.uniform(size=n)
    if helicity_fn is not None:
        batch.spin[:, SLOT_BEAM], batch.spin[:, SLOT_LEPTON] = helicity_fn(hard, u_beam, u_hel)
    else:  # no matrix element: the beam's polarization alone, τ unpolarized
        batch.spin[:, SLOT_BEAM] = draw_helicity(card.beam.polarization, u_beam)
        batch.spin[:, SLOT_LEPTON] = draw_helicity(0.0, u_hel)
    batch.info["t"] = hard.t
    batch.info["component"] = hard.component.astype(np.int8)
    batch.info["x"] = hard.p_out[:, 3] / hard.p_in[:, 3]
    return batch


def tau_helicity_function(card: RunCard) -> HelicityFn:
    """``fn(hard, u_beam, u_tau) → (beam helicity, τ helicity)`` per event, drawn jointly from
    the helicity-resolved matrix element at each event's momenta
    (:func:`alpgen.production.helicity.sample_joint_helicities`): the beam helicity from the
    per-point rate of each helicity in the beam's polarization, the τ's conditional on it
    (½ each when the card asks for unpolarized τ's)."""
    from .production.helicity import joint_helicity_me2, sample_joint_helicities

    gS, gP = card.signed_couplings()
    polarized_tau = card.decays.tau_polarization == "matrix_element"

    def fn(
        hard: HardEvents, u_beam: np.ndarray, u_tau: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        charge = np.where(hard.beam_charge != 0, hard.beam_charge, card.beam.charge)
        pol = card.beam.polarization if hard.polarization is None else hard.polarization
        pol = np.broadcast_to(np.asarray(pol, dtype=np.float64), charge.shape)
        me2 = np.empty((len(charge), 2, 2))
        for q in (-1, 1):  # the kernel maps a positive beam to the negative one by CP
            sel = charge == q
            if sel.any():
                me2[sel] = joint_helicity_me2(
                    hard.p_in[sel],
                    hard.P_i[sel],
                    hard.p_out[sel],
                    hard.P_f[sel],
                    hard.k[sel],
                    card.m_in,
                    card.m_out,
                    gS,
                    gP,
                    m_a=card.model.m_a,
                    charge=int(q),
                )
        beam, tau = sample_joint_helicities(me2, pol, u_beam, u_tau, out_polarized=polarized_tau)
        return np.asarray(beam, float), np.asarray(tau, float)

    return fn


# --------------------------------------------------------------------------------------------
# the engine


@dataclass
class StageTimer:
    """Wall time (s) per stage, accumulated over batches."""

    times: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.times[stage] = self.times.get(stage, 0.0) + seconds


class Engine:
    """The integrated, ready-to-sample process of a card: yields fully decayed event batches.

    ``batches()`` yields :class:`EventBatch`es of ``[run] batch_size`` events (the last one
    shorter) until ``n_events`` (default ``[run] events``) are generated; batch ``i`` uses the
    random stream ``(STREAM_EVENTS, i)``, so the events do not depend on how the loop is
    consumed. ``sampler`` is ``None`` when σ vanishes (nothing to generate).

    With ``decays.alp = "auto"`` and no open ALP decay channel the ALP is stable
    (``alp_stable``): it stays a final-state particle (status 1), invisible to the detectors.
    """

    def __init__(self, card: RunCard, *, timer: StageTimer | None = None) -> None:
        from .decays.chain import DecayConfig
        from .production.sampler import UnweightedSampler

        self.card = card
        self.timer = timer if timer is not None else StageTimer()
        interrupts.check()  # a signal whose exception an import swallowed
        t0 = time.perf_counter()
        self.integrated = compute_cross_section(card)
        self.timer.add("integration", time.perf_counter() - t0)
        interrupts.check()
        self.sampler: UnweightedSampler | None = None
        if self.integrated.xsec.sigma_pb > 0:
            t0 = time.perf_counter()
            self.sampler = UnweightedSampler(
                self.integrated.params,
                self.integrated.xsec,
                seed=int_seed(card.run.seed, STREAM_PRESCAN),
            )
            self.timer.add("prescan", time.perf_counter() - t0)
        self.model = card.alp_model()
        self.alp_stable = self.model.width_total <= 0.0
        self.decay_config = DecayConfig(alp=card.decays.alp, tau=card.decays.tau)
        self.helicity_fn = tau_helicity_function(card)
        #: how the last :func:`alpgen.runner.simulate` counting went (a CountingInfo)
        self.counting_info: Any = None

    @property
    def cross_section(self) -> CrossSection:
        return self.integrated.cross_section

    @property
    def sigma_pb(self) -> float:
        return self.integrated.xsec.sigma_pb

    def _require_sampler(self) -> Any:
        if self.sampler is None:
            raise CardError(
                "model.m_a",
                f"the cross section vanishes for m_a = {self.card.model.m_a:g} GeV with this "
                "beam and target; nothing to generate",
            )
        return self.sampler

    def hard(
        self, index: int, n: int, rng: np.random.Generator | None = None
    ) -> tuple[EventBatch, np.random.Generator]:
        """The hard process of batch ``index`` (``n`` events, undecayed) and its generator,
        positioned where the decays of that batch continue (stream ``(STREAM_EVENTS, index)``
        unless another ``rng`` is given)."""
        interrupts.check()  # at every batch: a signal a library swallowed is acted on here
        sampler = self._require_sampler()
        if rng is None:
            rng = rng_for(self.card.run.seed, STREAM_EVENTS, index)
        t0 = time.perf_counter()
        hard = sampler.sample(n, rng)
        batch = hard_batch(hard, self.card, rng, helicity_fn=self.helicity_fn)
        self.timer.add("hard_process", time.perf_counter() - t0)
        return batch, rng

    def decay(
        self, hard: EventBatch, rng: np.random.Generator, config: Any | None = None
    ) -> EventBatch:
        """``hard`` decayed with ``config`` (default: the card's physical decay configuration)."""
        from .decays.chain import decay_batch

        t0 = time.perf_counter()
        out = decay_batch(hard, self.model, self.decay_config if config is None else config, rng)
        self.timer.add("decays", time.perf_counter() - t0)
        return out

    def batch(self, index: int, n: int, rng: np.random.Generator | None = None) -> EventBatch:
        """Batch ``index`` of ``n`` fully decayed events (on stream ``(STREAM_EVENTS, index)``
        unless another ``rng`` is given, e.g. for a discarded pilot batch)."""
        hard, rng = self.hard(index, n, rng)
        return self.decay(hard, rng)

    def batches(self, n_events: int | None = None) -> Iterator[EventBatch]:
        """Batches of fully decayed events, ``n_events`` in all (default ``[run] events``)."""
        n_total = self.card.run.events if n_events is None else n_events
        size = self.card.run.batch_size
        for index in range(math.ceil(n_total / size)):
            yield self.batch(index, min(size, n_total - index * size))


# --------------------------------------------------------------------------------------------
# descriptions


def model_summary(card: RunCard) -> dict[str, Any]:
    """The model summary of ``alpgen model --json`` (GeV, mm, TeV⁻¹)."""
    from .phenomenology import delta_a_mu, g2_band_C_over_Lambda

    model = card.alp_model()
    band = None
    if card.beam.flavour == "mu" and card.production.lepton_out == "tau":
        band = g2_band_C_over_Lambda(
            card.model.m_a,
            card.model.theta,
            couplings="exact" if card.model.couplings == "exact" else "paper",
        )
    one = model.width_one_charge_mode()
    one = one / 2 if model.eq5_is_total else one
    summary = {
        "m_a_GeV": model.m_a,
        "theta": card.model.theta,
        "couplings": card.model.couplings,
        "C_over_Lambda_invTeV": card.C_over_Lambda,
        "g_mutau": model.g,
        "S2": model.S2,
        "P2": model.P2,
        "width_mu_minus_tau_plus_GeV": one,
        "width_mu_plus_tau_minus_GeV": one,
        "width_visible_GeV": model.width_visible,
        "width_chichi_GeV": model.width_invisible,
        "width_total_GeV": model.width_total,
        "ctau_a_mm": model.ctau_mm,
        "br_visible": model.br_visible,
        "br_invisible": model.br_invisible,
        "delta_a_mu": delta_a_mu(model) if card.beam.flavour == "mu" else None,
        "g2_band_C_over_Lambda_invTeV": list(band) if band is not None else None,
    }
    # valid JSON: an undefined number (cτ of a stable ALP) is null, never Infinity
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in summary.items()
    }


def beam_info(params: ProcessParams) -> dict[str, Any]:
    """What the beam was: a fixed energy, or a spectrum with its label (e.g. a stand-in flux)."""
    spec = params.spectrum
    if spec is None:
        return {"beam_energy_GeV": params.E_beam}
    return {
        "beam_spectrum_label": spec.label,
        "beam_spectrum_source": spec.source,
        "beam_spectrum_range_GeV": [spec.e_min, spec.e_max],
    }
