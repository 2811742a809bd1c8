"""|M|² closed form (physics.md (5.1)) against an explicit Dirac-trace evaluation.

Independent check: the four-vectors come from the phase-space map, the invariants (s, u, t) are
recomputed here from those four-vectors, and the trace ½Tr[(p̸'+m_out) Γ (p̸+m_in) Γ̄] with
Γ = P^μΓ_μ (both diagrams, vertex S − Pγ5) is built from explicit 4×4 gamma matrices.
"""

from __future__ import annotations

import numpy as np
import pytest

from alpgen.constants import M_E, M_MU, M_TAU
from alpgen.production.kinematics import hypercube_to_momenta
from alpgen.production.matrix_element import amplitude_terms_batch

# Dirac representation, metric (+,−,−,−)
I2 = np.eye(2)
SIG = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
G0 = np.block([[I2, 0 * I2], [0 * I2, -I2]]).astype(complex)
GI = [np.block([[0 * I2, s], [-s, 0 * I2]]).astype(complex) for s in SIG]
GAMMA = [G0, *GI]
G5 = 1j * G0 @ GI[0] @ GI[1] @ GI[2]
ONE = np.eye(4, dtype=complex)


def slash(v):
    """v̸ = γ^μ v_μ for v = (px, py, pz, E)."""
    return v[3] * GAMMA[0] - v[0] * GAMMA[1] - v[1] * GAMMA[2] - v[2] * GAMMA[3]


def mdot(a, b):
    return a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2]


def lepton_trace(p, pp, k, A, m_in, m_out, S, P, sign=-1.0):
    """½ Tr[(p̸'+m_out) Γ (p̸+m_in) Γ̄] with Γ = A^μ Γ_μ and vertex V = S + sign·P γ5."""
    V = S * ONE + sign * P * G5
    s = mdot(pp + k, pp + k) - m_in**2
    u = mdot(p - k, p - k) - m_out**2
    As = slash(A)
    gam = As @ (slash(p - k) + m_out * ONE) @ V / u + V @ (slash(pp + k) + m_in * ONE) @ As / s
    gbar = G0 @ gam.conj().T @ G0
    tr = np.trace((slash(pp) + m_out * ONE) @ gam @ (slash(p) + m_in * ONE) @ gbar)
    return 0.5 * tr


CASES = [
    # E, m_in, m_out, m_a, M
    (20.0, M_MU, M_TAU, 2.0, 11.2),
    (50.0, M_MU, M_TAU, 5.0, 5.0),
    (15.0, M_E, M_MU, 0.5, 0.94),
    (30.0, M_MU, M_E, 3.0, 37.3),
]


@pytest.mark.parametrize(("E", "m_in", "m_out", "m_a", "M"), CASES)
def test_closed_form_matches_dirac_trace(E, m_in, m_out, m_a, M):
    rng = np.random.default_rng(11)
    jac, mom, inv = hypercube_to_momenta(rng.random((400, 4)), E, m_in, m_out, m_a, M, 1e6)
    ok = np.flatnonzero(jac > 0)[:25]
    assert ok.size >= 10
    S, P = 0.7, 1.3  # both couplings on, to catch S·P cross terms
    for i in ok:
        p, Pi, pp, Pf, k = mom[i]
        s = mdot(pp + k, pp + k) - m_in**2
        u = mdot(p - k, p - k) - m_out**2
        t = -mdot(Pi - Pf, Pi - Pf)
        # the kernel's own invariants agree with the four-vectors
        assert inv[i] == pytest.approx([s, u, t], rel=1e-7, abs=1e-9 * E**2)
        a = amplitude_terms_batch(
            np.array([s]),
            np.array([u]),
            np.array([t]),
            np.array([E]),
            np.array([k[3]]),
            M,
            m_in,
            m_out,
            m_a,
        )[0]
        closed = (S**2 + P**2) * a[0] + P**2 * a[1]
        for sign in (-1.0, 1.0):  # S − Pγ5 (μ⁻→τ⁻) and S + Pγ5 give the same rate
            tr = lepton_trace(p, pp, k, Pi + Pf, m_in, m_out, S, P, sign)
            assert abs(tr.imag) < 1e-8 * abs(tr.real)
            assert tr.real == pytest.approx(closed, rel=1e-7)
        # pure pseudoscalar coupling: 𝒜₀ + 𝒜_PV
        tr_p = lepton_trace(p, pp, k, Pi + Pf, m_in, m_out, 0.0, 1.0).real
        assert tr_p == pytest.approx(a[0] + a[1], rel=1e-7)


@pytest.mark.parametrize(("E", "m_in", "m_out", "m_a", "M"), CASES[:2])
def test_gauge_invariance_and_lab_identity(E, m_in, m_out, m_a, M):
    """q_μ L^{μν} = 0 (Ward identity) and P_μP_ν L^{μν} = 4M² L^{00} in the nucleus rest frame."""
    rng = np.random.default_rng(5)
    jac, mom, _ = hypercube_to_momenta(rng.random((200, 4)), E, m_in, m_out, m_a, M, 1e6)
    for i in np.flatnonzero(jac > 0)[:10]:
        p, Pi, pp, Pf, k = mom[i]
        q = Pi - Pf
        ref = lepton_trace(p, pp, k, Pi + Pf, m_in, m_out, 0.6, 0.8).real
        # contracting with q: the current is conserved, |q·L|² vanishes
        qq = lepton_trace(p, pp, k, q, m_in, m_out, 0.6, 0.8).real
        scale = lepton_trace(p, pp, k, np.array([0, 0, 0, 1.0]), m_in, m_out, 0.6, 0.8).real
        assert abs(qq) < 1e-8 * scale * float(np.sum(q**2))
        assert ref == pytest.approx(4 * M**2 * scale, rel=1e-6)
