"""Synthetic EventBatch builder for the detector tests (plain numpy kinematics).

The detector must not depend on the generator: these events are built by hand with the same
event record (generator/events.py) and known truth labels, for unit tests of single functions
(a cut keeps exactly the labelled events). They are not production-like (collinear massless τ
daughters, decay vertices at ct = 0, ALPs decaying at the production vertex), so efficiencies
that users get are tested on real runs instead (tests/detectors/test_selections_on_runs.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from alpgen.constants import CTAU_TAU_MM, M_MU, M_TAU, mass
from alpgen.events import (
    STATUS_BEAM,
    STATUS_DECAYED,
    STATUS_FINAL,
    EventBatch,
)

PB208 = 1000822080

#: τ⁻ decay modes as daughter lists (τ⁺: all ids conjugated). Nested tuples are decayed
#: intermediate states: (pid, [daughters]).
TAU_MODES: dict[str, list] = {
    "mu": [13, -14, 16],
    "e": [11, -12, 16],
    "pi": [-211, 16],
    "pipi0": [-211, 111, 16],
    "3pi": [-211, -211, 211, 16],
    # a₁⁻ → ρ⁰ π⁻, ρ⁰ → π⁺ π⁻: three prongs two generations down
    "3pi_a1": [(-20213, [(113, [211, -211]), -211]), 16],
    "3pi_pi0": [-211, -211, 211, 111, 16],
}
N_PRONGS = {"mu": 1, "e": 1, "pi": 1, "pipi0": 1, "3pi": 3, "3pi_a1": 3, "3pi_pi0": 3}


def _conj(pid: int) -> int:
    """Charge conjugate (self-conjugate neutral mesons keep their id)."""
    return pid if pid in (111, 113, 22) else -pid


def _p4(direction: np.ndarray, pmag: float, m: float) -> np.ndarray:
    p3 = direction * pmag
    return np.array([*p3, np.sqrt(pmag * pmag + m * m)])


class _Event:
    """Fills one event row of a batch."""

    def __init__(self, batch: EventBatch, i: int) -> None:
        self.b, self.i, self.n = batch, i, 0

    def add(self, pid, status, mother, p4, vertex) -> int:
        b, i, k = self.b, self.i, self.n
        b.pid[i, k] = pid
        b.status[i, k] = status
        b.mother[i, k] = mother
        b.p[i, k] = p4
        b.m[i, k] = np.sqrt(max(p4[3] ** 2 - p4[:3] @ p4[:3], 0.0))
        b.vertex[i, k] = vertex
        self.n += 1
        b.n_particles[i] = self.n
        return k

    def decay(self, parent: int, daughters: list, vertex: np.ndarray, sign: int) -> None:
        """Append the (collinear, momentum-shared) daughters of ``parent`` at ``vertex``."""
        b, i = self.b, self.i
        b.status[i, parent] = STATUS_DECAYED
        p_par = b.p[i, parent]
        pm = np.linalg.norm(p_par[:3])
        direction = p_par[:3] / pm
        first = self.n
        share = pm / len(daughters)
        nested = []
        for d in daughters:
            pid = d[0] if isinstance(d, tuple) else d
            pid = pid if sign > 0 else _conj(pid)
            k = self.add(pid, STATUS_FINAL, (parent, parent), _p4(direction, share, 0.0), vertex)
            self.b.m[i, k] = 0.0
            if isinstance(d, tuple):
                nested.append((k, d[1]))
        b.daughter[i, parent] = (first, self.n - 1)
        for k, sub in nested:  # intermediate resonances decay in place
            self.decay(k, sub, vertex, sign)


def build_batch(
    n: int,
    rng: np.random.Generator,
    *,
    beam_pid: int = 13,
    beam_energy: float = 1500.0,
    tau_p: np.ndarray | float = 500.0,
    tau_modes: np.ndarray | str = "3pi",
    tau_lengths: np.ndarray | None = None,
    alp: np.ndarray | str = "inv",
    alp_tau_modes: np.ndarray | str = "3pi",
    alp_tau_p: np.ndarray | float = 500.0,
    alp_tau_lengths: np.ndarray | None = None,
    muon_fraction: np.ndarray | float | None = None,
    vertex_z: np.ndarray | float = 0.0,
    theta: np.ndarray | float = 0.0,
    weight: np.ndarray | float = 1.0,
) -> EventBatch:
    """``n`` events μ N → τ N a with chosen τ / ALP decay modes.

    ``tau_modes``: a key of :data:`TAU_MODES` or "none" (τ left undecayed), per event or one
    for all. ``alp``: "inv" (χχ̄), "flip" (muon charge opposite to the beam), "same", or "none"
    (undecayed). Decay lengths (mm) are drawn from the exponential law with mean (p/m) cτ unless
    given. ``muon_fraction``: fraction of the τ momentum carried by its first daughter (the
    muon in the "mu" mode). ``theta``: polar angle (rad) of the τ (azimuth 0).
    """
    b = EventBatch.empty(n)
    sign = 1 if beam_pid > 0 else -1  # +1: negative leptons (μ⁻, τ⁻)
    tau_pid = 15 * sign

    def per_event(x, dtype=float):
        arr = np.asarray(x)
        return (
            np.full(n, x, dtype=object if arr.dtype.kind in "UO" else dtype)
            if arr.ndim == 0
            else arr
        )

    tau_p = per_event(tau_p)
    alp_tau_p = per_event(alp_tau_p)
    tau_modes = per_event(tau_modes)
    alp_modes = per_event(alp)
    alp_tau_modes = per_event(alp_tau_modes)
    vertex_z = per_event(vertex_z)
    theta = per_event(theta)
    if tau_lengths is None:
        tau_lengths = rng.exponential(tau_p / M_TAU * CTAU_TAU_MM)
    if alp_tau_lengths is None:
        alp_tau_lengths = rng.exponential(alp_tau_p / M_TAU * CTAU_TAU_MM)
    b.weight[:] = weight
    b.beam_energy[:] = beam_energy

    for i in range(n):
        ev = _Event(b, i)
        v0 = np.array([0.0, 0.0, vertex_z[i], 0.0])
        pz_beam = np.sqrt(beam_energy**2 - M_MU**2)
        ev.add(beam_pid, STATUS_BEAM, (-1, -1), np.array([0, 0, pz_beam, beam_energy]), v0 * 0)
        m_pb = 193.7
        ev.add(PB208, STATUS_BEAM, (-1, -1), np.array([0, 0, 0, m_pb]), v0 * 0)
        d_tau = np.array([np.sin(theta[i]), 0.0, np.cos(theta[i])])
        tau = ev.add(tau_pid, STATUS_FINAL, (0, 1), _p4(d_tau, tau_p[i], M_TAU), v0)
        ev.add(PB208, STATUS_FINAL, (0, 1), np.array([0, 0, 0.1, m_pb]), v0)
        p_alp = max(pz_beam - tau_p[i], 10.0)
        a = ev.add(9000005, STATUS_FINAL, (0, 1), _p4(np.array([0, 0, 1.0]), p_alp, 2.0), v0)

        if tau_modes[i] != "none":
            vdec = v0.copy()
            vdec[:3] += d_tau * tau_lengths[i]
            daughters = list(TAU_MODES[tau_modes[i]])
            ev.decay(tau, daughters, vdec, sign)
            if muon_fraction is not None:  # give the first daughter the chosen momentum share
                f = muon_fraction if np.ndim(muon_fraction) == 0 else muon_fraction[i]
                k0 = b.daughter[i, tau, 0]
                m0 = mass(int(b.pid[i, k0]))
                b.p[i, k0] = _p4(d_tau, f * tau_p[i], m0)

        mode = alp_modes[i]
        if mode == "inv":
            ev.decay(a, [9000006, -9000006], v0, 1)
        elif mode in ("flip", "same"):
            mu_pid = -beam_pid if mode == "flip" else beam_pid
            t_pid = 15 if mu_pid < 0 else -15  # a → μ⁺τ⁻ or μ⁻τ⁺
            b.status[i, a] = STATUS_DECAYED
            first = ev.n
            d_mu = np.array([0.0, 0.01, 1.0]) / np.sqrt(1.0001)
            ev.add(mu_pid, STATUS_FINAL, (a, a), _p4(d_mu, 0.5 * p_alp, M_MU), v0)
            t2 = ev.add(
                t_pid, STATUS_FINAL, (a, a), _p4(np.array([0, 0, 1.0]), alp_tau_p[i], M_TAU), v0
            )
            b.daughter[i, a] = (first, ev.n - 1)
            if alp_tau_modes[i] != "none":
                vdec = v0.copy()
                vdec[2] += alp_tau_lengths[i]
                ev.decay(t2, list(TAU_MODES[alp_tau_modes[i]]), vdec, 1 if t_pid > 0 else -1)
        elif mode != "none":
            raise ValueError(mode)
    return b


def modes_with_fractions(
    n: int, fractions: dict[str, float], rng: np.random.Generator
) -> np.ndarray:
    """Exactly round(f·n) events of each mode (the last mode takes the remainder), shuffled."""
    names = list(fractions)
    counts = [round(fractions[k] * n) for k in names[:-1]]
    counts.append(n - sum(counts))
    out = np.repeat(np.array(names, dtype=object), counts)
    return rng.permutation(out)


@pytest.fixture(scope="session")
def synth():
    return build_batch


@pytest.fixture(scope="session")
def mode_sampler():
    return modes_with_fractions
