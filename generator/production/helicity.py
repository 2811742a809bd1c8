"""Helicity amplitudes of μ(p) N(P_i) → τ(p') a(k) N(P_f) and the τ polarization.

Physics (physics.md §5.1). One-photon exchange with a spin-0 nucleus; the two diagrams give

    M = (e² Z F(t) / q²) · A,     A = J_μ ū_{λ'}(p') Γ^μ u_λ(p),
    Γ^μ = γ^μ (p̸ − k̸ + m_out) V / u  +  V (p̸' + k̸ + m_in) γ^μ / s,
    s = (p' + k)² − m_in²,   u = (p − k)² − m_out²,   V = g_S − g_P γ5 ,

with J = P_i + P_f the nuclear current. ``V = g_S − g_P γ5`` is the vertex of an incoming
negative lepton (μ⁻ → τ⁻), i.e. the h.c. term of ``L ⊃ −i a μ̄ (g_S + g_P γ5) τ + h.c.``.

Conventions
-----------
* Frame: the frame of the input four-vectors, meant to be the lab = nucleus rest frame (beam
  along +z, but any direction works). Helicities are defined in this frame.
* Four-vectors are ``[N, 4]`` arrays ``(px, py, pz, E)`` in GeV; metric (+,−,−,−).
* Helicity λ = ±1 means spin projection ±½ on the particle's momentum. Index 0 ↔ λ = −1 and
  index 1 ↔ λ = +1 in every returned array.
* Dirac matrices in the chiral (Weyl) representation, γ⁰ = [[0, 1], [1, 0]],
  γⁱ = [[0, σⁱ], [−σⁱ, 0]], γ5 = diag(−1, −1, +1, +1). Helicity spinors
  u_λ(p) = (√(E − λ|p⃗|) ξ_λ, √(E + λ|p⃗|) ξ_λ) with ξ₊ = (cos θ/2, e^{iφ} sin θ/2),
  ξ₋ = (−e^{−iφ} sin θ/2, cos θ/2) (θ, φ the polar angles of p⃗). |A|² does not depend on these
  phase choices; the complex amplitudes do.
* Normalisation: everything returned here *excludes* the factor e⁴Z²F²(t)/t². With it,
  ``helicity_me2(...).sum(axis=1)`` at ``beam_pol = 0`` is the spin-averaged |M̄|² of
  physics.md (5.1): Σ_λ' ½ Σ_λ |A|² = (g_S² + g_P²) 𝒜₀ + g_P² 𝒜_PV.

Gauge choice and numerical stability
------------------------------------
With exact on-shell spinors the lepton current is conserved, q_μ ū Γ^μ u = 0 for
q = p' + k − p = P_i − P_f. Since P_i + P_f + q = 2 P_i, the current J = P_i + P_f can be replaced
by J = 2 P_i, i.e. ``A = 2 M ū Γ⁰ u`` in the nucleus rest frame: the amplitude-level form of the
identity P_μ P_ν L^{μν} = 4 M² L^{00}. This is the default (``current="lab"``). It needs no
information about the recoil (``P_f`` is then unused) and has no P⁰L⁰ − P⃗·L⃗ subtraction.

What actually decides the double-precision accuracy at TeV energies and t ~ 10⁻⁶ GeV² is *not* the
current (measured: ``current="full"`` agrees with ``"lab"`` to ~10⁻¹¹ once the invariants below
are stable), but the small invariants that the two diagrams nearly cancel in (s + u = 2 k·q):

* s and u are formed as m² sums plus 2 p'·k and −2 p·k, with the on-shell dot product
  a·b = (E_a − |a⃗|) E_b + |a⃗| (E_b − |b⃗|) + |a⃗||b⃗| (1 − cos θ_ab), where E − |a⃗| = m²/(E + |a⃗|)
  and 1 − cos θ = |â − b̂|²/2 at small angles: every term is non-negative, so nothing cancels.
  Computing (p' + k)² − m² directly from 1.5 TeV vectors loses ~6 digits in s and up to ~10⁻⁵
  relative in |A|² near t₋ (the test suite measures this against 50-digit arithmetic);
* the small spinor components use √(E − |p⃗|) = m/√(E + |p⃗|).

The ALP mass enters s and u; pass ``m_a`` explicitly (k² from a TeV four-vector has ~10⁻¹⁰
relative error).

Measured accuracy (tests/generator/production/test_helicity.py): helicity sum vs the closed form
(5.1) in 50-digit arithmetic ≤ 1.5×10⁻¹² relative (45 random points, E = 10 GeV – 1.5 TeV, Pb);
per-helicity |A|² vs a 50-digit evaluation of the same spinor formulas with the full current at
1.5 TeV and 2×10⁻⁶ < t < 10⁻⁵ GeV² (down to t = 1.02 t₋) ≤ 1.3×10⁻¹⁰, where the textbook double
evaluation is off by 3.5×10⁻⁵. Near t₋ the relative error grows like 1/(t − t₋), as |A|² → 0.

Positive beams (charge conjugation)
-----------------------------------
For μ⁺ N → τ⁺ N a the vertex is g_S + g_P γ5 between v̄(p) and v(p'). CP (the Lagrangian is CP
conserving for real g_S, g_P with a CP-odd a; at one-photon exchange the sign of the nuclear charge
drops out of |M|²) together with the absence of T-odd (ε-tensor) terms at tree level gives

    |A_{μ⁺}(λ, λ'; kinematics)|² = |A_{μ⁻}(−λ, −λ'; same kinematics)|² .

So for a μ⁺ beam call these functions with ``beam_pol → −beam_pol`` and read column 0 as τ⁺
helicity +1 (i.e. flip the returned helicity): :func:`helicity_me2` does this for
``charge = +1``. The test suite checks it against explicit v-spinor amplitudes.

Beam helicity and the production rate (issue 15)
------------------------------------------------
h = ±1 is the helicity of the *beam* lepton in the lab (= target rest) frame, whatever its charge;
a beam of longitudinal polarization P (mean helicity, −1 … 1) is the mixture (1 + hP)/2 of the two.
The rate is resolved in it like the outgoing helicity: |M|²(P) = Σ_h (1 + hP)/2 Σ_λ' |A(h, λ')|²,
so σ(P) = Σ_h (1 + hP)/2 σ_h with σ_h the cross section of a fully polarized beam of helicity h
(:func:`joint_helicity_me2`, :func:`beam_helicity_weights`; the production integrand uses
:func:`beam_helicity_sums`). Per event the beam helicity is drawn from these per-point weights and
then the outgoing helicity conditional on it (:func:`sample_joint_helicities`).

Chirality: V = g_S − g_P γ5 = a_L P_L + a_R P_R with a_L = g_S + g_P and a_R = g_S − g_P. For
m_in → 0 a left-chiral μ⁻ is a helicity −1 μ⁻ (and a μ⁺ of helicity +1, by CP), so a beam of
helicity h couples through |a_L|² (h = −1) or |a_R|² (h = +1) up to chirality flips that cost
powers of m_in over the process's mass scale. Paper convention at θ = π/4 (g_S = g_P): a_R = 0,
the helicity +1 μ⁻ is suppressed by ≈ x m_μ²/s per event (x = E_τ/E, s = (p' + k)² − m_μ²),
measured σ₊/σ₋ = 1.1×10⁻⁴ at m_a = 2 GeV and 4×10⁻⁶ at 10 GeV, nearly independent of E.
Exact couplings (1.1) at θ = π/4: a_L ∝ 2m_μ, a_R ∝ −2m_τ, so the helicity −1 μ⁻ is the
suppressed one, by ≈ (m_μ/m_τ)² = 3.5×10⁻³ shifted by its interference with the chirality-flip
term (3.0×10⁻³ at m_a = 2 GeV). Numbers and the derivation: docs/results.md.
With g_S g_P = 0 (θ = 0, π/2) |a_L| = |a_R| and parity gives σ₊ = σ₋ at every phase-space
point (the tree-level |A|² with real couplings has no T-odd terms).

Physics consequences (derived in the tests, useful to know)
-----------------------------------------------------------
* Terms of |A|² linear in one helicity are odd in g_P (parity), so with an unpolarised beam the
  τ polarization is ∝ g_S g_P: pure scalar or pure pseudoscalar couplings give P(h = +1) = ½
  exactly at every phase-space point, and g_P → −g_P maps P(h = +1) → 1 − P(h = +1).
* Hence the *sign* of g_S g_P matters for the τ polarization although rates depend only on g_S²,
  g_P². Eq. (1.1) gives g_S ∝ (m_μ − m_τ) sin θ < 0 for 0 < θ < π, the paper's Eq. 3 convention
  has + sin θ: the two predict opposite τ polarizations at the same θ.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..decays.polarization import sample_helicity

__all__ = [
    "beam_helicity_sums",
    "beam_helicity_weights",
    "helicity_amplitudes",
    "helicity_me2",
    "joint_helicity_me2",
    "sample_helicity",
    "sample_joint_helicities",
    "tau_helicity_probability",
]

_CURRENTS = {"lab": 0, "full": 1}


@njit(cache=True)
def _onshell_dot(a, ma, b, mb):
    """Minkowski a·b of two on-shell vectors without cancellation (see module docstring)."""
    na = math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])
    nb = math.sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2])
    if na == 0.0 or nb == 0.0:
        return a[3] * b[3] - (a[0] * b[0] + a[1] * b[1] + a[2] * b[2])
    ea = ma * ma / (a[3] + na)  # E − |a⃗|
    eb = mb * mb / (b[3] + nb)
    cos_ab = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (na * nb)
    if cos_ab > 0.5:
        d0 = a[0] / na - b[0] / nb
        d1 = a[1] / na - b[1] / nb
        d2 = a[2] / na - b[2] / nb
        one_m_cos = 0.5 * (d0 * d0 + d1 * d1 + d2 * d2)
    else:
        one_m_cos = 1.0 - cos_ab
    return ea * b[3] + na * eb + na * nb * one_m_cos


@njit(cache=True)
def _helicity_spinor(p, m, lam):
    """Chiral-representation helicity spinor u_λ(p) as (u_L0, u_L1, u_R0, u_R1)."""
    px, py, pz, e = p[0], p[1], p[2], p[3]
    a = math.sqrt(px * px + py * py + pz * pz)
    out = np.empty(4, dtype=np.complex128)
    if a == 0.0:  # at rest: quantise along +z
        x0 = 1.0 + 0.0j if lam > 0 else 0.0j
        x1 = 0.0j if lam > 0 else 1.0 + 0.0j
    else:
        # |p⃗| + p_z without cancellation for backward momenta
        apz = a + pz if pz >= 0.0 else (px * px + py * py) / (a - pz)
        if apz <= 0.0:  # exactly along −z (θ = π, φ = 0)
            x0 = 0.0j if lam > 0 else -1.0 + 0.0j
            x1 = 1.0 + 0.0j if lam > 0 else 0.0j
        else:
            c = math.sqrt(apz / (2.0 * a))
            sp = complex(px, py) / math.sqrt(2.0 * a * apz)  # e^{iφ} sin(θ/2)
            if lam > 0:
                x0, x1 = complex(c, 0.0), sp
            else:
                x0, x1 = -sp.conjugate(), complex(c, 0.0)
    small = math.sqrt(m * m / (e + a)) if a > 0.0 else math.sqrt(e)  # √(E − |p⃗|)
    big = math.sqrt(e + a)
    fl, fr = (small, big) if lam > 0 else (big, small)
    out[0] = fl * x0
    out[1] = fl * x1
    out[2] = fr * x0
    out[3] = fr * x1
    return out


@njit(cache=True)
def _slash_blocks(v, sign):
    """2×2 matrix v⁰ + sign·v⃗·σ⃗ (sign = −1: v·σ, sign = +1: v·σ̄)."""
    m = np.empty((2, 2), dtype=np.complex128)
    m[0, 0] = v[3] + sign * v[2]
    m[0, 1] = complex(sign * v[0], -sign * v[1])
    m[1, 0] = complex(sign * v[0], sign * v[1])
    m[1, 1] = v[3] - sign * v[2]
    return m


@njit(cache=True)
def _mm(a, b):
    c = np.empty((2, 2), dtype=np.complex128)
    for i in range(2):
        for j in range(2):
            c[i, j] = a[i, 0] * b[0, j] + a[i, 1] * b[1, j]
    return c


@njit(cache=True)
def _amplitude_point(p, P_i, pp, P_f, kk, m_in, m_out, ma, a_l, a_r, current, amp):
    """Fill ``amp[2, 2]`` (λ_in, λ_out; index 0 ↔ −1) for one phase-space point.

    ``a_l = g_S + g_P``, ``a_r = g_S − g_P``: the vertex V = g_S − g_P γ5 on the left- and
    right-chiral blocks. No e²ZF/q² factor."""
    jv = np.empty(4)
    kb = np.empty(4)
    ka = np.empty(4)
    if current == 0:
        for c in range(4):
            jv[c] = 2.0 * P_i[c]
    else:
        for c in range(4):
            jv[c] = P_i[c] + P_f[c]
    for c in range(4):
        kb[c] = p[c] - kk[c]
        ka[c] = pp[c] + kk[c]
    s_den = m_out * m_out + ma * ma - m_in * m_in + 2.0 * _onshell_dot(pp, m_out, kk, ma)
    u_den = m_in * m_in + ma * ma - m_out * m_out - 2.0 * _onshell_dot(p, m_in, kk, ma)
    js = _slash_blocks(jv, -1.0)
    jb = _slash_blocks(jv, 1.0)
    kbs = _slash_blocks(kb, -1.0)
    kbb = _slash_blocks(kb, 1.0)
    kas = _slash_blocks(ka, -1.0)
    kab = _slash_blocks(ka, 1.0)
    # Γ = [[A, B], [C, D]] in chiral blocks; diagram (b) /u then diagram (a) /s.
    # (b): J̸(K̸_b + m_out)V = [[J·σ K_b·σ̄ a_L, m_out J·σ a_R], [m_out J·σ̄ a_L, J·σ̄ K_b·σ a_R]]
    # (a): V(K̸_a + m_in)J̸ = [[a_L K_a·σ J·σ̄, a_L m_in J·σ], [a_R m_in J·σ̄, a_R K_a·σ̄ J·σ]]
    blk_a = (a_l / u_den) * _mm(js, kbb) + (a_l / s_den) * _mm(kas, jb)
    blk_b = (m_out * a_r / u_den + m_in * a_l / s_den) * js
    blk_c = (m_out * a_l / u_den + m_in * a_r / s_den) * jb
    blk_d = (a_r / u_den) * _mm(jb, kbs) + (a_r / s_den) * _mm(kab, js)
    for li in range(2):
        u = _helicity_spinor(p, m_in, 2 * li - 1)
        for lo in range(2):
            w = _helicity_spinor(pp, m_out, 2 * lo - 1)
            # ū' Γ u = w_R† (A u_L + B u_R) + w_L† (C u_L + D u_R)
            acc = 0.0j
            for r in range(2):
                top = (
                    blk_a[r, 0] * u[0]
                    + blk_a[r, 1] * u[1]
                    + blk_b[r, 0] * u[2]
                    + blk_b[r, 1] * u[3]
                )
                bot = (
                    blk_c[r, 0] * u[0]
                    + blk_c[r, 1] * u[1]
                    + blk_d[r, 0] * u[2]
                    + blk_d[r, 1] * u[3]
                )
                acc += w[2 + r].conjugate() * top + w[r].conjugate() * bot
            amp[li, lo] = acc


@njit(cache=True)
def _amplitudes_kernel(p_in, P_i, p_out, P_f, k, m_in, m_out, m_a, g_s, g_p, current):
    """Complex amplitudes A[n, λ_in, λ_out] (index 0 ↔ −1, 1 ↔ +1), no e²ZF/q² factor."""
    n = p_in.shape[0]
    amp = np.empty((n, 2, 2), dtype=np.complex128)
    a_l = g_s + g_p  # V = g_S − g_P γ5 on the left-chiral block (γ5 = −1)
    a_r = g_s - g_p  # ... and on the right-chiral block (γ5 = +1)
    one = np.empty((2, 2), dtype=np.complex128)
    for i in range(n):
        _amplitude_point(
            p_in[i], P_i[i], p_out[i], P_f[i], k[i], m_in, m_out, m_a[i], a_l, a_r, current, one
        )
        for li in range(2):
            for lo in range(2):
                amp[i, li, lo] = one[li, lo]
    return amp


@njit(cache=True)
def beam_helicity_sums(mom, m_in, m_out, m_a, g_s, g_p):
    """(Σ_λ' |A(λ = −1, λ')|², Σ_λ' |A(λ = +1, λ')|²) at one point, negative-lepton convention.

    ``mom[5, 4]`` = (p_in, P_i, p_out, P_f, k) in the nucleus rest frame (lab current J = 2P_i).
    Their sum is twice the spin-averaged bracket (g_S² + g_P²)𝒜₀ + g_P²𝒜_PV of physics.md (5.1).
    Used inside the production integrand (numba); no e²ZF/q² factor."""
    amp = np.empty((2, 2), dtype=np.complex128)
    _amplitude_point(
        mom[0], mom[1], mom[2], mom[3], mom[4], m_in, m_out, m_a, g_s + g_p, g_s - g_p, 0, amp
    )
    s_minus = 0.0
    s_plus = 0.0
    for lo in range(2):
        a0 = amp[0, lo]
        a1 = amp[1, lo]
        s_minus += a0.real * a0.real + a0.imag * a0.imag
        s_plus += a1.real * a1.real + a1.imag * a1.imag
    return s_minus, s_plus


@njit(cache=True)
def _me2_from_amplitudes(amp, beam_pol):
    n = amp.shape[0]
    out = np.empty((n, 2))
    w_minus = 0.5 * (1.0 - beam_pol)
    w_plus = 0.5 * (1.0 + beam_pol)
    for i in range(n):
        for lo in range(2):
            a0 = amp[i, 0, lo]
            a1 = amp[i, 1, lo]
            out[i, lo] = w_minus * (a0.real * a0.real + a0.imag * a0.imag) + w_plus * (
                a1.real * a1.real + a1.imag * a1.imag
            )
    return out


def _prepare(p_in, P_i, p_out, P_f, k, m_a):
    arrs = [
        np.ascontiguousarray(np.atleast_2d(x), dtype=np.float64) for x in (p_in, P_i, p_out, P_f, k)
    ]
    n = arrs[0].shape[0]
    for x in arrs:
        if x.shape != (n, 4):
            raise ValueError("all momenta must have shape [N, 4] with the same N")
    if m_a is None:
        k2 = arrs[4][:, 3] ** 2 - np.sum(arrs[4][:, :3] ** 2, axis=1)
        m_a = np.sqrt(np.maximum(k2, 0.0))
    m_a = np.ascontiguousarray(np.broadcast_to(np.asarray(m_a, dtype=np.float64), (n,)))
    return (*arrs, m_a)


def helicity_amplitudes(
    p_in: np.ndarray,
    P_i: np.ndarray,
    p_out: np.ndarray,
    P_f: np.ndarray,
    k: np.ndarray,
    m_in: float,
    m_out: float,
    gS: float,
    gP: float,
    m_a: float | np.ndarray | None = None,
    current: str = "lab",
) -> np.ndarray:
    """Complex helicity amplitudes ``A[N, λ_in, λ_out]`` for an incoming negative lepton.

    Index 0 ↔ helicity −1, 1 ↔ +1. ``A`` excludes e²ZF(t)/q² (see module docstring for spinor
    phase conventions). ``m_a``: ALP mass in GeV, scalar or ``[N]`` (if ``None``, taken from
    k² per event, which is less accurate at TeV energies). ``current``: ``"lab"``
    (J = 2 P_i, default) or ``"full"`` (J = P_i + P_f); equal by current conservation.
    """
    if current not in _CURRENTS:
        raise ValueError(f"current must be one of {sorted(_CURRENTS)}, got {current!r}")
    p_in, P_i, p_out, P_f, k, m_a = _prepare(p_in, P_i, p_out, P_f, k, m_a)
    return _amplitudes_kernel(
        p_in, P_i, p_out, P_f, k, float(m_in), float(m_out), m_a, float(gS), float(gP),
        _CURRENTS[current],
    )  # fmt: skip


def helicity_me2(
    p_in: np.ndarray,
    P_i: np.ndarray,
    p_out: np.ndarray,
    P_f: np.ndarray,
    k: np.ndarray,
    m_in: float,
    m_out: float,
    gS: float,
    gP: float,
    beam_pol: float = 0.0,
    m_a: float | np.ndarray | None = None,
    charge: int = -1,
    current: str = "lab",
) -> np.ndarray:
    """|A|² per outgoing-lepton helicity, shape ``[N, 2]`` (column 0: h = −1, column 1: h = +1).

    The incoming helicity λ is averaged with weights (1 + λ·beam_pol)/2, where ``beam_pol`` ∈
    [−1, 1] is the longitudinal polarization (mean helicity) of the beam; 0 = unpolarized, and then
    the row sum is the spin-averaged (g_S² + g_P²)𝒜₀ + g_P²𝒜_PV of physics.md (5.1). Multiply by
    e⁴Z²F²(t)/t² for |M|². ``charge``: −1 for μ⁻ → τ⁻ (default), +1 for μ⁺ → τ⁺ (CP map of
    the module docstring: beam_pol → −beam_pol and the two τ columns swapped).
    """
    if not -1.0 <= beam_pol <= 1.0:
        raise ValueError(f"beam_pol must lie in [-1, 1], got {beam_pol}")
    if charge not in (-1, 1):
        raise ValueError(f"charge must be -1 or +1, got {charge}")
    amp = helicity_amplitudes(p_in, P_i, p_out, P_f, k, m_in, m_out, gS, gP, m_a, current)
    if charge == -1:
        return _me2_from_amplitudes(amp, float(beam_pol))
    return np.ascontiguousarray(_me2_from_amplitudes(amp, -float(beam_pol))[:, ::-1])


def joint_helicity_me2(
    p_in: np.ndarray,
    P_i: np.ndarray,
    p_out: np.ndarray,
    P_f: np.ndarray,
    k: np.ndarray,
    m_in: float,
    m_out: float,
    gS: float,
    gP: float,
    m_a: float | np.ndarray | None = None,
    charge: int = -1,
    current: str = "lab",
) -> np.ndarray:
    """|A(h, λ')|², shape ``[N, 2, 2]`` indexed [beam helicity, outgoing helicity], index 0 ↔ −1.

    Helicities are lab-frame helicities of the physical particles, for either beam charge:
    ``charge = +1`` (positive beam) uses the CP map |A₊(h, λ')|² = |A₋(−h, −λ')|² of the module
    docstring. ``½ Σ_{h,λ'}`` is the spin-averaged bracket of physics.md (5.1); multiply by
    e⁴Z²F²(t)/t² for |M|². Other arguments as :func:`helicity_me2`.
    """
    if charge not in (-1, 1):
        raise ValueError(f"charge must be -1 or +1, got {charge}")
    amp = helicity_amplitudes(p_in, P_i, p_out, P_f, k, m_in, m_out, gS, gP, m_a, current)
    me2 = amp.real**2 + amp.imag**2
    if charge == 1:
        me2 = me2[:, ::-1, ::-1]
    return np.ascontiguousarray(me2)


def beam_helicity_weights(me2_joint: np.ndarray, beam_pol: float | np.ndarray) -> np.ndarray:
    """Per-point rate of each beam helicity in a beam of polarization ``beam_pol``, ``[N, 2]``.

    Column j (h = 2j − 1) is (1 + h P)/2 · Σ_λ' |A(h, λ')|² for ``me2_joint`` from
    :func:`joint_helicity_me2`. ``beam_pol``: scalar or ``[N]`` in [−1, 1]. The row sum is the
    polarized |A|² (P = 0: the spin average)."""
    me2_joint = np.asarray(me2_joint, dtype=np.float64)
    pol = np.broadcast_to(np.asarray(beam_pol, dtype=np.float64), me2_joint.shape[:1])
    if np.any(np.abs(pol) > 1.0) or np.any(~np.isfinite(pol)):
        raise ValueError("beam_pol must lie in [-1, 1]")
    per_h = me2_joint.sum(axis=2)
    return np.stack([0.5 * (1.0 - pol) * per_h[:, 0], 0.5 * (1.0 + pol) * per_h[:, 1]], axis=1)


def sample_joint_helicities(
    me2_joint: np.ndarray,
    beam_pol: float | np.ndarray,
    u_beam: np.ndarray,
    u_out: np.ndarray,
    *,
    out_polarized: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw (beam helicity, outgoing helicity), ±1 as float64, per point from the joint |A|².

    The beam helicity h is drawn with P(h) ∝ (1 + hP)/2 Σ_λ'|A(h, λ')|² (the per-point
    helicity-resolved rate, :func:`beam_helicity_weights`), then the outgoing helicity with
    P(λ' | h) = |A(h, λ')|² / Σ_λ'|A(h, λ')|², so the pair follows |A(h, λ')|² (1 + hP)/2.
    ``out_polarized=False`` draws the outgoing helicity ±1 with ½ each (the card's
    ``tau_polarization = "unpolarized"``), still after the beam helicity. ``u_beam``, ``u_out``:
    caller-supplied uniforms in [0, 1). Points with zero weight get probability ½."""
    me2_joint = np.asarray(me2_joint, dtype=np.float64)
    w = beam_helicity_weights(me2_joint, beam_pol)
    tot = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_beam = np.where(tot > 0, w[:, 1] / tot, 0.5)
    h_beam = sample_helicity(p_beam, u_beam)
    if out_polarized:
        row = me2_joint[np.arange(me2_joint.shape[0]), (h_beam > 0).astype(np.intp)]
        rt = row.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_out = np.where(rt > 0, row[:, 1] / rt, 0.5)
    else:
        p_out = np.full(me2_joint.shape[0], 0.5)
    return h_beam, sample_helicity(p_out, u_out)


def tau_helicity_probability(
    p_in: np.ndarray,
    P_i: np.ndarray,
    p_out: np.ndarray,
    P_f: np.ndarray,
    k: np.ndarray,
    m_in: float,
    m_out: float,
    gS: float,
    gP: float,
    beam_pol: float = 0.0,
    m_a: float | np.ndarray | None = None,
    charge: int = -1,
) -> np.ndarray:
    """Probability ``[N]`` that the outgoing lepton has lab helicity +1 (arguments as
    :func:`helicity_me2`). Mean helicity is ``2 P − 1``."""
    me2 = helicity_me2(p_in, P_i, p_out, P_f, k, m_in, m_out, gS, gP, beam_pol, m_a, charge)
    return me2[:, 1] / (me2[:, 0] + me2[:, 1])
