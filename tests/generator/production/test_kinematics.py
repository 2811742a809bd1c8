"""Phase-space map: four-momentum conservation, mass shells and the t± limits up to 50 TeV."""

from __future__ import annotations

import numpy as np
import pytest

from alpgen.constants import M_E, M_MU, M_TAU
from alpgen.production.kinematics import hypercube_to_momenta, phase_space
from alpgen.production.process import global_t_min, production_threshold
from alpgen.targets import get_target

PB = get_target("Pb").nucleus_mass
H = get_target("H").nucleus_mass
C = get_target("C").nucleus_mass


def msq(v):
    return v[..., 3] ** 2 - np.sum(v[..., :3] ** 2, axis=-1)


@pytest.mark.parametrize("E", [10.0, 160.0, 1500.0, 1e4, 5e4])
@pytest.mark.parametrize(
    ("m_in", "m_out", "m_a", "M"),
    [(M_MU, M_TAU, 2.0, PB), (M_MU, M_TAU, 0.01, H), (M_E, M_MU, 0.3, C), (M_MU, M_E, 5.0, PB)],
)
def test_conservation_and_mass_shell(E, m_in, m_out, m_a, M):
    rng = np.random.default_rng(1)
    jac, mom, inv = hypercube_to_momenta(rng.random((20_000, 4)), E, m_in, m_out, m_a, M, 1.0)
    ok = jac > 0
    open_ = E > production_threshold(m_in, m_out, m_a, M) * 1.5
    if open_ and global_t_min(E, m_in, m_out, m_a, M) < 0.1:
        assert ok.mean() > 0.05
    # the one case closed by the t ≤ 1 GeV² cut (t_min = 1.81 GeV²): no phase-space point
    closed = (E, m_out, m_a) == (10.0, M_E, 5.0)
    assert (global_t_min(E, m_in, m_out, m_a, M) > 1.0) == closed
    if closed:
        assert not ok.any() and np.all(jac == 0.0)
        return  # nothing left to check: there are no momenta
    assert ok.any()
    assert np.all(np.isfinite(jac)) and np.all(np.isfinite(mom))
    mom = mom[ok]
    p, Pi, pp, Pf, k = (mom[:, j] for j in range(5))
    assert np.max(np.abs(p + Pi - pp - Pf - k)) / E < 1e-10
    masses = [m_in, M, m_out, M, m_a]
    for j, m in enumerate(masses):
        assert np.max(np.abs(msq(mom[:, j]) - m**2)) / E**2 < 1e-10, j
    t = inv[ok, 2]
    assert np.allclose(-msq(Pi - Pf), t, rtol=1e-6, atol=1e-12 * E**2)
    assert np.all(t <= 1.0 * (1 + 1e-12))
    assert np.all(t >= global_t_min(E, m_in, m_out, m_a, M) * (1 - 1e-6))
    assert np.all(pp[:, 3] > m_out) and np.all(k[:, 3] >= m_a)


def test_t_limits_are_the_cos_theta_q_edges():
    """At y_t = 0 (t = t₋) and at t₊ (no cut), the recoil is (anti)parallel to V⃗: |cosθ_Q| = 1."""
    E, M = 200.0, 20.0
    rng = np.random.default_rng(3)
    n_checked = 0
    for yw, yth in rng.random((200, 2)):
        lo = phase_space(E, yw, yth, 0.0, 0.3, M_MU, M_TAU, 3.0, M, 1e9)
        hi = phase_space(E, yw, yth, 1.0, 0.3, M_MU, M_TAU, 3.0, M, 1e9)
        if lo[0] == 0.0:
            continue
        # E' > m_out may cut t₊; only check points where t₊ is the limit
        w = E - lo[2]
        if hi[6] >= 2 * M * (w - M_TAU) * (1 - 1e-9):
            continue
        n_checked += 1
        assert abs(lo[13]) == pytest.approx(1.0, abs=1e-6)
        assert abs(hi[13]) == pytest.approx(1.0, abs=1e-6)
    assert n_checked > 20


def test_global_t_min_and_threshold():
    # physics.md §5.3: E = 1.5 TeV, m_a = 2 GeV → t_min ≈ [((m_a+m_τ)² − m_μ²)/2E]² = 2.26e-5
    tmin = global_t_min(1500.0, M_MU, M_TAU, 2.0, PB)
    assert tmin == pytest.approx((((2.0 + M_TAU) ** 2 - M_MU**2) / 3000.0) ** 2, rel=2e-2)
    assert tmin == pytest.approx(2.26e-5, rel=5e-3)
    # threshold: s = (m_τ + m_a + M)²
    eth = production_threshold(M_MU, M_TAU, 2.0, PB)
    s = M_MU**2 + PB**2 + 2 * PB * eth
    assert np.sqrt(s) == pytest.approx(M_TAU + 2.0 + PB, rel=1e-14)
    assert global_t_min(eth * (1 - 1e-9), M_MU, M_TAU, 2.0, PB) == np.inf


def test_unphysical_points_are_zero_not_nan():
    # just above threshold almost the whole cube is closed; nothing may be NaN
    E = production_threshold(M_MU, M_TAU, 2.0, 5.0) * (1 + 1e-6)
    jac, mom, _ = hypercube_to_momenta(
        np.random.default_rng(0).random((5000, 4)), E, M_MU, M_TAU, 2.0, 5.0, 1.0
    )
    assert np.all(np.isfinite(jac)) and np.all(jac >= 0) and np.all(np.isfinite(mom))
    # exactly the corners of the cube
    corners = np.array(np.meshgrid(*[[0.0, 1.0]] * 4)).reshape(4, -1).T
    jac, mom, _ = hypercube_to_momenta(corners, 1500.0, M_MU, M_TAU, 2.0, PB, 1.0)
    assert np.all(np.isfinite(jac)) and np.all(np.isfinite(mom))
