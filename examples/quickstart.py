#!/usr/bin/env python3
"""alpgen from Python: cross section, events in memory, a columnar analysis, a full run.

    python examples/quickstart.py [--events N] [--out DIR]

Units: GeV, mm, pb, TeV⁻¹. The same card and seed give the same events as ``alpgen run``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import awkward as ak
import numpy as np

import alpgen

CARD = Path(__file__).resolve().parents[1] / "cards" / "thin_target_1p5TeV.toml"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--out", default=None, help="run directory (default: a temporary one)")
    args = ap.parse_args(argv)

    card = alpgen.load_card(CARD, [f"run.events={args.events}", "production.precision=0.02"])

    xs = alpgen.cross_section(card)
    print(f"sigma = {xs.sigma_pb:.4g} ± {xs.sigma_err_pb:.2g} pb")

    events = alpgen.generate(card)  # an EventBatch, the events `alpgen run` writes
    particles = events.to_awkward()  # awkward Array of vector Momentum4D particles
    taus = particles[abs(particles.pid) == 15]
    print(
        f"{len(events)} events, {ak.sum(ak.num(taus))} taus, mean tau energy "
        f"{ak.mean(taus.E):.1f} GeV, mean tau mass {ak.mean(taus.mass):.4f} GeV"
    )
    x = events.info["x"]
    print(f"<x> = <E_tau / E_beam> = {np.mean(x):.3f}")

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / "run"
    result = alpgen.run(card, out_dir=out, force=True)
    det = result.summary["detector"]
    print(f"wrote {', '.join(p.name for p in result.files.values())} to {result.out_dir}")
    reach, err = det["reach_C_over_Lambda_invTeV"], det["reach_C_over_Lambda_err_invTeV"]
    if reach is None:
        print("no sensitivity with this sample")
    else:
        print(f"reach C/Lambda = {reach:.3g} ± {err:.2g} TeV^-1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
