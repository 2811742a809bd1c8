"""Reliability of ``alpgen run``: bad data files, existing outputs, interrupts, full disks,
reproducibility across numba thread counts, and numerical robustness near thresholds."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alpgen.cli import main
from alpgen.io.atomic import AtomicFile

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "cards"
THIN = CARDS / "thin_target_1p5TeV.toml"
FASER = CARDS / "fasernu2.toml"
FINAL_NAMES = {"events.lhe", "events.hepmc3", "histograms.root", "summary.json"}
SMALL = [
    "--set",
    "run.events=1500",
    "--set",
    "run.batch_size=500",
    "--set",
    "production.precision=0.03",
]

HEADER = "E_GeV,dN_dE_mu_minus,dN_dE_mu_plus\n"
# (file content or None for a missing file, words the message must contain)
BAD_SPECTRA = {
    "missing": (None, ["beam.spectrum", "not found"]),
    "empty": ("", ["beam.spectrum", "empty"]),
    "comments_only": ("# nothing here\n", ["beam.spectrum"]),
    "missing_column": ("E_GeV,dN_dE_mu_minus\n10,1\n100,2\n", ["beam.spectrum", "dN_dE_mu_plus"]),
    "malformed": (HEADER + "10,1,1\n100,abc,1\n", ["beam.spectrum", ".csv:3"]),
    "short_row": (HEADER + "10,1,1\n100,1\n", ["beam.spectrum", ".csv:3"]),
    "negative": (HEADER + "10,1,1\n100,-1,1\n", ["beam.spectrum", ".csv:3", "negative"]),
    "non_monotonic": (HEADER + "10,1,1\n1000,1,1\n100,1,1\n", ["beam.spectrum", ".csv:4"]),
    "one_node": (HEADER + "100,1,1\n", ["beam.spectrum", "2"]),
}


def _fresh_outdir(tmp_path: Path) -> Path:
    return tmp_path / "out"


@pytest.mark.parametrize("case", sorted(BAD_SPECTRA))
def test_bad_spectrum_files_exit_2_naming_file_and_line(case, tmp_path, capsys):
    content, words = BAD_SPECTRA[case]
    path = tmp_path / f"{case}.csv"
    if content is not None:
        path.write_text(content)
    out = _fresh_outdir(tmp_path)
    rc = main(["run", str(FASER), "--set", f"beam.spectrum={path}", "--set", f"output.dir={out}"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    assert str(path.name) in err
    for w in words:
        assert w.lower() in err.lower(), (w, err)
    assert not out.exists(), "no output directory may be created for bad input"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["xsec", str(THIN), "--precision", "0"], ["--precision"]),
        (["xsec", str(THIN), "--precision", "2"], ["--precision"]),
        (["scan", str(THIN), "--masses", "2:1"], ["--masses"]),
        (["scan", str(THIN), "--masses", "a:b:c"], ["--masses"]),
        (["detect", "/nonexistent/file.hepmc3", "--detector", "thin_target"], ["does not exist"]),
        (["detect", str(THIN), "--detector", "lhcb"], ["detector.name", "lhcb"]),
        (["run", str(THIN), "--set", "detector.mot=-1"], ["detector.mot"]),
        (["run", str(THIN), "--set", "detector.selection=everything"], ["detector.selection"]),
        (["run", str(THIN), "--set", "detector.resolution=2"], ["detector.resolution"]),
    ],
)
def test_bad_cli_arguments_exit_2(argv, words, capsys, tmp_path):
    out = _fresh_outdir(tmp_path)
    if argv[0] == "run":
        argv = [*argv, "--set", f"output.dir={out}"]
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse-level errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()


def test_existing_output_directory_needs_force(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "events.lhe").write_text("precious")
    assert main(["run", str(THIN), *SMALL, "--set", f"output.dir={out}", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "output.dir" in err and "--force" in err
    assert (out / "events.lhe").read_text() == "precious"


class _FullDisk:
    """A stream that fails with ENOSPC once ``budget`` bytes have been written."""

    def __init__(self, inner, budget: int) -> None:
        self._inner, self._left = inner, budget

    def write(self, data):
        self._left -= len(data)
        if self._left < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._inner.write(data)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_full_disk_gives_clear_error_and_no_final_files(tmp_path, monkeypatch, capsys):
    original = AtomicFile.open
    monkeypatch.setattr(AtomicFile, "open", lambda self: _FullDisk(original(self), 50_000))
    out = tmp_path / "full"
    rc = main(["run", str(THIN), *SMALL, "--set", f"output.dir={out}", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "No space left on device" in err and "Traceback" not in err
    assert not out.exists(), "a failing run leaves no output directory behind"


def test_unwritable_output_directory(tmp_path, monkeypatch, capsys):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    out = tmp_path / "locked" / "run"
    rc = main(["run", str(THIN), *SMALL, "--set", f"output.dir={out}", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "output.dir" in err and "Permission denied" in err


def _alpgen(args: list[str], env: dict | None = None, cwd: Path = REPO) -> subprocess.Popen:
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "alpgen.cli", *args],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# interrupts at every moment of a run: tests/generator/test_interrupts.py


def _strip_timings(summary: dict) -> dict:
    summary = dict(summary)
    summary.pop("timings_s")
    summary.pop("time_s")
    return summary


def test_outputs_do_not_depend_on_numba_threads(tmp_path):
    runs = {}
    for threads in (1, 2):
        cwd = tmp_path / f"t{threads}"
        cwd.mkdir()
        # the same relative output.dir in two working directories: identical cards
        proc = _alpgen(
            ["run", str(THIN), *SMALL, "--set", "output.dir=out", "--quiet"],
            env={"NUMBA_NUM_THREADS": str(threads)},
            cwd=cwd,
        )
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        runs[threads] = cwd / "out"
    a, b = runs[1], runs[2]
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    assert _strip_timings(sa) == _strip_timings(sb)
    for name in ("events.lhe", "events.hepmc3"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# ------------------------------------------------------------------------------------------
# numerical robustness near the thresholds


@pytest.mark.parametrize(
    "overrides",
    [
        ["model.m_a=1.8836"],  # 0.2 MeV above m_μ + m_τ, visible decays
        ["beam.energy=4.45", "model.m_a=1.9", "target.material=C", "production.t_max=10"],
        ["production.t_max=3e-5"],  # t_max just above t_min = 2.26e-5 GeV²
        ["beam.energy=50000", "model.m_a=40"],  # 50 TeV, heavy ALP
        ["model.theta=0", "model.m_a=1.9"],
        ["model.theta=3.141592653589793", "decays.alp=auto"],
    ],
)
def test_no_nan_near_thresholds(overrides):
    from alpgen.card import load_card
    from alpgen.engine import Engine

    card = load_card(
        THIN, [*overrides, "run.events=400", "run.batch_size=400", "production.precision=0.05"]
    )
    source = Engine(card)
    x = source.integrated.xsec
    for v in (x.sigma_pb, x.sigma_err_pb, x.sigma_coherent_pb, x.sigma_incoherent_pb):
        assert np.isfinite(v) and v >= 0
    # every point here is just inside the open region: σ > 0 and events must come out
    assert source.sampler is not None and x.sigma_pb > 0
    batch = next(source.batches())
    used = batch.status > 0
    assert np.isfinite(batch.p[used]).all() and np.isfinite(batch.vertex[used]).all()
    assert np.isfinite(batch.weight).all() and (batch.weight >= 0).all()
    e = batch.p[..., 3]
    m2 = e**2 - (batch.p[..., :3] ** 2).sum(-1)
    scale = batch.beam_energy[:, None] ** 2
    assert (np.abs(m2 - batch.m**2)[used] / np.broadcast_to(scale, m2.shape)[used]).max() < 1e-10
