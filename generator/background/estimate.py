"""Expected Standard-Model background after a detector's cuts, and the reach with it.

One entry point, :func:`estimate_background` ``(card) -> BackgroundEstimate``, which ``alpgen
run``, ``alpgen scan`` and ``alpgen background`` call once per card. For each process of the
card's ``[background] processes`` (``alpgen background``: every Standard-Model process when the
card lists none) it generates ``[background] events`` unweighted events
(:func:`~alpgen.background.api.background_events`, the card's beam, target and seed) and passes
them through the card's ``[detector]`` with the same fast simulation and cuts as the signal, the
background playing the signal's roles as :mod:`alpgen.detectors.fakes` describes. The
normalisation is the signal's (:mod:`alpgen.detectors.counting`)::

    produced = N_MOT × n_T × L × σ,    expected = produced × ε,    ε = Σ_i f_i / N

with f_i ∈ [0, 1] the probability that event i passes (muon veto inefficiency and charge
misidentification included). Errors: ``expected_events_err`` = expected × √((δε/ε)² +
(δσ/σ)²) with δε = √(Σ f² − (Σ f)²/N)/N; ``expected_events_upper95`` the 95 % CL upper limit:
produced × f̄ × μ₉₅(k)/N with k the MC events passing (f > 0), f̄ their mean factor (1 when k = 0)
and μ₉₅(k) the classical Poisson upper limit on a mean with k observed (μ₉₅(0) = 2.996), times
(1 + δσ/σ). ``required_rejection`` = max(1, expected) when some MC event passes, else max(1,
upper95): the extra rejection the detector must add to bring the process below one event.
When no event of the sample can play the signal's roles at all (the first cut's MC count is 0:
e.g. μ⁺μ⁻ has no τ or charm candidate for a 3-prong selection, and a τ⁺τ⁻ or c c̄ pair no second
beam-charge candidate for the visible charge flip without charge misidentification), the process
cannot fake the selection with these detector parameters: upper95 = 0.
The total adds the processes (errors in quadrature; its upper limit and required rejection add
each process's upper limit where no event of it passed).

A beam spectrum (FASERν2) is run at :data:`SPECTRUM_NODES` energies, the flux-weighted mean
energies of bins of equal flux (:func:`spectrum_nodes`), ``[background] events`` / nodes
events each, as a μ⁻ beam with the flux of both charges (QED and γg → c c̄ are C-invariant and
the selections are defined relative to the beam's charge, so a μ⁺ beam gives the same counts),
and the nodes are added with their flux shares (:func:`combine`). Node j runs with the master
seed ``(STREAM_BACKGROUND, p, BKG_NODE, j)``.

Reach with background (:func:`reach_with_background`): N_limit is the Poisson 95 % CL limit
(:func:`~alpgen.detectors.counting.signal_limit`) for b = ``detector.background`` + the total
expected background; ``reach_C_over_Lambda_invTeV`` keeps b = ``detector.background`` alone.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import interrupts
from ..constants import PB_TO_CM2
from ..detectors.config import DetectorConfig
from ..detectors.counting import CutflowEntry, poisson_upper_limit, signal_limit
from ..detectors.experiments import build_selection
from ..detectors.fakes import fake_weights
from ..errors import CardError
from ..streams import BKG_NODE, background_int_seed
from .params import PROCESSES, BackgroundParams

if TYPE_CHECKING:
    from ..card import RunCard
    from ..reach import SignalCounter, SignalResult

__all__ = [
    "BackgroundEstimate",
    "FakeTally",
    "ProcessEstimate",
    "estimate_background",
    "poisson_mean_upper",
    "reach_with_background",
]

log = logging.getLogger("alpgen")

#: Keys of each process (and of the total) in ``alpgen background --json`` and summary.json.
TABLE_KEYS = (
    "process",
    "sigma_pb",
    "sigma_err_pb",
    "expected_events",
    "expected_events_err",
    "expected_events_upper95",
    "required_rejection",
)


def poisson_mean_upper(k: int, cl: float = 0.95) -> float:
    """Classical upper limit on a Poisson mean with ``k`` events observed (2.996 for k = 0)."""
    return float(k) + poisson_upper_limit(float(k), cl)


@dataclass(frozen=True)
class ProcessEstimate:
    """One process through one detector (module docstring; pb, events for the detector's MOT)."""

    process: str
    sigma_pb: float
    sigma_err_pb: float
    expected_events: float
    expected_events_err: float
    expected_events_upper95: float
    required_rejection: float
    events_per_mot: float  #: produced / MOT = n_T L σ (before cuts)
    produced_events: float
    efficiency: float
    efficiency_error: float
    n_generated: int
    n_mc_passed: int
    cutflow: list[CutflowEntry] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cutflow"] = [asdict(c) for c in self.cutflow]
        return d


@dataclass(frozen=True)
class BackgroundEstimate:
    """The expected background of a card's detector, per process and in total."""

    detector: str
    selection: str
    mot: float
    processes: list[ProcessEstimate]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def expected_events(self) -> float:
        return sum(p.expected_events for p in self.processes)

    @property
    def expected_events_err(self) -> float:
        return math.sqrt(sum(p.expected_events_err**2 for p in self.processes))

    @property
    def total(self) -> dict[str, Any]:
        """The ``total`` entry: the sums (errors in quadrature; module docstring)."""
        ps = self.processes
        bound = sum(p.expected_events if p.n_mc_passed else p.expected_events_upper95 for p in ps)
        upper = sum(
            p.expected_events + 1.645 * p.expected_events_err
            if p.n_mc_passed
            else p.expected_events_upper95
            for p in ps
        )
        return {
            "process": "total",
            "sigma_pb": sum(p.sigma_pb for p in ps),
            "sigma_err_pb": math.sqrt(sum(p.sigma_err_pb**2 for p in ps)),
            "expected_events": self.expected_events,
            "expected_events_err": self.expected_events_err,
            "expected_events_upper95": upper,
            "required_rejection": max(1.0, bound),
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``alpgen background --json``: ``processes`` (the :data:`TABLE_KEYS` and
        the details of each), ``total``, the detector and the settings."""
        return {
            "detector": self.detector,
            "selection": self.selection,
            "mot": self.mot,
            "processes": [p.to_dict() for p in self.processes],
            "total": self.total,
            "settings": self.settings,
        }


def _config(card: RunCard) -> DetectorConfig:
    if card.detector is None:
        raise CardError("detector", "a background estimate needs a [detector] table in the card")
    return DetectorConfig.from_card(dict(card.detector))


def _params(card: RunCard, energy: float | None = None) -> BackgroundParams:
    """The background inputs of a card (at ``energy`` GeV, μ⁻, for a spectrum node)."""
    if card.beam.particle not in ("mu-", "mu+"):
        raise CardError(
            "beam.particle",
            f"the Standard-Model backgrounds need a muon beam, not {card.beam.particle!r}",
        )
    if energy is None and card.beam.energy is not None:
        return BackgroundParams.from_card(card)
    prod = card.production
    return BackgroundParams(
        beam_particle="mu-",
        beam_energy=float(energy if energy is not None else math.nan),
        target=card.target.material,
        thickness_cm=float(card.target.thickness_cm),
        batch_size=int(card.run.batch_size),
        precision=float(prod.precision),
        t_max=prod.t_max,
        form_factors=tuple(prod.form_factors),
    )


#: Energy nodes of a beam spectrum for the background estimate (equal shares of the flux).
SPECTRUM_NODES = 6


def spectrum_nodes(card: RunCard, k: int = SPECTRUM_NODES) -> list[tuple[float, float]]:
    """(E_j in GeV, flux share w_j) of ``k`` bins of equal flux (both charges) of the card's
    spectrum, E_j the flux-weighted mean energy of bin j (the spectrum's power-law
    interpolation, :meth:`~alpgen.spectrum.BeamSpectrum.dn_de_at`)."""
    from ..spectrum import load_spectrum

    path = card.spectrum_path()
    assert path is not None
    spec = load_spectrum(path)
    e = np.geomspace(spec.e_min, spec.e_max, 4001)
    f = np.asarray(spec.dn_de_at(e, "sum"), float)
    seg = 0.5 * (f[1:] + f[:-1]) * np.diff(e)
    seg_e = 0.5 * (f[1:] * e[1:] + f[:-1] * e[:-1]) * np.diff(e)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    edges = np.searchsorted(cum, total * np.arange(1, k) / k)
    out = []
    for lo, hi in zip(np.r_[0, edges], np.r_[edges, len(seg)], strict=True):
        flux = float(seg[lo:hi].sum())
        out.append((float(seg_e[lo:hi].sum() / flux), float(flux / total)))
    return out


def card_processes(card: RunCard, *, every: bool = False) -> tuple[str, ...]:
    """The card's ``[background] processes`` (with ``every``: all SM processes when none)."""
    if card.background.processes:
        return tuple(card.background.processes)
    if not every:
        return ()
    import importlib.util

    have_pythia = importlib.util.find_spec("pythia8mc") is not None
    return tuple(p for p in PROCESSES if p != "charm" or have_pythia)


class FakeTally:
    """Streaming tally of background batches through a detector: ``add`` each batch, then
    :meth:`result` for the process's σ (pb). ``thickness_cm`` and ``target``: the run's."""

    def __init__(
        self, process: str, config: DetectorConfig, *, target: Any, thickness_cm: float
    ) -> None:
        self.process = process
        self.config = config
        self.target = target
        self.thickness_cm = thickness_cm
        self.selection = build_selection(config, thickness_cm)
        n_cuts = len(self.selection.cuts)
        self.s1 = np.zeros(n_cuts)
        self.s2 = np.zeros(n_cuts)
        self.k = np.zeros(n_cuts, np.int64)
        self.n_seen = 0

    @classmethod
    def from_card(cls, card: Any) -> FakeTally:
        """The tally of a card's process through its ``[detector]``, target and thickness."""
        from ..detectors.config import DetectorConfig

        return cls(
            card.process.name,
            DetectorConfig.from_card(dict(card.detector)),
            target=card.target_material,
            thickness_cm=card.target.thickness_cm,
        )

    def batch_sums(self, batch: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Per cut Σf, Σf², the count of f > 0 and the events of ``batch`` (not added)."""
        f = fake_weights(batch, self.selection, self.config)
        return f.sum(axis=1), (f**2).sum(axis=1), (f > 0.0).sum(axis=1), len(batch)

    def merge(self, sums: tuple[np.ndarray, np.ndarray, np.ndarray, int]) -> None:
        """Add :meth:`batch_sums` of a batch (e.g. from a shard run elsewhere)."""
        s1, s2, k, n = sums
        self.s1 += s1
        self.s2 += s2
        self.k += k
        self.n_seen += n

    def add(self, batch: Any) -> None:
        self.merge(self.batch_sums(batch))

    def empty(self, sigma: float, sigma_err: float) -> ProcessEstimate:
        """The estimate of a process that does not occur here (σ = 0): nothing expected."""
        rows = [CutflowEntry("all", "all generated events", 0.0, 0.0, 0, 0.0, 0.0)]
        rows += [
            CutflowEntry(c.name, c.description, 0.0, 0.0, 0, 0.0, 0.0) for c in self.selection.cuts
        ]
        return ProcessEstimate(
            process=self.process,
            sigma_pb=sigma,
            sigma_err_pb=sigma_err,
            expected_events=0.0,
            expected_events_err=0.0,
            expected_events_upper95=0.0,
            required_rejection=1.0,
            events_per_mot=0.0,
            produced_events=0.0,
            efficiency=0.0,
            efficiency_error=0.0,
            n_generated=0,
            n_mc_passed=0,
            cutflow=rows,
        )

    def result(self, sigma: float, sigma_err: float) -> ProcessEstimate:
        """The estimate for σ ± δσ (pb per nucleus) of the events added (module docstring)."""
        n_seen, s1, s2, k = self.n_seen, self.s1, self.s2, self.k
        if n_seen == 0:
            raise ValueError("no background events were added")
        per_mot = self.target.number_density * self.thickness_cm * sigma * PB_TO_CM2
        produced = self.config.mot * per_mot
        rows = [
            CutflowEntry("all", "all generated events", produced, float(n_seen), n_seen, 1.0, 1.0)
        ]
        prev = float(n_seen)
        for i, cut in enumerate(self.selection.cuts):
            rows.append(
                CutflowEntry(
                    cut.name,
                    cut.description,
                    produced * s1[i] / n_seen,
                    float(s1[i]),
                    int(k[i]),
                    float(s1[i] / prev) if prev > 0 else 0.0,
                    float(s1[i] / n_seen),
                )
            )
            prev = float(s1[i])
        eff = float(s1[-1] / n_seen)
        eff_err = math.sqrt(max(float(s2[-1]) - float(s1[-1]) ** 2 / n_seen, 0.0)) / n_seen
        rel_sigma = sigma_err / sigma if sigma > 0 else 0.0
        expected = produced * eff
        err = expected * math.hypot(eff_err / eff, rel_sigma) if eff > 0 else 0.0
        n_pass = int(k[-1])
        mean_f = float(s1[-1]) / n_pass if n_pass else 1.0
        upper = produced * mean_f * poisson_mean_upper(n_pass) / n_seen * (1.0 + rel_sigma)
        if k[0] == 0:  # no event can play the signal's roles at all: it cannot fake it
            upper = 0.0
        return ProcessEstimate(
            process=self.process,
            sigma_pb=sigma,
            sigma_err_pb=sigma_err,
            expected_events=expected,
            expected_events_err=err,
            expected_events_upper95=upper,
            required_rejection=max(1.0, expected if n_pass else upper),
            events_per_mot=per_mot,
            produced_events=produced,
            efficiency=eff,
            efficiency_error=eff_err,
            n_generated=n_seen,
            n_mc_passed=n_pass,
            cutflow=rows,
        )


def estimate_process(
    card: RunCard, process: str, config: DetectorConfig, n_events: int
) -> ProcessEstimate:
    """One process through ``config`` for the card's beam, target and seed (module docstring);
    a beam spectrum is run at its :func:`spectrum_nodes` and combined."""
    if card.beam.energy is None:
        parts = []
        for j, (energy, share) in enumerate(spectrum_nodes(card)):
            seed = background_int_seed(card.run.seed, process, BKG_NODE, j)
            n = max(n_events // SPECTRUM_NODES, 100)
            parts.append((share, _one(card, process, config, n, _params(card, energy), seed)))
        return combine(parts)
    return _one(card, process, config, n_events, _params(card), card.run.seed)


def _one(
    card: RunCard,
    process: str,
    config: DetectorConfig,
    n_events: int,
    params: BackgroundParams,
    seed: int,
) -> ProcessEstimate:
    from .api import background_cross_section, events_for

    tally = FakeTally(
        process, config, target=card.target_material, thickness_cm=card.target.thickness_cm
    )
    if process == "charm" and not charm_open(params):  # a low spectrum node
        return tally.empty(0.0, 0.0)
    res = background_cross_section(process, params, seed)
    if not res.sigma_pb > 0.0:  # e.g. below the τ-pair threshold at a low spectrum node
        return tally.empty(res.sigma_pb, res.sigma_err_pb)
    for batch in events_for(process, params, res, n_events, seed):
        interrupts.check()
        tally.add(batch)
    return tally.result(res.sigma_pb, res.sigma_err_pb)


#: Margin (GeV) of the γN energy above Pythia's ``Photon:Wmin`` below which open charm is
#: taken as closed: near W_min Pythia finds no phase space and does not return (measured: a
#: 13.3 GeV μ on a nucleon, W = 5.08 GeV, hangs; 16.6 GeV, W = 5.66 GeV, runs).
CHARM_W_MARGIN = 0.5


def charm_open(params: BackgroundParams) -> bool:
    """Whether the μN energy W = √(M² + 2ME) exceeds ``charm_w_min`` + :data:`CHARM_W_MARGIN`
    (the c c̄ threshold 2m_D + M ≈ 4.7 GeV and Pythia's W_min): below it σ(charm) is ≈ 0."""
    m = 0.938
    return math.sqrt(m * m + 2.0 * m * params.beam_energy) > params.charm_w_min + CHARM_W_MARGIN


def combine(parts: list[tuple[float, ProcessEstimate]]) -> ProcessEstimate:
    """The flux-weighted sum of per-energy estimates (shares w_j adding to 1): σ, produced and
    expected counts add with w_j, their MC errors in quadrature, the upper limits linearly
    (conservative); the MC counts add."""
    first = parts[0][1]
    expected = sum(w * p.expected_events for w, p in parts)
    produced = sum(w * p.produced_events for w, p in parts)
    passed = sum(p.n_mc_passed for _, p in parts)
    upper = sum(w * p.expected_events_upper95 for w, p in parts)
    rows: list[CutflowEntry] = []
    for i, row in enumerate(first.cutflow):
        events = sum(w * p.cutflow[i].events for w, p in parts)
        prev = rows[-1].events if rows else events
        rows.append(
            CutflowEntry(
                row.cut,
                row.description,
                events,
                sum(p.cutflow[i].weight_sum for _, p in parts),
                sum(p.cutflow[i].n_mc for _, p in parts),
                events / prev if prev > 0 else 0.0,
                events / produced if produced > 0 else 0.0,
            )
        )
    eff_err = math.sqrt(sum((w * p.produced_events * p.efficiency_error) ** 2 for w, p in parts))
    return ProcessEstimate(
        process=first.process,
        sigma_pb=sum(w * p.sigma_pb for w, p in parts),
        sigma_err_pb=math.sqrt(sum((w * p.sigma_err_pb) ** 2 for w, p in parts)),
        expected_events=expected,
        expected_events_err=math.sqrt(sum((w * p.expected_events_err) ** 2 for w, p in parts)),
        expected_events_upper95=upper,
        required_rejection=max(1.0, expected if passed else upper),
        events_per_mot=sum(w * p.events_per_mot for w, p in parts),
        produced_events=produced,
        efficiency=expected / produced if produced > 0 else 0.0,
        efficiency_error=eff_err / produced if produced > 0 else 0.0,
        n_generated=sum(p.n_generated for _, p in parts),
        n_mc_passed=passed,
        cutflow=rows,
    )


def estimate_background(
    card: RunCard,
    *,
    processes: tuple[str, ...] | None = None,
    config: DetectorConfig | None = None,
    n_events: int | None = None,
) -> BackgroundEstimate:
    """The expected background of the card's ``[detector]`` from ``processes`` (default: the
    card's ``[background] processes``), ``n_events`` each (default ``[background] events``)."""
    config = _config(card) if config is None else config
    procs = card_processes(card) if processes is None else processes
    _params(card, None if card.beam.energy is not None else 1.0)  # bad input before any work
    n = card.background.events if n_events is None else n_events
    out = []
    for p in procs:
        t0 = time.perf_counter()
        est = estimate_process(card, p, config, n)
        log.info(
            "background %s: σ = %.4g ± %.2g pb, %.3g ± %.2g events after cuts (%d of %d MC "
            "events pass) in %.1f s",
            p,
            est.sigma_pb,
            est.sigma_err_pb,
            est.expected_events,
            est.expected_events_err,
            est.n_mc_passed,
            est.n_generated,
            time.perf_counter() - t0,
        )
        out.append(est)
    settings = {
        "events_per_process": n,
        "seed": card.run.seed,
        "muon_veto_inefficiency": config.muon_veto_inefficiency,
        "charge_misid": config.charge_misid,
        "track_min_energy_GeV": config.track_min_energy_GeV,
        "track_min_angle_rad": config.track_min_angle_rad,
        "user_background": config.background,
        "beam_spectrum_nodes_GeV_share": (
            spectrum_nodes(card) if card.beam.energy is None else None
        ),
    }
    return BackgroundEstimate(config.name, config.selection, config.mot, out, settings)


def reach_with_background(
    counter: SignalCounter,
    result: SignalResult,
    sigma_err_pb: float,
    background: float,
    background_err: float = 0.0,
) -> tuple[float, float]:
    """The reach in C/Λ (TeV⁻¹) and its MC error with ``background`` (± ``background_err``)
    expected events added to ``detector.background``: N_limit = the Poisson 95 % CL limit for
    the sum (module docstring). The MC error adds the limit's change over ±δb to those of σ
    and ε."""
    from ..reach import reach_error, solve_sample

    dres = result.detector
    b = dres.background + background
    n_limit = signal_limit(b)
    sample = counter.sample(dres.signal_events)
    reach = solve_sample(sample, n_limit).reach
    rel_sigma = sigma_err_pb / dres.sigma_pb if dres.sigma_pb > 0 else math.nan
    rel_eff = dres.efficiency_error / dres.efficiency if dres.efficiency > 0 else math.nan
    rel_lim = 0.0
    if background_err > 0.0:
        lo = signal_limit(max(b - background_err, 0.0))
        hi = signal_limit(b + background_err)
        rel_lim = 0.5 * abs(hi - lo) / n_limit
    err = reach_error(sample, reach, math.sqrt(rel_sigma**2 + rel_eff**2 + rel_lim**2))
    return reach, err


def reach_keys(
    card: RunCard, counter: SignalCounter, result: SignalResult, sigma_err_pb: float
) -> tuple[dict[str, float | None], BackgroundEstimate | None]:
    """What ``run`` and ``scan`` add for a signal card with a ``[detector]``: the keys
    ``reach_with_background_C_over_Lambda_invTeV`` and ``..._err_invTeV`` (null where
    undefined) and the :class:`BackgroundEstimate` of the card's ``[background] processes``
    (``None`` without them: nothing extra runs, and the reach with background is the reach with
    ``detector.background`` alone, i.e. ``reach_C_over_Lambda_invTeV``)."""
    if not card.background.processes:
        reach = result.reach.reach_C_over_Lambda_invTeV
        err = result.reach.reach_C_over_Lambda_err_invTeV
        est = None
    else:
        est = estimate_background(card)
        reach, err = reach_with_background(
            counter, result, sigma_err_pb, est.expected_events, est.expected_events_err
        )
    return {
        "reach_with_background_C_over_Lambda_invTeV": reach if math.isfinite(reach) else None,
        "reach_with_background_C_over_Lambda_err_invTeV": err if math.isfinite(err) else None,
    }, est
