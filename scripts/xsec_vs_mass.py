#!/usr/bin/env python3
"""σ/g² [pb] against the ALP mass at fixed beam energy, with optional reference comparisons.

Examples::

    python scripts/xsec_vs_mass.py --energy 1000 --masses 0.5 1 2 5 10 20
    python scripts/xsec_vs_mass.py --thesis      # vs data/marcarelli_thesis_..._1TeV.csv
    python scripts/xsec_vs_mass.py --table       # the full physics.md §5.7 table

σ/g² is for S² = g², P² = 0 (θ = π/2 in the paper convention) unless --theta is given, in which
case S² = g² sin²θ, P² = g² cos²θ (the 𝒜_PV term then contributes).
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

from alpgen.constants import LEPTONS
from alpgen.production.integrator import integrate
from alpgen.production.process import ProcessParams
from alpgen.targets import get_target

THESIS = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "data"
    / "marcarelli_thesis_xsec_mu_to_tau_Pb_1TeV.csv"
)
TABLE_57 = [  # E, m_a, total, coherent, incoherent, PV  (physics.md §5.7)
    (1500, 2, 9.02e5, 8.55e5, 4.69e4, -1.9e4),
    (1500, 10, 5.09e3, 1.97e3, 3.12e3, -10.5),
    (1000, 2, 5.81e5, 5.41e5, 3.97e4, -1.2e4),
    (1000, 5, 5.28e4, 4.18e4, 1.11e4, -3.4e2),
    (1000, 10, 2.34e3, 1.9e2, 2.14e3, -5.4),
    (160, 2, 1.82e4, 5.96e3, 1.22e4, -3.6e2),
    (160, 10, 51.1, 2e-3, 51.1, -0.07),
]


def params(args, E, m_a, theta=None, **kw):
    t = get_target(args.target)
    s2, p2 = (1.0, 0.0) if theta is None else (math.sin(theta) ** 2, math.cos(theta) ** 2)
    return ProcessParams(
        E_beam=E,
        m_in=LEPTONS[args.beam][1],
        m_out=LEPTONS[args.out][1],
        m_a=m_a,
        Z=t.Z,
        A=t.A,
        M=t.nucleus_mass,
        g2_sum=s2 + p2,
        gP2=p2,
        atomic_screening=not args.no_screening,
        coherent_norm=args.coherent_norm,
        t_max=args.t_max,
        **kw,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--energy", type=float, default=1000.0, help="beam energy in GeV")
    ap.add_argument(
        "--masses", type=float, nargs="+", default=list(np.round(np.geomspace(0.1, 30, 16), 4))
    )
    ap.add_argument("--beam", default="mu", choices=list(LEPTONS))
    ap.add_argument("--out", default="tau", choices=list(LEPTONS))
    ap.add_argument("--target", default="Pb")
    ap.add_argument("--theta", type=float, default=None)
    ap.add_argument("--t-max", type=float, default=1.0)
    ap.add_argument("--coherent-norm", default="Z", choices=["Z", "Z-1"])
    ap.add_argument("--no-screening", action="store_true")
    ap.add_argument("--precision", type=float, default=0.005)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--thesis", action="store_true", help="compare with the thesis 1 TeV curve")
    ap.add_argument("--table", action="store_true", help="reproduce the physics.md §5.7 table")
    args = ap.parse_args()

    if args.table:
        print(
            "E m_a | total (ref rel-1) | coherent | incoherent | "
            "PV = sigma(theta=0) - sigma(theta=pi/2), two independent runs (noisy) (ref)"
        )
        for E, m, tot, coh, inc, pv in TABLE_57:
            r = integrate(params(args, E, m), seed=args.seed, precision=args.precision)
            rp = integrate(params(args, E, m, theta=0.0), seed=args.seed, precision=args.precision)
            print(
                f"{E:5d} {m:3d}  {r.sigma_pb:9.4g} ({tot:8.3g} {r.sigma_pb / tot - 1:+.3f})"
                f"  {r.sigma_coherent_pb:9.4g} ({coh:8.3g} {r.sigma_coherent_pb / coh - 1:+.3f})"
                f"  {r.sigma_incoherent_pb:9.4g} ({inc:8.3g} "
                f"{r.sigma_incoherent_pb / inc - 1:+.3f})"
                f"  {rp.sigma_pb - r.sigma_pb:9.3g} ({pv:g})"
            )
        return

    if args.thesis:
        lines = [ln for ln in THESIS.read_text().splitlines() if not ln.startswith("#")]
        pts = [
            (float(r["m_phi_GeV"]), float(r["sigma_over_g2_pb"]))
            for r in csv.DictReader(lines)
            if r["coupling"].startswith("scalar")
        ]
        print("m_a [GeV]   thesis σ/g² [pb]   alpgen σ/g² [pb]   ratio-1")
        for m, ref in pts:
            r = integrate(params(args, 1000.0, m), seed=args.seed, precision=args.precision)
            print(
                f"{m:9.4g}   {ref:14.5g}   {r.sigma_pb:14.5g} ± {r.sigma_err_pb:.2g}"
                f"   {r.sigma_pb / ref - 1:+.3f}"
            )
        return

    print(f"# E = {args.energy} GeV, {args.beam} -> {args.out}, target {args.target}")
    print("m_a_GeV,sigma_over_g2_pb,err_pb,coherent_pb,incoherent_pb,time_s")
    for m in args.masses:
        r = integrate(
            params(args, args.energy, m, theta=args.theta), seed=args.seed, precision=args.precision
        )
        print(
            f"{m:.6g},{r.sigma_pb:.6g},{r.sigma_err_pb:.3g},{r.sigma_coherent_pb:.6g},"
            f"{r.sigma_incoherent_pb:.6g},{r.time_s:.2f}"
        )


if __name__ == "__main__":
    main()
