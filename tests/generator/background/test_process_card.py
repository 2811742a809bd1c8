"""``[process] name`` as a card choice: ``alpgen xsec``/``run`` of Standard-Model processes on
the files a real run writes, and bad input (exit 2 naming the key)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyhepmc
import pytest

import alpgen
from alpgen.card import load_card
from alpgen.cli import main
from alpgen.errors import CardError
from alpgen.io.hepmc import read_hepmc3

ROOT = Path(__file__).resolve().parents[3]
CARDS = sorted((ROOT / "cards").glob("*.toml"))
BKG = ROOT / "cards" / "bkg_thin_target_tautau.toml"
N = 200


@pytest.fixture(scope="module")
def tautau_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bkgrun") / "run"
    rc = main(
        [
            "run",
            str(BKG),
            "--quiet",
            "--set",
            f"run.events={N}",
            "--set",
            "run.batch_size=100",
            "--set",
            "production.precision=0.05",
            "--set",
            f"output.dir={out}",
        ]
    )
    assert rc == 0
    return out


@pytest.mark.parametrize("card", CARDS, ids=lambda p: p.stem)
@pytest.mark.parametrize("process", ["sm_tautau", "sm_mumu"])
def test_set_process_on_every_card(card, process):
    sets = [f"process.name={process}"]
    c = load_card(card, sets)  # a beam spectrum too (run at energy nodes)
    assert c.process.name == process and not c.process.is_alp
    assert c.to_dict()["process"] == {"name": process}


def test_model_not_needed_for_sm_cards():
    c = load_card(BKG)
    assert "model" not in c.raw and c.process.name == "sm_tautau"


def test_unknown_process_exits_2_naming_the_key(capsys):
    card = str(ROOT / "cards" / "thin_target_1p5TeV.toml")
    assert main(["xsec", card, "--set", "process.name=sm_ee"]) == 2
    err = capsys.readouterr().err
    assert "process.name" in err and "'sm_tautau'" in err and "'charm'" in err


def test_charm_without_pythia_exits_2_with_install_hint(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "pythia8mc" else real(n, *a)
    )
    card = str(ROOT / "cards" / "thin_target_1p5TeV.toml")
    assert main(["xsec", card, "--set", "process.name=charm"]) == 2
    err = capsys.readouterr().err
    assert "process.name" in err and "pip install 'alpgen[charm]'" in err
    with pytest.raises(CardError, match=r"background.processes"):
        load_card(card, ['background.processes=["charm"]'])


def test_sm_process_needs_a_muon_beam():
    with pytest.raises(CardError, match=r"beam.particle"):
        load_card(BKG, ["beam.particle=e-"])


def test_xsec_json_of_sm_process(capsys):
    rc = main(["xsec", str(BKG), "--set", "beam.energy=160.0", "--precision", "0.05", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("sigma_pb", "sigma_err_pb", "sigma_coherent_pb", "sigma_incoherent_pb"):
        assert math.isfinite(out[key]) and out[key] > 0.0, key
    assert out["sigma_err_pb"] < 0.05 * out["sigma_pb"]
    # the parts add up, within their MC errors
    assert math.isclose(
        out["sigma_coherent_pb"] + out["sigma_incoherent_pb"], out["sigma_pb"], rel_tol=1e-9
    )
    # parity: σ of a fully polarized beam is the same for both helicities
    assert out["sigma_helicity_minus_pb"] == out["sigma_helicity_plus_pb"] == out["sigma_pb"]


def test_run_writes_hepmc_with_conservation_at_every_vertex(tautau_run):
    summary = json.loads((tautau_run / "summary.json").read_text())
    assert summary["events"] == N and summary["model"] is None
    assert summary["card"]["process"]["name"] == "sm_tautau"
    n_ev = 0
    with pyhepmc.open(tautau_run / "events.hepmc3") as f:
        for ev in f:
            n_ev += 1
            ids = {p.pid for p in ev.particles}
            assert {13, 15, -15} <= ids
            for v in ev.vertices:
                pin = np.sum([list(p.momentum) for p in v.particles_in], axis=0)
                pout = np.sum([list(p.momentum) for p in v.particles_out], axis=0)
                assert np.allclose(pin, pout, rtol=0, atol=1e-9 * pin[3]), (n_ev, pin, pout)
    assert n_ev == N


def test_pythia_reads_the_run_lhe(tautau_run):
    p8 = pytest.importorskip("pythia8mc")
    pythia = p8.Pythia("", False)
    for setting in (
        "Beams:frameType = 4",
        f"Beams:LHEF = {tautau_run / 'events.lhe'}",
        "Check:beams = off",
        "ProcessLevel:all = off",
        "Next:numberCount = 0",
        "Print:quiet = on",
    ):
        assert pythia.readString(setting), setting
    assert pythia.init()
    n_events = 0
    while pythia.next():
        n_events += 1
        ev = pythia.event
        e_in = sum(ev[i].e() for i in range(ev.size()) if ev[i].status() == -21)
        e_out = sum(ev[i].e() for i in range(ev.size()) if ev[i].isFinal())
        assert math.isclose(e_in, e_out, rel_tol=1e-9), (e_in, e_out)
    assert n_events == N


@pytest.mark.parametrize("card", sorted((ROOT / "cards").glob("bkg_*.toml")), ids=lambda p: p.stem)
def test_every_background_card_runs(card, tmp_path):
    out = tmp_path / "run"
    sets = ["run.events=100", "run.batch_size=100", "production.precision=0.05"]
    argv = ["run", str(card), "--quiet", "--set", f"output.dir={out}"]
    assert main(argv + [x for s in sets for x in ("--set", s)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    c = load_card(card)
    det = summary["detector"]  # the process through the card's detector
    assert det["process"] == c.process.name and det["n_generated"] == 100
    assert det["sigma_pb"] == summary["sigma_pb"] > 0.0
    assert det["cutflow"][0]["events"] == pytest.approx(det["produced_events"])


def test_charm_card_runs_and_conserves_four_momentum(tmp_path):
    pytest.importorskip("pythia8mc")
    out = tmp_path / "charm"
    card = str(ROOT / "cards" / "bkg_na64mu_mumu.toml")
    sets = ["process.name=charm", "run.events=150", "run.batch_size=100", f"output.dir={out}"]
    assert main(["run", card, "--quiet", *[x for s in sets for x in ("--set", s)]]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["detector"]["process"] == "charm" and summary["sigma_pb"] > 0.0
    n_ev = 0
    with pyhepmc.open(out / "events.hepmc3") as f:
        for ev in f:
            n_ev += 1
            for v in ev.vertices:
                pin = np.sum([list(p.momentum) for p in v.particles_in], axis=0)
                pout = np.sum([list(p.momentum) for p in v.particles_out], axis=0)
                assert np.allclose(pin, pout, rtol=0, atol=1e-6 * pin[3]), (n_ev, pin, pout)
    assert n_ev == 150


@pytest.mark.parametrize("process", ["sm_tautau", "charm"])
def test_sharded_background_run_is_independent_of_the_workers(process, tmp_path):
    """A Standard-Model run in shards (σ and the trident map shipped, charm's Pythia seeded
    per shard): two dask workers write the files of the in-process run byte for byte, the
    detector count merged from the shards' sums is the same, and ``alpgen.generate`` gives
    the events of the files."""
    pytest.importorskip("distributed")
    if process == "charm":
        pytest.importorskip("pythia8mc")
    sets = [
        f"process.name={process}",
        "run.events=500",
        "run.shard_events=200",
        "run.batch_size=120",
        "production.precision=0.05",
        'output.formats=["lhe", "hepmc3.gz"]',
    ]
    card = load_card(ROOT / "cards" / "bkg_na64mu_mumu.toml", sets)
    local = alpgen.run(card, out_dir=tmp_path / "local")
    dask = alpgen.run(card, out_dir=tmp_path / "dask", workers=2)
    for name in ("events.lhe", "events.hepmc3.gz"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()
    assert local.summary["shards"] == 3
    assert local.summary["detector"] == dask.summary["detector"]
    assert local.summary["detector"]["n_generated"] == 500
    written = read_hepmc3(tmp_path / "local" / "events.hepmc3.gz")
    events = alpgen.generate(card)
    assert len(written) == len(events) == 500
    np.testing.assert_allclose(written.p, events.p[:, : written.p.shape[1]], rtol=1e-13, atol=1e-9)
