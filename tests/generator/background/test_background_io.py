"""Background samples through the existing writers: HepMC3 read back with pyhepmc (four-momentum
at every vertex), LHE read back with pylhe and by Pythia 8 (fixed-target LHE, τ decays)."""

from __future__ import annotations

import math

import numpy as np
import pyhepmc
import pylhe
import pytest

from alpgen.background.api import background_cross_section, background_events
from alpgen.background.params import BackgroundParams
from alpgen.background.trident import trident_batch
from alpgen.io.hepmc import HepMC3Writer, read_hepmc3
from alpgen.io.lhe import LHEWriter
from alpgen.io.metadata import RunMetadata
from alpgen.targets import get_target

N = 200


def _meta(bp: BackgroundParams, res, n: int, process: str) -> RunMetadata:
    tg = get_target(bp.target)
    return RunMetadata(
        card_text=f'[process]\nname = "{process}"\n',
        card={"process": {"name": process}},
        seed=4,
        sigma_pb=res.sigma_pb,
        sigma_err_pb=res.sigma_err_pb,
        n_events=n,
        beam_pid=bp.beam_pid,
        beam_energy=bp.beam_energy,
        target_pid=tg.pdgid,
        target_mass=tg.nucleus_mass,
        versions={"alpgen": "test"},
        generator_version="test",
    )


@pytest.fixture(scope="module")
def tautau(fast_params):
    res = background_cross_section("sm_tautau", fast_params, seed=4)
    rng = np.random.default_rng(4)
    mom, _, comp = res.sampler.sample(N, rng)
    kw = {"beam_pid": 13, "lepton": "tau", "target": "Pb", "thickness_cm": 2.0, "rng": rng}
    return res, trident_batch(mom, comp, **kw), trident_batch(mom, comp, decay=False, **kw)


def _check_hepmc(path, batch) -> None:
    n_ev = 0
    with pyhepmc.open(path) as f:
        for ev in f:
            n_ev += 1
            for v in ev.vertices:
                pin = np.sum([list(p.momentum) for p in v.particles_in], axis=0)
                pout = np.sum([list(p.momentum) for p in v.particles_out], axis=0)
                assert np.allclose(pin, pout, rtol=0, atol=1e-9 * pin[3]), (n_ev, pin, pout)
    assert n_ev == len(batch)
    back = read_hepmc3(path, max_particles=batch.n_slots)
    assert np.array_equal(back.pid, batch.pid)
    assert np.array_equal(back.status, batch.status)
    assert np.allclose(back.p, batch.p, rtol=1e-14, atol=0)
    assert np.allclose(back.vertex, batch.vertex, rtol=1e-14, atol=1e-300)


def _check_lhe(path, batch) -> None:
    events = list(pylhe.LHEFile.fromfile(str(path)).events)
    assert len(events) == len(batch)
    for ev, n in zip(events, batch.n_particles, strict=True):
        assert len(ev.particles) == n


def test_tautau_hepmc_and_lhe(tautau, fast_params, tmp_path):
    res, b, _ = tautau
    meta = _meta(fast_params, res, N, "sm_tautau")
    with HepMC3Writer(tmp_path / "tt.hepmc", meta) as w:
        w.write(b)
    with LHEWriter(tmp_path / "tt.lhe", meta) as w:
        w.write(b)
    _check_hepmc(tmp_path / "tt.hepmc", b)
    _check_lhe(tmp_path / "tt.lhe", b)


def test_charm_hepmc_and_lhe(tmp_path):
    pytest.importorskip("pythia8mc")
    bp = BackgroundParams(beam_energy=160.0, batch_size=100, charm_sigma_events=200)
    res, it = background_events("charm", bp, 100, seed=4)
    b = next(it)
    meta = _meta(bp, res, 100, "charm")
    with HepMC3Writer(tmp_path / "c.hepmc", meta) as w:
        w.write(b)
    with LHEWriter(tmp_path / "c.lhe", meta) as w:
        w.write(b)
    _check_hepmc(tmp_path / "c.hepmc", b)
    _check_lhe(tmp_path / "c.lhe", b)


def test_pythia_reads_trident_lhe_and_decays_taus(tautau, fast_params, tmp_path):
    p8 = pytest.importorskip("pythia8mc")
    res, _, undecayed = tautau
    with LHEWriter(tmp_path / "tt.lhe", _meta(fast_params, res, N, "sm_tautau")) as w:
        w.write(undecayed)
    pythia = p8.Pythia("", False)
    for setting in (
        "Beams:frameType = 4",
        f"Beams:LHEF = {tmp_path / 'tt.lhe'}",
        "Check:beams = off",
        "ProcessLevel:all = off",
        "Next:numberCount = 0",
        "Print:quiet = on",
    ):
        assert pythia.readString(setting), setting
    assert pythia.init()
    n_events = n_tau = 0
    while pythia.next():
        n_events += 1
        ev = pythia.event
        e_in = sum(ev[i].e() for i in range(ev.size()) if ev[i].status() == -21)
        e_out = sum(ev[i].e() for i in range(ev.size()) if ev[i].isFinal())
        assert math.isclose(e_in, e_out, rel_tol=1e-9), (e_in, e_out)
        for i in range(ev.size()):
            # the last copy of each τ decays (Pythia keeps earlier copies as history)
            if abs(ev[i].id()) == 15 and ev[i].daughter1() == ev[i].daughter2() == 0:
                raise AssertionError("a τ was left undecayed")
            if abs(ev[i].id()) == 15 and 91 <= ev[ev[i].daughter1()].status() <= 99:
                n_tau += 1
    assert n_events == N
    assert n_tau == 2 * N
