from __future__ import annotations

import errno
import gzip

import numpy as np
import pyhepmc
import pytest

from alpgen.events import EventBatch
from alpgen.io.atomic import OutputError
from alpgen.io.hepmc import HepMC3Writer, read_hepmc3


def _write(path, batches, meta, **kw) -> bytes:
    with HepMC3Writer(path, meta, **kw) as w:
        for b in batches:
            w.write(b)
    return path.read_bytes()


@pytest.fixture(scope="module")
def hepmc_file(tmp_path_factory, batch, meta):
    path = tmp_path_factory.mktemp("hepmc") / "events.hepmc"
    _write(path, [batch], meta)
    return path


@pytest.fixture(scope="module")
def events(hepmc_file):
    with pyhepmc.open(hepmc_file) as f:
        return list(f)


def test_run_info(events, meta):
    ri = events[0].run_info
    assert [(t.name, t.version) for t in ri.tools] == [("alpgen", "test")]
    assert list(ri.weight_names) == ["nominal"]
    assert ri.attributes["card"].astype(str) == meta.card_text
    assert ri.attributes["seed"].astype(int) == meta.seed


def test_events_match_batch(events, batch, meta):
    assert len(events) == len(batch)
    for i, ev in enumerate(events):
        n = batch.n_particles[i]
        assert ev.event_number == i
        assert ev.momentum_unit == pyhepmc.Units.GEV
        assert ev.length_unit == pyhepmc.Units.MM
        assert list(ev.weights) == [batch.weight[i]]
        xs = ev.cross_section
        assert xs.xsec() == pytest.approx(meta.sigma_pb, rel=1e-7)
        assert xs.xsec_err() == pytest.approx(meta.sigma_err_pb, rel=1e-7)
        parts = ev.particles
        assert len(parts) == n
        assert [p.pid for p in parts] == batch.pid[i, :n].tolist()
        assert [p.status for p in parts] == batch.status[i, :n].tolist()
        assert [p.status for p in ev.beams] == [4, 4]  # lepton and nucleus
        p4 = np.array([list(p.momentum) for p in parts])
        np.testing.assert_array_equal(p4, batch.p[i, :n])
        np.testing.assert_array_equal([p.generated_mass for p in parts], batch.m[i, :n])
        for j, p in enumerate(parts):
            mothers = sorted(q.id - 1 for q in p.parents)
            lo, hi = batch.mother[i, j]
            assert mothers == (list(range(lo, hi + 1)) if lo >= 0 else [])
            if lo >= 0:  # production vertex at its recorded (displaced) position
                np.testing.assert_array_equal(
                    list(p.production_vertex.position), batch.vertex[i, j]
                )


def test_vertex_momentum_conservation(events, batch):
    for i, ev in enumerate(events):
        for v in ev.vertices:
            pin = np.sum([list(p.momentum) for p in v.particles_in], axis=0)
            pout = np.sum([list(p.momentum) for p in v.particles_out], axis=0)
            assert np.max(np.abs(pin - pout)) / batch.beam_energy[i] < 1e-10


def test_on_shell(events):
    for ev in events:
        for p in ev.particles:
            e, pv = p.momentum.e, np.array([p.momentum.px, p.momentum.py, p.momentum.pz])
            m2 = e**2 - pv @ pv
            assert abs(m2 - p.generated_mass**2) < 1e-13 * e**2


def test_displaced_vertices(events, batch):
    # tau decay vertex is cτ βγ away from the production vertex along its momentum
    for ev in events:
        tau = ev.particles[2]
        d = np.array(list(tau.end_vertex.position)) - np.array(list(tau.production_vertex.position))
        p = tau.momentum
        np.testing.assert_allclose(d[:3] / d[3], np.array([p.px, p.py, p.pz]) / p.e, rtol=1e-9)


def test_round_trip(hepmc_file, batch):
    back = read_hepmc3(hepmc_file)
    for name in ("pid", "status", "mother", "daughter", "n_particles"):
        np.testing.assert_array_equal(getattr(back, name), getattr(batch, name), err_msg=name)
    for name in ("p", "m", "vertex", "spin", "weight", "beam_energy"):
        np.testing.assert_array_equal(getattr(back, name), getattr(batch, name), err_msg=name)
    np.testing.assert_allclose(back.info["t"], batch.info["t"], rtol=1e-14)
    np.testing.assert_array_equal(back.info["component"], batch.info["component"])


def test_read_foreign_file(tmp_path):
    # a HepMC3 file from the object API without alpgen attributes: helicities unknown (0)
    ev = pyhepmc.GenEvent(pyhepmc.Units.MEV, pyhepmc.Units.CM)
    a = pyhepmc.GenParticle((0, 0, 1000.0, 1000.0), 11, 4)
    b = pyhepmc.GenParticle((0, 0, 0, 938.0), 2212, 4)
    c = pyhepmc.GenParticle((0, 0, 1000.0, 1938.0), 99, 1)
    v = pyhepmc.GenVertex((0, 0, 1.0, 0))
    v.add_particle_in(a)
    v.add_particle_in(b)
    v.add_particle_out(c)
    ev.add_vertex(v)
    with pyhepmc.open(tmp_path / "x.hepmc", "w") as f:
        f.write(ev)
    back = read_hepmc3(tmp_path / "x.hepmc")
    assert back.n_particles.tolist() == [3]
    np.testing.assert_allclose(back.p[0, 2], [0, 0, 1.0, 1.938])  # MeV -> GeV
    np.testing.assert_allclose(back.vertex[0, 2], [0, 0, 10.0, 0])  # cm -> mm
    assert back.mother[0, 2].tolist() == [0, 1]
    assert back.daughter[0, 0].tolist() == [2, 2]
    assert back.beam_energy[0] == pytest.approx(1.0)
    assert np.all(back.spin == 0)


@pytest.mark.parametrize("suffix", [".hepmc", ".hepmc.gz"])
def test_reproducible(tmp_path, batch, meta, suffix, batch_factory):
    a = _write(tmp_path / f"a{suffix}", [batch], meta)
    b = _write(
        tmp_path / f"b{suffix}", [batch.select(slice(0, 9)), batch.select(slice(9, 40))], meta
    )
    assert a == b
    other = batch_factory(len(batch), seed=8, weighted=True)
    assert _write(tmp_path / f"c{suffix}", [other], meta) != a
    if suffix.endswith(".gz"):
        assert a[4:8] == b"\0\0\0\0"
        assert gzip.decompress(a) == _write(tmp_path / "plain.hepmc", [batch], meta)
        assert len(read_hepmc3(tmp_path / f"a{suffix}")) == len(batch)


def test_exception_mid_write_leaves_no_file(tmp_path, batch, meta):
    with pytest.raises(KeyboardInterrupt), HepMC3Writer(tmp_path / "e.hepmc", meta) as w:
        w.write(batch)
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_enospc(tmp_path, batch, meta, full_disk):
    full_disk(10_000)
    path = tmp_path / "events.hepmc"
    w = HepMC3Writer(path, meta)
    with pytest.raises(OutputError) as info:
        w.write(batch)
        w.close()
    assert info.value.errno == errno.ENOSPC
    assert f"cannot write {path}: No space left on device" == str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_empty(tmp_path, meta):
    _write(tmp_path / "e.hepmc", [EventBatch.empty(0)], meta)
    assert len(read_hepmc3(tmp_path / "e.hepmc")) == 0
