"""A synthetic but physically consistent :class:`EventBatch` for the I/O tests.

mu-(1.5 TeV) Pb -> tau- Pb a, a -> mu+ tau-, tau- -> pi- nu_tau (the produced tau always, the
ALP's tau in about half of the events, so events have 9 or 11 particles). Plain numpy two-body
kinematics: 4-momentum is conserved at every vertex to rounding, every particle is on shell,
and the decay vertices follow from sampled proper decay lengths, so the writers can be checked
against exact expectations. This is test scaffolding, not the generator's physics.
"""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from alpgen.constants import (
    CTAU_TAU_MM,
    M_MU,
    M_PI,
    M_TAU,
    PID_ALP,
    PID_MU,
    PID_NU_TAU,
    PID_PI,
    PID_TAU,
)
from alpgen.events import (
    STATUS_BEAM,
    STATUS_DECAYED,
    STATUS_FINAL,
    EventBatch,
)
from alpgen.io.atomic import AtomicFile
from alpgen.io.metadata import RunMetadata
from alpgen.targets import get_target

M_ALP = 2.5  # GeV, above m_mu + m_tau so that a -> mu+ tau- is open
CTAU_ALP_MM = 1.0
E_BEAM = 1500.0


def _boost(p: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Boost four-momenta ``p[N,4]`` from the rest frame of ``parent[N,4]`` to the lab."""
    m = np.sqrt(parent[:, 3] ** 2 - np.sum(parent[:, :3] ** 2, axis=1))
    b = parent[:, :3] / parent[:, 3:4]
    g = parent[:, 3] / m
    bp = np.sum(b * p[:, :3], axis=1)
    b2 = np.sum(b * b, axis=1)
    coef = np.where(b2 > 0, (g - 1.0) / np.where(b2 > 0, b2, 1.0), 0.0) * bp + g * p[:, 3]
    out = np.empty_like(p)
    out[:, :3] = p[:, :3] + coef[:, None] * b
    out[:, 3] = g * (p[:, 3] + bp)
    return out


def _two_body(
    parent: np.ndarray, m1: float, m2: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic two-body decay of ``parent[N,4]`` into masses m1, m2 (lab momenta)."""
    n = len(parent)
    mp = np.sqrt(parent[:, 3] ** 2 - np.sum(parent[:, :3] ** 2, axis=1))
    q = np.sqrt((mp**2 - (m1 + m2) ** 2) * (mp**2 - (m1 - m2) ** 2)) / (2 * mp)
    cos = rng.uniform(-1, 1, n)
    sin = np.sqrt(1 - cos**2)
    phi = rng.uniform(0, 2 * np.pi, n)
    d = np.stack([sin * np.cos(phi), sin * np.sin(phi), cos], axis=1)
    p1 = np.empty((n, 4))
    p1[:, :3] = q[:, None] * d
    p1[:, 3] = np.sqrt(q**2 + m1**2)
    p2 = np.empty((n, 4))
    p2[:, :3] = -q[:, None] * d
    p2[:, 3] = np.sqrt(q**2 + m2**2)
    return _boost(p1, parent), _boost(p2, parent)


def _decay_vertex(
    prod: np.ndarray, p: np.ndarray, m: float, ctau: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Decay vertex (x, y, z, ct) in mm and the sampled proper decay length cτ."""
    proper = rng.exponential(ctau, len(p))
    return prod + p * (proper / m)[:, None], proper


def make_batch(n: int = 50, seed: int = 1, weighted: bool = False) -> EventBatch:
    """Build the synthetic batch (see the module docstring)."""
    rng = np.random.default_rng(seed)
    tgt = get_target("Pb")
    M = tgt.nucleus_mass
    b = EventBatch.empty(n)
    rows = np.arange(n)

    beam = np.zeros((n, 4))
    beam[:, 2] = np.sqrt(E_BEAM**2 - M_MU**2)
    beam[:, 3] = E_BEAM
    target = np.zeros((n, 4))
    target[:, 3] = M

    # Recoil nucleus for a given |t|: kinetic energy |t|/2M, direction within 25° of the beam
    # (keeps the tau + a invariant mass well above threshold).
    abst = np.exp(rng.uniform(np.log(1e-4), np.log(1e-2), n))
    kin = abst / (2 * M)
    prec = np.sqrt(abst + kin**2)
    cos = rng.uniform(np.cos(np.radians(25)), 1.0, n)
    sin = np.sqrt(1 - cos**2)
    phi = rng.uniform(0, 2 * np.pi, n)
    recoil = np.stack(
        [prec * sin * np.cos(phi), prec * sin * np.sin(phi), prec * cos, M + kin], axis=1
    )
    # Reject nothing: guarantee W > m_tau + m_a by construction (checked below).
    system = beam + target - recoil
    tau, alp = _two_body(system, M_TAU, M_ALP, rng)
    mu_plus, tau2 = _two_body(alp, M_MU, M_TAU, rng)
    pi1, nu1 = _two_body(tau, M_PI, 0.0, rng)
    pi2, nu2 = _two_body(tau2, M_PI, 0.0, rng)

    ip = np.zeros((n, 4))
    ip[:, 0] = rng.normal(0, 5.0, n)
    ip[:, 1] = rng.normal(0, 5.0, n)
    ip[:, 2] = rng.uniform(0, 100.0, n)
    ip[:, 3] = ip[:, 2]  # the beam crosses the target at the speed of light
    vtx_tau, _ = _decay_vertex(ip, tau, M_TAU, CTAU_TAU_MM, rng)
    vtx_alp, _ = _decay_vertex(ip, alp, M_ALP, CTAU_ALP_MM, rng)
    vtx_tau2, _ = _decay_vertex(vtx_alp, tau2, M_TAU, CTAU_TAU_MM, rng)
    decay2 = rng.uniform(size=n) < 0.5

    def put(slot, pid, status, p4, m, vertex, mothers, spin=0.0):
        b.pid[:, slot] = pid
        b.status[:, slot] = status
        b.p[:, slot] = p4
        b.m[:, slot] = m
        b.vertex[:, slot] = vertex
        b.mother[:, slot] = mothers
        b.spin[:, slot] = spin

    hel = lambda: rng.choice([-1.0, 1.0], n)
    put(0, PID_MU, STATUS_BEAM, beam, M_MU, ip, (-1, -1), hel())
    put(1, tgt.pdgid, STATUS_BEAM, target, M, ip, (-1, -1))
    put(2, PID_TAU, STATUS_DECAYED, tau, M_TAU, ip, (0, 1), hel())
    put(3, tgt.pdgid, STATUS_FINAL, recoil, M, ip, (0, 1))
    put(4, PID_ALP, STATUS_DECAYED, alp, M_ALP, ip, (0, 1))
    put(5, -PID_MU, STATUS_FINAL, mu_plus, M_MU, vtx_alp, (4, 4), hel())
    put(6, PID_TAU, STATUS_FINAL, tau2, M_TAU, vtx_alp, (4, 4), hel())
    put(7, -PID_PI, STATUS_FINAL, pi1, M_PI, vtx_tau, (2, 2))
    put(8, PID_NU_TAU, STATUS_FINAL, nu1, 0.0, vtx_tau, (2, 2), -1.0)
    b.daughter[:, 0] = (2, 4)
    b.daughter[:, 1] = (2, 4)
    b.daughter[:, 2] = (7, 8)
    b.daughter[:, 4] = (5, 6)
    b.n_particles[:] = 9
    # the ALP's tau decays in part of the events
    d = rows[decay2]
    b.status[d, 6] = STATUS_DECAYED
    b.daughter[d, 6] = (9, 10)
    for slot, pid, p4, m, spin in ((9, -PID_PI, pi2, M_PI, 0.0), (10, PID_NU_TAU, nu2, 0.0, -1.0)):
        b.pid[d, slot] = pid
        b.status[d, slot] = STATUS_FINAL
        b.p[d, slot] = p4[d]
        b.m[d, slot] = m
        b.vertex[d, slot] = vtx_tau2[d]
        b.mother[d, slot] = (6, 6)
        b.spin[d, slot] = spin
    b.n_particles[d] = 11

    b.beam_energy[:] = E_BEAM
    b.weight[:] = rng.uniform(0.5, 1.5, n) if weighted else 1.0
    b.info["t"] = abst  # production convention: t ≡ −q² > 0 (physics.md §5)
    b.info["component"] = np.zeros(n, np.int32)
    w2 = system[:, 3] ** 2 - np.sum(system[:, :3] ** 2, axis=1)
    assert np.all(np.sqrt(w2) > M_TAU + M_ALP + 0.1)
    return b


@pytest.fixture
def batch_factory():
    """``batch_factory(n, seed, weighted)`` builds a synthetic batch."""
    return make_batch


@pytest.fixture(scope="module")
def batch() -> EventBatch:
    return make_batch(40, seed=7, weighted=True)


def make_metadata(batch: EventBatch, seed: int = 7) -> RunMetadata:
    """Run metadata matching :func:`make_batch` (fixed versions so files do not depend on the
    installed packages)."""
    tgt = get_target("Pb")
    card_text = (
        f"# test card <&>\n[run]\nseed = {seed}\nevents = {len(batch)}\n[model]\nm_a = {M_ALP}\n"
    )
    return RunMetadata(
        card_text=card_text,
        card={"run": {"seed": seed, "events": len(batch)}, "model": {"m_a": M_ALP}},
        seed=seed,
        sigma_pb=12.345678901234567,
        sigma_err_pb=0.0123,
        n_events=len(batch),
        beam_pid=PID_MU,
        beam_energy=E_BEAM,
        target_pid=tgt.pdgid,
        target_mass=tgt.nucleus_mass,
        versions={"alpgen": "test", "numpy": "test"},
        generator_version="test",
    )


@pytest.fixture(scope="module")
def meta(batch) -> RunMetadata:
    return make_metadata(batch)


class _FullDisk:
    """Stream wrapper whose writes fail with ENOSPC once ``budget`` characters were written."""

    def __init__(self, stream, budget: int):
        self._stream = stream
        self._budget = budget

    def write(self, data):
        self._budget -= len(data)
        if self._budget < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._stream.write(data)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@pytest.fixture
def full_disk(monkeypatch):
    """Make every AtomicFile stream fail with ENOSPC after ``budget`` characters."""

    def install(budget: int = 2000) -> None:
        original = AtomicFile.open

        def patched(self):
            return _FullDisk(original(self), budget)

        monkeypatch.setattr(AtomicFile, "open", patched)

    return install
