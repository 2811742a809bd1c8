"""Fast detector simulation: vectorised truth-level observables of an :class:`EventBatch`.

The detector knows nothing of how the events were generated; it reads the HEPEVT-like record
(``alpgen.events``): slot 0 the incident lepton, 2 the outgoing lepton (τ), 3 the recoil,
4 the ALP, decay products appended with mother/daughter ranges, ``vertex`` the production vertex
(x, y, z, ct) in mm with the target front face at z = 0 and the beam along +z.

Conventions (physics.md §6, §7 item 6):

* A *track* is a final-state (status 1) charged particle. The recoil slot is never a track (a
  nucleus or a sub-GeV proton from |t| ≤ 1 GeV² stops in the target).
* The *decay length* of a particle is the 3-D distance from its production vertex to its decay
  vertex (the production vertex of its first daughter), in mm.
* The *prong count* of a τ is the number of charged final-state descendants, followed through
  intermediate decays (ρ, a₁, K⁰_S, ... whatever the decay chain records).
* τ → μνν: the τ has exactly one charged final descendant and it is a muon.
* *Charge flip* (visible ALP): the muon from the ALP decay has the charge opposite to the
  incident lepton (incident μ⁻: a → μ⁺τ⁻).

Charges come from ``alpgen.constants.charge`` (the ``particle`` package), except the BSM ids
9000005 (ALP) and ±9000006 (χ), which are neutral; they are cached per PDG id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import PID_ALP, PID_CHI, PID_MU, PID_TAU, charge
from ..events import (
    SLOT_ALP,
    SLOT_BEAM,
    SLOT_LEPTON,
    SLOT_RECOIL,
    STATUS_DECAYED,
    STATUS_FINAL,
    EventBatch,
)

#: The smallest PDG code of a nucleus (10LZZZAAAI, PDG Monte Carlo numbering scheme).
NUCLEUS_PID_MIN = 1_000_000_000

_NEUTRAL_BSM = frozenset({PID_ALP, -PID_ALP, PID_CHI, -PID_CHI})
_CHARGE_CACHE: dict[int, float] = {0: 0.0}


def particle_charge(pid: int) -> float:
    """Electric charge (units of e) of a PDG id; BSM ALP/χ ids are neutral. Cached."""
    q = _CHARGE_CACHE.get(pid)
    if q is None:
        if pid in _NEUTRAL_BSM:
            q = 0.0
        else:
            try:
                q = float(charge(pid))
            except Exception as err:  # particle raises its own ParticleNotFound / InvalidParticle
                raise ValueError(
                    f"fast simulation: unknown charge for PDG id {pid} ({err}); "
                    "register it in alpgen.detectors.fastsim._CHARGE_CACHE"
                ) from None
        _CHARGE_CACHE[pid] = q
    return q


#: (sorted PDG ids with known charge, their charges): replaced as one tuple so that a reader
#: in another thread never sees ids and charges of different lengths.
_TABLE: tuple[np.ndarray, np.ndarray] = (np.zeros(1, np.int64), np.zeros(1))


def charges(pid: np.ndarray) -> np.ndarray:
    """Charges (units of e) of an integer array of PDG ids, same shape.

    A sorted lookup table of the ids seen so far is searched (no per-call sort of the batch);
    new ids are added through :func:`particle_charge`.
    """
    global _TABLE
    pid = np.asarray(pid, np.int64)
    table_pids, table_q = _TABLE
    idx = np.minimum(np.searchsorted(table_pids, pid), len(table_pids) - 1)
    known = table_pids[idx] == pid
    if not known.all():
        for p in np.unique(pid[~known]):
            particle_charge(int(p))  # raises for an unknown id before the table changes
        table_pids = np.array(sorted(_CHARGE_CACHE), np.int64)
        table_q = np.array([_CHARGE_CACHE[int(p)] for p in table_pids])
        _TABLE = (table_pids, table_q)
        idx = np.searchsorted(table_pids, pid)
    return table_q[idx]


def charged_final(
    batch: EventBatch, *, min_energy: float = 0.0, min_angle: float = 0.0
) -> np.ndarray:
    """Mask [N, K] of tracks: status-1 charged particles, the recoil nucleus excluded, with
    E ≥ ``min_energy`` (GeV) and a polar angle to the beam axis ≥ ``min_angle`` (rad) when
    these are > 0 (``detector.track_min_energy_GeV``, ``detector.track_min_angle_rad``).

    The recoil slot is dropped only where it holds a nucleus (PDG 10LZZZAAAI), as in the
    signal and trident records; a record without a recoiling nucleus (open charm from
    Pythia) has an ordinary particle there, which is a track like any other."""
    mask = (batch.status == STATUS_FINAL) & (charges(batch.pid) != 0.0)
    mask[:, SLOT_RECOIL] &= np.abs(batch.pid[:, SLOT_RECOIL]) < NUCLEUS_PID_MIN
    if min_energy > 0.0:
        mask &= batch.p[..., 3] >= min_energy
    if min_angle > 0.0:
        p = batch.p
        mask &= np.arctan2(np.hypot(p[..., 0], p[..., 1]), p[..., 2]) >= min_angle
    return mask


def n_tracks(batch: EventBatch) -> np.ndarray:
    """Number of charged final-state tracks per event [N] (see :func:`charged_final`)."""
    return charged_final(batch).sum(axis=1)


def descendants(batch: EventBatch, root: np.ndarray) -> np.ndarray:
    """Mask [N, K] of all descendants of the particle in slot ``root[i]`` (−1: none).

    Walks each particle's first-mother chain up to K steps, so the ordering of the record
    does not matter; the root itself is not included.
    """
    n, k = batch.pid.shape
    root = np.broadcast_to(np.asarray(root), (n,))
    rows = np.arange(n)[:, None]
    used = batch.status != 0
    cur = np.where(used, batch.mother[:, :, 0], -1)
    out = np.zeros((n, k), bool)
    valid_root = (root >= 0)[:, None]
    for _ in range(k):
        alive = cur >= 0
        if not alive.any():
            break
        out |= alive & (cur == root[:, None]) & valid_root
        cur = np.where(alive, batch.mother[rows, np.maximum(cur, 0), 0], -1)
    return out


def daughter_slot(batch: EventBatch, parent: np.ndarray | int, abs_pid: int) -> np.ndarray:
    """Slot [N] of the first direct daughter of ``parent`` with |pid| = ``abs_pid`` (−1: none)."""
    n = len(batch)
    parent = np.broadcast_to(np.asarray(parent), (n,))
    is_d = (
        (batch.mother[:, :, 0] == parent[:, None])
        & (parent[:, None] >= 0)
        & (np.abs(batch.pid) == abs_pid)
        & (batch.status != 0)
    )
    return np.where(is_d.any(axis=1), is_d.argmax(axis=1), -1)


def decay_length(batch: EventBatch, slot: np.ndarray | int) -> np.ndarray:
    """Distance (mm) from the production to the decay vertex of the particle in ``slot``;
    NaN where the slot is −1 or the particle has no daughters."""
    n = len(batch)
    slot = np.broadcast_to(np.asarray(slot), (n,))
    rows = np.arange(n)
    safe = np.maximum(slot, 0)
    dv = batch.decay_vertex(safe)
    d = np.linalg.norm(dv[:, :3] - batch.vertex[rows, safe, :3], axis=1)
    return np.where(slot >= 0, d, np.nan)


def momentum(batch: EventBatch, slot: np.ndarray | int) -> np.ndarray:
    """|p⃗| (GeV) of the particle in ``slot`` (NaN where −1)."""
    n = len(batch)
    slot = np.broadcast_to(np.asarray(slot), (n,))
    p = np.linalg.norm(batch.p[np.arange(n), np.maximum(slot, 0), :3], axis=1)
    return np.where(slot >= 0, p, np.nan)


@dataclass(frozen=True)
class TauObservables:
    """Per-event observables of one τ role (the produced τ or the τ from the ALP), arrays [N].

    ``slot`` −1 where the event has no such τ; ``decay_length_mm`` NaN where it did not decay;
    ``muon_energy`` NaN unless τ → μνν.
    """

    slot: np.ndarray
    decayed: np.ndarray
    decay_length_mm: np.ndarray
    momentum: np.ndarray
    n_prongs: np.ndarray
    is_muonic: np.ndarray
    muon_slot: np.ndarray
    muon_energy: np.ndarray

    @property
    def present(self) -> np.ndarray:
        return self.slot >= 0


def tau_observables(
    batch: EventBatch, slot: np.ndarray, tracks: np.ndarray | None = None
) -> TauObservables:
    """Decay length, prong count, τ → μνν flag and muon energy of the τ in ``slot`` [N]."""
    n = len(batch)
    rows = np.arange(n)
    if tracks is None:
        tracks = charged_final(batch)
    slot = np.asarray(slot)
    safe = np.maximum(slot, 0)
    decayed = (
        (slot >= 0)
        & (batch.status[rows, safe] == STATUS_DECAYED)
        & (batch.daughter[rows, safe, 0] >= 0)
    )
    desc_tracks = descendants(batch, np.where(decayed, slot, -1)) & tracks
    prongs = desc_tracks.sum(axis=1)
    first = desc_tracks.argmax(axis=1)
    is_mu = decayed & (prongs == 1) & (np.abs(batch.pid[rows, first]) == PID_MU)
    mu_slot = np.where(is_mu, first, -1)
    return TauObservables(
        slot=slot,
        decayed=decayed,
        decay_length_mm=np.where(decayed, decay_length(batch, slot), np.nan),
        momentum=momentum(batch, slot),
        n_prongs=prongs,
        is_muonic=is_mu,
        muon_slot=mu_slot,
        muon_energy=np.where(is_mu, batch.p[rows, first, 3], np.nan),
    )


@dataclass(frozen=True)
class EventObservables:
    """Everything the selections read, computed once per batch (arrays [N]).

    ``tau``: the produced τ (slot 2); ``alp_tau``: the τ from a visible ALP decay;
    ``alp_visible``: the ALP decayed to a muon and a τ; ``charge_flip``: visible and the ALP's
    muon has the charge opposite to the incident lepton.
    """

    batch: EventBatch
    tracks: np.ndarray  #: [N, K] track mask
    n_tracks: np.ndarray
    incident_charge: np.ndarray
    tau: TauObservables
    alp_visible: np.ndarray
    alp_n_tracks: np.ndarray
    alp_muon_charge: np.ndarray
    charge_flip: np.ndarray
    alp_tau: TauObservables

    @property
    def weight(self) -> np.ndarray:
        return self.batch.weight


def analyse(
    batch: EventBatch, *, min_energy: float = 0.0, min_angle: float = 0.0
) -> EventObservables:
    """Compute the :class:`EventObservables` of a batch (vectorised); ``min_energy`` (GeV) and
    ``min_angle`` (rad): what a track needs (:func:`charged_final`)."""
    n = len(batch)
    rows = np.arange(n)
    tracks = charged_final(batch, min_energy=min_energy, min_angle=min_angle)
    q_in = charges(batch.pid[:, SLOT_BEAM])

    lep = np.where(np.abs(batch.pid[:, SLOT_LEPTON]) == PID_TAU, SLOT_LEPTON, -1)
    tau = tau_observables(batch, lep, tracks)

    alp_present = np.abs(batch.pid[:, SLOT_ALP]) == PID_ALP
    alp = np.where(alp_present, SLOT_ALP, -1)
    alp_mu = daughter_slot(batch, alp, PID_MU)
    alp_tau_slot = daughter_slot(batch, alp, PID_TAU)
    alp_visible = (alp_mu >= 0) & (alp_tau_slot >= 0)
    mu_q = np.where(alp_mu >= 0, charges(batch.pid[rows, np.maximum(alp_mu, 0)]), np.nan)
    flip = alp_visible & (mu_q * q_in < 0.0)
    alp_n_tracks = (descendants(batch, alp) & tracks).sum(axis=1)

    return EventObservables(
        batch=batch,
        tracks=tracks,
        n_tracks=tracks.sum(axis=1),
        incident_charge=q_in,
        tau=tau,
        alp_visible=alp_visible,
        alp_n_tracks=alp_n_tracks,
        alp_muon_charge=mu_q,
        charge_flip=flip,
        alp_tau=tau_observables(batch, alp_tau_slot, tracks),
    )


# -- geometry ---------------------------------------------------------------------------------
def interaction_in_target(batch: EventBatch, thickness_mm: float) -> np.ndarray:
    """The hard-interaction vertex (production vertex of the outgoing lepton) lies inside the
    target slab, 0 ≤ z ≤ thickness (mm)."""
    z = batch.vertex[:, SLOT_LEPTON, 2]
    return (z >= 0.0) & (z <= thickness_mm)


def tracks_in_acceptance(
    batch: EventBatch,
    tracks: np.ndarray,
    *,
    length_mm: float,
    face_mm: float | None = None,
    max_angle_rad: float | None = None,
) -> np.ndarray:
    """All tracks of an event are accepted [N].

    ``face_mm``: side of a square face centred on the beam axis; a track is followed on a
    straight line from its production vertex to the downstream face z = ``length_mm`` (or, if
    produced beyond it, taken at its vertex) and must stay within |x|, |y| ≤ face/2.
    ``max_angle_rad``: polar angle to the beam axis at most this (spectrometer acceptance).
    """
    ok = np.ones(tracks.shape, bool)
    p = batch.p
    pt = np.hypot(p[..., 0], p[..., 1])
    if max_angle_rad is not None:
        ok &= np.arctan2(pt, p[..., 2]) <= max_angle_rad
    if face_mm is not None:
        v = batch.vertex
        dz = np.maximum(length_mm - v[..., 2], 0.0)
        forward = p[..., 2] > 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(forward, dz / np.where(forward, p[..., 2], 1.0), 0.0)
        x = v[..., 0] + s * p[..., 0]
        y = v[..., 1] + s * p[..., 1]
        half = 0.5 * face_mm
        ok &= (np.abs(x) <= half) & (np.abs(y) <= half) & (forward | (dz == 0.0))
    return np.all(ok | ~tracks, axis=1)
