#!/usr/bin/env python
"""Mean lab helicity of the τ⁻ in μ⁻ Pb → τ⁻ Pb a versus x = E_τ/E_μ (1.5 TeV, m_a = 2 GeV).

A plain weighted Monte Carlo over (x, ln θ_a, ln t, φ_q) with the exact phase space of
physics.md §5.3 (stable forms) and the form factor Z²F²(t) of §5.6 (Eqs. 16–20), using the
helicity kernel of ``alpgen.production.helicity``. Paper coupling convention (S = g sin θ,
P = g cos θ); ``--exact-sign`` uses the sign of physics.md (1.1), S ∝ (m_μ − m_τ) sin θ < 0,
which flips the τ polarization at 0 < θ < π/2. As a by-product the total σ/g² at θ = π/2 is
printed (physics.md §5.7: 9.02×10⁵ pb). Usage::

    python scripts/tau_polarization_vs_x.py [--n 400000] [--plot out.png] [--exact-sign]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from alpgen.constants import E_CHARGE_SQ, GEV2_TO_PB, HBARC_GEV_FM, M_E, M_MU, M_TAU
from alpgen.production.helicity import helicity_me2
from alpgen.targets import get_target


def z2f2(t: np.ndarray, Z: int, A: int) -> np.ndarray:
    """Z²F²(t) = G_el^atom G_el^nuc + G_inel^atom G_inel^nuc (physics.md Eqs. 16–20)."""
    a = 111.0 * Z ** (-1 / 3) / M_E
    ap = 571.4 * Z ** (-2 / 3) / M_E
    g_el_atom = (a * a * t / (1 + a * a * t)) ** 2
    g_in_atom = (ap * ap * t / (1 + ap * ap * t)) ** 2
    r_a = 1.2 * A ** (1 / 3) / HBARC_GEV_FM
    a0 = 0.79 / HBARC_GEV_FM
    x = r_a * np.sqrt(t)
    sph = np.where(
        x < 1e-2, 1 - x * x / 10, 3 * (np.sin(x) - x * np.cos(x)) / np.maximum(x, 1e-300) ** 3
    )
    g_el_nuc = Z**2 * (sph / (1 + a0 * a0 * t)) ** 2
    mp_ = 0.938272
    tau_p = t / (4 * mp_**2)
    g_in_nuc = (Z * (1 + 2.79**2 * tau_p) + (A - Z) * 1.91**2 * tau_p) / (
        (1 + t / 0.71) ** 4 * (1 + tau_p)
    )
    return np.where(t <= 1.0, g_el_atom * g_el_nuc + g_in_atom * g_in_nuc, 0.0)


def sample(rng, n, E, ma, M):
    """Weighted phase-space points; returns four-vectors, t and dσ/dΦ × 1/pdf (without |M|²)."""
    x = rng.uniform(0.0, 1.0, n)
    Ea = E * (1 - x)
    lth_lo, lth_hi = math.log(1e-7), math.log(math.pi)
    th = np.exp(rng.uniform(lth_lo, lth_hi, n))
    p = math.sqrt(E * E - M_MU**2)
    ok = Ea > ma
    Ea = np.where(ok, Ea, ma * 1.0001)
    k = np.sqrt((Ea - ma) * (Ea + ma))
    s2 = np.sin(th / 2) ** 2
    V = np.sqrt((p - k) ** 2 + 4 * p * k * s2)
    u = (
        ((M_MU**2 / (E + p)) - ma * ma / (Ea + k)) * ((E + p) - (Ea + k))
        - 4 * p * k * s2
        - M_TAU**2
    )
    W = E - Ea + M
    disc = 4 * M * M * V * V + u * (4 * M * W + u)
    ok &= disc > 0
    R = M * (W * u + 2 * M * V * V + V * np.sqrt(np.maximum(disc, 0)))
    tm = (M * u) ** 2 / R
    tp = np.minimum(R / (W * W - V * V), 1.0)
    ok &= (tm < tp) & (E - Ea - tm / (2 * M) > M_TAU)
    tm = np.where(ok, tm, 1e-3)
    tp = np.where(ok, tp, 2e-3)
    t = tm * np.exp(rng.uniform(0, 1, n) * np.log(tp / tm))
    phi = rng.uniform(0, 2 * math.pi, n)
    Q = np.sqrt(t + t * t / (4 * M * M))
    cq = np.clip(((1 + (E - Ea) / M) * t - u) / (2 * Q * V), -1, 1)
    sq = np.sqrt((1 - cq) * (1 + cq))
    vx, vz = -k * np.sin(th), (p - k) + 2 * k * s2
    ex, ez = vx / V, vz / V
    Qx = Q * (cq * ex + sq * np.cos(phi) * ez)
    Qy = Q * sq * np.sin(phi)
    Qz = Q * (cq * ez - sq * np.cos(phi) * ex)
    zero = np.zeros(n)
    p_in = np.stack([zero, zero, np.full(n, p), np.full(n, E)], axis=1)
    P_i = np.stack([zero, zero, zero, np.full(n, M)], axis=1)
    P_f = np.stack([Qx, Qy, Qz, M + t / (2 * M)], axis=1)
    kv = np.stack([k * np.sin(th), zero, k * np.cos(th), Ea], axis=1)
    p_out = np.stack([vx - Qx, -Qy, vz - Qz, E - Ea - t / (2 * M)], axis=1)
    # dσ/(dE_a dθ_a dt dφ) / |M̄|² = k sinθ / (1024 π⁴ M² p V); 1/pdf = E·θ·Δlnθ·t·Δln t·2π
    jac = E * th * (lth_hi - lth_lo) * t * np.log(tp / tm) * 2 * math.pi
    w = np.where(ok, k * np.sin(th) / (1024 * math.pi**4 * M * M * p * V) * jac, 0.0)
    return p_in, P_i, p_out, P_f, kv, t, x, w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plot", default=None, help="write a PNG with the three curves")
    ap.add_argument("--exact-sign", action="store_true")
    args = ap.parse_args()
    E, ma = 1500.0, 2.0
    tgt = get_target("Pb")
    M = tgt.nucleus_mass
    rng = np.random.default_rng(args.seed)
    pi, Pi, po, Pf, kv, t, x, w = sample(rng, args.n, E, ma, M)
    ff = z2f2(t, tgt.Z, round(tgt.A))
    edges = np.linspace(0.0, 1.0, 11)
    idx = np.clip(np.digitize(x, edges) - 1, 0, 9)
    curves = {}
    sgn = -1.0 if args.exact_sign else 1.0
    for name, th in (("pi/2", math.pi / 2), ("pi/4", math.pi / 4), ("0", 0.0)):
        gs, gp = sgn * math.sin(th), math.cos(th)
        me2 = helicity_me2(pi, Pi, po, Pf, kv, M_MU, M_TAU, gs, gp, 0.0, m_a=ma)
        wt = w * E_CHARGE_SQ**2 * ff / t**2 * me2.sum(axis=1)
        h = (me2[:, 1] - me2[:, 0]) / me2.sum(axis=1)
        sig = wt.mean() * GEV2_TO_PB
        err = wt.std() / math.sqrt(args.n) * GEV2_TO_PB
        num = np.bincount(idx, wt * h, 10)
        den = np.bincount(idx, wt, 10)
        curves[name] = num / np.where(den > 0, den, 1)
        print(f"theta = {name:4s}: sigma/g^2 = {sig:.3e} +- {err:.1e} pb, "
              f"<h_tau> = {np.sum(wt * h) / np.sum(wt):+.3f}")  # fmt: skip
    print("\n  x bin       " + "  ".join(f"th={n:>5s}" for n in curves))
    for b in range(10):
        vals = "  ".join(f"{curves[n][b]:+8.3f}" for n in curves)
        print(f"  {edges[b]:.1f}-{edges[b + 1]:.1f}    {vals}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        centres = 0.5 * (edges[1:] + edges[:-1])
        fig, ax = plt.subplots()
        for n, c in curves.items():
            ax.plot(centres, c, marker="o", label=f"θ = {n}")
        ax.set_xlabel("x = E_τ / E_μ")
        ax.set_ylabel("mean τ⁻ helicity")
        ax.set_title("μ⁻ Pb → τ⁻ Pb a, 1.5 TeV, m_a = 2 GeV")
        ax.legend()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
