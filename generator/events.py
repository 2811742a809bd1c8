"""The columnar event record.

An :class:`EventBatch` holds N events with K particle slots each, HEPEVT-like:

=============  ===============  ==========================================================
column         shape / dtype    meaning
=============  ===============  ==========================================================
pid            [N, K] int32     PDG id (0 in unused slots)
status         [N, K] int32     HepMC3 convention: 4 beam, 2 decayed, 1 final, 0 unused
mother         [N, K, 2] int32  first and last mother index (0-based, inclusive; −1 none)
daughter       [N, K, 2] int32  first and last daughter index (0-based, inclusive; −1 none)
p              [N, K, 4] f8     four-momentum (px, py, pz, E) in GeV, lab = target rest frame
m              [N, K] f8        generated mass in GeV
vertex         [N, K, 4] f8     production vertex (x, y, z, ct) in mm; beam along +z,
                                target front face at z = 0
spin           [N, K] f8        helicity in the lab frame (±1), 0 if unknown / not applicable
weight         [N] f8           event weight (1 for unweighted events, times any forced-BR)
beam_energy    [N] f8           incident lepton energy in GeV
n_particles    [N] int32        number of used slots; slots ≥ n_particles have status 0
=============  ===============  ==========================================================

The hard process always fills the first five slots in this order (see ``SLOT_*``): incoming
lepton, target nucleus, outgoing lepton, recoil nucleus, ALP. Decay products are appended
after them, so ``[:n_particles]`` of an event is a contiguous, HEPEVT-compatible record.

``info`` carries per-event scalars of the hard process; every array in it has length N:

=============  ===============  ==========================================================
key            dtype            meaning
=============  ===============  ==========================================================
t              f8               momentum transfer t ≡ −q² = −(P_f − P_i)² > 0 of the
                                nucleus in GeV² (physics.md §5; Mandelstam t = −info["t"])
component      int8             0 = coherent, 1 = incoherent form factor drew the event
x              f8               E_out / E_beam of the produced lepton (lab)
=============  ===============  ==========================================================

Signs: ``spin`` is the helicity (spin along the particle's lab momentum) in units of ½, for
particles and antiparticles alike; PDG ids are positive for negative leptons (μ⁻ = 13).
:meth:`EventBatch.to_awkward` gives the events as an awkward Array of ``vector`` records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import awkward as ak

#: Number of particle slots per event: 5 hard-process + 2 ALP daughters + up to 2×6 τ daughters
#: (with room to spare for plug-in channels).
MAX_PARTICLES = 24

SLOT_BEAM = 0
SLOT_TARGET = 1
SLOT_LEPTON = 2
SLOT_RECOIL = 3
SLOT_ALP = 4
N_HARD = 5

#: The per-slot and per-event array columns of an :class:`EventBatch` (everything but ``info``).
COLUMNS = (
    "pid",
    "status",
    "mother",
    "daughter",
    "p",
    "m",
    "vertex",
    "spin",
    "weight",
    "beam_energy",
    "n_particles",
)

STATUS_UNUSED = 0
STATUS_FINAL = 1
STATUS_DECAYED = 2
STATUS_BEAM = 4


@dataclass
class EventBatch:
    """A batch of events in columnar form (see the module docstring for the columns)."""

    pid: np.ndarray
    status: np.ndarray
    mother: np.ndarray
    daughter: np.ndarray
    p: np.ndarray
    m: np.ndarray
    vertex: np.ndarray
    spin: np.ndarray
    weight: np.ndarray
    beam_energy: np.ndarray
    n_particles: np.ndarray
    info: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls, n: int, k: int = MAX_PARTICLES) -> EventBatch:
        """An all-unused batch of ``n`` events with ``k`` slots."""
        return cls(
            pid=np.zeros((n, k), np.int32),
            status=np.zeros((n, k), np.int32),
            mother=np.full((n, k, 2), -1, np.int32),
            daughter=np.full((n, k, 2), -1, np.int32),
            p=np.zeros((n, k, 4)),
            m=np.zeros((n, k)),
            vertex=np.zeros((n, k, 4)),
            spin=np.zeros((n, k)),
            weight=np.ones(n),
            beam_energy=np.zeros(n),
            n_particles=np.zeros(n, np.int32),
        )

    def __len__(self) -> int:
        return int(self.pid.shape[0])

    @property
    def n_slots(self) -> int:
        return int(self.pid.shape[1])

    def select(self, mask: np.ndarray) -> EventBatch:
        """A new batch with the events where ``mask`` is true (or with the given indices)."""
        return EventBatch(
            **{name: getattr(self, name)[mask] for name in COLUMNS},
            info={k: v[mask] for k, v in self.info.items()},
        )

    @classmethod
    def concatenate(cls, batches: list[EventBatch]) -> EventBatch:
        """Join batches event-wise (all must have the same number of slots and info keys)."""
        first = batches[0]
        cols = {name: np.concatenate([getattr(b, name) for b in batches]) for name in COLUMNS}
        info = {k: np.concatenate([b.info[k] for b in batches]) for k in first.info}
        return cls(**cols, info=info)

    def decay_vertex(self, slot: np.ndarray | int) -> np.ndarray:
        """Decay vertex [N, 4] (mm) of the particle in ``slot``: its first daughter's production
        vertex, NaN where it has no daughters (not decayed)."""
        n = len(self)
        slot = np.broadcast_to(np.asarray(slot), (n,))
        rows = np.arange(n)
        first = self.daughter[rows, slot, 0]
        out = np.full((n, 4), np.nan)
        ok = first >= 0
        out[ok] = self.vertex[rows[ok], first[ok]]
        return out

    def to_awkward(self) -> ak.Array:
        """The events as an awkward Array: one list of particles per event (its
        ``n_particles`` used slots), each a ``vector`` ``Momentum4D`` record with fields
        ``px, py, pz, E`` (GeV), ``pid``, ``status``, ``mother1``, ``mother2`` (0-based
        indices within the event, −1 for none), ``vx, vy, vz, vt`` (production vertex, mm;
        vt = ct) and ``helicity`` (±1, 0 unknown). Event-level ``weight`` and
        ``beam_energy`` are not part of the particle lists.

        Needs ``awkward`` and ``vector`` (core dependencies); registers vector's awkward
        behaviour, so ``arr.mass``, ``arr.pt``, ``arr.deltaR(...)`` work.
        """
        import awkward as ak
        import vector

        vector.register_awkward()
        n = self.n_particles.astype(np.int64)
        used = np.arange(self.n_slots)[None, :] < n[:, None]  # [N, K], row-major = event order

        def flat(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a[used])

        fields = {
            "px": flat(self.p[..., 0]),
            "py": flat(self.p[..., 1]),
            "pz": flat(self.p[..., 2]),
            "E": flat(self.p[..., 3]),
            "pid": flat(self.pid),
            "status": flat(self.status),
            "mother1": flat(self.mother[..., 0]),
            "mother2": flat(self.mother[..., 1]),
            "vx": flat(self.vertex[..., 0]),
            "vy": flat(self.vertex[..., 1]),
            "vz": flat(self.vertex[..., 2]),
            "vt": flat(self.vertex[..., 3]),
            "helicity": flat(self.spin),
        }
        particles = ak.zip(fields, with_name="Momentum4D")
        return ak.unflatten(particles, n)
