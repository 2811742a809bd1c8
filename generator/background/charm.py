"""Open charm μ^± N → μ^± c c̄ X by photon–gluon fusion in Pythia 8 (physics.md §8.3).

Pythia (``pythia8mc``, the ``pythia`` extra) generates γg → c c̄ on a nucleon at rest with its
equivalent-photon flux of the muon (:func:`pythia_settings`): ``PDF:lepton2gamma = on``,
``PhotonParton:ggm2ccbar = on``, ``Beams:frameType = 3`` with ``Beams:pzA`` = the beam momentum
√(E² − m_μ²) and ``Beams:pzB = 0`` (the lab is the nucleon rest frame), ``Photon:Q2max``
(default 1 GeV², Pythia allows at most 2) and ``Photon:Wmin`` (default 5 GeV, the lowest Pythia
allows; the c c̄ threshold is 2m_D ≈ 3.7 GeV). Only quasi-real photons are covered: see
docs/backgrounds.md for how much of COMPASS's 0.003 < Q² < 10 GeV² that misses.

Rate per nucleus (documented convention): σ_A = Z σ_p + (A − Z) σ_n = A σ_N, with σ_p, σ_n from
two Pythia instances (proton and neutron targets). γg fusion sees only the gluon, which isospin
makes equal in p and n, so σ_N equals the plain average ½(σ_p + σ_n) up to MC error; nuclear
effects (shadowing, Fermi motion) are neglected. Each event's nucleon is drawn p with
probability Zσ_p/σ_A, else n.

Event record (``EventBatch`` with ``max_particles`` slots, default :data:`CHARM_SLOTS`):

=======  =====================================================================================
slot     content
=======  =====================================================================================
0        beam μ^± (status 4), daughters = the primaries
1        target nucleon (p or n, at rest, status 4) — not the nucleus: the vertex balances
2        scattered μ^± (status 1), mothers (0, 1)
3 … k    the other primaries: hadrons from the string fragmentation (and any other final
         particle not from a decay), mothers (0, 1)
k+1 …    decay products, each decayed particle's daughters contiguous (status 2 for the
         parent), mothers (parent, parent)
=======  =====================================================================================

Partons and Pythia's bookkeeping entries are dropped; four-momentum is conserved at every vertex
(beam + nucleon = Σ primaries; parent = Σ daughters). Pythia's own decays are kept (its
defaults: D, Λ_c, K⁰_S, Λ, π⁰, … decay; π^±, K^±, K⁰_L, μ stay final) with Pythia's decay
vertices, so D decay lengths (cτ = 0.12–0.31 mm) are displaced. Vertices in mm: Pythia's
(x, y, z, ct) production vertex plus the interaction point, uniform along the beam axis through
the target (z in [0, L], ct = z). ``spin`` is 0 (unknown). ``info``: ``x`` = E(scattered μ)/E,
``Q2`` = −(p − p′)² (GeV², the photon virtuality), ``nucleon`` (2212 or 2112), ``scale`` (GeV,
Pythia's factorisation scale of γg → c c̄: the LHE SCALUP).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..constants import M_MU
from ..errors import CardError
from ..events import STATUS_BEAM, STATUS_DECAYED, STATUS_FINAL, EventBatch
from ..streams import BKG_CHARM_SHARD, BKG_EVENTS, background_rng, background_seed
from ..targets import get_target
from .params import BackgroundCrossSection, BackgroundParams

__all__ = ["CHARM_SLOTS", "CharmGenerator", "charm_generator", "pythia_settings"]

#: Default number of slots of a charm EventBatch (records at 0.16–5 TeV needed ≤ 104).
CHARM_SLOTS = 160
PID_P, PID_N = 2212, 2112
M_P, M_N = 0.93827208816, 0.93956542052
INSTALL_HINT = "pip install 'alpgen[pythia]'"
_PYTHIA_SEED_MAX = 900_000_000


def import_pythia() -> Any:
    """The ``pythia8mc`` module, or a :class:`CardError` on ``process.name`` saying how to
    install it."""
    try:
        import pythia8mc
    except ImportError as exc:
        raise CardError(
            "process.name",
            "'charm' needs Pythia 8 (the pythia8mc package), which is not installed: "
            + INSTALL_HINT,
        ) from exc
    return pythia8mc


def pythia_settings(
    beam_pid: int, E: float, nucleon_pid: int, *, q2_max: float, w_min: float, seed: int
) -> list[str]:
    """The Pythia settings of μ^± N → μ^± c c̄ X on a nucleon at rest (lab frame)."""
    return [
        f"Beams:idA = {beam_pid}",
        f"Beams:idB = {nucleon_pid}",
        "Beams:frameType = 3",
        "Beams:pxA = 0.",
        "Beams:pyA = 0.",
        f"Beams:pzA = {math.sqrt((E - M_MU) * (E + M_MU))!r}",  # the muon's energy is E
        "Beams:pxB = 0.",
        "Beams:pyB = 0.",
        "Beams:pzB = 0.",
        "PDF:lepton2gamma = on",
        "PhotonParton:ggm2ccbar = on",
        f"Photon:Q2max = {q2_max!r}",
        f"Photon:Wmin = {w_min!r}",
        "Next:numberCount = 0",
        "Print:quiet = on",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
    ]


def _entries(ev: Any) -> dict[str, np.ndarray]:
    """The columns of a Pythia event record as arrays (index = Pythia's entry number)."""
    n = ev.size()
    cols: dict[str, list[Any]] = {
        k: [] for k in ("id", "st", "m1", "m2", "d1", "d2", "fin", "p", "m", "v")
    }
    for i in range(n):
        q = ev[i]
        cols["id"].append(q.id())
        cols["st"].append(q.status())
        cols["m1"].append(q.mother1())
        cols["m2"].append(q.mother2())
        cols["d1"].append(q.daughter1())
        cols["d2"].append(q.daughter2())
        cols["fin"].append(q.isFinal())
        cols["p"].append((q.px(), q.py(), q.pz(), q.e()))
        cols["m"].append(q.m())
        cols["v"].append((q.xProd(), q.yProd(), q.zProd(), q.tProd()))
    return {k: np.asarray(v) for k, v in cols.items()}


def compact_order(e: dict[str, np.ndarray], beam_pid: int) -> tuple[list[int], int]:
    """(Pythia entries in record order, number of primaries incl. the scattered muon first).

    Kept: final particles and decayed hadrons/leptons (|status| 81–99); dropped: partons and
    bookkeeping. Primaries are the kept entries not produced in a decay (|status| ∉ 91–99);
    decay products follow breadth-first, each parent's daughters contiguous."""
    n = len(e["id"])
    ast = np.abs(e["st"])
    kept: list[int] = [
        i for i in range(3, n) if e["fin"][i] or (e["st"][i] < 0 and 81 <= ast[i] <= 99)
    ]
    prim = [i for i in kept if not 91 <= ast[i] <= 99]
    mus = [i for i in prim if e["id"][i] == beam_pid and e["fin"][i] and e["m1"][i] == 1]
    if len(mus) != 1:
        raise RuntimeError(f"Pythia record: expected one scattered muon, found {len(mus)}")
    order: list[int] = mus + [i for i in prim if i != mus[0]]
    n_prim = len(order)
    j = 0
    while j < len(order):
        i = order[j]
        if e["st"][i] < 0:  # decayed: its daughters, a contiguous range in Pythia
            d1, d2 = int(e["d1"][i]), int(e["d2"][i])
            d2 = max(d2, d1)
            order.extend(range(d1, d2 + 1))
        j += 1
    if len(order) != len(kept) or set(order) != set(kept):
        raise RuntimeError("Pythia record: decay tree does not cover the kept particles")
    return order, n_prim


def check_beams(e: dict[str, np.ndarray], beam_pid: int, E: float, nucleon_pid: int) -> None:
    """The beams of the record are the requested ones in the lab (fixed-target frames have had
    momentum bugs): entry 1 the muon along +z with energy E, entry 2 the nucleon at rest."""
    pa, pb = e["p"][1], e["p"][2]
    ok = (
        e["id"][1] == beam_pid
        and e["id"][2] == nucleon_pid
        and abs(pa[3] - E) <= 1e-9 * E
        and abs(pa[0]) + abs(pa[1]) <= 1e-12 * E
        and float(np.abs(pb[:3]).max()) <= 1e-9
    )
    if not ok:
        raise RuntimeError(
            f"Pythia beams not as requested: A = {e['id'][1]} {pa}, B = {e['id'][2]} {pb}"
        )


class CharmGenerator:
    """Two Pythia instances (proton, neutron) for μ^± A → μ^± c c̄ X (module docstring).

    ``cross_section()`` runs ``sigma_events`` events per nucleon (discarded) for Pythia's σ
    estimate; ``batches(n, size)`` yields EventBatches."""

    def __init__(
        self,
        params: BackgroundParams,
        seed: int,
        *,
        max_particles: int = CHARM_SLOTS,
        shard: int = 0,
    ):
        p8 = import_pythia()
        self.params = params
        self.seed = seed
        self.max_particles = max_particles
        self.target = get_target(params.target)
        # Pythia's seeds: element 0 of the event stream for the first (or only) generator,
        # (BKG_CHARM_SHARD, k) for that of shard k > 0 of a sharded run
        seq = (
            background_seed(seed, "charm", BKG_EVENTS, 0)
            if shard == 0
            else background_seed(seed, "charm", BKG_CHARM_SHARD, shard)
        )
        s = seq.generate_state(2)
        self.pythia: dict[int, Any] = {}
        self.settings: dict[int, list[str]] = {}
        for k, nuc in enumerate((PID_P, PID_N)):
            py = p8.Pythia("", False)
            st = pythia_settings(
                params.beam_pid,
                params.beam_energy,
                nuc,
                q2_max=params.charm_q2_max,
                w_min=params.charm_w_min,
                seed=int(s[k]) % _PYTHIA_SEED_MAX + 1,
            )
            for line in st:
                if not py.readString(line):
                    raise CardError("process.name", f"Pythia rejected the setting {line!r}")
            if not py.init():
                raise RuntimeError("Pythia initialisation failed for the charm process")
            self.pythia[nuc] = py
            self.settings[nuc] = st
        self._sigma: BackgroundCrossSection | None = None
        self._batch_index = 0

    def _next(self, nuc: int) -> dict[str, np.ndarray]:
        py = self.pythia[nuc]
        for _ in range(100):
            if py.next():
                e = _entries(py.event)
                check_beams(e, self.params.beam_pid, self.params.beam_energy, nuc)
                e["scale"] = np.asarray(py.infoPython().QFac())  # γg → c c̄ factorisation scale
                return e
        raise RuntimeError("Pythia failed to generate a charm event 100 times in a row")

    def cross_section(self) -> BackgroundCrossSection:
        """σ per nucleus (pb) from Pythia's estimate after ``charm_sigma_events`` events per
        nucleon (Pythia's σ is in mb)."""
        if self._sigma is not None:
            return self._sigma
        t0 = time.perf_counter()
        sig, err = {}, {}
        for nuc, py in self.pythia.items():
            for _ in range(self.params.charm_sigma_events):
                py.next()
            info = py.infoPython()
            sig[nuc] = info.sigmaGen() * 1e9
            err[nuc] = info.sigmaErr() * 1e9
        Z, A = self.target.Z, self.target.A
        sigma = Z * sig[PID_P] + (A - Z) * sig[PID_N]
        sigma_err = math.hypot(Z * err[PID_P], (A - Z) * err[PID_N])
        self._frac_p = Z * sig[PID_P] / sigma if sigma > 0 else Z / A
        self._sigma = BackgroundCrossSection(
            process="charm",
            sigma_pb=sigma,
            sigma_err_pb=sigma_err,
            sigma_per_nucleon_pb=sigma / A,
            details={
                "sigma_proton_pb": sig[PID_P],
                "sigma_proton_err_pb": err[PID_P],
                "sigma_neutron_pb": sig[PID_N],
                "sigma_neutron_err_pb": err[PID_N],
                "A": A,
                "Z": Z,
                "photon_q2_max_GeV2": self.params.charm_q2_max,
                "photon_w_min_GeV": self.params.charm_w_min,
                "pythia_settings_proton": self.settings[PID_P],
                "time_s": time.perf_counter() - t0,
            },
            sampler=self,
        )
        return self._sigma

    def set_sigma(self, sigma: BackgroundCrossSection) -> None:
        """Use σ measured by another generator of the same run (a sharded run measures σ
        once and ships it): no events are spent on σ here."""
        Z = self.target.Z
        sp = float(sigma.details.get("sigma_proton_pb", math.nan))
        self._frac_p = Z * sp / sigma.sigma_pb if sigma.sigma_pb > 0 else Z / self.target.A
        self._sigma = dataclasses.replace(sigma, sampler=self)

    def batch(self, n: int, index: int | None = None) -> EventBatch:
        """The next ``n`` events as an :class:`EventBatch` (batches come in order). Batch
        ``index`` (default: the count of batches so far) draws its nucleons and interaction
        points from ``(STREAM_BACKGROUND, charm, BKG_EVENTS, index + 1)``."""
        self.cross_section()
        if index is None:
            index = self._batch_index
        rng = background_rng(self.seed, "charm", BKG_EVENTS, index + 1)
        self._batch_index += 1
        nucleons = np.where(rng.random(n) < self._frac_p, PID_P, PID_N)
        z0 = rng.uniform(0.0, self.params.thickness_cm * 10.0, n)  # mm
        return self._fill([self._next(int(nuc)) for nuc in nucleons], nucleons, z0)

    def _fill(
        self, events: list[dict[str, np.ndarray]], nucleons: np.ndarray, z0: np.ndarray
    ) -> EventBatch:
        n, K = len(events), self.max_particles
        bp = self.params
        b = EventBatch.empty(n, K)
        b.info["x"] = np.empty(n)
        b.info["Q2"] = np.empty(n)
        b.info["nucleon"] = nucleons.astype(np.int32)
        b.info["scale"] = np.empty(n)
        for r, e in enumerate(events):
            order, n_prim = compact_order(e, bp.beam_pid)
            k = len(order) + 2
            if k > K:
                raise ValueError(f"charm event needs {k} slots > max_particles = {K}")
            pos = {pyi: s for s, pyi in enumerate(order, start=2)}
            idx = np.asarray(order)
            b.pid[r, 0] = bp.beam_pid
            b.pid[r, 1] = nucleons[r]
            b.status[r, :2] = STATUS_BEAM
            b.p[r, 0] = e["p"][1]
            b.p[r, 1] = e["p"][2]
            b.m[r, 0] = M_MU
            b.m[r, 1] = M_P if nucleons[r] == PID_P else M_N
            b.daughter[r, :2] = (2, n_prim + 1)
            b.pid[r, 2:k] = e["id"][idx]
            b.status[r, 2:k] = np.where(e["st"][idx] < 0, STATUS_DECAYED, STATUS_FINAL)
            b.p[r, 2:k] = e["p"][idx]
            b.m[r, 2:k] = e["m"][idx]
            b.vertex[r, 2:k] = e["v"][idx]
            b.mother[r, 2 : 2 + n_prim] = (0, 1)
            for s, pyi in enumerate(order, start=2):
                if s >= 2 + n_prim:
                    mo = pos[int(e["m1"][pyi])]
                    b.mother[r, s] = (mo, mo)
                if e["st"][pyi] < 0:
                    d1 = int(e["d1"][pyi])
                    d2 = max(int(e["d2"][pyi]), d1)
                    b.daughter[r, s] = (pos[d1], pos[d2])
            b.vertex[r, :k, 2] += z0[r]
            b.vertex[r, :k, 3] += z0[r]
            b.n_particles[r] = k
            q = b.p[r, 0] - b.p[r, 2]
            b.info["Q2"][r] = -(q[3] ** 2 - q[0] ** 2 - q[1] ** 2 - q[2] ** 2)
            b.info["x"][r] = b.p[r, 2, 3] / b.p[r, 0, 3]
            b.info["scale"][r] = float(e["scale"])
        b.beam_energy[:] = b.p[:, 0, 3]
        return b

    def batches(self, n: int, batch_size: int) -> Iterator[EventBatch]:
        """``n`` events in batches of ``batch_size``."""
        for start in range(0, n, batch_size):
            yield self.batch(min(batch_size, n - start))


def charm_generator(params: BackgroundParams, seed: int, *, shard: int = 0) -> CharmGenerator:
    """A :class:`CharmGenerator` (raises :class:`CardError` without ``pythia8mc``); ``shard``
    selects the Pythia seeds of that shard of a sharded run."""
    return CharmGenerator(params, seed, shard=shard)
