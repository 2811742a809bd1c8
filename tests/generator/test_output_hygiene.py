"""Output directories: ``--force`` hygiene, concurrent runs (the lock), files committed
together (a full disk at summary.json), and no output directory left by a failing command."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alpgen.cli import main
from alpgen.io.atomic import AtomicFile
from alpgen.io.outdir import LOCK_NAME, is_own

REPO = Path(__file__).resolve().parents[2]
C = REPO / "cards" / "thin_target_1p5TeV.toml"
CI = REPO / "cards" / "thin_target_1p5TeV_invisible.toml"
SMALL = ["run.events=300", "run.batch_size=300", "production.precision=0.05"]


def _run(out: Path, *extra: str, force: bool = False, seed: int = 1) -> int:
    argv = ["run", str(C), "--quiet", "--set", f"output.dir={out}", "--set", f"run.seed={seed}"]
    for item in (*SMALL, *extra):
        argv += ["--set", item]
    return main([*argv, "--force"] if force else argv)


def _names(out: Path) -> set[str]:
    return {p.name for p in out.iterdir()}


def test_force_removes_the_earlier_runs_files(tmp_path, capsys):
    """The issue's case: lhe.gz + hepmc3 with seed 111, then --force lhe with seed 222."""
    out = tmp_path / "run"
    assert _run(out, 'output.formats=["lhe.gz","hepmc3"]', seed=111) == 0
    assert _names(out) == {"events.lhe.gz", "events.hepmc3", "summary.json"}
    assert _run(out, 'output.formats=["lhe"]', seed=222, force=True) == 0
    assert _names(out) == {"events.lhe", "summary.json"}
    assert json.loads((out / "summary.json").read_text())["seed"] == 222


@pytest.mark.parametrize(
    "names",
    [
        [".shards/", "shards.json", "events-00003.hepmc3", "events-00012.lhe.gz"],
        ["scan.csv", "scan.json", "reach.png", "histograms.root"],
        [".events.lhe.tmp-99999", "events.hepmc3.gz"],  # a kill -9'd run's temporary
    ],
)
def test_force_recognises_alpgens_own_files(names, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in names:
        if name.endswith("/"):
            (out / name).mkdir()
            (out / name / "part-00001.hepmc3").write_text("x")
        else:
            (out / name).write_text("x")
    assert _run(out, 'output.formats=["hepmc3"]', force=True) == 0
    assert _names(out) == {"events.hepmc3", "summary.json"}


@pytest.mark.parametrize("foreign", ["notes.txt", "events.csv", "summary.json.bak", "plots"])
def test_force_refuses_foreign_files(foreign, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "events.lhe").write_text("old")
    (out / foreign).write_text("mine")
    assert _run(out, force=True) == 2
    err = capsys.readouterr().err
    assert repr(foreign) in err and "output.dir" in err
    assert (out / foreign).read_text() == "mine" and (out / "events.lhe").read_text() == "old"


def test_is_own_catalogue():
    own = ["events.lhe", "events.lhe.gz", "events.hepmc3.gz", "histograms.root", "summary.json"]
    own += ["scan.csv", "reach.png", "shards.json", ".shards", "events-00001.root", LOCK_NAME]
    own += [".summary.json.tmp-12"]
    other = ["events-1.lhe", "events.txt", "summary.json~", "README", ".gitignore", "Events.lhe"]
    assert all(is_own(n) for n in own)
    assert not any(is_own(n) for n in other)


@pytest.mark.parametrize("force", [False, True])
def test_output_dir_that_is_a_file(force, tmp_path, capsys):
    out = tmp_path / "file"
    out.write_text("x")
    assert _run(out, force=force) == 2
    err = capsys.readouterr().err
    assert "output.dir" in err and "not a directory" in err and "Traceback" not in err
    assert out.read_text() == "x"


def test_second_command_on_a_locked_directory_exits_2(tmp_path, capsys):
    """A process holding the directory (via the same OutputDir a run uses) locks out a run."""
    out = tmp_path / "busy"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from alpgen.io.outdir import OutputDir\n"
            f"with OutputDir({str(out)!r}, force=False, key='output.dir'):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        assert _run(out) == 2
        assert time.monotonic() - t0 < 10
        err = capsys.readouterr().err
        assert f"pid {holder.pid}" in err and "in use" in err
    finally:
        holder.kill()
        holder.wait()
    # kill -9 released the lock: the directory is usable (the lock file is only a dot-file)
    assert _run(out, 'output.formats=["hepmc3"]', force=True) == 0
    assert _names(out) == {"events.hepmc3", "summary.json"}


def test_full_disk_at_summary_commits_nothing(tmp_path, monkeypatch, capsys):
    """The issue's case: the event files fit, summary.json does not → nothing committed."""
    original = AtomicFile.open

    def open_(self):
        stream = original(self)
        if self.path.name != "summary.json":
            return stream

        class Full:
            def write(self, data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            def __getattr__(self, name):
                return getattr(stream, name)

        return Full()

    monkeypatch.setattr(AtomicFile, "open", open_)
    out = tmp_path / "full"
    assert _run(out, 'output.formats=["root","hepmc3"]') == 1
    err = capsys.readouterr().err
    assert "summary.json" in err and "No space left" in err and "Traceback" not in err
    # no final-named file; the run's one complete shard stays for `alpgen run --resume`
    assert [p.name for p in out.iterdir()] == [".shards"]


def test_failed_rename_rolls_back_the_files_already_committed(tmp_path, monkeypatch, capsys):
    original = AtomicFile.publish

    def publish(self):
        if self.path.name == "summary.json":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        original(self)

    monkeypatch.setattr(AtomicFile, "publish", publish)
    out = tmp_path / "rollback"
    out.mkdir()  # an existing directory stays, but holds no final-named file
    with pytest.raises(OSError, match="Input/output"):
        _run(out, 'output.formats=["hepmc3","lhe"]')
    assert _names(out) == set() or not [n for n in _names(out) if not n.startswith(".")]


# a failing command leaves no output directory behind
FAILING = {
    "scan_workers_0": ["scan", str(CI), "--masses", "2:3:2", "--workers", "0"],
    "scan_bad_scheduler": ["scan", str(CI), "--masses", "2:3:2", "--scheduler", "nonsense://x"],
    "scan_all_closed": ["scan", str(CI), "--masses", "20:30:2", "--set", "beam.energy=10"],
    "scan_out_and_set": ["scan", str(CI), "--masses", "2:3:2", "--set", "output.dir=OUT2"],
    "run_bad_card": ["run", str(C), "--set", "model.m_a=-1"],
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_failing_command_leaves_no_output_directory(case, tmp_path, capsys):
    argv = [a.replace("OUT2", str(tmp_path / "other")) for a in FAILING[case]]
    out = tmp_path / "nested" / "out"
    argv += ["--out", str(out)] if argv[0] == "scan" else ["--set", f"output.dir={out}"]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))


def test_run_failing_after_integration_leaves_no_directory(tmp_path, monkeypatch, capsys):
    import alpgen.engine as engine

    def broken(self, *args, **kwargs):
        raise OSError(errno.EIO, "simulated failure after integration")

    monkeypatch.setattr(engine.Engine, "hard", broken)  # the event loop's first call
    out = tmp_path / "a" / "b"
    with pytest.raises(OSError, match="simulated"):
        _run(out)
    assert not (tmp_path / "a").exists()


def test_scan_set_output_dir_is_the_default_of_out(tmp_path, capsys):
    out = tmp_path / "via_set"
    rc = main(
        [
            "scan",
            str(CI),
            "--masses",
            "2:2:1",
            "--set",
            f"output.dir={out}",
            "--set",
            "run.events=200",
            "--set",
            "production.precision=0.05",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    assert _names(out) == {"scan.csv", "scan.json", "reach.png"}


def test_plain_and_gzip_of_one_format_are_both_complete(tmp_path):
    """formats = ["hepmc3", "hepmc3.gz"] used to share one writer: the plain file was empty."""
    from alpgen.io.checks import check_hepmc3

    out = tmp_path / "both"
    assert _run(out, 'output.formats=["hepmc3","hepmc3.gz","lhe","lhe.gz"]') == 0
    for name in ("events.hepmc3", "events.hepmc3.gz"):
        check = check_hepmc3(out / name)
        assert check.complete and check.n_complete == 300, check
    import gzip

    plain = (out / "events.lhe").read_bytes()
    assert plain == gzip.decompress((out / "events.lhe.gz").read_bytes())
    files = json.loads((out / "summary.json").read_text())["files"]
    assert sorted(files.values()) == sorted(
        ["events.hepmc3", "events.hepmc3.gz", "events.lhe", "events.lhe.gz"]
    )
