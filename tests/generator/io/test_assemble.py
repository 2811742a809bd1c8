"""Assembling shard files into one LHE / HepMC3 file (alpgen.io.assemble).

The acceptance criterion of sharded runs: a file assembled from k shards is byte-identical to
the same events written in one go by the writer, plain and gzip, whatever k; and the
independent readers (pylhe, pyhepmc, the official HepMC3 reader) read it with the right event
count and cross section.
"""

from __future__ import annotations

import dataclasses
import errno
import gzip
import itertools
import shutil
import struct
import zlib

import numpy as np
import pyhepmc
import pylhe
import pytest

from alpgen.errors import OutputError
from alpgen.io.assemble import assemble_hepmc3, assemble_lhe, assemble_prepared
from alpgen.io.hepmc import HEPMC3_FOOTER, HepMC3Writer, hepmc3_cross_section_line
from alpgen.io.lhe import LHEWriter

WRITERS = {"lhe": (LHEWriter, assemble_lhe), "hepmc3": (HepMC3Writer, assemble_hepmc3)}
# shard boundaries in the 40-event test batch: one empty shard, uneven sizes
SPLITS = {1: [0, 40], 2: [0, 13, 40], 4: [0, 5, 5, 21, 40]}


def _write(writer, path, batch, meta, **kw):
    with writer(path, meta, **kw) as w:
        w.write(batch)
    return path


def _shards(tmp_path, fmt, batch, meta, bounds, *, gz=False, per_shard_meta=False, offset=False):
    writer = WRITERS[fmt][0]
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        part = batch.select(slice(a, b))
        m = (
            dataclasses.replace(meta, n_events=b - a, seed=meta.seed + k)
            if per_shard_meta
            else meta
        )
        kw = {"first_event": a} if offset and fmt == "hepmc3" else {}
        path = tmp_path / f"events-{k:05d}.{fmt}{'.gz' if gz else ''}"
        paths.append(_write(writer, path, part, m, **kw))
    return paths


def _split(fmt, text: bytes) -> tuple[bytes, bytes, bytes]:
    """(header, events, footer) of a plain file's bytes."""
    if fmt == "lhe":
        i = text.index(b"</init>\n") + len(b"</init>\n")
        return text[:i], text[i : -len(b"</LesHouchesEvents>")], b"</LesHouchesEvents>"
    i = text.find(b"\nE ") + 1 or len(text) - len(HEPMC3_FOOTER)
    return text[:i], text[i : -len(HEPMC3_FOOTER)], HEPMC3_FOOTER


def _members(*parts: bytes) -> bytes:
    """The gzip layout of the writers and of assembly: one member per non-empty part, each
    RFC 1952 with mtime 0, no name, OS 255 (as Python's GzipFile) and level-6 deflate."""
    out = []
    for p in parts:
        if p:
            z = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            trailer = struct.pack("<II", zlib.crc32(p), len(p) & 0xFFFFFFFF)
            out.append(b"\x1f\x8b\x08\x00\0\0\0\0\x00\xff" + z.compress(p) + z.flush() + trailer)
    return b"".join(out)


@pytest.mark.parametrize("fmt", ["lhe", "hepmc3"])
@pytest.mark.parametrize("k", sorted(SPLITS))
@pytest.mark.parametrize("shard_gz", [False, True])
@pytest.mark.parametrize("out_gz", [False, True])
def test_assembled_equals_one_go(tmp_path, batch, meta, fmt, k, shard_gz, out_gz):
    writer, assemble = WRITERS[fmt]
    suffix = f".{fmt}" + (".gz" if out_gz else "")
    one_go = _write(writer, tmp_path / f"one{suffix}", batch, meta).read_bytes()
    shards = _shards(tmp_path / "shards", fmt, batch, meta, SPLITS[k], gz=shard_gz)
    out = tmp_path / f"assembled{suffix}"
    assert assemble(shards, out, meta) == len(batch)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["shards", f"one{suffix}", out.name]
    )
    data = out.read_bytes()
    if not out_gz:
        assert data == one_go
        return
    # gzip: the one-go text, with one member for the header, each shard's events, the footer
    plain = _write(writer, tmp_path / f"plain.{fmt}", batch, meta).read_bytes()
    assert gzip.decompress(data) == gzip.decompress(one_go) == plain
    header, _, footer = _split(fmt, plain)
    pieces = []
    for a, b in itertools.pairwise(SPLITS[k]):
        part = _write(writer, tmp_path / f"part.{fmt}", batch.select(slice(a, b)), meta)
        pieces.append(_split(fmt, part.read_bytes())[1])
    if fmt == "hepmc3":  # the run's event numbers
        pieces = [_renumber(p, a) for p, a in zip(pieces, SPLITS[k], strict=False)]
    assert data == _members(header, *pieces, footer)
    if len([p for p in pieces if p]) == 1:
        assert data == one_go  # a single shard: exactly the writer's file


def _renumber(events: bytes, first: int) -> bytes:
    lines = events.split(b"\n")
    n = first
    for i, line in enumerate(lines):
        if line.startswith(b"E "):
            f = line.split(b" ")
            lines[i] = b" ".join([f[0], b"%d" % n, *f[2:]])
            n += 1
    return b"\n".join(lines)


def test_gzip_shards_are_copied_not_recompressed(tmp_path, batch, meta, monkeypatch):
    # shards written with the run's metadata and event numbers: assembling gzip into gzip
    # copies their compressed events and never decompresses them through the slow path
    import alpgen.io.assemble as asm

    for fmt in ("lhe", "hepmc3"):
        shards = _shards(tmp_path / fmt, fmt, batch, meta, SPLITS[4], gz=True, offset=True)
        plain = _shards(tmp_path / f"{fmt}-plain", fmt, batch, meta, SPLITS[4], offset=True)
        slow = tmp_path / f"slow.{fmt}.gz"
        WRITERS[fmt][1](plain, slow, meta)

        def no_slow_path(*args):
            raise AssertionError("slow path taken")

        with monkeypatch.context() as m:
            m.setattr(asm, "_sections", no_slow_path)
            fast = tmp_path / f"fast.{fmt}.gz"
            assert WRITERS[fmt][1](shards, fast, meta) == len(batch)
        assert fast.read_bytes() == slow.read_bytes()


def _with_counts(fmt, shards, out, meta, counts):
    n, f = assemble_prepared(fmt, shards, out, meta, gzip=str(out).endswith(".gz"), counts=counts)
    f.commit()
    return n


@pytest.mark.parametrize("fmt", ["lhe", "hepmc3"])
@pytest.mark.parametrize("out_gz", [False, True])
def test_known_counts_copy_plain_shards(tmp_path, batch, meta, monkeypatch, fmt, out_gz):
    # a sharded run passes its shards' event counts: plain shards with the run's header are
    # copied as byte ranges, never scanned event by event, and the bytes are the same
    import alpgen.io.assemble as asm

    suffix = f".{fmt}" + (".gz" if out_gz else "")
    bounds = SPLITS[4]
    counts = [b - a for a, b in itertools.pairwise(bounds)]
    shards = _shards(tmp_path / "s", fmt, batch, meta, bounds, offset=True)
    checked = tmp_path / f"checked{suffix}"
    assert WRITERS[fmt][1](shards, checked, meta) == len(batch)

    def no_slow_path(*args):
        raise AssertionError("slow path taken")

    with monkeypatch.context() as m:
        m.setattr(asm, "_sections", no_slow_path)
        fast = tmp_path / f"fast{suffix}"
        assert _with_counts(fmt, shards, fast, meta, counts) == len(batch)
    assert fast.read_bytes() == checked.read_bytes()
    if not out_gz:
        one_go = _write(WRITERS[fmt][0], tmp_path / "one", batch, meta)
        assert fast.read_bytes() == one_go.read_bytes()


@pytest.mark.parametrize("fmt", ["lhe", "hepmc3"])
def test_known_counts_fall_back_to_the_checked_path(tmp_path, batch, meta, fmt):
    # shards with their own metadata or numbers, or (HepMC3) counts that do not match the
    # shards' event numbers, are assembled by the checked path, to the run's file
    one_go = _write(WRITERS[fmt][0], tmp_path / "one", batch, meta).read_bytes()
    bounds = SPLITS[4]
    counts = [b - a for a, b in itertools.pairwise(bounds)]
    own = _shards(tmp_path / "own", fmt, batch, meta, bounds, per_shard_meta=True)
    assert _with_counts(fmt, own, tmp_path / f"a.{fmt}", meta, counts) == len(batch)
    assert (tmp_path / f"a.{fmt}").read_bytes() == one_go
    if fmt == "hepmc3":
        unnumbered = _shards(tmp_path / "u", fmt, batch, meta, bounds)  # first_event = 0
        assert _with_counts(fmt, unnumbered, tmp_path / "b.hepmc3", meta, counts) == len(batch)
        assert (tmp_path / "b.hepmc3").read_bytes() == one_go
        numbered = _shards(tmp_path / "n", fmt, batch, meta, bounds, offset=True)
        wrong = [counts[0], counts[1], counts[2] - 1, counts[3] + 1]
        assert _with_counts(fmt, numbered, tmp_path / "c.hepmc3", meta, wrong) == len(batch)
        assert (tmp_path / "c.hepmc3").read_bytes() == one_go
    with pytest.raises(ValueError, match="3 event counts for 4 shards"):
        _with_counts(fmt, own, tmp_path / f"d.{fmt}", meta, counts[:3])


@pytest.mark.parametrize("fmt", ["lhe", "hepmc3"])
def test_shards_with_their_own_metadata_and_numbers(tmp_path, batch, meta, fmt):
    # shards written with per-shard metadata (n_events, seed) and with or without the run's
    # event numbers still assemble to the run's file: header, init / run info and
    # GenCrossSection come from the run's metadata, events are renumbered
    writer, assemble = WRITERS[fmt]
    one_go = _write(writer, tmp_path / f"one.{fmt}", batch, meta).read_bytes()
    for offset in (False, True):
        d = tmp_path / f"offset{offset}"
        shards = _shards(d, fmt, batch, meta, SPLITS[4], per_shard_meta=True, offset=offset)
        assert shards[0].read_bytes()[:2000] != one_go[:2000]  # the shard's own header
        assert assemble(shards, d / f"out.{fmt}", meta) == len(batch)
        assert (d / f"out.{fmt}").read_bytes() == one_go
        # gzip shards that need rewriting take the slow path, with the same result
        gz = _shards(d / "gz", fmt, batch, meta, SPLITS[4], gz=True, per_shard_meta=True)
        assert assemble(gz, d / f"out.{fmt}.gz", meta) == len(batch)
        assert gzip.decompress((d / f"out.{fmt}.gz").read_bytes()) == one_go


@pytest.mark.parametrize("fmt", ["lhe", "hepmc3"])
@pytest.mark.parametrize("n", [40, 0])
def test_writer_gzip_layout(tmp_path, batch, meta, fmt, n):
    # the writers' gzip output: header, events and footer each one deflate of its text
    # (mtime 0, level 6), however the events were written in pieces
    writer = WRITERS[fmt][0]
    with writer(tmp_path / f"a.{fmt}.gz", meta) as w:
        for a, b in [(0, 3), (3, 4), (4, n)]:
            w.write(batch.select(slice(a, max(a, b)) if n else slice(0, 0)))
    data = (tmp_path / f"a.{fmt}.gz").read_bytes()
    text = _write(writer, tmp_path / f"p.{fmt}", batch.select(slice(0, n)), meta).read_bytes()
    assert data == _members(*_split(fmt, text))


def test_writer_first_event(tmp_path, batch, meta):
    path = _write(
        HepMC3Writer, tmp_path / "e.hepmc3", batch.select(slice(0, 5)), meta, first_event=100
    )
    with pyhepmc.open(path) as f:
        assert [ev.event_number for ev in f] == [100, 101, 102, 103, 104]


def test_gzip_is_single_reproducible_stream(tmp_path, batch, meta):
    # recompressed into one gzip member with mtime 0, whatever the shards' compression
    shards = _shards(tmp_path / "s", "hepmc3", batch, meta, SPLITS[2], gz=True)
    a = tmp_path / "a.hepmc3.gz"
    assemble_hepmc3(shards, a, meta)
    data = a.read_bytes()
    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\0\0\0\0"
    assert gzip.decompress(data).endswith(HEPMC3_FOOTER)
    b = tmp_path / "b.hepmc3.gz"
    assemble_hepmc3([s for s in shards], b, meta, gzip=True)
    assert b.read_bytes() == data


@pytest.fixture
def assembled(tmp_path, batch, meta):
    """A run of 40 events in 3 shards (written with per-shard numbers), assembled."""
    out = {}
    for fmt in ("lhe", "hepmc3"):
        shards = _shards(tmp_path / fmt, fmt, batch, meta, [0, 11, 29, 40])
        out[fmt] = tmp_path / f"run.{fmt}"
        WRITERS[fmt][1](shards, out[fmt], meta)
    return out


def test_pylhe_reads_assembled(assembled, batch, meta):
    f = pylhe.LHEFile.fromfile(assembled["lhe"])
    assert f.init.procInfo[0].xSection == meta.sigma_pb
    assert f.init.procInfo[0].error == meta.sigma_err_pb
    events = list(f.events)
    assert len(events) == len(batch)
    assert [ev.eventinfo.nparticles for ev in events] == batch.n_particles.tolist()
    np.testing.assert_array_equal([ev.eventinfo.weight for ev in events], batch.weight)
    assert pylhe.LHEFile.count_events(assembled["lhe"]) == len(batch)


def test_pyhepmc_reads_assembled(assembled, batch, meta):
    with pyhepmc.open(assembled["hepmc3"]) as f:
        events = list(f)
    assert len(events) == len(batch)
    assert [ev.event_number for ev in events] == list(range(len(batch)))
    for ev in events:
        xs = ev.cross_section
        assert xs.xsec() == pytest.approx(meta.sigma_pb, rel=1e-8)
        assert xs.xsec_err() == pytest.approx(meta.sigma_err_pb, rel=1e-8)
        assert (xs.accepted_events, xs.attempted_events) == (meta.n_events, meta.n_events)
    np.testing.assert_array_equal([list(ev.weights) for ev in events], batch.weight[:, None])
    assert events[0].run_info.attributes["seed"].astype(int) == meta.seed


def test_official_hepmc3_reads_assembled(assembled, batch, meta, official_hepmc3, tmp_path):
    HepMC3 = official_hepmc3
    # and a gzip-compressed assembly, decompressed (the official ASCII reader reads plain text)
    shards = _shards(tmp_path / "gz", "hepmc3", batch, meta, [0, 7, 40], gz=True)
    assemble_hepmc3(shards, tmp_path / "run.hepmc3.gz", meta)
    plain = tmp_path / "from_gz.hepmc3"
    with gzip.open(tmp_path / "run.hepmc3.gz") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    for path in (assembled["hepmc3"], plain):
        reader = HepMC3.ReaderAscii(str(path))
        numbers, xsecs, n_particles = [], [], []
        while True:
            ev = HepMC3.GenEvent()
            reader.read_event(ev)
            if reader.failed():
                break
            numbers.append(ev.event_number())
            xsecs.append((ev.cross_section().xsec(), ev.cross_section().xsec_err()))
            n_particles.append(ev.particles_size())
        reader.close()
        assert numbers == list(range(len(batch)))
        assert n_particles == batch.n_particles.tolist()
        np.testing.assert_allclose(xsecs, [(meta.sigma_pb, meta.sigma_err_pb)] * len(batch), 1e-8)


def test_cross_section_line_is_the_runs(meta):
    line = hepmc3_cross_section_line(meta)
    assert line.startswith(b"A 0 GenCrossSection 1.23456789e+01 ")
    assert line.endswith(b" %d %d\n" % (meta.n_events, meta.n_events))


def test_no_shards_gives_an_empty_valid_file(tmp_path, meta):
    assert assemble_lhe([], tmp_path / "e.lhe", meta) == 0
    assert list(pylhe.LHEFile.fromfile(tmp_path / "e.lhe").events) == []
    assert assemble_hepmc3([], tmp_path / "e.hepmc3", meta) == 0
    with pyhepmc.open(tmp_path / "e.hepmc3") as f:
        assert list(f) == []


@pytest.mark.parametrize("fmt", ["lhe", "hepmc3"])
@pytest.mark.parametrize("damage", ["truncate", "truncate_gz", "wrong_format", "missing"])
def test_bad_shard_is_refused(tmp_path, batch, meta, fmt, damage):
    other = "hepmc3" if fmt == "lhe" else "lhe"
    shards = _shards(tmp_path / "s", fmt, batch, meta, SPLITS[2], gz=damage == "truncate_gz")
    bad = shards[1]
    if damage.startswith("truncate"):
        data = bad.read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "wrong_format":
        _write(WRITERS[other][0], bad, batch, meta)
    else:
        bad.unlink()
    out = tmp_path / "out" / f"run.{fmt}"
    out.parent.mkdir()
    with pytest.raises(OutputError) as info:
        WRITERS[fmt][1](shards, out, meta)
    assert str(bad) in str(info.value)
    assert str(out) in str(info.value)
    if damage == "missing":
        assert info.value.errno == errno.ENOENT
    assert list(out.parent.iterdir()) == []  # nothing under the final name, no temporary file
