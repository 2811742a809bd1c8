"""Sharded, resumable ``alpgen run`` (issue 13): the files a user gets.

One small thin-target run of 3 shards (250 + 250 + 100 events, batches of 100, so a batch
never crosses a shard boundary and the last batch of a shard is short) is made in this process
as the reference. Against it: the same card with ``--workers 1`` and ``--workers 2`` (byte
for byte, gzip too, ``histograms.root`` contents, ``summary.json`` apart from timings), the
independent readers, ``merge = false``, a run killed after its first shard and resumed, and
every bad input of the issue (exit 2).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import alpgen
from alpgen.cli import main
from alpgen.streams import BatchLayout

REPO = Path(__file__).resolve().parents[2]
CARD = REPO / "cards" / "thin_target_1p5TeV.toml"
OVERRIDES = (
    "run.events=600",
    "run.shard_events=250",
    "run.batch_size=100",
    "production.precision=0.02",
    "run.max_count_events=600",
    'output.formats=["lhe", "hepmc3", "lhe.gz", "hepmc3.gz", "root"]',
    # relative, so that the card in the files' headers is the same for every test's run
    "output.dir=run",
)
EVENT_FILES = ("events.lhe", "events.hepmc3", "events.lhe.gz", "events.hepmc3.gz")


def _card(*extra: str) -> alpgen.RunCard:
    return alpgen.load_card(CARD, [*OVERRIDES, *extra])


def _cli_args(*extra: str, quiet: bool = True) -> list[str]:
    """``alpgen run`` of the test card into ``./run`` (the working directory's)."""
    args = ["run", str(CARD), *(["--quiet"] if quiet else [])]
    for item in OVERRIDES:
        args += ["--set", item]
    return [*args, *extra]


def _comparable(summary: dict) -> dict:
    """summary.json without its timings (``timings_s`` and the integration's ``time_s``) and
    and, for runs with another card (``merge = false``), without the card's output section."""
    return {k: v for k, v in summary.items() if k not in ("timings_s", "time_s")}


def _root_contents(path: Path) -> dict[str, np.ndarray]:
    import uproot

    out: dict[str, np.ndarray] = {}
    with uproot.open(path) as f:
        for key, cls in f.classnames().items():
            if cls.startswith("TH1"):
                h = f[key]
                out[key] = np.concatenate([h.values(flow=True), h.variances(flow=True)])
        tree = f["events"]
        for name, arr in tree.arrays(library="np").items():
            out[f"events/{name}"] = arr
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> alpgen.RunResult:
    """The in-process run (the default) of the test card."""
    out = tmp_path_factory.mktemp("shard_ref") / "run"
    return alpgen.run(_card(), out_dir=out)


def test_layout_batches_never_cross_a_shard():
    layout = BatchLayout(shard_events=250, batch_size=100)
    batches = layout.batches(600)
    assert [n for _, n in batches] == [100, 100, 50, 100, 100, 50, 100]
    assert [i for i, _ in batches] == [0, 1, 2, 3, 4, 5, 6]
    for index, n in batches:
        k, _ = layout.position(index)
        first = layout.first_event(index)
        assert k * 250 <= first and first + n <= (k + 1) * 250
    assert layout.n_shards(600) == 3 and layout.shard_range(2, 600) == (500, 600)
    assert layout.full_size(8) == 50 and layout.full_size(9) == 100


def test_reference_run(reference):
    out = reference.out_dir
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*EVENT_FILES, "histograms.root", "summary.json"]
    )
    assert reference.summary["events"] == 600 and reference.summary["shards"] == 3


def test_generate_equals_the_files(reference):
    """``alpgen.generate`` draws the same streams as the sharded run writes."""
    from alpgen.io.hepmc import read_hepmc3

    events = alpgen.generate(_card())
    written = read_hepmc3(reference.out_dir / "events.hepmc3")
    assert len(events) == len(written) == 600
    np.testing.assert_allclose(written.p, events.p, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_give_identical_files(reference, workers, tmp_path):
    pytest.importorskip("distributed")
    result = alpgen.run(_card(), out_dir=tmp_path / "run", workers=workers)
    for name in EVENT_FILES:
        assert (tmp_path / "run" / name).read_bytes() == (reference.out_dir / name).read_bytes(), (
            name
        )
    assert _comparable(result.summary) == _comparable(reference.summary)
    a = _root_contents(reference.out_dir / "histograms.root")
    b = _root_contents(tmp_path / "run" / "histograms.root")
    assert a.keys() == b.keys() and len(a) > 20
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert not (tmp_path / "run" / ".shards").exists()


def test_existing_scheduler_gives_identical_files(reference, tmp_path):
    """``--scheduler``: an existing cluster (its workers see the output directory)."""
    pytest.importorskip("distributed")
    import logging

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        result = alpgen.run(_card(), out_dir=tmp_path / "run", scheduler=cluster.scheduler_address)
    for name in EVENT_FILES:
        assert (tmp_path / "run" / name).read_bytes() == (reference.out_dir / name).read_bytes()
    assert _comparable(result.summary) == _comparable(reference.summary)


def test_independent_readers(reference, official_hepmc3, tmp_path):
    import pyhepmc
    import pylhe

    sigma = reference.summary["sigma_pb"]
    sigma_err = reference.summary["sigma_err_pb"]
    out = reference.out_dir
    for name in ("events.lhe", "events.lhe.gz"):
        f = pylhe.LHEFile.fromfile(out / name)
        assert f.init.procInfo[0].xSection == pytest.approx(sigma, rel=1e-8)
        assert f.init.procInfo[0].error == pytest.approx(sigma_err, rel=1e-8)
        assert sum(1 for _ in f.events) == 600
    for name in ("events.hepmc3", "events.hepmc3.gz"):
        with pyhepmc.open(out / name) as f:
            events = list(f)
        assert [ev.event_number for ev in events] == list(range(600))
        assert all(ev.cross_section.xsec() == pytest.approx(sigma, rel=1e-8) for ev in events)
    plain = tmp_path / "from_gz.hepmc3"
    with gzip.open(out / "events.hepmc3.gz") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    for path in (out / "events.hepmc3", plain):
        reader = official_hepmc3.ReaderAscii(str(path))
        numbers, xsecs = [], []
        while True:
            ev = official_hepmc3.GenEvent()
            reader.read_event(ev)
            if reader.failed():
                break
            numbers.append(ev.event_number())
            xsecs.append(ev.cross_section().xsec())
        reader.close()
        assert numbers == list(range(600))
        np.testing.assert_allclose(xsecs, sigma, rtol=1e-8)


def test_merge_false_keeps_the_shards(reference, tmp_path):
    from alpgen.io.checks import check_hepmc3

    result = alpgen.run(_card("output.merge=false"), out_dir=tmp_path / "run")
    out = tmp_path / "run"
    listing = json.loads((out / "shards.json").read_text())
    assert [s["events"] for s in listing["shards"]] == [250, 250, 100]
    assert [s["first_event"] for s in listing["shards"]] == [0, 250, 500]
    assert listing["seed"] == result.summary["seed"]
    names = [s["files"]["hepmc3.gz"] for s in listing["shards"]]
    assert names == [f"events-{k:05d}.hepmc3.gz" for k in range(3)]
    assert result.summary["files"]["hepmc3.gz"] == names
    for s in listing["shards"]:  # each shard a complete file of its own
        check = check_hepmc3(out / s["files"]["hepmc3.gz"])
        assert check.problem is None and check.n_complete == check.expected_events == s["events"]

    def blocks(text: str) -> list[str]:
        return text.split("<event>")[1:]

    shards = [(out / s["files"]["lhe"]).read_text() for s in listing["shards"]]
    merged = (reference.out_dir / "events.lhe").read_text()
    joined = [b.split("</LesHouchesEvents>")[0] for t in shards for b in blocks(t)]
    assert joined == [b.split("</LesHouchesEvents>")[0] for b in blocks(merged)]
    assert (out / "histograms.root").exists() and not (out / ".shards").exists()
    a, b = _comparable(result.summary), _comparable(reference.summary)
    for key in ("detector", "unweighting_efficiency", "sigma_pb", "events"):
        assert a[key] == b[key], key


def test_kill_and_resume(reference, tmp_path, monkeypatch):
    """SIGKILL after the first shard; a resume with another card is refused naming the key;
    the resume finishes with the reference's files; resuming a finished run changes nothing."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "alpgen.cli", *_cli_args(quiet=False)],
        env={**os.environ, "ALPGEN_DEBUG_PAUSE": "shard:60"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        deadline = time.monotonic() + 240
        for line in proc.stderr:
            if "pausing at shard" in line or time.monotonic() > deadline:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    shards = out / ".shards"
    assert sorted(p.name for p in shards.glob("shard-*.pkl")) == ["shard-00000.pkl"]
    assert not any(p.name.startswith("events") for p in out.iterdir())

    assert main(_cli_args("--resume", "--set", "run.events=700")) == 2
    assert (shards / "shard-00000.pkl").exists()
    assert main(_cli_args()) == 2  # not empty: needs --resume (or --force)

    assert main(_cli_args("--resume")) == 0
    for name in EVENT_FILES:
        assert (out / name).read_bytes() == (reference.out_dir / name).read_bytes(), name
    summary = json.loads((out / "summary.json").read_text())
    assert _comparable(summary) == _comparable(reference.summary)
    assert not shards.exists()

    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(_cli_args("--resume")) == 0
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_force_starts_again(reference, tmp_path):
    """--force replaces an interrupted run's shards (and an earlier run's files)."""
    out = tmp_path / "run"
    (out / ".shards").mkdir(parents=True)
    (out / ".shards" / "shard-00000.pkl").write_bytes(b"from another run")
    (out / "events-00007.lhe").write_text("old")
    alpgen.run(_card(), out_dir=out, force=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*EVENT_FILES, "histograms.root", "summary.json"]
    )
    assert (out / "events.hepmc3").read_bytes() == (
        reference.out_dir / "events.hepmc3"
    ).read_bytes()


def test_resume_with_a_changed_card_names_the_key(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    shards = out / ".shards"
    shards.mkdir(parents=True)
    from alpgen.resume import fingerprint

    fp = fingerprint(_card())
    (shards / "fingerprint.json").write_text(json.dumps(fp))
    assert main(_cli_args("--resume", "--set", "model.m_a=3.5")) == 2
    err = capsys.readouterr().err
    assert "model.m_a" in err and "--resume" in err
    assert sorted(p.name for p in shards.iterdir()) == ["fingerprint.json"]  # left alone


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--resume"], "no earlier run"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "exclude each other"),
        (["--set", "run.shard_events=0"], "run.shard_events"),
        (["--set", "run.shard_events=-5"], "run.shard_events"),
        (["--resume", "--force"], "not both"),
    ],
)
def test_bad_input_exits_2(tmp_path, capsys, monkeypatch, extra, words):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    assert main(_cli_args(*extra)) == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


def test_unreachable_scheduler_exits_2_quickly(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    t0 = time.monotonic()
    assert main(_cli_args("--scheduler", "tcp://127.0.0.1:9")) == 2
    assert time.monotonic() - t0 < 30
    assert "scheduler" in capsys.readouterr().err
    assert not out.exists()
