"""Interrupts at every moment of ``alpgen run``, and ``alpgen scan`` stopping its workers.

SIGINT and SIGTERM are sent at five moments of a real run (start-up, imports, integration,
generation and writing, the summary); every time the process must exit 130/143 by itself
(not killed by the signal) within 3 s, without a traceback, and leave no output directory,
except the completed shards a later ``--resume`` continues from (``<dir>/.shards``).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
C = REPO / "cards" / "thin_target_1p5TeV.toml"
CI = REPO / "cards" / "thin_target_1p5TeV_invisible.toml"

#: moment → (seconds after launch, or the stderr line to wait for, then extra seconds)
MOMENTS = {
    "startup": (0.5, None, 0.0),
    "imports": (1.0, None, 0.0),
    "integration": (None, "integrating σ", 0.3),
    "generation": (None, "events: estimated", 0.5),
    "summary": (None, "pausing at summary", 0.0),
}


class _Proc:
    """An ``alpgen`` subprocess whose stderr lines are collected by a thread."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "alpgen.cli", *args],
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if text in self.lines.get(timeout=0.1):
                    return
            except queue.Empty:
                if self.proc.poll() is not None:
                    pytest.fail(f"alpgen ended before {text!r}: {''.join(self.err)}")
        self.proc.kill()
        pytest.fail(f"{text!r} did not appear within {timeout} s")


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_signal_at_every_moment_of_a_run(moment, tmp_path):
    delay, line, extra = MOMENTS[moment]
    for sig in (signal.SIGINT, signal.SIGTERM):
        out = tmp_path / f"{moment}-{sig.name}"
        p = _Proc(
            [
                "run",
                str(C),
                "--set",
                f"run.events={2000 if moment == 'summary' else 2000000}",
                "--set",
                "production.precision=0.05",
                "--set",
                f"output.dir={out}",
            ],
            env={"ALPGEN_DEBUG_PAUSE": "summary:60"} if moment == "summary" else None,
        )
        if delay is not None:
            time.sleep(max(0.0, delay - (time.monotonic() - p.t0)))
        else:
            p.wait_for(line)
            time.sleep(extra)
        assert p.proc.poll() is None, f"ended before the signal: {''.join(p.err)}"
        sent = time.monotonic()
        p.proc.send_signal(sig)
        p.proc.wait(timeout=30)
        took = time.monotonic() - sent
        err = "".join(p.err)
        assert p.proc.returncode == 128 + sig, (moment, sig.name, p.proc.returncode, err)
        assert took < 3.0, (moment, sig.name, took)
        assert "Traceback" not in err, err
        # nothing under a final name; a run stopped after a complete shard keeps its
        # shards for --resume (the summary moment: the one shard of the run is done)
        left = sorted(p.name for p in out.iterdir()) if out.exists() else []
        allowed = {"summary": [[".shards"]], "generation": [[], [".shards"]]}.get(moment, [[]])
        assert left in allowed, (moment, sig.name, left)
        if left:
            assert list((out / ".shards").glob("shard-*.pkl")), (moment, sig.name)


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_to_scan_stops_its_workers(tmp_path):
    out = tmp_path / "scan"
    p = _Proc(
        [
            "scan",
            str(CI),
            "--masses",
            "2:3:2",
            "--set",
            "run.events=2000000",
            "--set",
            "production.precision=0.03",
            "--out",
            str(out),
        ]
    )
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.3)
        workers = _descendants(p.proc.pid)
        assert p.proc.poll() is None, "".join(p.err)
    assert workers, "no worker processes started"
    time.sleep(1.0)
    workers = _descendants(p.proc.pid)
    p.proc.send_signal(signal.SIGTERM)
    p.proc.wait(timeout=30)
    assert p.proc.returncode == 143, "".join(p.err)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "workers outlived alpgen scan"
    assert not out.exists()


@pytest.mark.parametrize("when", ["before_renames", "during_renames", "after_commit"])
def test_signal_around_a_commit(when, tmp_path, monkeypatch):
    """A signal before or during the renames leaves no final-named file (the renames are
    undone); one after the commit is too late to matter and is ignored."""
    from alpgen.errors import Interrupted
    from alpgen.interrupts import handle_signals
    from alpgen.io.atomic import AtomicFile, Commit

    files = [AtomicFile(tmp_path / name, binary=False) for name in ("a.txt", "b.txt")]
    for f in files:
        f.open().write("x")
    publish, prepare = AtomicFile.publish, AtomicFile.prepare

    def signal_after(method, stage):
        def wrapped(self):
            method(self)
            if when == stage and self.path.name == "b.txt":
                os.kill(os.getpid(), signal.SIGINT)

        return wrapped

    monkeypatch.setattr(AtomicFile, "publish", signal_after(publish, "during_renames"))
    monkeypatch.setattr(AtomicFile, "prepare", signal_after(prepare, "before_renames"))
    with handle_signals():
        if when != "after_commit":
            with pytest.raises(Interrupted):
                Commit(files).run()
        else:
            Commit(files).run()
            os.kill(os.getpid(), signal.SIGINT)  # ignored: the command has finished
            time.sleep(0.05)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ([] if when != "after_commit" else ["a.txt", "b.txt"]), names
