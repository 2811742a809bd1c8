#!/usr/bin/env python
"""Benchmark of ``alpgen scan``: 25 log-spaced masses (2–40 GeV) of the thin-target visible card
with its default events per mass ([run] events = 20000) and σ precision (0.5 %).

Measures the wall time with one worker (serial, in-process, numba on all cores) and with a
local dask cluster of 2 single-threaded workers, checks that both give identical CSV rows and
prints/writes JSON: {"masses", "events_per_mass", "cores", "wall_s": {...}, "speedup"}.
Takes several minutes on 2 cores. Usage: python scripts/bench_scan.py [--masses N] [--out F]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--masses", type=int, default=25)
    p.add_argument("--card", default=str(ROOT / "cards" / "thin_target_1p5TeV.toml"))
    p.add_argument("--set", action="append", default=[], help="card override (repeatable)")
    p.add_argument("--out", default=None, help="write the JSON here too")
    args = p.parse_args(argv)

    from alpgen.backends import DaskBackend, SerialBackend
    from alpgen.card import load_card
    from alpgen.scanning import rows, scan_points

    card = load_card(args.card, args.set)
    masses = np.geomspace(2.0, 40.0, args.masses)
    # warm numba's on-disk cache so that neither timing pays for compilation
    scan_points(load_card(args.card, [*args.set, "run.events=200"]), masses[:1])

    wall, tables = {}, {}
    for name, make in (
        ("serial_1_worker", SerialBackend),
        ("dask_2_workers", lambda: DaskBackend(2)),
    ):
        t0 = time.perf_counter()
        with make() as backend:
            res = scan_points(card, masses, backend=backend)
        wall[name] = round(time.perf_counter() - t0, 2)
        tables[name] = rows(res)
    same = json.dumps(tables["serial_1_worker"], default=str) == json.dumps(
        tables["dask_2_workers"], default=str
    )
    out = {
        "card": Path(args.card).name,
        "masses": args.masses,
        "events_per_mass": card.run.events,
        "precision": card.production.precision,
        "cores": len(os.sched_getaffinity(0)),
        "wall_s": wall,
        "speedup": round(wall["serial_1_worker"] / wall["dask_2_workers"], 3),
        "identical_results": same,
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
