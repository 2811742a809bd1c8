"""Throughput of the event writers and of shard assembly (events/s) on synthetic events.

Usage: python scripts/bench_writers.py [--events N] [--batch B] [--repeat R] [--compare DIR]

Prints JSON. The events come from the synthetic, physically consistent batch of the I/O tests
(tests/generator/io/conftest.py): mu- Pb -> tau- Pb a, a -> mu+ tau-, tau -> pi nu (9 or 11
particles). Each rate is the best of ``--repeat`` timings, as wall-clock (``*_events_per_s``)
and as this process's CPU time (``*_cpu_events_per_s``), which a shared machine disturbs less.

The ROOT histogram writer and :func:`alpgen.io.hepmc.read_hepmc3` are timed too.
``assemble_<format>`` times :func:`alpgen.io.assemble.assemble_lhe` / ``assemble_hepmc3`` on
``--shards`` shard files of the same events, written as a sharded run writes them (the run's
metadata and event numbers): plain shards into a plain file, gzip shards into a gzip file
(their compressed events are copied after a decompression that checks them).

``--compare DIR`` runs the writer timings of another checkout too (DIR holds an ``alpgen``
package, e.g. ``git archive`` of an older commit with ``generator/`` renamed ``alpgen/``),
in subprocesses that alternate with the installed version, so that both see the same load:
``before`` / ``after`` and their ratio.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRITERS = ("lhe", "lhe_gz", "hepmc3", "hepmc3_gz")


def _load_helpers():
    spec = importlib.util.spec_from_file_location(
        "io_test_helpers", ROOT / "tests" / "generator" / "io" / "conftest.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _best(fn: Callable[[], object], n: int, repeat: int) -> tuple[int, int]:
    """(wall, CPU) events per second of the fastest of ``repeat`` calls of ``fn``."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return round(n / min(wall)), round(n / min(cpu))


def writers(events: int, batch: int, repeat: int, with_assembly: bool, shards: int) -> dict:
    from alpgen.io.hepmc import HepMC3Writer
    from alpgen.io.lhe import LHEWriter

    helpers = _load_helpers()
    nb = max(1, events // batch)
    batches = [helpers.make_batch(batch, seed=s) for s in range(nb)]
    n = nb * batch
    meta = helpers.make_metadata(batches[0])
    result: dict = {
        "events": n,
        "batch": batch,
        "repeat": repeat,
        "mean_particles": float(sum(b.n_particles.mean() for b in batches) / nb),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        makers = {
            "lhe": lambda p: LHEWriter(p, meta),
            "lhe_gz": lambda p: LHEWriter(p, meta, gzip=True),
            "hepmc3": lambda p: HepMC3Writer(p, meta),
            "hepmc3_gz": lambda p: HepMC3Writer(p, meta, gzip=True),
        }

        def write(name: str, path: Path, parts, first: int = 0) -> None:
            with makers[name](path) as w:
                if first:
                    w.first_event = first  # HepMC3: the run's event numbers
                for b in parts:
                    w.write(b)

        for name in WRITERS:
            path = d / f"events.{name}"
            wall, cpu = _best(lambda name=name, path=path: write(name, path, batches), n, repeat)
            result[f"{name}_events_per_s"] = wall
            result[f"{name}_cpu_events_per_s"] = cpu
            result[f"{name}_bytes_per_event"] = round(path.stat().st_size / n)
        if with_assembly:
            from alpgen.io.assemble import assemble_hepmc3, assemble_lhe

            per = -(-n // shards)
            parts = [b.select(slice(i, i + per)) for b in batches for i in range(0, len(b), per)]
            cases = {
                "lhe": assemble_lhe,
                "lhe_gz": assemble_lhe,
                "hepmc3": assemble_hepmc3,
                "hepmc3_gz": assemble_hepmc3,
            }
            for name, assemble in cases.items():
                files, first = [], 0
                for k, part in enumerate(parts):
                    files.append(d / f"shard-{k:05d}.{name}")
                    write(name, files[-1], [part], first)
                    first += len(part)
                out = d / f"assembled.{name}"
                gz = name.endswith("_gz")
                wall, cpu = _best(
                    lambda a=assemble, f=files, o=out, g=gz: a(f, o, meta, gzip=g), n, repeat
                )
                result[f"assemble_{name}_events_per_s"] = wall
                result[f"assemble_{name}_cpu_events_per_s"] = cpu
                one_go = (d / f"events.{name}").read_bytes()
                if gz:  # one gzip member per shard: the same text
                    assert gzip.decompress(out.read_bytes()) == gzip.decompress(one_go)
                else:
                    assert out.read_bytes() == one_go
            result["assemble_shards"] = len(parts)
            from alpgen.io.hepmc import read_hepmc3
            from alpgen.io.histograms import HistogramWriter

            def root() -> None:
                with HistogramWriter(d / "h.root", meta) as w:
                    for b in batches:
                        w.fill(b)
                        w.fill(b, "selected", mask=b.n_particles == 11)

            result["root_events_per_s"] = _best(root, n, repeat)[0]
            result["read_hepmc3_events_per_s"] = _best(
                lambda: read_hepmc3(d / "events.hepmc3"), n, 1
            )[0]
    return result


def compare(args: argparse.Namespace) -> dict:
    """Alternate subprocesses of the ``--compare`` checkout and the installed one."""
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(args.repeat):
        for label, path in (("before", args.compare), ("after", None)):
            env = dict(os.environ)
            if path:
                env["PYTHONPATH"] = os.pathsep.join([path, env.get("PYTHONPATH", "")])
            cmd = [sys.executable, __file__, "--child", "--events", str(args.events)]
            cmd += ["--batch", str(args.batch), "--repeat", "1"]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            runs[label].append(json.loads(proc.stdout))
    out: dict = {"compare": args.compare, "events": runs["after"][0]["events"]}
    out["repeat"] = args.repeat
    for name in WRITERS:
        for kind in ("", "cpu_"):
            key = f"{name}_{kind}events_per_s"
            before = max(r[key] for r in runs["before"])
            after = max(r[key] for r in runs["after"])
            out[key] = {"before": before, "after": after, "ratio": round(after / before, 2)}
    out["load_average"] = os.getloadavg()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    ap.add_argument("--shards", type=int, default=10, help="shard files for the assembly")
    ap.add_argument("--compare", default=None, help="a 'before' alpgen checkout")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.compare:
        result = compare(args)
    else:
        result = writers(args.events, args.batch, args.repeat, not args.child, args.shards)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
