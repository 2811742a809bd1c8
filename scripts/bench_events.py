#!/usr/bin/env python3
"""Event-generation throughput and memory at the thin-target point (prints JSON).

cards/thin_target_1p5TeV.toml (1.5 TeV μ⁻ on Pb, m_a = 2 GeV, visible ALP, all τ decays), after
JIT warm-up (numba kernels compiled or loaded from the cache, first batch thrown away), each rate
the best of ``--repeat`` timings (the machine may be shared):

* ``sampler_events_per_s``: unweighted hard-process events (``UnweightedSampler.sample`` only);
* ``decayed_events_per_s``: fully decayed events (sampler + ``hard_batch`` + ``decay_batch``,
  i.e. ``Engine.batch``);
* ``with_<writer>_events_per_s``: fully decayed events written with one writer (LHE, HepMC3,
  ROOT histograms + tree) into a temporary directory, and ``<writer>_only_events_per_s`` the
  writer alone on the same batches;
* ``memory``: peak resident memory (``ru_maxrss``) of a fresh subprocess that streams
  ``--memory-events`` (default 10⁶) fully decayed events into a HepMC3 file, with its maxrss
  after setup (integration + warm-up) for comparison, so the growth with N is visible.

``--runs`` instead times whole ``alpgen run`` commands of the card, as a user runs them, one
output format at a time: ``run_<format>_events_per_s`` = 200 000 / (wall time of a
220 000-event run − that of a 20 000-event run), so that start-up, integration and the
pre-scan cancel; each the best of ``--repeat``, after one warm-up run (numba cache).
``--compare DIR`` also runs another checkout's ``alpgen`` (DIR holds an ``alpgen`` package,
e.g. ``git archive`` of an older commit with ``generator/`` renamed ``alpgen/`` and
``detectors/`` moved into it), alternating with the installed one so that both see the same
machine load (``before_*`` and ``after_*`` keys).

Usage: python scripts/bench_events.py [--events N] [--memory-events N] [--batch B]
       python scripts/bench_events.py --runs [--formats hepmc3 lhe] [--compare DIR] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "cards" / "thin_target_1p5TeV.toml"


def _source(batch: int, events: int):
    from alpgen.card import load_card
    from alpgen.engine import Engine

    card = load_card(CARD, [f"run.batch_size={batch}", f"run.events={events}"])
    return Engine(card)


def _metadata(src):
    from alpgen.runner import _metadata  # the run's own file metadata

    return _metadata(src.card, src.integrated)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _vmhwm_mb() -> float | None:
    """Peak RSS of this process image from /proc (Linux; reset by exec, unlike ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _writers(d: Path, meta):
    from alpgen.io.hepmc import HepMC3Writer
    from alpgen.io.histograms import HistogramWriter
    from alpgen.io.lhe import LHEWriter

    return {
        "lhe": lambda: LHEWriter(d / "events.lhe", meta),
        "hepmc3": lambda: HepMC3Writer(d / "events.hepmc3", meta),
        "root": lambda: HistogramWriter(d / "histograms.root", meta),
    }


def _put(w, batch) -> None:
    if hasattr(w, "fill"):
        w.fill(batch)
    else:
        w.write(batch)


def throughput(n_events: int, batch: int, repeat: int = 2) -> dict:
    import numba

    from alpgen.streams import STREAM_EVENTS, rng_for

    t0 = time.perf_counter()
    src = _source(batch, n_events)
    setup = time.perf_counter() - t0
    n_batches = max(1, n_events // batch)
    n = n_batches * batch
    meta = _metadata(src)

    # warm-up: every kernel of the chain and every writer once
    warm = src.batch(10_000, min(batch, 2000))
    with tempfile.TemporaryDirectory() as d:
        for make in _writers(Path(d), meta).values():
            with make() as w:
                _put(w, warm)

    out: dict = {
        "card": str(CARD.relative_to(ROOT)),
        "sigma_pb": src.sigma_pb,
        "unweighting_efficiency_prescan": src.sampler.efficiency,
        "events": n,
        "batch": batch,
        "setup_s": round(setup, 2),
        "repeat": repeat,
        "numba_threads": numba.get_num_threads(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }

    def best(fn) -> float:
        """Events per second of the fastest of ``repeat`` calls of ``fn`` (shared machines)."""
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return round(n / min(times))

    seed = src.card.run.seed
    out["sampler_events_per_s"] = best(
        lambda: [
            src.sampler.sample(batch, rng_for(seed, STREAM_EVENTS, i)) for i in range(n_batches)
        ]
    )
    out["unweighting_efficiency"] = src.sampler.efficiency
    out["decayed_events_per_s"] = best(lambda: [src.batch(i, batch) for i in range(n_batches)])
    batches = [src.batch(i, batch) for i in range(n_batches)]
    out["mean_particles_per_event"] = round(float(sum(b.n_particles.sum() for b in batches)) / n, 2)

    with tempfile.TemporaryDirectory() as d:
        writers = _writers(Path(d), meta)

        def write(name: str, generate: bool) -> None:
            with writers[name]() as w:
                for i in range(n_batches):
                    _put(w, src.batch(i, batch) if generate else batches[i])
            out[f"{name}_bytes_per_event"] = round(w.path.stat().st_size / n)
            w.path.unlink()

        for name in writers:
            out[f"{name}_only_events_per_s"] = best(lambda name=name: write(name, False))
        batches.clear()  # free the memory before the streamed runs
        for name in writers:
            out[f"with_{name}_events_per_s"] = best(lambda name=name: write(name, True))
    return out


def memory_child(n_events: int, batch: int) -> dict:
    """Stream ``n_events`` fully decayed events into a HepMC3 file (run in a fresh process)."""
    from alpgen.io.hepmc import HepMC3Writer

    src = _source(batch, n_events)
    meta = _metadata(src)
    src.batch(10_000, min(batch, 2000))  # warm-up
    rss_setup = _maxrss_mb()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        with HepMC3Writer(Path(d) / "events.hepmc3", meta) as w:
            for b in src.batches(n_events):
                w.write(b)
        size = w.path.stat().st_size
    dt = time.perf_counter() - t0
    return {
        "events": n_events,
        "batch": batch,
        "maxrss_after_setup_MB": round(rss_setup, 1),
        "maxrss_MB": round(_maxrss_mb(), 1),
        "vmhwm_MB": round(v, 1) if (v := _vmhwm_mb()) is not None else None,
        "seconds": round(dt, 1),
        "events_per_s": round(n_events / dt),
        "hepmc3_bytes": size,
    }


def _alpgen_run(
    n_events: int, fmt: str, out: Path, pythonpath: str | None, extra: list[str]
) -> tuple[float, dict]:
    """Wall time of one ``alpgen run`` of the card writing ``fmt``, and its summary.json."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([pythonpath, env.get("PYTHONPATH", "")])
    sets = [f"run.events={n_events}", f'output.formats=["{fmt}"]', f'output.dir="{out}"']
    cmd = [sys.executable, "-c", "import sys; from alpgen.cli import main; sys.exit(main())"]
    cmd += ["run", str(CARD), "--force", "--quiet"]
    for s in sets + extra:
        cmd += ["--set", s]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    dt = time.perf_counter() - t0
    summary = json.loads((out / "summary.json").read_text())
    return dt, summary


def whole_runs(formats: list[str], repeat: int, compare: str | None, extra: list[str]) -> dict:
    small, large = 20_000, 220_000
    trees = {"before": compare, "after": None} if compare else {"installed": None}
    out: dict = {"card": str(CARD.relative_to(ROOT)), "events": [small, large], "set": extra}
    out["compare"] = compare
    out["cpus"] = os.cpu_count()
    out["load_average_start"] = os.getloadavg()
    times: dict[tuple[str, str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for path in trees.values():  # warm the numba caches
            _alpgen_run(small, formats[0], d / "warm", path, extra)
        for _ in range(repeat):
            for fmt in formats:
                for label, path in trees.items():  # interleaved: same load for both
                    for n in (small, large):
                        dt, summary = _alpgen_run(n, fmt, d / f"{fmt}-{n}", path, extra)
                        times.setdefault((label, fmt, n), []).append(dt)
                        if n == large:
                            out[f"{label}_{fmt}_timings_s_{large}"] = summary.get("timings_s")
    for label in trees:
        for fmt in formats:
            t_small, t_large = min(times[label, fmt, small]), min(times[label, fmt, large])
            out[f"{label}_{fmt}_wall_s"] = {small: round(t_small, 2), large: round(t_large, 2)}
            out[f"{label}_run_{fmt}_events_per_s"] = round((large - small) / (t_large - t_small))
    out["load_average_end"] = os.getloadavg()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000, help="events for the rate tests")
    ap.add_argument("--batch", type=int, default=50_000, help="[run] batch_size")
    ap.add_argument("--memory-events", type=int, default=1_000_000, help="0 to skip")
    ap.add_argument("--repeat", type=int, default=2, help="best of this many timings")
    ap.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--runs", action="store_true", help="time whole `alpgen run` commands")
    ap.add_argument("--formats", nargs="+", default=["hepmc3", "lhe"], help="with --runs")
    ap.add_argument("--compare", default=None, help="with --runs: a 'before' alpgen checkout")
    ap.add_argument("--set", action="append", default=[], help="with --runs: card overrides")
    args = ap.parse_args()
    if args.runs:
        result = whole_runs(args.formats, args.repeat, args.compare, args.set)
        print(json.dumps(result, indent=1))
        return
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, args.batch)))
        return
    # The memory child runs first, while this process is still small: Linux carries the
    # parent's resident size at fork into the child's ru_maxrss, even across exec.
    memory = None
    if args.memory_events > 0:
        cmd = [sys.executable, __file__, "--memory-child", str(args.memory_events)]
        cmd += ["--batch", str(args.batch)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        memory = json.loads(proc.stdout.strip().splitlines()[-1])
    result = throughput(args.events, args.batch, args.repeat)
    if memory is not None:
        result["memory"] = memory
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
