#!/usr/bin/env python3
"""Whole sharded ``alpgen run`` commands: events/s in-process and with dask workers (JSON).

cards/thin_target_1p5TeV.toml, fully decayed events written to HepMC3 only
(``formats = ["hepmc3"]``), default shard and batch sizes (2×10⁴), as a user runs it:

* ``rate_<mode>`` for ``inprocess``, ``workers1``, ``workers2`` (``--modes``):
  events/s = (N_large − N_small) / (wall(N_large) − wall(N_small)) of whole ``alpgen run``
  commands (subprocesses), so that start-up, the dask cluster's start, integration and the
  pre-scan cancel; each wall time the best of ``--repeat``, modes interleaved so that they see
  the same machine load; one warm-up run first (numba cache);
* ``timings_<mode>``: the large run's own ``timings_s`` (stages summed over shards and
  workers: hard process, decays, detector, writing; assembly and integration in the main
  process);
* ``memory``: peak resident memory (``ru_maxrss``) of each worker of a 2-worker local cluster
  after a small and after a large run on it (``alpgen.run(..., scheduler=...)``), to show it is
  flat in the number of events at the default batch size;
* ``model``: a scaling model from the per-shard timings of each large run: a shard costs
  c = Σ shard_cpu / N CPU seconds per event (the CPU time of the shards' processes, which a
  shared machine disturbs much less than their wall time), the main process's assembly
  a = assemble / N seconds per event; W workers on W free cores then give
  N / (N c / W + N a) = 1 / (c / W + a) events/s (the prediction for W = 1, 2, 4, 8, 16 and
  its efficiency against linear scaling); ``model_<mode>`` from each mode's large run.

``--no-detector`` times the card without its ``[detector]`` table (events and files only: the
detector counting redraws forced decays for every event).

``--compare DIR`` also runs another checkout's ``alpgen`` (DIR holds an ``alpgen`` package, e.g.
``git archive`` of an older commit with ``generator/`` renamed ``alpgen/`` and ``detectors/``
moved into it; put first on ``PYTHONPATH`` of its runs), alternating with the installed one run
by run, so that both see the same machine load: ``rate_before_<mode>`` and
``rate_after_<mode>`` (and ``timings_before_<mode>`` ...). The memory part is skipped.

Usage: python scripts/bench_shards.py [--small N] [--large N] [--repeat R] [--modes ...]
       [--no-memory] [--no-detector] [--compare DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "cards" / "thin_target_1p5TeV.toml"
MODES = {"inprocess": [], "workers1": ["--workers", "1"], "workers2": ["--workers", "2"]}


def _run(
    n: int, out: Path, mode: str, card: Path = CARD, tree: str | None = None
) -> tuple[float, dict]:
    """Wall time and summary of one ``alpgen run`` (``tree``: another checkout's package)."""
    cmd = [sys.executable, "-m", "alpgen.cli", "run", str(card), "--force", "--quiet"]
    cmd += ["--set", f"run.events={n}", "--set", 'output.formats=["hepmc3"]']
    cmd += ["--set", f"output.dir={out}", *MODES[mode]]
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([tree, *filter(None, [env.get("PYTHONPATH")])])
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - t0
    return wall, json.loads((out / "summary.json").read_text())


def _card_without_detector(d: Path) -> Path:
    """A copy of the card without its ``[detector]`` table (no detector counting)."""
    import tomllib

    text = CARD.read_text(encoding="utf-8")
    tomllib.loads(text)  # the card is valid TOML
    head, sep, _ = text.partition("\n[detector]")
    if not sep:
        raise SystemExit("the card has no [detector] table")
    path = d / "no_detector.toml"
    path.write_text(head + "\n", encoding="utf-8")
    return path


def rates(
    small: int,
    large: int,
    repeat: int,
    modes: list[str],
    no_detector: bool,
    compare: str | None = None,
) -> dict:
    out: dict = {}
    trees = {"before_": compare, "after_": None} if compare else {"": None}
    walls: dict[tuple[str, str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        card = _card_without_detector(d) if no_detector else CARD
        for tree in trees.values():
            _run(small, d / "warm", modes[0], card, tree)
        for _ in range(repeat):
            for mode in modes:
                for tag, tree in trees.items():
                    for n in (small, large):
                        wall, summary = _run(n, d / f"{tag}{mode}-{n}", mode, card, tree)
                        walls.setdefault((tag, mode, n), []).append(wall)
                        if n == large:
                            out[f"timings_{tag}{mode}"] = summary["timings_s"]
    for tag in trees:
        for mode in modes:
            ws, wl = min(walls[tag, mode, small]), min(walls[tag, mode, large])
            out[f"wall_{tag}{mode}_s"] = {small: round(ws, 2), large: round(wl, 2)}
            out[f"rate_{tag}{mode}"] = round((large - small) / (wl - ws))
    return out


def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def memory(small: int, large: int) -> dict:
    """Peak RSS (MB) of each of 2 workers after a small and after a large run on them."""
    import logging

    from distributed import Client, LocalCluster

    import alpgen

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
        )
        client = Client(cluster)
        try:
            for n in (small, large):
                card = alpgen.load_card(CARD, [f"run.events={n}", 'output.formats=["hepmc3"]'])
                alpgen.run(
                    card,
                    out_dir=Path(tmp) / f"m{n}",
                    force=True,
                    scheduler=cluster.scheduler_address,
                )
                rss = client.run(_maxrss_mb)
                out[f"worker_peak_rss_mb_after_{n}"] = sorted(round(v) for v in rss.values())
        finally:
            client.close()
            cluster.close()
    return out


def model(timings: dict, n: int) -> dict:
    c = timings["shard_cpu"] / n
    a = timings.get("assemble", 0.0) / n
    pred = {w: round(1.0 / (c / w + a)) for w in (1, 2, 4, 8, 16)}
    return {
        "shard_cpu_s_per_event": c,
        "shard_wall_s_per_event": timings["shard_wall"] / n,
        "assemble_s_per_event": a,
        "predicted_events_per_s": pred,
        "efficiency_vs_linear": {w: round(pred[w] / (w * pred[1]), 3) for w in pred},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=20_000)
    ap.add_argument("--large", type=int, default=220_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument(
        "--no-detector",
        action="store_true",
        help="the card without its [detector] table: events and files only, no counting",
    )
    ap.add_argument("--compare", default=None, help="a 'before' alpgen checkout (DIR)")
    args = ap.parse_args()
    result: dict = {
        "card": str(CARD.relative_to(ROOT)),
        "events": [args.small, args.large],
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg(),
    }
    result["no_detector"] = args.no_detector
    result["compare"] = args.compare
    result.update(
        rates(args.small, args.large, args.repeat, args.modes, args.no_detector, args.compare)
    )
    for tag in ("before_", "after_") if args.compare else ("",):
        for mode in args.modes:
            result[f"model_{tag}{mode}"] = model(result[f"timings_{tag}{mode}"], args.large)
    if not args.no_memory and not args.compare:
        result["memory"] = memory(args.small, args.large)
    result["load_average_end"] = os.getloadavg()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
