from __future__ import annotations

import errno
import gzip
import io

import numpy as np
import pylhe
import pytest

from alpgen.events import EventBatch
from alpgen.io.atomic import OutputError
from alpgen.io.lhe import (
    LHE_FORMAT,
    LHEWriter,
    _header,
    _init,
    batch_to_lhe_events,
    format_lhe_events,
    proper_decay_length,
)


def _write(path, batches, meta, **kw) -> bytes:
    with LHEWriter(path, meta, **kw) as w:
        for b in batches:
            w.write(b)
    return path.read_bytes()


@pytest.fixture(scope="module")
def lhe_file(tmp_path_factory, batch, meta):
    path = tmp_path_factory.mktemp("lhe") / "events.lhe"
    _write(path, [batch], meta)
    return path


@pytest.fixture(scope="module")
def lhe(lhe_file):
    f = pylhe.LHEFile.fromfile(lhe_file)
    return f, list(f.events)


def test_init_block(lhe, meta):
    f, _ = lhe
    ii = f.init.initInfo
    assert (ii.beamA, ii.beamB) == (13, 1000822080)
    assert ii.energyA == meta.beam_energy
    assert ii.energyB == meta.target_mass  # nucleus at rest: beam energy = its mass
    assert (ii.PDFgroupA, ii.PDFgroupB, ii.PDFsetA, ii.PDFsetB) == (0, 0, 0, 0)
    assert ii.weightingStrategy == 3
    assert ii.numProcesses == 1
    (proc,) = f.init.procInfo
    assert proc.xSection == meta.sigma_pb  # 17 digits: exact
    assert proc.error == meta.sigma_err_pb
    assert f.init.generators[0].name == "alpgen"


def test_header_has_card_seed_versions(lhe, meta):
    f, _ = lhe
    (run,) = f.header.extra_elements
    assert run.tag == "alpgen"
    assert run.attrib["seed"] == str(meta.seed)
    assert run.find("card").text == meta.card_text  # '<&>' survive the XML escaping
    assert "numpy test" in run.find("versions").text
    assert type(meta).from_json(run.find("metadata").text) == meta


def test_events_match_batch(lhe, batch):
    _, events = lhe
    assert len(events) == len(batch)
    lifetime = proper_decay_length(batch)
    for i, ev in enumerate(events):
        n = batch.n_particles[i]
        assert ev.eventinfo.nparticles == n == len(ev.particles)
        assert ev.eventinfo.weight == batch.weight[i]
        parts = ev.particles
        assert [p.id for p in parts] == batch.pid[i, :n].tolist()
        status = [p.status for p in parts]
        assert status[:2] == [-1, -1]  # incoming beams
        assert status[2:] == batch.status[i, 2:n].tolist()
        # 1-based mothers, 0 for none
        m1 = np.array([p.mother1 for p in parts])
        m2 = np.array([p.mother2 for p in parts])
        np.testing.assert_array_equal(m1 - 1, batch.mother[i, :n, 0].clip(-1))
        np.testing.assert_array_equal(m2 - 1, batch.mother[i, :n, 1].clip(-1))
        p4 = np.array([[p.px, p.py, p.pz, p.e] for p in parts])
        np.testing.assert_array_equal(p4, batch.p[i, :n])  # 17 digits: exact round trip
        np.testing.assert_array_equal([p.m for p in parts], batch.m[i, :n])
        spin = np.array([p.spin for p in parts])
        np.testing.assert_array_equal(spin, np.where(batch.spin[i, :n] == 0, 9, batch.spin[i, :n]))
        np.testing.assert_allclose([p.lifetime for p in parts], lifetime[i, :n], rtol=1e-10)


def test_alp_decay_products_below_it(lhe):
    _, events = lhe
    for ev in events:
        for j, p in enumerate(ev.particles):
            if p.mother1 > 2:  # a decay product: its mother is listed before it
                assert p.mother1 - 1 < j
                assert ev.particles[p.mother1 - 1].status == 2


def test_vtimup_is_sampled_proper_length(batch):
    # independent route: spatial flight distance times m/|p| (the writer uses m Δ(ct)/E)
    ct = proper_decay_length(batch)
    for slot in (2, 4, 6):
        dv = batch.decay_vertex(slot)
        decayed = ~np.isnan(dv[:, 0])
        flight = np.linalg.norm(dv[decayed, :3] - batch.vertex[decayed, slot, :3], axis=1)
        pabs = np.linalg.norm(batch.p[decayed, slot, :3], axis=1)
        np.testing.assert_allclose(ct[decayed, slot], flight * batch.m[decayed, slot] / pabs, 1e-9)
        assert np.all(ct[~decayed, slot] == 0)
        assert np.all(ct[decayed, slot] > 0)
    assert np.all(ct[:, [0, 1, 3, 5]] == 0)  # beams, recoil, muon


def test_momentum_conservation_from_file(lhe):
    _, events = lhe
    for ev in events:
        p = np.array([[q.px, q.py, q.pz, q.e] for q in ev.particles])
        mothers = [(q.mother1, q.mother2) for q in ev.particles]
        hard = [j for j, m in enumerate(mothers) if m == (1, 2)]
        np.testing.assert_allclose(p[hard].sum(0), p[:2].sum(0), rtol=0, atol=1e-10 * p[0, 3])
        for j, q in enumerate(ev.particles):
            if q.status == 2:
                kids = [k for k, m in enumerate(mothers) if m[0] == j + 1]
                np.testing.assert_allclose(p[kids].sum(0), p[j], rtol=0, atol=1e-10 * p[0, 3])


def test_recoil_energy_precision(lhe, batch):
    # the nucleus recoil kinetic energy |t|/2M ~ 1e-7 GeV on top of M ~ 195 GeV survives
    _, events = lhe
    kin_file = np.array([ev.particles[3].e - ev.particles[3].m for ev in events])
    kin_batch = batch.p[:, 3, 3] - batch.m[:, 3]
    np.testing.assert_allclose(kin_file, kin_batch, rtol=1e-6)
    # ... which pylhe's default 9-digit format would not resolve
    default = pylhe.LHEParticle.fromstring(
        batch_to_lhe_events(batch)[0].particles[3].tolhe(pylhe.DEFAULT_FORMAT)
    )
    assert abs((default.e - default.m) / kin_batch[0] - 1) > 1e-3


def test_fast_formatting_equals_pylhe(batch):
    reference = "".join(e.tolhe(LHE_FORMAT) + "\n" for e in batch_to_lhe_events(batch))
    assert format_lhe_events(batch) == reference


def test_fast_formatting_edge_values(batch_factory):
    # values whose text the per-distinct-value lookups must keep apart or get right: -0.0
    # next to 0.0, NaN, 3-digit exponents, negative and varied weights, events of different
    # sizes (one without particles), non-default helicities
    b = batch_factory(12, seed=3, weighted=True)
    b.p[0, 0, 0] = -0.0
    b.p[1, 0, 0] = 0.0
    b.p[2, 2, 1] = 1e-120
    b.p[3, 2, 1] = -3.5e150
    b.p[4, 5, 2] = np.nan
    b.m[5, 5] = -0.0
    b.m[6, 7] = 1e-200
    b.weight[7] = -2.5
    b.weight[8] = -0.0
    b.spin[9, 5] = 0.5
    b.n_particles[10] = 0
    b.status[10] = 0
    reference = "".join(e.tolhe(LHE_FORMAT) + "\n" for e in batch_to_lhe_events(b))
    assert format_lhe_events(b) == reference
    assert "-0.0000000000000000e+00" in reference and "-3.4999999999999998e+150" in reference
    assert format_lhe_events(b.select(slice(0, 0))) == ""


def test_format_unique_rows_packed_and_bytes_keys():
    from alpgen.io.lhe import _format_unique_rows

    spec = "%d|%d|%d"
    small = np.array([[13, -1, 0], [15, 2, 1], [13, -1, 0], [-13, 1, 5]])
    wide = np.array([[2**40, -(2**40), 0], [-(2**40), 2**40, 7], [2**40, -(2**40), 0]])
    for rows in (small, wide):  # wide: 3 x 42 bits do not pack into one int64 key
        assert _format_unique_rows(rows, spec).tolist() == [spec % tuple(r) for r in rows]


def test_file_equals_pylhe_writer(lhe_file, batch, meta):
    doc = pylhe.LesHouchesEvents(
        init=_init(meta), header=_header(meta), events=batch_to_lhe_events(batch)
    )
    assert lhe_file.read_text() == doc.write(io.StringIO(), LHE_FORMAT).getvalue()


def test_streaming_equals_single_batch(tmp_path, batch, meta):
    one = _write(tmp_path / "one.lhe", [batch], meta)
    parts = [batch.select(slice(0, 13)), batch.select(slice(13, 40))]
    assert _write(tmp_path / "two.lhe", parts, meta) == one


@pytest.mark.parametrize("suffix", [".lhe", ".lhe.gz"])
def test_reproducible(tmp_path, batch, meta, suffix, batch_factory):
    a = _write(tmp_path / f"a{suffix}", [batch], meta)
    b = _write(tmp_path / f"b{suffix}", [batch], meta)
    assert a == b
    other = batch_factory(len(batch), seed=8, weighted=True)
    c = _write(tmp_path / f"c{suffix}", [other], meta)
    assert c != a
    if suffix.endswith(".gz"):
        assert a[:2] == b"\x1f\x8b"
        f = pylhe.LHEFile.fromfile(tmp_path / f"a{suffix}")
        assert len(list(f.events)) == len(batch)


def test_gzip_content_equals_plain(tmp_path, batch, meta):
    plain = _write(tmp_path / "p.lhe", [batch], meta)
    gz = _write(tmp_path / "p.lhe.gz", [batch], meta)
    assert gzip.decompress(gz) == plain


def test_exception_mid_write_leaves_no_file(tmp_path, batch, meta):
    path = tmp_path / "events.lhe"
    with pytest.raises(RuntimeError), LHEWriter(path, meta) as w:
        w.write(batch)
        raise RuntimeError("generator crashed")
    assert list(tmp_path.iterdir()) == []


def test_enospc(tmp_path, batch, meta, full_disk):
    full_disk(20_000)
    path = tmp_path / "events.lhe"
    w = LHEWriter(path, meta)
    with pytest.raises(OutputError) as info:
        w.write(batch)
    assert info.value.errno == errno.ENOSPC
    assert "No space left on device" in str(info.value)
    assert str(path) in str(info.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="closed"):
        w.write(batch)


def test_empty_file_is_valid(tmp_path, meta):
    path = tmp_path / "empty.lhe"
    _write(path, [EventBatch.empty(0)], meta)
    f = pylhe.LHEFile.fromfile(path)
    assert list(f.events) == []
    assert f.init.procInfo[0].xSection == meta.sigma_pb
