"""``alpgen run``: card → cross section → unweighted events → decays → files and signal counts.

Randomness: every random stream is derived from the card's seed with a fixed
``SeedSequence(seed, spawn_key=(stream, index))``, so results do not depend on batch timing,
the number of numba threads or of workers. Stream 0 seeds vegas, stream 1 the unweighting
pre-scan, stream 2 batch ``i`` of the event loop.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .card import CardError, RunCard
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
from .io.metadata import collect_versions

STREAM_VEGAS = 0
STREAM_PRESCAN = 1
STREAM_EVENTS = 2

STREAM_PILOT = 4

#: Approximate bytes per event and writing rate (events/s, one core) of each output format,
#: measured with scripts/bench_writers.py on ~10-particle events; used only for the estimate
#: printed before a run starts.
BYTES_PER_EVENT = {"lhe": 2500, "lhe.gz": 600, "hepmc3": 2500, "hepmc3.gz": 700, "root": 60}
WRITE_RATE = {"lhe": 1.0e4, "lhe.gz": 6.7e3, "hepmc3": 1.8e4, "hepmc3.gz": 8.2e3, "root": 3e5}


def seed_for(seed: int, stream: int, index: int = 0) -> np.random.SeedSequence:
    """The seed sequence of one random stream (see the module docstring)."""
    return np.random.SeedSequence(seed, spawn_key=(stream, index))


def rng_for(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed_for(seed, stream, index)))


def int_seed(seed: int, stream: int, index: int = 0) -> int:
    """A 32-bit integer seed for libraries that take one (vegas)."""
    return int(seed_for(seed, stream, index).generate_state(1)[0])


def model_summary(card: RunCard) -> dict[str, Any]:
    """The model summary of ``alpgen model --json`` (GeV, mm, TeV⁻¹)."""
    from .phenomenology import delta_a_mu, g2_band_C_over_Lambda

    model = card.alp_model()
    band = None
    if card.beam.flavour == "mu" and card.production.lepton_out == "tau":
        band = g2_band_C_over_Lambda(
            card.model.m_a, card.model.theta, couplings=card.model.couplings
        )
    one = model.width_one_charge_mode()
    one = one / 2 if model.eq5_is_total else one
    return {
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


# --------------------------------------------------------------------------------------------
# cross section


def beam_spectrum(card: RunCard):
    """The card's beam spectrum (``None`` for a monochromatic beam)."""
    path = card.spectrum_path()
    if path is None:
        return None
    from .spectrum import load_spectrum

    try:
        return load_spectrum(path)
    except (OSError, ValueError) as exc:
        raise CardError("beam.spectrum", str(exc)) from None


def process_params(card: RunCard):
    """The production-process parameters of a card."""
    from .production.process import ProcessParams

    prod = card.production
    spectrum = beam_spectrum(card)
    return ProcessParams.from_model(
        card.alp_model(),
        card.target_material,
        card.beam.energy if card.beam.energy is not None else spectrum.e_max,
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


@dataclass
class XsecResult:
    """Cross section of a card, in pb, with the adapted integrator for event sampling."""

    xsec: Any  # production.integrator.CrossSection
    params: Any

    def to_dict(self) -> dict[str, float]:
        x = self.xsec
        return {
            "sigma_pb": x.sigma_pb,
            "sigma_err_pb": x.sigma_err_pb,
            "sigma_coherent_pb": x.sigma_coherent_pb,
            "sigma_coherent_err_pb": x.sigma_coherent_err_pb,
            "sigma_incoherent_pb": x.sigma_incoherent_pb,
            "sigma_incoherent_err_pb": x.sigma_incoherent_err_pb,
            "beam_polarization": x.polarization,
            "sigma_helicity_minus_pb": x.sigma_helicity_minus_pb,
            "sigma_helicity_minus_err_pb": x.sigma_helicity_minus_err_pb,
            "sigma_helicity_plus_pb": x.sigma_helicity_plus_pb,
            "sigma_helicity_plus_err_pb": x.sigma_helicity_plus_err_pb,
            "relative_precision": x.sigma_err_pb / x.sigma_pb if x.sigma_pb > 0 else 0.0,
            "time_s": x.time_s,
            "n_eval": x.n_eval,
        }


def compute_cross_section(
    card: RunCard, *, precision: float | None = None, progress: bool = False
) -> XsecResult:
    from .production.integrator import integrate

    params = process_params(card)
    prec = card.production.precision if precision is None else precision
    xs = integrate(
        params, seed=int_seed(card.run.seed, STREAM_VEGAS), precision=prec, progress=progress
    )
    return XsecResult(xs, params)


# --------------------------------------------------------------------------------------------
# event record of the hard process


def hard_batch(hard, card: RunCard, rng: np.random.Generator, *, helicity_fn=None) -> EventBatch:
    """Fill the five hard-process slots of an :class:`EventBatch` from sampled momenta.

    The interaction point is uniform through the target thickness along the beam axis
    (x = y = 0, z in mm from the front face, ct = z for the ultra-relativistic beam).
    """
    n = len(hard.t)
    batch = EventBatch.empty(n)
    target = card.target_material
    beam_pid, lepton_pid = _lepton_pids(card)
    # beam charge per event: from the spectrum's charge fractions, else the card's beam
    charge = np.where(hard.beam_charge != 0, hard.beam_charge, card.beam.charge).astype(np.int32)
    sign = -charge  # a negative lepton has a positive PDG id
    batch.pid[:, SLOT_BEAM] = sign * beam_pid
    batch.pid[:, SLOT_TARGET] = target.pdgid
    batch.pid[:, SLOT_LEPTON] = sign * lepton_pid
    batch.pid[:, SLOT_RECOIL] = target.pdgid
    from .constants import PID_ALP

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
    # helicities: beam and τ jointly from the helicity-resolved matrix element (issue 15)
    u_beam = rng.uniform(size=n)
    u_hel = rng.uniform(size=n)
    if helicity_fn is not None:
        batch.spin[:, SLOT_BEAM], batch.spin[:, SLOT_LEPTON] = helicity_fn(hard, u_beam, u_hel)
    else:  # no matrix element: the beam's polarization alone, τ unpolarized
        pol = card.beam.polarization
        batch.spin[:, SLOT_BEAM] = np.where(u_beam < 0.5 * (1 + pol), 1.0, -1.0)
        batch.spin[:, SLOT_LEPTON] = np.where(u_hel < 0.5, 1.0, -1.0)
    batch.info["t"] = hard.t
    batch.info["component"] = hard.component.astype(np.int8)
    batch.info["x"] = hard.p_out[:, 3] / hard.p_in[:, 3]
    return batch


def _lepton_pids(card: RunCard) -> tuple[int, int]:
    from .constants import LEPTONS

    return LEPTONS[card.beam.flavour][0], LEPTONS[card.production.lepton_out][0]


def tau_helicity_function(card: RunCard):
    """``fn(hard, u_beam, u_tau) → (beam helicity, τ helicity)`` per event, drawn jointly from the
    helicity-resolved matrix element at each event's momenta
    (:func:`alpgen.production.helicity.sample_joint_helicities`): the beam helicity from the
    per-point rate of each helicity in the beam's polarization, the τ's conditional on it
    (½ each when the card asks for unpolarized τ's)."""
    from .production.helicity import joint_helicity_me2, sample_joint_helicities

    gS, gP = card.signed_couplings()
    polarized_tau = card.decays.tau_polarization == "matrix_element"

    def fn(hard, u_beam, u_tau) -> tuple[np.ndarray, np.ndarray]:
        charge = np.where(hard.beam_charge != 0, hard.beam_charge, card.beam.charge)
        pol = card.beam.polarization if hard.polarization is None else hard.polarization
        pol = np.broadcast_to(np.asarray(pol, dtype=np.float64), charge.shape)
        me2 = np.empty((len(charge), 2, 2))
        for q in (-1, 1):  # the kernel maps a positive beam to the negative one by CP
            sel = charge == q
            if sel.any():
                me2[sel] = joint_helicity_me2(
                    hard.p_in[sel], hard.P_i[sel], hard.p_out[sel], hard.P_f[sel], hard.k[sel],
                    card.m_in, card.m_out, gS, gP, m_a=card.model.m_a, charge=int(q),
                )  # fmt: skip
        return sample_joint_helicities(me2, pol, u_beam, u_tau, out_polarized=polarized_tau)

    return fn


# --------------------------------------------------------------------------------------------
# the run


class Interrupted(Exception):
    """Raised by the SIGINT/SIGTERM handler to unwind the event loop cleanly."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@dataclass
class StageTimer:
    times: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.times[stage] = self.times.get(stage, 0.0) + seconds


def prepare_output_dir(card: RunCard, force: bool) -> Path:
    out = Path(card.output.dir)
    if out.exists() and any(out.iterdir()):
        if not force:
            raise CardError(
                "output.dir",
                f"{str(out)!r} already exists and is not empty; use --force to overwrite it or "
                "choose another directory",
            )
    if out.exists() and not out.is_dir():
        raise CardError("output.dir", f"{str(out)!r} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CardError("output.dir", f"cannot create {str(out)!r}: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise CardError("output.dir", f"{str(out)!r} is not writable")
    return out


def estimate(card: RunCard, seconds_per_event: float) -> dict[str, float]:
    """Estimated wall time (s) and disk use (bytes) of a run, printed before it starts.

    ``seconds_per_event`` is the measured generation + decay cost from a pilot batch; the
    writers' costs are the measured rates of :data:`WRITE_RATE`."""
    n = card.run.events
    disk = sum(BYTES_PER_EVENT.get(f, 0) for f in card.output.formats) * n
    write = sum(1.0 / WRITE_RATE[f] for f in card.output.formats if f in WRITE_RATE)
    return {"time_s": n * (seconds_per_event + write), "disk_bytes": float(disk)}


class _Signals:
    """SIGINT/SIGTERM → :class:`Interrupted`, except while outputs are being finalised, when the
    signal is remembered and the (short) commit completes, so no half-renamed set remains."""

    def __init__(self) -> None:
        self.deferred: int | None = None
        self.finalising = False
        self._old: dict = {}

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.finalising:
            self.deferred = signum
            return
        raise Interrupted(signum)

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def run(card: RunCard, *, force: bool = False, quiet: bool = False) -> int:
    """Execute ``alpgen run``; returns the process exit status (130/143 when interrupted)."""
    out = prepare_output_dir(card, force)
    with _Signals() as signals:
        try:
            return _run(card, out, quiet=quiet, signals=signals)
        except Interrupted as exc:
            kept = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
            print(
                f"\nalpgen: interrupted by {exc} during the run; temporary files removed. "
                + (f"Kept in {out}: {', '.join(kept)}" if kept else f"{out} holds no output"),
                file=sys.stderr,
            )
            return 128 + exc.signum


class EventSource:
    """Integrated, ready-to-sample process of a card: yields fully decayed event batches.

    ``batches()`` yields ``EventBatch``es of ``[run] batch_size`` events (the last one shorter)
    until ``n_events`` (default ``[run] events``) are generated; batch ``i`` uses random stream
    ``(STREAM_EVENTS, i)``, so the events do not depend on how the loop is consumed.
    """

    def __init__(
        self, card: RunCard, *, progress: bool = False, timer: StageTimer | None = None
    ) -> None:
        from .decays.chain import DecayConfig
        from .production.sampler import UnweightedSampler

        self.card = card
        self.timer = timer if timer is not None else StageTimer()
        t0 = time.perf_counter()
        self.xs = compute_cross_section(card, progress=progress)
        self.timer.add("integration", time.perf_counter() - t0)
        self.sampler = None
        if self.xs.xsec.sigma_pb > 0:
            t0 = time.perf_counter()
            self.sampler = UnweightedSampler(
                self.xs.params, self.xs.xsec, seed=int_seed(card.run.seed, STREAM_PRESCAN)
            )
            self.timer.add("prescan", time.perf_counter() - t0)
        self.model = card.alp_model()
        self.decay_config = DecayConfig(alp=card.decays.alp, tau=card.decays.tau)
        self.helicity_fn = tau_helicity_function(card)

    @property
    def sigma_pb(self) -> float:
        return self.xs.xsec.sigma_pb

    def batch(self, index: int, n: int) -> EventBatch:
        """Batch ``index`` of ``n`` fully decayed events."""
        from .decays.chain import decay_batch

        rng = rng_for(self.card.run.seed, STREAM_EVENTS, index)
        t0 = time.perf_counter()
        hard = self.sampler.sample(n, rng)
        batch = hard_batch(hard, self.card, rng, helicity_fn=self.helicity_fn)
        self.timer.add("hard_process", time.perf_counter() - t0)
        t0 = time.perf_counter()
        batch = decay_batch(batch, self.model, self.decay_config, rng)
        self.timer.add("decays", time.perf_counter() - t0)
        return batch

    def batches(self, n_events: int | None = None):
        n_total = self.card.run.events if n_events is None else n_events
        size = self.card.run.batch_size
        for index in range(math.ceil(n_total / size)):
            yield self.batch(index, min(size, n_total - index * size))


def simulate(card: RunCard, *, n_events: int | None = None, progress: bool = False):
    """Integrate, generate, decay and count signal without writing files.

    Returns ``(source, detector_result)``; ``detector_result`` is ``None`` without ``[detector]``
    or when σ vanishes. Used by scans.
    """
    source = EventSource(card, progress=progress)
    n = card.run.events if n_events is None else n_events
    detector = _detector_counter(card, n_generated=n)
    if detector is None or source.sampler is None:
        return source, None
    for batch in source.batches(n):
        detector.add(batch)
    return source, detector.result(sigma_pb=source.sigma_pb)


def _run(card: RunCard, out: Path, *, quiet: bool, signals: _Signals) -> int:
    from .io.atomic import OutputError

    timer = StageTimer()
    console = _console(quiet)
    source = EventSource(card, progress=not quiet, timer=timer)
    xs, sigma = source.xs, source.sigma_pb
    console(
        f"σ = {sigma:.6g} ± {xs.xsec.sigma_err_pb:.2g} pb "
        f"(coherent {xs.xsec.sigma_coherent_pb:.4g}, incoherent "
        f"{xs.xsec.sigma_incoherent_pb:.4g}) in {timer.times['integration']:.1f} s"
    )
    if source.sampler is None:
        raise CardError(
            "model.m_a",
            f"the cross section vanishes for m_a = {card.model.m_a:g} "
            "GeV with this beam and target; nothing to generate",
        )
    n_total = card.run.events
    est = estimate(card, _pilot_seconds_per_event(source))
    console(
        f"{n_total:,} events: estimated {_duration(est['time_s'])} and "
        f"{est['disk_bytes'] / 1e6:,.0f} MB on disk"
    )
    sampler = source.sampler
    meta = _metadata(card, xs)
    detector = _detector_counter(card)
    files = {}
    try:
        with ExitStack() as stack:
            writers = _open_writers(card, out, meta, stack)
            progress = _progress(quiet, n_total)
            stack.enter_context(progress)
            task = progress.add_task("generating", total=n_total)
            done = 0
            for batch in source.batches():
                if detector is not None:
                    t0 = time.perf_counter()
                    detector.add(batch)
                    timer.add("detector", time.perf_counter() - t0)
                for name, w in writers.items():
                    t0 = time.perf_counter()
                    if name == "root":
                        if detector is not None:
                            w.fill(batch, extra=detector.flags(batch))
                            w.fill(batch, tag="selected", mask=detector.selected(batch))
                        else:
                            w.fill(batch)
                    else:
                        w.write(batch)
                    timer.add(f"write_{name}", time.perf_counter() - t0)
                done += len(batch)
                progress.update(task, completed=done)
            files = {name: str(w.path) for name, w in writers.items()}
            signals.finalising = True  # the ExitStack now commits every file
    except OutputError as exc:
        print(f"alpgen: error: {exc}", file=sys.stderr)
        return 1

    summary = {
        **xs.to_dict(),
        "events": n_total,
        "unweighting_efficiency": sampler.efficiency,
        "overweight_fraction": sampler.overweight_fraction,
        "seed": card.run.seed,
        "versions": collect_versions(),
        "card": card.to_dict(),
        "card_text": card.text,
        "overrides": list(card.overrides),
        "beam": _beam_info(xs.params),
        "model": model_summary(card),
        "files": {k: os.path.basename(v) for k, v in files.items()},
        "timings_s": {k: round(v, 4) for k, v in timer.times.items()},
    }
    if detector is not None:
        result = detector.result(sigma_pb=sigma)
        summary["detector"] = result.to_dict()
        from .detectors.counting import format_table

        console(format_table(result))
    _write_json(out / "summary.json", summary)
    signals.finalising = False
    console(
        f"wrote {n_total:,} events to {out}/ "
        f"(unweighting efficiency {sampler.efficiency:.1%}, overweight fraction "
        f"{sampler.overweight_fraction:.2e})"
    )
    return 0


def _pilot_seconds_per_event(source: EventSource, n: int = 2000) -> float:
    """Generation + decay time per event from a pilot batch on its own random stream (its
    events are discarded, so the run's events do not depend on it)."""
    from .decays.chain import decay_batch

    rng = rng_for(source.card.run.seed, STREAM_PILOT)

    def pilot(size: int) -> float:
        t0 = time.perf_counter()
        hard = source.sampler.sample(size, rng)
        batch = hard_batch(hard, source.card, rng, helicity_fn=source.helicity_fn)
        decay_batch(batch, source.model, source.decay_config, rng)
        return time.perf_counter() - t0

    pilot(100)  # JIT warm-up (compiles or loads the cache) is not part of the rate
    n = min(n, source.card.run.events)
    return pilot(n) / n


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _write_json(path: Path, obj: dict) -> None:
    from .io.atomic import atomic_output

    with atomic_output(path, binary=False) as fh:
        fh.write(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _metadata(card: RunCard, xs: XsecResult):
    from .io.metadata import RunMetadata

    target = card.target_material
    beam_pid, _ = _lepton_pids(card)
    return RunMetadata(
        card_text=card.text + "".join(f"\n# --set {o}" for o in card.overrides),
        card=card.to_dict(),
        seed=card.run.seed,
        versions=collect_versions(),
        sigma_pb=xs.xsec.sigma_pb,
        sigma_err_pb=xs.xsec.sigma_err_pb,
        n_events=card.run.events,
        beam_pid=-card.beam.charge * beam_pid,
        beam_energy=xs.params.E_beam,
        target_pid=target.pdgid,
        target_mass=target.nucleus_mass,
        generator_version=__version__,
        extra=_beam_info(xs.params),
    )


def _beam_info(params) -> dict[str, Any]:
    """What the beam was: a fixed energy, or a spectrum with its label (e.g. a stand-in flux)."""
    spec = params.spectrum
    if spec is None:
        return {"beam_energy_GeV": params.E_beam}
    return {
        "beam_spectrum_label": spec.label,
        "beam_spectrum_source": spec.source,
        "beam_spectrum_range_GeV": [spec.e_min, spec.e_max],
    }


def _open_writers(card: RunCard, out: Path, meta, stack: ExitStack) -> dict[str, Any]:
    writers: dict[str, Any] = {}
    for fmt in card.output.formats:
        gz = fmt.endswith(".gz")
        if fmt.startswith("lhe"):
            from .io.lhe import LHEWriter

            writers["lhe"] = stack.enter_context(LHEWriter(out / f"events.{fmt}", meta, gzip=gz))
        elif fmt.startswith("hepmc3"):
            from .io.hepmc import HepMC3Writer

            writers["hepmc3"] = stack.enter_context(
                HepMC3Writer(out / f"events.{fmt}", meta, gzip=gz)
            )
        elif fmt == "root":
            from .io.histograms import HistogramWriter

            writers["root"] = stack.enter_context(HistogramWriter(out / "histograms.root", meta))
    return writers


def _detector_counter(card: RunCard, n_generated: int | None = None):
    if card.detector is None:
        return None
    from .detectors.config import DetectorConfig
    from .detectors.counting import Counter

    config = DetectorConfig.from_card(dict(card.detector))
    return Counter(
        config,
        target=card.target_material,
        thickness_cm=card.target.thickness_cm,
        n_generated=card.run.events if n_generated is None else n_generated,
        coupling_C_over_Lambda=card.C_over_Lambda,
    )


def _console(quiet: bool):
    def say(msg: str) -> None:
        if not quiet:
            print(msg, file=sys.stderr)

    return say


def _progress(quiet: bool, total: int):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    class RateColumn(TextColumn):
        def render(self, task):  # events per second
            elapsed = task.finished_time if task.finished else task.elapsed
            speed = task.completed / elapsed if elapsed else None
            return f"{speed:,.0f} ev/s" if speed else "… ev/s"

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        RateColumn(""),
        TimeRemainingColumn(),
        disable=quiet,
        transient=False,
    )
