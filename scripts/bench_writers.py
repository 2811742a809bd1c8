"""Throughput of the event writers (events/s) on synthetic 9–11-particle events.

Usage: python scripts/bench_writers.py [--events N] [--batch B]. Prints JSON. The events come
from the synthetic, physically consistent batch of the I/O tests
(tests/generator/io/conftest.py): mu- Pb -> tau- Pb a, a -> mu+ tau-, tau -> pi nu.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import tempfile
import time
from pathlib import Path

from alpgen.io.hepmc import HepMC3Writer, read_hepmc3
from alpgen.io.histograms import HistogramWriter
from alpgen.io.lhe import LHEWriter

ROOT = Path(__file__).resolve().parents[1]


def _load_helpers():
    spec = importlib.util.spec_from_file_location(
        "io_test_helpers", ROOT / "tests" / "generator" / "io" / "conftest.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=10_000)
    args = ap.parse_args()
    helpers = _load_helpers()
    nb = max(1, args.events // args.batch)
    batches = [helpers.make_batch(args.batch, seed=s) for s in range(nb)]
    n = nb * args.batch
    meta = helpers.make_metadata(batches[0])
    result = {
        "events": n,
        "batch": args.batch,
        "mean_particles": float(sum(b.n_particles.mean() for b in batches) / nb),
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        cases = {
            "lhe": lambda: LHEWriter(d / "e.lhe", meta),
            "lhe_gz": lambda: LHEWriter(d / "e.lhe.gz", meta),
            "hepmc3": lambda: HepMC3Writer(d / "e.hepmc", meta),
            "hepmc3_gz": lambda: HepMC3Writer(d / "e.hepmc.gz", meta),
        }
        for name, make in cases.items():
            t0 = time.perf_counter()
            with make() as w:
                for b in batches:
                    w.write(b)
            dt = time.perf_counter() - t0
            result[f"{name}_events_per_s"] = round(n / dt)
            result[f"{name}_bytes_per_event"] = round(w.path.stat().st_size / n)
        t0 = time.perf_counter()
        with HistogramWriter(d / "h.root", meta) as w:
            for b in batches:
                w.fill(b)
                w.fill(b, "selected", mask=b.n_particles == 11)
        result["root_events_per_s"] = round(n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        back = read_hepmc3(d / "e.hepmc")
        result["read_hepmc3_events_per_s"] = round(len(back) / (time.perf_counter() - t0))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
