"""Numba kinematics helpers for decays: random streams, rotations, boosts, n-body phase space.

Conventions: four-vectors are (px, py, pz, E) in GeV, metric (+,−,−,−). Daughter momenta are
generated in the parent rest frame with the parent's spin quantisation axis along +z, then rotated
so that +z points along the parent's lab momentum (the helicity axis) and boosted to the lab.

Precision: a boost only transforms the three-momentum; every energy is rebuilt as
sqrt(|p|² + m²) from the nominal mass, so daughters are on shell to machine precision and
Σp_daughters = p_parent to ~1e-16 relative even for TeV parents.

Random numbers: kernels that need an unknown number of uniforms (rejection sampling) seed a
splitmix64 stream from two caller-supplied uniforms per row. The result is a deterministic
function of the caller's uniforms, independent of threads and batch splitting.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO53 = 9007199254740992.0


@njit(cache=True)
def seed_state(u0: float, u1: float) -> np.ndarray:
    """A one-element uint64 splitmix64 state built from two uniforms in [0, 1)."""
    a = np.uint64(u0 * _TWO53)
    b = np.uint64(u1 * _TWO53)
    st = np.empty(1, np.uint64)
    st[0] = a ^ (b * _GOLDEN)
    return st


@njit(cache=True)
def next_uniform(st: np.ndarray) -> float:
    """Next uniform in (0, 1) from the splitmix64 stream ``st`` (advanced in place)."""
    st[0] = st[0] + _GOLDEN
    z = st[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    # 53 random bits, shifted by half a step so that 0 and 1 are excluded
    return (float(z >> _S11) + 0.5) / _TWO53


@njit(cache=True)
def two_body_momentum(M: float, m1: float, m2: float) -> float:
    """Momentum of either daughter in the rest frame of M → m1 m2 (0 below threshold).

    λ^{1/2}(M², m1², m2²)/(2M) written as a product of factors (no cancellation)."""
    a = M * M - (m1 + m2) * (m1 + m2)
    if a <= 0.0:
        return 0.0
    b = M * M - (m1 - m2) * (m1 - m2)
    return math.sqrt(a * b) / (2.0 * M)


@njit(cache=True)
def set_direction(out: np.ndarray, p: float, cos_t: float, phi: float) -> None:
    """out[0:3] = p (sinθ cosφ, sinθ sinφ, cosθ)."""
    s = math.sqrt(max(0.0, 1.0 - cos_t * cos_t))
    out[0] = p * s * math.cos(phi)
    out[1] = p * s * math.sin(phi)
    out[2] = p * cos_t


@njit(cache=True)
def boost3(p3: np.ndarray, m: float, bx: float, by: float, bz: float, gam: float) -> None:
    """Boost the 3-momentum ``p3`` (mass m) in place by the velocity (bx, by, bz) with γ = gam.

    Only the momentum is transformed; the energy is rebuilt from the mass (on-shell by
    construction). γ − 1 is computed as γ²β²/(γ + 1) to stay accurate for slow boosts."""
    b2 = bx * bx + by * by + bz * bz
    if b2 == 0.0:
        return
    e = math.sqrt(p3[0] * p3[0] + p3[1] * p3[1] + p3[2] * p3[2] + m * m)
    bp = bx * p3[0] + by * p3[1] + bz * p3[2]
    gm1 = gam * gam * b2 / (gam + 1.0)
    f = gm1 * bp / b2 + gam * e
    p3[0] += f * bx
    p3[1] += f * by
    p3[2] += f * bz


@njit(cache=True)
def rotate_z_to(v: np.ndarray, nx: float, ny: float, nz: float) -> None:
    """Rotate the 3-vector ``v`` in place by the rotation that takes +z to the unit vector n.

    Rodrigues rotation about z × n; numerically stable for n near −z (uses 1/(1 + nz) only
    when nz ≥ −0.5, with a rotation by π about x first otherwise)."""
    x, y, z = v[0], v[1], v[2]
    if nz < -0.5:
        # rotate by π about x (z → −z), then take −z to n, which is the regular case for −n
        # R = R(z → −n) ∘ Rx(π): Rx(π) takes z to −z and R(z → −n) takes −z to n
        y, z = -y, -z
        nx, ny, nz = -nx, -ny, -nz
    k = 1.0 / (1.0 + nz)
    # R(z → n) = [[nz + ny²k, −nx ny k, nx], [−nx ny k, nz + nx²k, ny], [−nx, −ny, nz]]
    rx = (nz + ny * ny * k) * x - nx * ny * k * y + nx * z
    ry = -nx * ny * k * x + (nz + nx * nx * k) * y + ny * z
    rz = -nx * x - ny * y + nz * z
    v[0] = rx
    v[1] = ry
    v[2] = rz


@njit(cache=True)
def to_lab(rest: np.ndarray, masses: np.ndarray, parent: np.ndarray, M: float, out: np.ndarray):
    """Rotate rest-frame daughters (``rest[n, 3]``, spin axis = +z) to the parent's helicity axis
    and boost them with the parent four-momentum ``parent`` (mass M); write ``out[n, 4]``.

    A parent at rest keeps the z axis as its quantisation axis."""
    px, py, pz = parent[0], parent[1], parent[2]
    pp = math.sqrt(px * px + py * py + pz * pz)
    e_par = math.sqrt(pp * pp + M * M)
    n = rest.shape[0]
    v = np.empty(3)
    for i in range(n):
        v[0], v[1], v[2] = rest[i, 0], rest[i, 1], rest[i, 2]
        if pp > 0.0:
            rotate_z_to(v, px / pp, py / pp, pz / pp)
            boost3(v, masses[i], px / e_par, py / e_par, pz / e_par, e_par / M)
        out[i, 0], out[i, 1], out[i, 2] = v[0], v[1], v[2]
        out[i, 3] = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + masses[i] ** 2)


@njit(cache=True)
def genbod_wtmax(M: float, masses: np.ndarray) -> float:
    """Upper bound of :func:`genbod` weights for M → masses (the standard GENBOD bound)."""
    n = masses.shape[0]
    tecm = M - masses.sum()
    emmax = tecm + masses[0]
    emmin = 0.0
    wt = 1.0
    for i in range(1, n):
        emmin += masses[i - 1]
        emmax += masses[i]
        wt *= two_body_momentum(emmax, emmin, masses[i])
    return wt


@njit(cache=True)
def genbod(
    M: float, masses: np.ndarray, st: np.ndarray, out: np.ndarray, work: np.ndarray | None = None
) -> float:
    """n-body phase space of M → masses in the M rest frame (sequential two-body, GENBOD).

    Writes the 3-momenta to ``out[n, 3]`` and returns the weight Π p_k, proportional to the
    Lorentz-invariant phase-space density dΦ_n for the sampled point (the orientation is
    isotropic). Uses n − 2 + 2(n − 1) uniforms from the stream ``st``. ``work`` is an optional
    scratch array of shape (4, ≥ n) (avoids allocations in rejection loops)."""
    n = masses.shape[0]
    if work is None:
        work = np.empty((4, n))
    tecm = M - masses.sum()
    # ordered uniforms → invariant masses of the subsystems {0..k}
    r = work[0]
    r[0] = 0.0
    r[n - 1] = 1.0
    for i in range(1, n - 1):
        r[i] = next_uniform(st)
    # insertion sort (n is small)
    for i in range(2, n - 1):
        x = r[i]
        j = i - 1
        while j >= 1 and r[j] > x:
            r[j + 1] = r[j]
            j -= 1
        r[j + 1] = x
    inv = work[1]
    s = 0.0
    for i in range(n):
        s += masses[i]
        inv[i] = r[i] * tecm + s
    pd = work[2]
    wt = 1.0
    for i in range(1, n):
        pd[i] = two_body_momentum(inv[i], inv[i - 1], masses[i])
        wt *= pd[i]
    # particle 0 and 1 back to back in the frame of subsystem {0, 1}
    c = 2.0 * next_uniform(st) - 1.0
    phi = 2.0 * math.pi * next_uniform(st)
    tmp = work[3]
    set_direction(tmp, pd[1], c, phi)
    out[0, 0], out[0, 1], out[0, 2] = -tmp[0], -tmp[1], -tmp[2]
    out[1, 0], out[1, 1], out[1, 2] = tmp[0], tmp[1], tmp[2]
    for i in range(2, n):
        # subsystem {0..i-1} (mass inv[i-1]) recoils against particle i in the frame of {0..i}
        c = 2.0 * next_uniform(st) - 1.0
        phi = 2.0 * math.pi * next_uniform(st)
        set_direction(tmp, pd[i], c, phi)
        e_sub = math.sqrt(pd[i] * pd[i] + inv[i - 1] * inv[i - 1])
        bx, by, bz = -tmp[0] / e_sub, -tmp[1] / e_sub, -tmp[2] / e_sub
        gam = e_sub / inv[i - 1]
        for j in range(i):
            boost3(out[j], masses[j], bx, by, bz, gam)
        out[i, 0], out[i, 1], out[i, 2] = tmp[0], tmp[1], tmp[2]
    return wt


@njit(cache=True)
def mdot(a: np.ndarray, b: np.ndarray) -> float:
    """Minkowski product of (px, py, pz, E) four-vectors."""
    return a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2]


@njit(cache=True)
def four(p3: np.ndarray, m: float, out: np.ndarray) -> None:
    """out = (p3, sqrt(|p3|² + m²))."""
    out[0], out[1], out[2] = p3[0], p3[1], p3[2]
    out[3] = math.sqrt(p3[0] * p3[0] + p3[1] * p3[1] + p3[2] * p3[2] + m * m)


@njit(cache=True)
def sample_linear_cos(P: float, u: float) -> float:
    """cosθ from the density (1 + P cosθ)/2 on [−1, 1] (|P| ≤ 1), by inversion.

    Written as (P − 2 + 4u)/(1 + sqrt((1 − P)² + 4Pu)), which is stable as P → 0."""
    return (P - 2.0 + 4.0 * u) / (1.0 + math.sqrt((1.0 - P) ** 2 + 4.0 * P * u))
