"""Numba kinematics helpers: rotations, boosts, n-body phase space, random streams."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alpgen.decays import kinematics as kin


def test_uniform_stream():
    st = kin.seed_state(0.3, 0.7)
    u = np.array([kin.next_uniform(st) for _ in range(20000)])
    assert np.all((u > 0) & (u < 1))
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / len(u))
    st2 = kin.seed_state(0.3, 0.7)
    assert kin.next_uniform(st2) == u[0]  # deterministic
    assert kin.next_uniform(kin.seed_state(0.3, 0.70001)) != u[0]


@pytest.mark.parametrize(
    "n",
    [
        (0, 0, 1),
        (0, 0, -1),
        (1, 0, 0),
        (0.3, -0.2, -0.9),
        (1e-9, 0, -1),
        (0.5, 0.5, -0.5),
        (-0.2, 0.9, 0.1),
    ],
)
def test_rotate_z_to(n):
    n = np.array(n, float)
    n /= np.linalg.norm(n)
    basis = np.eye(3)
    r = np.empty((3, 3))
    for i in range(3):
        v = basis[i].copy()
        kin.rotate_z_to(v, *n)
        r[:, i] = v
    assert np.allclose(r[:, 2], n, atol=1e-15)
    assert np.allclose(r.T @ r, np.eye(3), atol=1e-14)
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-14)  # proper rotation


def test_boost_from_rest_precision():
    m = 1.77686
    p = 5000.0
    v = np.zeros(3)
    e = math.hypot(p, m)
    kin.boost3(v, m, 0.0, 0.0, p / e, e / m)
    assert v[2] == pytest.approx(p, rel=1e-15)
    # slow boost: (γ − 1) without cancellation
    v = np.zeros(3)
    b = 1e-9
    kin.boost3(v, m, b, 0.0, 0.0, 1 / math.sqrt(1 - b * b))
    assert v[0] == pytest.approx(m * b, rel=1e-12)


def test_sample_linear_cos():
    rng = np.random.default_rng(0)
    for P in (1.0, -1.0, 0.3, 0.0, 1e-12):
        c = np.array([kin.sample_linear_cos(P, u) for u in rng.random(20000)])
        assert np.all(np.abs(c) <= 1.0)
        assert abs(c.mean() - P / 3) < 4 * math.sqrt(1 / 3 / len(c))


def test_genbod_massless_three_body_is_flat_dalitz():
    # flat Dalitz plot for massless 3-body: the weighted E₁ density ∝ E₁ on [0, M/2], mean M/3
    M = 2.0
    masses = np.zeros(3)
    st = kin.seed_state(0.1, 0.2)
    out = np.empty((3, 3))
    n = 40000
    e1 = np.empty(n)
    w = np.empty(n)
    wmax = kin.genbod_wtmax(M, masses)
    for i in range(n):
        w[i] = kin.genbod(M, masses, st, out)
        e1[i] = np.linalg.norm(out[0])
        assert np.allclose(out.sum(axis=0), 0.0, atol=1e-14)
        assert w[i] <= wmax
    mean = np.sum(w * e1) / np.sum(w)
    neff = w.sum() ** 2 / np.sum(w**2)
    assert abs(mean - M / 3) < 4 * (M / 2) / math.sqrt(18 * neff)


def test_genbod_massive_conservation():
    M = 1.3
    masses = np.array([0.13957, 0.13957, 0.13498, 0.13957])
    st = kin.seed_state(0.5, 0.5)
    out = np.empty((4, 3))
    for _ in range(500):
        w = kin.genbod(M, masses, st, out)
        assert 0 < w <= kin.genbod_wtmax(M, masses)
        assert np.allclose(out.sum(axis=0), 0.0, atol=1e-14)
        e = np.sqrt(np.sum(out**2, axis=1) + masses**2)
        assert e.sum() == pytest.approx(M, rel=1e-14)
