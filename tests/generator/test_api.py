"""The public Python API (``import alpgen``) against what the command line writes.

The API and the CLI share one engine; these tests pin that they agree number for number on the
files and JSON a real run writes, and that the installed package is one namespace.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import sysconfig
from importlib.metadata import distributions
from pathlib import Path

import numpy as np
import pytest
import uproot

import alpgen
from alpgen.cli import main
from alpgen.io.hepmc import read_hepmc3

ROOT = Path(__file__).resolve().parents[2]
CARD = ROOT / "cards" / "thin_target_1p5TeV.toml"
FAST = ("run.events=3000", "run.batch_size=1000", "production.precision=0.02")


def _sets(overrides) -> list[str]:
    """``--set`` arguments for the command line."""
    return [arg for o in overrides for arg in ("--set", o)]


def test_one_namespace_installed():
    """Nothing named ``generator`` or ``detectors`` is installed at the top level."""
    purelib = sysconfig.get_paths()["purelib"]
    (dist,) = [d for d in distributions(path=[purelib]) if d.metadata["Name"] == "alpgen"]
    tops = {str(f).split("/")[0] for f in dist.files or ()}
    assert tops and not tops & {"generator", "detectors"}
    assert not (Path(purelib) / "generator").exists()
    assert not (Path(purelib) / "detectors").exists()
    assert alpgen.detectors.__name__ == "alpgen.detectors"


def test_import_alpgen_is_light():
    """``import alpgen`` loads neither numba nor numpy; the API loads them on first use."""
    heavy = "('numba', 'numpy', 'vegas', 'awkward')"
    code = f"import alpgen, sys; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_is_curated():
    for name in alpgen.__all__:
        assert getattr(alpgen, name) is not None
    assert {"load_card", "cross_section", "generate", "generate_batches", "run", "scan"} <= set(
        alpgen.__all__
    )
    assert issubclass(alpgen.CardError, alpgen.AlpgenError)
    assert issubclass(alpgen.OutputError, alpgen.AlpgenError)
    assert (Path(alpgen.__file__).parent / "py.typed").exists()


def test_cross_section_equals_xsec_json(capsys):
    card = alpgen.load_card(CARD, FAST)
    xs = alpgen.cross_section(card)
    assert main(["xsec", str(CARD), *_sets(FAST), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    api = xs.to_dict()
    assert set(api) == set(cli)
    for key in ("sigma_pb", "sigma_err_pb", "sigma_coherent_pb", "sigma_incoherent_pb"):
        assert api[key] == pytest.approx(cli[key], rel=1e-9)
        assert getattr(xs, key) == api[key]
    assert xs.sigma_err_pb < 0.02 * xs.sigma_pb


def test_generate_equals_the_files_of_a_run(thin_target_run):
    """Same card and seed: ``alpgen.generate`` gives the four-vectors ``alpgen run`` wrote."""
    card = alpgen.load_card(CARD, FAST)
    events = alpgen.generate(card)
    written = read_hepmc3(thin_target_run / "events.hepmc3")
    assert len(events) == len(written) == 3000
    np.testing.assert_array_equal(events.n_particles, written.n_particles)
    k = int(events.n_particles.max())
    np.testing.assert_array_equal(events.pid[:, :k], written.pid[:, :k])
    np.testing.assert_allclose(events.p[:, :k], written.p[:, :k], rtol=1e-14, atol=1e-12)
    np.testing.assert_array_equal(events.spin[:, :k], written.spin[:, :k])
    # the iterator form yields the same events batch by batch
    first = next(alpgen.generate_batches(card, 1000))
    np.testing.assert_array_equal(first.p, events.p[:1000])


def test_run_summary_equals_summary_json(tmp_path):
    card = alpgen.load_card(CARD, (*FAST, "run.events=1000", 'output.formats=["lhe"]'))
    result = alpgen.run(card, out_dir=tmp_path / "api")
    on_disk = json.loads((tmp_path / "api" / "summary.json").read_text())
    assert result.summary == on_disk
    assert set(result.files) == {"lhe"} and result.files["lhe"].exists()
    det = on_disk["detector"]
    assert result.detector is not None
    assert det["reach_C_over_Lambda_invTeV"] == result.detector.reach.reach_C_over_Lambda_invTeV
    # prompt decays, BR independent of the coupling: both reaches agree (module alpgen.reach)
    assert det["reach_C_over_Lambda_invTeV"] == pytest.approx(det["reach_fixed_br_invTeV"], 1e-9)
    # δ(C/Λ)/(C/Λ) = ½ δN/N for prompt decays, δN/N from σ and ε in quadrature
    rel_n = math.hypot(
        on_disk["sigma_err_pb"] / on_disk["sigma_pb"], det["efficiency_error"] / det["efficiency"]
    )
    assert det["reach_C_over_Lambda_err_invTeV"] == pytest.approx(
        0.5 * rel_n * det["reach_C_over_Lambda_invTeV"], rel=1e-3
    )
    assert on_disk["alp_stable"] is False


def test_scan_rows_equal_scan_csv(tmp_path):
    overrides = ["run.events=500", "production.precision=0.05"]
    args = ["scan", str(CARD), "--masses", "3:6:2", "--out", str(tmp_path / "cli")]
    assert main([*args, *_sets(overrides)]) == 0
    with open(tmp_path / "cli" / "scan.csv") as fh:
        cli_rows = list(csv.DictReader(fh))
    api = alpgen.scan(alpgen.load_card(CARD, overrides), [3.0, 6.0])
    assert len(api.rows) == len(cli_rows) == 2
    for a, c in zip(api.rows, cli_rows, strict=True):
        assert list(a) == list(c)
        for key, value in a.items():
            if isinstance(value, float) and math.isnan(value):
                assert c[key] == "nan"
            else:
                assert str(value) == c[key] or float(c[key]) == value, key
    json.loads((tmp_path / "cli" / "scan.json").read_text())  # strict, valid JSON


def test_to_awkward_is_the_record(thin_target_source):
    batch = thin_target_source.batch(0, 200)
    arr = batch.to_awkward()
    assert len(arr) == 200
    import awkward as ak

    np.testing.assert_array_equal(ak.num(arr), batch.n_particles)
    assert set(arr.fields) == {
        "px", "py", "pz", "E", "pid", "status", "mother1", "mother2",
        "vx", "vy", "vz", "vt", "helicity",
    }  # fmt: skip
    i = 7
    n = batch.n_particles[i]
    np.testing.assert_array_equal(np.asarray(arr[i].pid), batch.pid[i, :n])
    np.testing.assert_array_equal(np.asarray(arr[i].mother1), batch.mother[i, :n, 0])
    np.testing.assert_array_equal(np.asarray(arr[i].vz), batch.vertex[i, :n, 2])
    np.testing.assert_array_equal(np.asarray(arr[i].helicity), batch.spin[i, :n])
    # vector behaviour: invariant masses of the produced τ (slot 2) and the ALP (slot 4)
    np.testing.assert_allclose(np.asarray(arr[:, 2].mass), 1.77693, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(arr[:, 4].mass), 2.0, rtol=1e-6)


def test_example_script_runs(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), "--events", "500",
         "--out", str(tmp_path / "run")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "sigma =" in out.stdout and "taus" in out.stdout
    assert (tmp_path / "run" / "summary.json").exists()


# --------------------------------------------------------------------------------------------
# defects found when trying alpgen as a new user, each on a real run


def test_every_histogram_holds_all_events(thin_target_run):
    """``minus_t`` was empty in every real run (sign of t); now each histogram of the "all"
    directory holds every event of the run in range, and the tree's t is Mandelstam t ≤ 0."""
    n = json.loads((thin_target_run / "summary.json").read_text())["events"]
    with uproot.open(thin_target_run / "histograms.root") as f:
        for name in ("minus_t", "E_tau", "E_a", "x", "theta_tau", "theta_a"):
            h = f[f"all/{name}"]
            assert h.values(flow=False).sum() == pytest.approx(n), name
        t = f["events"]["t"].array(library="np")
    assert len(t) == n and np.all(t < 0)


@pytest.mark.parametrize(
    "overrides",
    [
        ("beam.particle=e-", "model.m_a=1.0"),  # e → τ: a → eτ closed at 1 GeV
        ("model.m_a=1.8", "decays.alp=visible"),  # m_a < m_τ + m_μ, the card asks for visible
    ],
)
def test_xsec_needs_no_open_alp_decay(overrides, capsys):
    args = ["xsec", str(CARD), "--json", "--precision", "0.05"]
    assert main([*args, *_sets(overrides)]) == 0
    assert json.loads(capsys.readouterr().out)["sigma_pb"] > 0


def test_run_with_no_open_alp_decay_keeps_the_alp_stable(tmp_path, capsys):
    sets = ["model.m_a=1.8", "decays.alp=auto", "run.events=300", 'output.formats=["hepmc3"]',
            "production.precision=0.05", f"output.dir={tmp_path / 'stable'}"]  # fmt: skip
    assert main(["run", str(CARD), *_sets(sets)]) == 0
    err = capsys.readouterr().err
    assert err.count("the ALP is stable") == 1
    summary = json.loads((tmp_path / "stable" / "summary.json").read_text())
    assert summary["alp_stable"] is True
    events = read_hepmc3(tmp_path / "stable" / "events.hepmc3")
    alp = events.pid == 9000005
    assert alp.sum(axis=1).tolist() == [1] * 300
    assert np.all(events.status[alp] == 1)  # final state
    # a visible ALP that cannot decay is still an error for run, naming the key
    sets[1] = "decays.alp=visible"
    assert main(["run", str(CARD), *_sets(sets), "--force"]) == 2
    assert "model.m_a" in capsys.readouterr().err


def test_energy_and_spectrum_replace_each_other():
    faser = ROOT / "cards" / "fasernu2.toml"
    mono = alpgen.load_card(faser, ["beam.energy=1500"])
    assert mono.beam.energy == 1500.0 and mono.beam.spectrum is None
    spec_file = faser.parent / alpgen.load_card(faser).beam.spectrum
    spec = alpgen.load_card(CARD, [f"beam.spectrum={spec_file}"])
    assert spec.beam.energy is None and spec.beam.spectrum == str(spec_file)


def test_run_prints_the_reach_with_its_error(tmp_path, capsys):
    sets = [*FAST, "run.events=1000", 'output.formats=["lhe"]', f"output.dir={tmp_path / 'r'}"]
    assert main(["run", str(CARD), *_sets(sets)]) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "reach C/Lambda" in x)
    value, error = line.split("=")[1].split("TeV")[0].split("±")
    det = json.loads((tmp_path / "r" / "summary.json").read_text())["detector"]
    assert float(value) == pytest.approx(det["reach_C_over_Lambda_invTeV"], rel=1e-3)
    assert float(error) == pytest.approx(det["reach_C_over_Lambda_err_invTeV"], rel=0.01)
