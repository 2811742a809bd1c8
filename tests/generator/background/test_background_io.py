"""Background samples through the real writers and readers (issue 14, "records for the writers").

For real ``background_events`` batches of μ⁻Pb → μ⁻Pb τ⁺τ⁻ (τ's decayed), μ⁻Pb → μ⁻Pb μ⁺μ⁻ and
open charm (Pythia 8, 160 slots): HepMC3 written by ``HepMC3Writer`` and read back by pyhepmc with
four-momentum conserved at every vertex; LHE written by ``LHEWriter`` and read back by pylhe
with valid HEPEUP lines (ISTUP, MOTHUP, the nucleus or nucleon as beam 2, SCALUP = the event's
hard scale, four-momentum conserved overall and at every decay); Pythia 8 reading the LHE files;
the ROOT histogram writer and the fast detector consuming the same batches.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pyhepmc
import pylhe
import pytest

from alpgen.background.api import background_cross_section, background_events
from alpgen.background.params import BackgroundParams
from alpgen.background.trident import trident_batch
from alpgen.constants import M_MU, M_TAU
from alpgen.events import STATUS_BEAM, STATUS_DECAYED, STATUS_FINAL, EventBatch
from alpgen.io.hepmc import HepMC3Writer, read_hepmc3
from alpgen.io.histograms import HistogramWriter, event_quantities
from alpgen.io.lhe import LHEWriter
from alpgen.io.metadata import PROCESS_DESCRIPTIONS, RunMetadata
from alpgen.targets import get_target

N = 200
PID_P, PID_N = 2212, 2112

#: How Pythia 8 reads an alpgen background LHE file (docs/backgrounds.md): the record is complete
#: at hadron level, so no process-level generation and no showers on top; Pythia then decays
#: whatever is left undecayed (the τ's of a ``decay_taus = false`` trident file).
PYTHIA_LHE_SETTINGS = (
    "Beams:frameType = 4",
    "Check:beams = off",
    "ProcessLevel:all = off",
    "PartonLevel:all = off",
    "Next:numberCount = 0",
    "Print:quiet = on",
)


def _meta(bp: BackgroundParams, res: Any, n: int, process: str) -> RunMetadata:
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


@pytest.fixture(scope="module")
def mumu(fast_params):
    bp = replace(fast_params, prescan=20_000)
    res, it = background_events("sm_mumu", bp, 100, seed=6)
    return bp, res, EventBatch.concatenate(list(it))


@pytest.fixture(scope="module")
def charm():
    pytest.importorskip("pythia8mc")
    bp = BackgroundParams(beam_energy=160.0, batch_size=100, charm_sigma_events=200)
    res, it = background_events("charm", bp, 100, seed=4)
    return bp, res, next(it)


@pytest.fixture(params=["sm_tautau", "sm_mumu", "charm"])
def sample(request, tautau, fast_params):
    """(process, params, σ result, EventBatch) of each background process."""
    if request.param == "sm_tautau":
        res, b, _ = tautau
        return "sm_tautau", fast_params, res, b
    bp, res, b = request.getfixturevalue("mumu" if request.param == "sm_mumu" else "charm")
    return request.param, bp, res, b


def test_hepmc3_every_vertex_conserves_four_momentum(sample, tmp_path):
    process, bp, res, b = sample
    path = tmp_path / f"{process}.hepmc"
    with HepMC3Writer(path, _meta(bp, res, len(b), process)) as w:
        w.write(b)
    n_ev = 0
    with pyhepmc.open(path) as f:
        for ev in f:
            n_ev += 1
            assert len(ev.particles) == b.n_particles[n_ev - 1]
            for v in ev.vertices:
                pin = np.sum([list(p.momentum) for p in v.particles_in], axis=0)
                pout = np.sum([list(p.momentum) for p in v.particles_out], axis=0)
                # Pythia's records (charm) are conserved to its own rounding, ~1e-10 relative
                assert np.allclose(pin, pout, rtol=0, atol=1e-9 * pin[3]), (n_ev, pin, pout)
            beams = [p for p in ev.particles if p.status == STATUS_BEAM]
            assert [p.pid for p in beams] == list(b.pid[n_ev - 1, :2])
            assert beams[0].momentum.e == pytest.approx(bp.beam_energy, rel=1e-10)
    assert n_ev == len(b)
    assert (
        pyhepmc.open(path).read().run_info.tools[0].description == (PROCESS_DESCRIPTIONS[process])
    )
    back = read_hepmc3(path, max_particles=b.n_slots)
    assert np.array_equal(back.pid, b.pid) and np.array_equal(back.status, b.status)
    assert np.allclose(back.p, b.p, rtol=1e-14, atol=0)
    assert np.allclose(back.vertex, b.vertex, rtol=1e-14, atol=1e-300)


def test_lhe_records_are_valid(sample, tmp_path):
    """HEPEUP read back by pylhe: beams ISTUP −1 (μ, then the nucleus or the struck nucleon),
    decayed particles 2 with their daughters, final 1; MOTHUP 1-based and earlier in the
    event; Σ incoming = Σ final and every decay conserves four-momentum; SCALUP the event's
    hard scale (the pair mass of a trident); XWGTUP 1."""
    process, bp, res, b = sample
    path = tmp_path / f"{process}.lhe"
    meta = _meta(bp, res, len(b), process)
    with LHEWriter(path, meta) as w:
        w.write(b)
    lhe = pylhe.LHEFile.fromfile(str(path))
    assert lhe.init.initInfo.beamA == 13 and lhe.init.initInfo.beamB == meta.target_pid
    assert lhe.init.procInfo[0].xSection == pytest.approx(res.sigma_pb, rel=1e-15)
    assert PROCESS_DESCRIPTIONS[process] in path.read_text()[:20_000]
    events = list(lhe.events)
    assert len(events) == len(b)
    pb = get_target("Pb")
    for i, ev in enumerate(events):
        parts = ev.particles
        assert len(parts) == ev.eventinfo.nparticles == b.n_particles[i]
        assert ev.eventinfo.weight == 1.0
        assert ev.eventinfo.scale == pytest.approx(float(b.info["scale"][i]), rel=1e-15)
        ids = [int(p.id) for p in parts]
        status = [int(p.status) for p in parts]
        assert status[:2] == [-1, -1] and ids[0] == 13
        if process == "charm":
            assert ids[1] in (PID_P, PID_N)
            assert parts[1].m == pytest.approx(0.938, abs=0.002)
        else:
            assert ids[1] == ids[3] == pb.pdgid and parts[1].m == pytest.approx(pb.nucleus_mass)
            lo = 2.0 * (M_TAU if process == "sm_tautau" else M_MU)
            assert ev.eventinfo.scale >= lo * (1 - 1e-12)
        assert set(status[2:]) <= {1, 2}
        p4 = np.array([[p.px, p.py, p.pz, p.e] for p in parts])
        mothers = np.array([[int(p.mother1), int(p.mother2)] for p in parts])
        assert np.all(mothers[:2] == 0)
        children: dict[int, list[int]] = {}
        for k in range(2, len(parts)):
            m1, m2 = mothers[k]
            assert 1 <= m1 <= m2 <= k, (i, k, m1, m2)  # 1-based, listed before the child
            if (m1, m2) != (1, 2):
                assert m1 == m2 and status[m1 - 1] == 2
                children.setdefault(m1 - 1, []).append(k)
            else:
                assert k < 2 + (b.daughter[i, 0, 1] - 1)  # a primary: (beam, target)
        decayed = {k for k in range(len(parts)) if status[k] == 2}
        assert set(children) == decayed  # status 2 ⇔ has daughters
        scale = p4[0, 3]
        for k, kids in children.items():
            assert np.allclose(p4[kids].sum(axis=0), p4[k], rtol=0, atol=1e-9 * scale)
        final = np.array(status) == 1
        assert np.allclose(p4[final].sum(axis=0), p4[:2].sum(axis=0), rtol=0, atol=1e-9 * scale)


def _pythia_read(path: Any) -> Any:
    p8 = pytest.importorskip("pythia8mc")
    pythia = p8.Pythia("", False)
    for setting in (*PYTHIA_LHE_SETTINGS, f"Beams:LHEF = {path}"):
        assert pythia.readString(setting), setting
    assert pythia.init()
    return pythia


def _final(ev: Any) -> list[int]:
    return [i for i in range(ev.size()) if ev[i].isFinal()]


def test_pythia_reads_trident_lhe_and_decays_taus(tautau, fast_params, tmp_path):
    res, _, undecayed = tautau
    assert np.all(undecayed.status[:, 4:6] == STATUS_FINAL)
    with LHEWriter(tmp_path / "tt.lhe", _meta(fast_params, res, N, "sm_tautau")) as w:
        w.write(undecayed)
    pythia = _pythia_read(tmp_path / "tt.lhe")
    n_events = n_tau = 0
    while pythia.next():
        ev = pythia.event
        p_in = np.sum([ev[i].p().px() for i in range(ev.size()) if ev[i].status() == -12])
        e_in = sum(ev[i].e() for i in range(ev.size()) if ev[i].status() in (-12, -21))
        e_out = sum(ev[i].e() for i in _final(ev))
        assert math.isclose(e_in, e_out, rel_tol=1e-9), (e_in, e_out)
        assert abs(p_in) < 1e-9
        for i in range(ev.size()):
            if abs(ev[i].id()) == 15:
                assert ev[i].daughter1() > 0, "a τ was left undecayed"
                n_tau += 91 <= ev[ev[i].daughter1()].status() <= 99
        n_events += 1
    assert pythia.infoPython().atEndOfFile()
    assert n_events == N and n_tau == 2 * N


def test_pythia_reads_charm_lhe(charm, tmp_path):
    """Every charm event is read, with the same final state as the EventBatch (the record is
    complete: Pythia adds nothing and drops nothing)."""
    bp, res, b = charm
    with LHEWriter(tmp_path / "c.lhe", _meta(bp, res, len(b), "charm")) as w:
        w.write(b)
    pythia = _pythia_read(tmp_path / "c.lhe")
    n_events = 0
    while pythia.next():
        ev = pythia.event
        fin = _final(ev)
        ours = (b.status[n_events] == STATUS_FINAL) & (
            np.arange(b.n_slots) < b.n_particles[n_events]
        )
        assert sorted(ev[i].id() for i in fin) == sorted(b.pid[n_events][ours].tolist())
        e_out = sum(ev[i].e() for i in fin)
        assert math.isclose(e_out, float(b.p[n_events, :2, 3].sum()), rel_tol=1e-9)
        n_events += 1
    assert pythia.infoPython().atEndOfFile()
    assert n_events == len(b)


def test_histograms_and_fast_detector_take_background_batches(sample, tmp_path):
    """The ROOT writer and the fast detector consume every background layout (24 slots for the
    tridents, 160 for charm): no ALP quantities (NaN, not filled), t from the trident's
    recoil, undefined for charm; E_tau is the scattered muon."""
    from alpgen.detectors.fastsim import analyse

    process, bp, res, b = sample
    q = event_quantities(b)
    assert np.all(np.isnan(q["E_a"])) and np.all(np.isnan(q["theta_a"]))
    assert np.array_equal(q["E_tau"], b.p[:, 2, 3])
    if process == "charm":
        assert b.n_slots == 160 and np.all(np.isnan(q["t"]))
    else:
        assert b.n_slots == 24 and np.array_equal(q["t"], -b.info["t"])
    with HistogramWriter(tmp_path / "h.root", _meta(bp, res, len(b), process)) as w:
        w.fill(b)
        assert w.n_entries == len(b)
        h = w.histograms["all"]
    assert h["E_a"].sum().value == 0.0
    assert h["E_tau"].sum(flow=True).value == pytest.approx(len(b))
    obs = analyse(b)
    assert obs.n_tracks.shape == (len(b),) and np.all(obs.n_tracks >= 1)
    assert not np.any(obs.alp_visible)
    if process == "sm_mumu":  # scattered μ⁻, μ⁻, μ⁺
        assert np.all(obs.n_tracks == 3)
    if process == "sm_tautau":
        assert np.all(b.status[:, 4:6] == STATUS_DECAYED)
