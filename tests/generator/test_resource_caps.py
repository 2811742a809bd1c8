"""Runaway resources: ``--workers`` capped at twice the CPU count (with a warning), the
precision floor (tests/generator/test_validity.py) and an unreachable dask scheduler that
gives exit 2 within 10 s."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

import alpgen.backends as backends
from alpgen.cli import main

REPO = Path(__file__).resolve().parents[2]
CI = REPO / "cards" / "thin_target_1p5TeV_invisible.toml"


@pytest.mark.parametrize(("asked", "cpus", "used"), [(1000, 2, 4), (4, 2, 4), (5, 2, 4), (3, 8, 3)])
def test_workers_are_capped_at_twice_the_cpus(asked, cpus, used, monkeypatch, caplog):
    monkeypatch.setattr(backends, "_cpu_count", lambda: cpus)
    with caplog.at_level(logging.WARNING, logger="alpgen"):
        assert backends.cap_workers(asked) == used
    assert ("capped" in caplog.text) == (asked > used)


def test_scan_with_1000_workers_starts_at_most_twice_the_cpus(monkeypatch, tmp_path, capsys):
    seen = {}

    def fake_make_backend(workers=None, scheduler=None, *, n_tasks=None):
        seen["workers"] = workers
        return backends.SerialBackend()

    monkeypatch.setattr(backends, "make_backend", fake_make_backend)
    argv = ["scan", str(CI), "--masses", "2:3:2", "--workers", "1000", "--out", str(tmp_path / "s")]
    argv += ["--set", "run.events=200", "--set", "production.precision=0.05"]
    assert main(argv) == 0
    assert seen["workers"] == 2 * backends._cpu_count()
    assert "--workers 1000 capped" in capsys.readouterr().err


@pytest.mark.skipif(not backends.dask_available(), reason="needs dask.distributed")
def test_unreachable_scheduler_exits_2_within_10_s(tmp_path, capsys):
    out = tmp_path / "scan"
    t0 = time.monotonic()
    rc = main(
        [
            "scan",
            str(CI),
            "--masses",
            "2:3:2",
            "--scheduler",
            "tcp://127.0.0.1:1",
            "--out",
            str(out),
        ]
    )
    took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert rc == 2 and "scheduler" in err and "Traceback" not in err
    assert took < 10, took
    assert not out.exists()
