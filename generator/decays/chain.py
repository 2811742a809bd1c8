"""The decay chain: ALP, then every τ, appended to an :class:`~alpgen.events.EventBatch`.

:func:`decay_batch` reads the hard process in slots 0–4 (ALP in ``SLOT_ALP`` with status 1, the
outgoing lepton in ``SLOT_LEPTON`` with ``spin`` = lab helicity ±1, or 0 = unknown, which is then
drawn ±1 with equal probability), and

1. decays the ALP if a channel allowed by ``DecayConfig.alp`` is open (BR > 0);
2. decays every τ± with status 1 (the produced one and those from the ALP) unless
   ``DecayConfig.tau == "none"``; undecayed τ keep status 1 and still get a helicity ±1.

Daughters are appended at ``n_particles`` (status 1, mother = (parent, parent)); the parent gets
status 2 and daughter = (first, last) (0-based, inclusive). Production vertex of the daughters =
parent vertex + ℓ₀ (p⃗/m, E/m) with the proper decay length ℓ₀ exponential of mean cτ (τ:
``constants.CTAU_TAU_MM``; ALP: ``model.ctau_mm``), i.e. the lab decay length is exponential with
mean βγcτ = |p|/m cτ. Daughter spins: lab helicities from the channel where it knows them
(a → ℓℓ′), else ν = −1, ν̄ = +1, 0 for the rest.

Forced channels: when the configuration allows only a subset, a channel is chosen with
probability BR/ΣBR_allowed and ``weight`` is multiplied by ΣBR_allowed for every decayed particle,
so that Σweight estimates σ × BR (weight 0 where the forced ALP channels are all closed; an
ALP with no open channel at all under "auto" stays final with its weight). Deterministic for a
given ``rng`` state: all randoms are drawn from it in a fixed order (rows grouped by channel,
channels in registry order). ``DecayConfig.alp_channels`` names the ALP channels explicitly
(e.g. only the charge-flip mode a → μ⁺τ⁻), with the same weight ΣBR_allowed.

Decay-length biasing (``DecayConfig.tau_min_decay_mm`` = d > 0): a selection that requires every
τ to fly a lab distance L > d only sees the tail ℓ₀ > x = d m/|p⃗| of the proper decay length.
The τ decay lengths are then drawn from the defensive mixture

    q(ℓ₀) = α p(ℓ₀) + (1 − α) p(ℓ₀) Θ(ℓ₀ > x) / P,   p(ℓ₀) = e^(−ℓ₀/cτ)/cτ,  P = e^(−x/cτ),

(α = ``DecayConfig.bias_fraction``: the physical law; 1 − α: the exponential restricted to the
accepted region, ℓ₀ = x + cτ·Exp(1)) and ``weight`` is multiplied by the exact likelihood ratio
p/q: 1/α below x, P/(αP + 1 − α) above. Every distribution stays unbiased (also the cutflow rows
before the decay-length cut); the selected events carry weight ≈ P instead of being a fraction
P of the sample. The mixture draws one extra uniform per τ (after the exponential).

Likewise ``DecayConfig.alp_max_decay_mm`` = D > 0 (a selection that needs the ALP to decay
within D of its production point) draws the ALP's decay length from α p + (1 − α) p Θ(ℓ₀ < x)/P
with x = D m_a/|p⃗|, P = 1 − e^(−x/cτ): ℓ₀ = −cτ ln(1 − u P) on the restricted branch, weight
1/α above x and P/(αP + 1 − α) below. For a prompt ALP (P ≈ 1) the weight is ≈ 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import CTAU_TAU_MM, M_TAU, PID_ALP, PID_TAU
from ..events import COLUMNS, SLOT_ALP, STATUS_DECAYED, STATUS_FINAL, EventBatch
from ..model import ALPModel
from .polarization import draw_helicity
from .registry import Channel, channels_for

_NEUTRINOS = {12, 14, 16}


@dataclass(frozen=True)
class DecayConfig:
    """Which decays to perform.

    ``alp``: "auto" (all open channels by BR), "visible" (a → ℓℓ′ only) or "invisible" (a → χχ̄).
    ``tau``: "all", "none" (τ left undecayed), or channel names / tags, e.g. ("3prong",) or
    ("tau->mu nu nu",); a bare string other than "all"/"none" is read as a one-element tuple.
    ``alp_channels``: explicit ALP channel names (forced, weight ΣBR); overrides ``alp``.
    ``tau_min_decay_mm``: lab decay length (mm) below which no selection accepts a τ; > 0
    switches on the decay-length biasing of the module docstring with ``bias_fraction`` α.
    ``alp_max_decay_mm``: lab decay length (mm) above which no selection accepts the ALP's
    decay; > 0 biases the ALP decay lengths towards it (module docstring).
    """

    alp: str = "auto"
    tau: str | tuple[str, ...] = "all"
    alp_channels: tuple[str, ...] | None = None
    tau_min_decay_mm: float = 0.0
    bias_fraction: float = 0.1
    alp_max_decay_mm: float = 0.0

    def __post_init__(self) -> None:
        if self.alp not in ("auto", "visible", "invisible"):
            raise ValueError(
                f"decays.alp must be 'auto', 'visible' or 'invisible', not {self.alp!r}"
            )
        if not (self.tau_min_decay_mm >= 0.0 and 0.0 < self.bias_fraction <= 1.0):
            raise ValueError("need tau_min_decay_mm ≥ 0 and 0 < bias_fraction ≤ 1")
        if not self.alp_max_decay_mm >= 0.0:
            raise ValueError("need alp_max_decay_mm ≥ 0")

    @property
    def tau_selection(self) -> tuple[str, ...] | None:
        """None for "all", () for "none", else the names/tags."""
        if isinstance(self.tau, str):
            if self.tau == "all":
                return None
            if self.tau == "none":
                return ()
            return (self.tau,)
        return tuple(self.tau)


def select_channels(channels: list[Channel], selection: tuple[str, ...] | None) -> list[Channel]:
    """The channels whose name or one of whose tags is in ``selection`` (all for None)."""
    if selection is None:
        return list(channels)
    known = {c.name for c in channels} | set().union(*(c.tags for c in channels))
    bad = [s for s in selection if s not in known]
    if bad:
        raise ValueError(f"unknown decay channel/tag {bad}; allowed: {sorted(known)}")
    sel = set(selection)
    return [c for c in channels if c.name in sel or (c.tags & sel)]


def _alp_channels(config: DecayConfig) -> list[Channel]:
    chans = channels_for(PID_ALP)
    if config.alp_channels is not None:
        known = {c.name for c in chans}
        bad = [a for a in config.alp_channels if a not in known]
        if bad:
            raise ValueError(f"unknown ALP decay channel {bad}; allowed: {sorted(known)}")
        return [c for c in chans if c.name in config.alp_channels]
    if config.alp == "visible":
        return [c for c in chans if "visible" in c.tags]
    if config.alp == "invisible":
        return [c for c in chans if "invisible" in c.tags]
    return chans


def _copy(batch: EventBatch) -> EventBatch:
    return EventBatch(
        **{k: getattr(batch, k).copy() for k in COLUMNS},
        info={k: v.copy() for k, v in batch.info.items()},
    )


def _default_spins(daughters: tuple[int, ...], n: int) -> np.ndarray:
    s = np.zeros((n, len(daughters)))
    for j, d in enumerate(daughters):
        if abs(d) in _NEUTRINOS:
            s[:, j] = -1.0 if d > 0 else 1.0
    return s


def _decay_slot(
    ev: EventBatch,
    rows: np.ndarray,
    slot: int,
    channels: list[Channel],
    brs: np.ndarray,
    reweight: bool,
    ctau_mm: float,
    m_parent: float,
    model: ALPModel,
    rng: np.random.Generator,
    min_lab_mm: float = 0.0,
    bias_fraction: float = 1.0,
    max_lab_mm: float = 0.0,
) -> None:
    """Decay the particle in ``slot`` for the events ``rows`` (in place); ``min_lab_mm`` > 0
    or ``max_lab_mm`` > 0: decay lengths from the biased mixtures of the module docstring."""
    n = len(rows)
    if n == 0:
        return
    total = brs.sum()
    cum = np.cumsum(brs) / total
    cum[-1] = 1.0
    choice = np.searchsorted(cum, rng.random(n), side="right")
    if reweight:
        ev.weight[rows] *= total
    # decay points: proper length ℓ₀, then Δx⃗ = ℓ₀ p⃗/m and Δ(ct) = ℓ₀ E/m
    ell0 = ctau_mm * rng.standard_exponential(n)
    p_par = ev.p[rows, slot]
    if min_lab_mm > 0.0:
        pabs = np.sqrt(np.sum(p_par[:, :3] ** 2, axis=1))
        with np.errstate(divide="ignore"):
            x = min_lab_mm * m_parent / pabs  # proper length for a lab distance of min_lab_mm
        tail = rng.random(n) >= bias_fraction  # drawn from the restricted exponential
        ell0 = np.where(tail, x + ell0, ell0)
        prob = np.exp(-x / ctau_mm)  # P(ℓ₀ > x)
        above = ell0 > x
        ratio = np.where(
            above, prob / (bias_fraction * prob + (1.0 - bias_fraction)), 1.0 / bias_fraction
        )
        ev.weight[rows] *= ratio
    elif max_lab_mm > 0.0:
        pabs = np.sqrt(np.sum(p_par[:, :3] ** 2, axis=1))
        with np.errstate(divide="ignore"):
            x = max_lab_mm * m_parent / pabs
        prob = -np.expm1(-x / ctau_mm)  # P(ℓ₀ < x)
        u = rng.random(n)
        head = u >= bias_fraction  # drawn from the exponential restricted to ℓ₀ < x
        # reuse the exponential's uniform: e^(−ℓ₀/cτ) is uniform, so is 1 − e^(−ℓ₀/cτ)
        v = -np.expm1(-ell0 / ctau_mm)
        ell0 = np.where(head, -ctau_mm * np.log1p(-v * prob), ell0)
        below = ell0 < x
        ratio = np.where(
            below, prob / (bias_fraction * prob + (1.0 - bias_fraction)), 1.0 / bias_fraction
        )
        ev.weight[rows] *= ratio
    disp = np.empty((n, 4))
    disp[:, :3] = ell0[:, None] * p_par[:, :3] / m_parent
    disp[:, 3] = ell0 * np.sqrt(np.sum(p_par[:, :3] ** 2, axis=1) + m_parent**2) / m_parent
    decay_vertex = ev.vertex[rows, slot] + disp
    for c, ch in enumerate(channels):
        sel = np.nonzero(choice == c)[0]
        if len(sel) == 0:
            continue
        r = rows[sel]
        nd = len(ch.daughters)
        first = ev.n_particles[r]
        if np.any(first + nd > ev.n_slots):
            raise ValueError(f"event record full: {ch.name} needs {nd} more slots")
        parent_p4 = ev.p[r, slot]
        d = ch.run(parent_p4, ev.spin[r, slot], rng.random((len(r), ch.n_random)), model)
        if ch.daughter_helicity is not None:
            spins = ch.daughter_helicity(model, parent_p4, d, rng.random((len(r), nd + 1)))
        else:
            spins = _default_spins(ch.daughters, len(r))
        dm = ch.daughter_masses(model)
        for j, pid in enumerate(ch.daughters):
            k = first + j
            ev.pid[r, k] = pid
            ev.status[r, k] = STATUS_FINAL
            ev.mother[r, k] = slot
            ev.daughter[r, k] = -1
            ev.p[r, k] = d[:, j]
            ev.m[r, k] = dm[j]
            ev.vertex[r, k] = decay_vertex[sel]
            ev.spin[r, k] = spins[:, j]
        ev.status[r, slot] = STATUS_DECAYED
        ev.daughter[r, slot, 0] = first
        ev.daughter[r, slot, 1] = first + nd - 1
        ev.n_particles[r] = first + nd


def decay_batch(
    batch: EventBatch, model: ALPModel, config: DecayConfig, rng: np.random.Generator
) -> EventBatch:
    """Decay the ALP and the τ leptons of ``batch``; returns a new batch (the input is untouched).

    See the module docstring for the conventions."""
    ev = _copy(batch)
    n = len(ev)
    all_rows = np.arange(n)

    # 1. ALP
    alp_rows = all_rows[(ev.pid[:, SLOT_ALP] == PID_ALP) & (ev.status[:, SLOT_ALP] == STATUS_FINAL)]
    chans = _alp_channels(config)
    brs = np.array([c.branching(model) for c in chans]) if chans else np.zeros(0)
    open_ = brs > 0
    if len(alp_rows) and open_.any():
        chans = [c for c, o in zip(chans, open_, strict=True) if o]
        _decay_slot(
            ev,
            alp_rows,
            SLOT_ALP,
            chans,
            brs[open_],
            config.alp != "auto" or config.alp_channels is not None,
            model.ctau_mm,
            model.m_a,
            model,
            rng,
            bias_fraction=config.bias_fraction,
            max_lab_mm=config.alp_max_decay_mm,
        )
    elif len(alp_rows) and (config.alp != "auto" or config.alp_channels is not None):
        # forced channels that are all closed: σ × BR = 0 (the ALP stays undecayed)
        ev.weight[alp_rows] = 0.0

    # 2. τ± (production and ALP daughters), slot by slot in record order
    selection = config.tau_selection
    n_max = int(ev.n_particles.max()) if n else 0
    for slot in range(n_max):
        is_tau = (np.abs(ev.pid[:, slot]) == PID_TAU) & (ev.status[:, slot] == STATUS_FINAL)
        if not is_tau.any():
            continue
        rows = all_rows[is_tau]
        unknown = rows[ev.spin[rows, slot] == 0]
        ev.spin[unknown, slot] = draw_helicity(0.0, rng.random(len(unknown)))
        if selection == ():
            continue
        for pid in (PID_TAU, -PID_TAU):
            r = rows[ev.pid[rows, slot] == pid]
            if len(r) == 0:
                continue
            tch = select_channels(channels_for(pid), selection)
            tbr = np.array([c.branching(model) for c in tch])
            _decay_slot(
                ev,
                r,
                slot,
                tch,
                tbr,
                selection is not None,
                CTAU_TAU_MM,
                M_TAU,
                model,
                rng,
                config.tau_min_decay_mm,
                config.bias_fraction,
            )
    return ev
