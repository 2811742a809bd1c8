"""Format and completeness checks of event files (``alpgen detect``'s input), on the files of a
real ``alpgen run`` (the session's ``thin_target_run``): a catalogue of damaged and foreign
files, truncation at many bytes, and the command line's exit status, message and JSON."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from alpgen.cli import main
from alpgen.io.checks import check_hepmc3, detect_format

DETECT = ["--detector", "thin_target", "--set", "detector.selection=visible_charge_flip"]


@pytest.fixture(scope="module")
def files(thin_target_run, tmp_path_factory) -> dict[str, Path]:
    """The run's HepMC3 and LHE files and damaged or foreign variants of them."""
    d = tmp_path_factory.mktemp("checks")
    good = thin_target_run / "events.hepmc3"
    data = good.read_bytes()
    out = {"hepmc3": good, "lhe": thin_target_run / "events.lhe"}

    def put(name: str, content: bytes) -> None:
        out[name] = d / name
        out[name].write_bytes(content)

    put("half.hepmc3", data[: len(data) // 2])
    put("no_footer.hepmc3", data[: data.rindex(b"HepMC::Asciiv3-END_EVENT_LISTING")])
    put("empty.hepmc3", b"")
    put("header_only.hepmc3", data[: data.index(b"\nE ") + 1])
    put("good.hepmc3.gz", gzip.compress(data, mtime=0))
    gz = bytearray(out["good.hepmc3.gz"].read_bytes())
    mid = len(gz) // 2
    gz[mid : mid + 64] = bytes(64)  # a zeroed block in the middle of the deflate stream
    put("corrupt_middle.hepmc3.gz", bytes(gz))
    put("cut.hepmc3.gz", out["good.hepmc3.gz"].read_bytes()[: len(gz) // 2])
    put("bad_header.hepmc3.gz", b"\x1f\x8b\x09\x00garbage that is no deflate stream")
    put("lhe.gz", gzip.compress(out["lhe"].read_bytes()[:200_000], mtime=0))
    # one event too few: the last event dropped, the listing otherwise intact
    last = data.rindex(b"\nE ") + 1
    end = data.rindex(b"HepMC::Asciiv3-END_EVENT_LISTING")
    put("one_event_missing.hepmc3", data[:last] + data[end:])
    # a HepMC2 file written by HepMC3's own HepMC2 writer from the run's events
    import pyhepmc

    hepmc2 = d / "events.hepmc2"
    with pyhepmc.open(good) as src, pyhepmc.io.WriterAsciiHepMC2(str(hepmc2)) as dst:
        for i, event in enumerate(src):
            dst.write_event(event)
            if i == 20:
                break
    out["events.hepmc2"] = hepmc2
    return out


# (file, expected format, gzip, complete, words of the problem)
CATALOGUE = [
    ("hepmc3", "hepmc3", False, True, []),
    ("good.hepmc3.gz", "hepmc3", True, True, []),
    ("half.hepmc3", "hepmc3", False, False, ["truncated", "end-of-listing"]),
    ("no_footer.hepmc3", "hepmc3", False, False, ["end-of-listing"]),
    ("header_only.hepmc3", "hepmc3", False, False, ["end-of-listing"]),
    ("cut.hepmc3.gz", "hepmc3", True, False, ["gzip"]),
    ("corrupt_middle.hepmc3.gz", "hepmc3", True, False, []),
    ("bad_header.hepmc3.gz", "corrupt-gzip", True, False, ["gzip header"]),
    ("one_event_missing.hepmc3", "hepmc3", False, False, ["generated 3000"]),
]


@pytest.mark.parametrize(("name", "fmt", "gz", "complete", "words"), CATALOGUE)
def test_catalogue_of_damaged_files(files, name, fmt, gz, complete, words):
    check = check_hepmc3(files[name])
    assert (check.format, check.gzip, check.complete) == (fmt, gz, complete), check
    for w in words:
        assert w in check.problem, check.problem
    if complete:
        assert check.n_complete == check.expected_events == 3000
        assert check.last_event == 2999


@pytest.mark.parametrize(
    ("name", "fmt", "gz"),
    [
        ("lhe", "lhe", False),
        ("lhe.gz", "lhe", True),
        ("events.hepmc2", "hepmc2", False),
        ("empty.hepmc3", "empty", False),
        ("hepmc3", "hepmc3", False),
    ],
)
def test_format_detection(files, name, fmt, gz):
    assert detect_format(files[name]) == (fmt, gz)


def test_truncation_at_any_byte_is_detected(files, tmp_path):
    """Cut at random bytes and at every byte around an event boundary: never complete, and
    the complete events reported are exactly those whose successor line was read."""
    data = files["hepmc3"].read_bytes()
    boundary = data.index(b"\nE 3 ") + 1
    rng = random.Random(16)
    cuts = sorted(
        {*range(boundary - 4, boundary + 5), *(rng.randrange(1, 120_000) for _ in range(25))}
    )
    path = tmp_path / "cut.hepmc3"
    for cut in cuts:
        prefix = data[:cut]
        path.write_bytes(prefix)
        check = check_hepmc3(path)
        assert not check.complete, cut
        # complete events: those followed by a whole (newline-terminated) next 'E' line
        n_e = sum(line.startswith(b"E ") for line in prefix.split(b"\n")[:-1])
        expected = max(0, n_e - 1)
        assert check.n_complete == expected, (cut, check)
        if expected:
            assert check.last_event == expected - 1
            assert data[check.complete_bytes : check.complete_bytes + 2] == b"E "


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("half.hepmc3", ["truncated", "last complete event is event", "--allow-truncated"]),
        ("corrupt_middle.hepmc3.gz", ["last complete event is event"]),
        ("cut.hepmc3.gz", ["gzip", "last complete event"]),
        ("bad_header.hepmc3.gz", ["gzip header is corrupt", "no event in it is complete"]),
        ("empty.hepmc3", ["empty", "HepMC3"]),
        ("lhe", ["LHE", "HepMC3"]),
        ("lhe.gz", ["LHE", "gzip"]),
        ("events.hepmc2", ["HepMC2", "HepMC3"]),
        ("one_event_missing.hepmc3", ["2999 events", "generated 3000"]),
    ],
)
def test_detect_refuses_damaged_or_foreign_files(files, name, words, capsys):
    rc = main(["detect", str(files[name]), *DETECT, "--sigma-pb", "2.5"])
    out, err = capsys.readouterr()
    assert rc == 2, err
    assert out == ""
    assert str(files[name]) in err and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_allow_truncated_uses_and_normalises_by_complete_events(files, capsys):
    check = check_hepmc3(files["half.hepmc3"])
    rc = main(["detect", str(files["half.hepmc3"]), *DETECT, "--allow-truncated", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["n_generated"] == check.n_complete > 0
    assert doc["input"]["complete"] is False
    assert doc["input"]["normalised_by_complete_events"] is True
    assert doc["input"]["events_used"] == check.n_complete
    assert doc["input"]["events_expected"] == 3000
    rc = main(["detect", str(files["half.hepmc3"]), *DETECT, "--allow-truncated"])
    out, _ = capsys.readouterr()
    assert rc == 0
    assert f"using its {check.n_complete} complete events" in out


def test_complete_file_reports_complete_input(files, capsys):
    assert main(["detect", str(files["good.hepmc3.gz"]), *DETECT, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_generated"] == 3000
    assert doc["input"]["complete"] is True and doc["input"]["problem"] is None


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_detect_sigma_pb_must_be_finite_and_positive(files, value, capsys):
    rc = main(["detect", str(files["hepmc3"]), *DETECT, "--sigma-pb", value])
    err = capsys.readouterr().err
    assert rc == 2 and "--sigma-pb" in err and "Traceback" not in err


def test_detect_says_which_selection_and_why_nothing_passed(files, capsys):
    """The README's old example: the default invisible selection on a visible-ALP file."""
    assert main(["detect", str(files["hepmc3"]), "--detector", "thin_target"]) == 0
    out = capsys.readouterr().out
    assert "selection: invisible (the thin_target default)" in out
    assert "no event passed the cut" in out
    assert "'visible'" in out and "detector.selection=visible_charge_flip" in out


def test_detect_stdout_is_only_json_in_a_subprocess(files):
    """stdout carries only the JSON, whatever HepMC3's C++ code prints (to stderr)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "alpgen.cli",
            "detect",
            str(files["corrupt_middle.hepmc3.gz"]),
            *DETECT,
            "--allow-truncated",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["input"]["complete"] is False
