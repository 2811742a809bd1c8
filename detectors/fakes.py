"""How a Standard-Model background event fakes a signal selection (issue 14, physics.md §8.1).

The selections of :mod:`alpgen.detectors.experiments` read the signal's roles: the produced τ
(slot 2), the ALP and its products. A background event (a trident or charm record of
:mod:`alpgen.background`) has no such slots, so :func:`fake_weights` plays the roles with what
the detector sees and applies *the same cuts* to every assignment:

* **Tracks** are the charged final-state particles with E ≥ ``track_min_energy_GeV`` and a polar
  angle ≥ ``track_min_angle_rad`` (:func:`fastsim.charged_final`, as for the signal).
* **The scattered beam muon** (slot 2 of a background record) goes unseen with probability
  ``muon_veto_inefficiency``: both cases are evaluated and added with their probabilities
  (a muon below the track thresholds is always unseen).
* **The signal τ** is played by a weakly decaying τ or charm hadron (D⁰, D^±, D_s, Λ_c, Ξ_c,
  Ω_c) of the event, with its decay length and its charged descendants as prongs; for the
  one-prong selections also by any seen muon taken as a "τ → μνν" whose decay length is the
  muon's distance from the interaction point (selections with a 3-prong τ exclude this). Its
  charge must be the signal τ's (the beam's);
  otherwise the assignment carries a factor ``charge_misid``.
* **Other tracks.** A track counts at the interaction point ("prompt") when it starts within
  ``resolution_mm`` of it (with ``resolution_mm = 0``, NA64-μ's unresolved vertex, every track
  does). The signal's "ALP products" (``alp_invisible``) are the prompt tracks that are not the
  τ candidate's; the event's track count (``single_charged_track``, ``no_extra_tracks``) is the
  candidate's prongs plus those prompt tracks. Tracks from a separately resolved displaced
  vertex (the other τ's or D's decay beyond the resolution) are not vetoed: no selection of the
  paper looks for a third vertex.
* **Visible charge flip**: the ALP's μ and τ are played by a seen muon and a second candidate;
  a muon with the beam's charge (no flip) carries ``charge_misid``, as does each τ candidate of
  the wrong charge.

The event passes cut i with the largest probability factor of any assignment passing cuts 0..i
(the analysis picks the best interpretation); :func:`fake_weights` returns these per cut and
event, summed over the seen / unseen scattered muon. The signal is never analysed here, so the
signal's selections and reach do not depend on this module.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..constants import PID_MU
from ..events import STATUS_DECAYED, EventBatch
from . import fastsim
from .config import DetectorConfig
from .experiments import Selection
from .fastsim import EventObservables, TauObservables

__all__ = ["MAX_CANDIDATES", "MAX_MUONS", "WEAK_DECAYS", "fake_weights"]

#: |PDG id| of the particles that can play the displaced τ: τ and the weakly decaying charm
#: hadrons (cτ 0.06–0.31 mm; the τ's is 0.087 mm).
WEAK_DECAYS = np.array([15, 411, 421, 431, 4122, 4132, 4232, 4332])
#: Candidates per event considered for the τ roles, and seen muons for the muon roles (a trident
#: has 2 candidates and ≤ 3 muons; a charm event typically 2 D's).
MAX_CANDIDATES = 4
MAX_MUONS = 3
#: Slot of the scattered beam muon in a background record (:mod:`alpgen.background`).
SLOT_SCATTERED = 2


def _first(mask: np.ndarray, k: int) -> np.ndarray:
    """Slots [N, k] of the first k True entries per row (−1 where fewer)."""
    order = np.argsort(~mask, axis=1, kind="stable")[:, :k]
    ok = np.take_along_axis(mask, order, axis=1)
    return np.where(ok, order, -1)


def _absent(n: int) -> TauObservables:
    nan = np.full(n, np.nan)
    zero = np.zeros(n, bool)
    return TauObservables(
        slot=np.full(n, -1),
        decayed=zero,
        decay_length_mm=nan,
        momentum=nan,
        n_prongs=np.zeros(n, np.int64),
        is_muonic=zero,
        muon_slot=np.full(n, -1),
        muon_energy=nan,
    )


class _Roles:
    """Per-batch, per-state (scattered muon seen or not) inputs of the role assignments."""

    def __init__(
        self,
        batch: EventBatch,
        tracks: np.ndarray,
        prompt: np.ndarray,
        cands: np.ndarray,
        desc: list[np.ndarray],
        q_in: np.ndarray,
    ) -> None:
        self.batch = batch
        self.n = len(batch)
        self.rows = np.arange(self.n)
        self.tracks = tracks
        self.prompt_tracks = tracks & prompt
        self.q_in = q_in
        self.cands = cands
        self.desc = desc
        self.muons = _first(tracks & (np.abs(batch.pid) == PID_MU), MAX_MUONS)
        self.taus = [self._candidate(cands[:, j], desc[j]) for j in range(cands.shape[1])]

    def charge_ok(self, slot: np.ndarray, sign: float) -> np.ndarray:
        """The particle in ``slot`` has charge sign ``sign`` × the beam's (False where −1)."""
        q = fastsim.charges(self.batch.pid[self.rows, np.maximum(slot, 0)])
        return (slot >= 0) & (q * self.q_in * sign > 0.0)

    def _candidate(self, slot: np.ndarray, desc: np.ndarray) -> TauObservables:
        b, rows = self.batch, self.rows
        decayed = slot >= 0
        own = desc & self.tracks
        prongs = own.sum(axis=1)
        first = own.argmax(axis=1)
        is_mu = decayed & (prongs == 1) & (np.abs(b.pid[rows, first]) == PID_MU)
        return TauObservables(
            slot=slot,
            decayed=decayed,
            decay_length_mm=np.where(decayed, fastsim.decay_length(b, slot), np.nan),
            momentum=fastsim.momentum(b, slot),
            n_prongs=np.where(decayed, prongs, 0),
            is_muonic=is_mu,
            muon_slot=np.where(is_mu, first, -1),
            muon_energy=np.where(is_mu, b.p[rows, first, 3], np.nan),
        )

    def pseudo_muon(self, m: np.ndarray) -> TauObservables:
        """A seen muon playing a τ → μνν that decayed where the muon starts."""
        b, rows = self.batch, self.rows
        ok = m >= 0
        safe = np.maximum(m, 0)
        start = b.vertex[rows, safe, :3] - b.vertex[:, SLOT_SCATTERED, :3]
        return TauObservables(
            slot=m,
            decayed=ok,
            decay_length_mm=np.where(ok, np.linalg.norm(start, axis=1), np.nan),
            momentum=fastsim.momentum(b, m),
            n_prongs=ok.astype(np.int64),
            is_muonic=ok,
            muon_slot=m,
            muon_energy=np.where(ok, b.p[rows, safe, 3], np.nan),
        )

    def own_tracks(self, slot: np.ndarray, desc: np.ndarray | None) -> np.ndarray:
        """Mask [N, K] of the tracks of a role: a candidate's prongs or a pseudo muon."""
        if desc is not None:
            return desc & self.tracks
        own = np.zeros_like(self.tracks)
        ok = slot >= 0
        own[self.rows[ok], slot[ok]] = True
        return own

    def observables(
        self,
        tau: TauObservables,
        own: np.ndarray,
        *,
        alp_tau: TauObservables | None = None,
        alp_muon: np.ndarray | None = None,
    ) -> EventObservables:
        extra = self.prompt_tracks & ~own
        n_extra = extra.sum(axis=1)
        n = self.n
        visible = np.zeros(n, bool) if alp_muon is None else (alp_muon >= 0)
        if alp_tau is not None:
            visible &= alp_tau.slot >= 0
        return EventObservables(
            batch=self.batch,
            tracks=self.tracks,
            n_tracks=tau.n_prongs + n_extra,
            incident_charge=self.q_in,
            tau=tau,
            alp_visible=visible,
            alp_n_tracks=n_extra,
            alp_muon_charge=np.full(n, np.nan),
            charge_flip=visible,
            alp_tau=alp_tau if alp_tau is not None else _absent(n),
        )


def _visible(selection: Selection) -> bool:
    return any(c.name == "alp_to_mu_tau" for c in selection.cuts)


def _one_prong(selection: Selection) -> bool:
    """The selection wants τ → μνν, or any τ decay ("ultimate"): a muon can play the τ."""
    names = {c.name for c in selection.cuts}
    return "tau_to_mu_nu_nu" in names or not names & {"tau_3prong", "both_tau_3prong"}


def _best(roles: _Roles, selection: Selection, misid: float, visible: bool) -> np.ndarray:
    """[n_cuts, N]: the largest probability factor of an assignment passing cuts 0..i."""
    n_cuts, n = len(selection.cuts), roles.n
    best = np.zeros((n_cuts, n))

    def take(obs: EventObservables, factor: np.ndarray) -> None:
        if not factor.any():
            return
        masks = selection.cumulative_masks(obs)
        for i, m in enumerate(masks):
            np.maximum(best[i], np.where(m, factor, 0.0), out=best[i])

    def charge_factor(slot: np.ndarray, sign: float) -> np.ndarray:
        return np.where(slot < 0, 0.0, np.where(roles.charge_ok(slot, sign), 1.0, misid))

    n_c = roles.cands.shape[1]
    if not visible:
        for j in range(n_c):
            slot = roles.cands[:, j]
            obs = roles.observables(roles.taus[j], roles.own_tracks(slot, roles.desc[j]))
            take(obs, charge_factor(slot, +1.0))
        if _one_prong(selection):  # a seen muon can play a τ → μνν
            for k in range(roles.muons.shape[1]):
                m = roles.muons[:, k]
                obs = roles.observables(roles.pseudo_muon(m), roles.own_tracks(m, None))
                take(obs, charge_factor(m, +1.0))
        return best
    rows = roles.rows
    for j, j2 in itertools.permutations(range(n_c), 2):
        c, c2 = roles.cands[:, j], roles.cands[:, j2]
        # two separate decays: neither candidate descends from the other (D_s → τν is one)
        chain = roles.desc[j][rows, np.maximum(c2, 0)] | roles.desc[j2][rows, np.maximum(c, 0)]
        c2 = np.where(chain, -1, c2)
        own = roles.own_tracks(c, roles.desc[j]) | roles.own_tracks(c2, roles.desc[j2])
        for k in range(roles.muons.shape[1]):
            m = roles.muons[:, k]
            free = (m >= 0) & ~own[rows, np.maximum(m, 0)]  # not one of the τ's prongs
            m = np.where(free, m, -1)
            factor = charge_factor(c, +1.0) * charge_factor(c2, +1.0) * charge_factor(m, -1.0)
            obs = roles.observables(
                roles.taus[j], own | roles.own_tracks(m, None), alp_tau=roles.taus[j2], alp_muon=m
            )
            take(obs, factor)
    return best


def fake_weights(batch: EventBatch, selection: Selection, config: DetectorConfig) -> np.ndarray:
    """Probability [n_cuts, N] that each background event passes cuts 0..i of ``selection``
    as the detector ``config`` sees it (module docstring), times the event weight."""
    n = len(batch)
    n_cuts = len(selection.cuts)
    if n == 0:
        return np.zeros((n_cuts, 0))
    rows = np.arange(n)
    vis = fastsim.charged_final(batch, **config.track_thresholds)
    q_in = fastsim.charges(batch.pid[:, 0])
    weak = (
        (batch.status == STATUS_DECAYED)
        & np.isin(np.abs(batch.pid), WEAK_DECAYS)
        & (batch.daughter[:, :, 0] >= 0)
    )
    cands = _first(weak, MAX_CANDIDATES)
    desc = [fastsim.descendants(batch, cands[:, j]) for j in range(cands.shape[1])]
    origin = batch.vertex[:, SLOT_SCATTERED, None, :3]  # the interaction point
    start = np.linalg.norm(batch.vertex[..., :3] - origin, axis=2)
    res = config.resolution_mm
    prompt = np.ones_like(vis) if res <= 0.0 else start <= res
    scattered = vis[:, SLOT_SCATTERED] & (np.abs(batch.pid[:, SLOT_SCATTERED]) == PID_MU)
    p_unseen = config.muon_veto_inefficiency
    visible = _visible(selection)
    out = np.zeros((n_cuts, n))
    for unseen in (False, True):
        prob = np.where(scattered, p_unseen if unseen else 1.0 - p_unseen, float(unseen))
        if not prob.any():
            continue
        tracks = vis.copy()
        if unseen:
            tracks[rows, SLOT_SCATTERED] = False
        roles = _Roles(batch, tracks, prompt, cands, desc, q_in)
        out += prob * _best(roles, selection, config.charge_misid, visible)
    return out * np.asarray(batch.weight, float)
