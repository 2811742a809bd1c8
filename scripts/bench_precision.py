"""Precision per CPU-second: wall and CPU time for every card's reach at 2 % MC precision.

For each card in cards/ the counting of ``alpgen run`` without the files
(:func:`alpgen.runner.simulate`: σ, then events batch by batch until the reach has the target
precision) runs twice: *before* (``run.variance_reduction = "none"``: physical decays, the
behaviour before issue 12, now also counting on to the target) and *after* (the default
``"auto"``: forced decays matched to the selection, biased τ decay lengths). Reported per card:
wall and CPU time (s), events counted, why the counting stopped, the reach with its MC error
and the selected effective fraction (Σ_sel w)² / (N_gen Σ_sel w²).

``--scan`` also times a 25-mass scan (2–40 GeV) of cards/thin_target_1p5TeV.toml at 2 % per
point (serial: numba uses both cores).

Timings are after a warm-up run in the same process (warm numba cache, kernels loaded); the
machine may be shared, so compare the two columns of one run rather than absolute numbers.

    python scripts/bench_precision.py [--cards STEM ...] [--scan] [--out FILE.csv]
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "cards"

COLUMNS = (
    "card",
    "mode",
    "wall_s",
    "cpu_s",
    "count_events",
    "stop",
    "reach_invTeV",
    "reach_err_invTeV",
    "reach_rel_err",
    "selected_effective_fraction",
)


def measure(stem: str, mode: str, target: float) -> dict[str, object]:
    from alpgen.card import load_card
    from alpgen.runner import simulate

    card = load_card(
        CARDS / f"{stem}.toml",
        [
            f"run.variance_reduction={mode}",
            f"run.target_precision={target}",
            "run.max_count_events=5000000",
        ],
    )
    t0, c0 = time.perf_counter(), time.process_time()
    engine, res = simulate(card)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert res is not None
    info = engine.counting_info
    r = res.reach
    return {
        "card": stem,
        "mode": mode,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "count_events": info.count_events,
        "stop": info.stop,
        "reach_invTeV": r.reach_C_over_Lambda_invTeV,
        "reach_err_invTeV": r.reach_C_over_Lambda_err_invTeV,
        "reach_rel_err": r.reach_C_over_Lambda_err_invTeV / r.reach_C_over_Lambda_invTeV,
        "selected_effective_fraction": res.detector.selected_effective_fraction,
    }


def scan_timing() -> dict[str, float]:
    from alpgen.card import load_card
    from alpgen.scanning import parse_masses, scan_card

    card = load_card(CARDS / "thin_target_1p5TeV.toml")
    masses = parse_masses("2:40:25", log=True)
    t0, c0 = time.perf_counter(), time.process_time()
    res = scan_card(card, masses)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rel = [r["reach_rel_err"] for r in res.rows if math.isfinite(r["reach_rel_err"])]
    return {
        "wall_s": round(wall, 1),
        "cpu_s_main_process": round(cpu, 1),
        "points": len(res.rows),
        "max_reach_rel_err": max(rel),
        "events_counted": sum(int(r["n_events"]) for r in res.rows),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cards", nargs="*", default=sorted(p.stem for p in CARDS.glob("*.toml")))
    ap.add_argument("--target", type=float, default=0.02)
    ap.add_argument("--scan", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    logging.getLogger("alpgen").setLevel(logging.ERROR)
    print(f"# load average at start: {os.getloadavg()}", flush=True)
    measure("na64mu_160GeV", "auto", 0.1)  # warm-up: numba kernels loaded / compiled
    rows = []
    for stem in args.cards:
        for mode in ("none", "auto"):
            row = measure(stem, mode, args.target)
            rows.append(row)
            print(
                f"{stem:30s} {mode:5s} wall {row['wall_s']:7.2f} s  cpu {row['cpu_s']:7.2f} s  "
                f"events {row['count_events']:>8}  {row['stop']:17s} reach "
                f"{row['reach_invTeV']:.4g} ± {row['reach_err_invTeV']:.2g} "
                f"({100 * float(row['reach_rel_err']):.2f} %)  sel. eff. fraction "
                f"{row['selected_effective_fraction']:.3g}",
                flush=True,
            )
    if args.out is not None:
        with open(args.out, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(rows)
    if args.scan:
        print("scan thin_target_1p5TeV 25 masses 2-40 GeV at 2 %:", scan_timing(), flush=True)
    print(f"# load average at end: {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
