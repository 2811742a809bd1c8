"""HepMC3 ASCII output (pyhepmc) and a reader back into an :class:`EventBatch`.

Conventions: units GeV / mm; status 4 for both beams (the nucleus too), 2 for decayed
particles, 1 for final ones (the record's own codes); every particle's production vertex at
its recorded position (x, y, z, ct) in mm, so displaced ALP and τ decays sit where they
happened; one weight named ``"nominal"``; a ``GenCrossSection`` in pb on every event; the
``GenRunInfo`` carries the tool (alpgen and its version), the card text (attribute ``card``),
the seed and the run metadata as JSON. Per event the lab helicities of the used slots are stored
as the integer-vector attribute ``helicity`` (0 = unknown) and each scalar of ``EventBatch.info``
as an attribute of the same name, so that :func:`read_hepmc3` can rebuild the batch.

Events are built with ``GenEvent.from_hepevt`` (0-based ranges: ``fortran=False``), which is
faster than the object API and writes identical files; it clears the event, so weights,
attributes and the cross section are set afterwards.

The pyhepmc writer streams into an in-memory buffer which we copy into the atomic output file
after each batch: a C++ ``WriterAscii`` writing straight into a Python file object swallows
the Python exception of a failing ``write`` (e.g. ENOSPC) and reports no failure, so errors
would be lost. Copying in Python lets them surface as :class:`~alpgen.io.atomic.OutputError`.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyhepmc

from ..events import MAX_PARTICLES, STATUS_BEAM, EventBatch
from .atomic import AtomicWriter
from .metadata import RunMetadata, process_description

__all__ = [
    "HEPMC3_FOOTER",
    "HepMC3Writer",
    "hepmc3_cross_section_line",
    "hepmc3_header",
    "read_hepmc3",
]

#: The last bytes of every HepMC3 ASCII file (the end line and an empty line).
HEPMC3_FOOTER = b"HepMC::Asciiv3-END_EVENT_LISTING\n\n"


def _run_info(meta: RunMetadata) -> pyhepmc.GenRunInfo:
    ri = pyhepmc.GenRunInfo()
    ri.tools = [
        pyhepmc.GenRunInfo.ToolInfo(
            meta.generator_name,
            meta.generator_version,
            process_description(meta, signal="mu A -> tau A a (LFV ALP)"),
        )
    ]
    ri.weight_names = ["nominal"]
    ri.attributes["card"] = meta.card_text
    ri.attributes["seed"] = int(meta.seed)
    ri.attributes["alpgen_metadata"] = meta.to_json()
    return ri


def _cross_section(meta: RunMetadata) -> pyhepmc.GenCrossSection:
    xs = pyhepmc.GenCrossSection()
    n = int(meta.n_events)
    xs.set_cross_section(float(meta.sigma_pb), float(meta.sigma_err_pb), n, n)
    return xs


def _ascii(meta: RunMetadata, event: pyhepmc.GenEvent | None = None) -> bytes:
    """What pyhepmc's ``WriterAscii`` writes for this run's run info and one or no event."""
    buffer = io.BytesIO()
    ios = pyhepmc._core.pyiostream(buffer)
    writer = pyhepmc.io.WriterAscii(ios, _run_info(meta))
    if event is not None:
        writer.write_event(event)
    writer.close()
    ios.flush()
    return buffer.getvalue()


def hepmc3_header(metadata: RunMetadata) -> bytes:
    """Everything a HepMC3 file of this run holds before its first event: the version and
    ``START_EVENT_LISTING`` lines and the run info (tool, weight names, card, seed, metadata),
    as :class:`HepMC3Writer` writes them. A file is ``hepmc3_header(meta)``, the events (each
    from its ``E`` line), then :data:`HEPMC3_FOOTER`.
    """
    text = _ascii(metadata)
    if not text.endswith(HEPMC3_FOOTER):  # pragma: no cover - guards a pyhepmc format change
        raise RuntimeError("unexpected pyhepmc output: no END_EVENT_LISTING line")
    return text[: -len(HEPMC3_FOOTER)]


def hepmc3_cross_section_line(metadata: RunMetadata) -> bytes:
    """The ``A 0 GenCrossSection ...`` line (with its newline) that :class:`HepMC3Writer`
    writes in every event of this run: σ ± δσ in pb and ``n_events`` accepted and attempted."""
    ev = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
    ev.cross_section = _cross_section(metadata)
    for line in _ascii(metadata, ev).splitlines(keepends=True):
        if line.startswith(b"A 0 GenCrossSection "):
            return line
    raise RuntimeError("pyhepmc wrote no GenCrossSection line")  # pragma: no cover


class HepMC3Writer(AtomicWriter):
    """Streamed HepMC3 ASCII writer: ``with HepMC3Writer(path, meta) as w: w.write(batch)``.

    ``gzip`` defaults to whether ``path`` ends in ``.gz``; gzip output is byte-reproducible,
    with the header, the events and the footer in three gzip members (one stream to every
    reader; shard assembly copies the events' member).
    ``precision`` is the number of significant digits the writer uses (HepMC3 default 16).
    Events are numbered from ``first_event`` on (0-based); a shard of a larger run passes the
    index of its first event in the run, so that its numbers are the run's.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        metadata: RunMetadata,
        *,
        gzip: bool | None = None,
        precision: int = 16,
        first_event: int = 0,
    ):
        if gzip is None:
            gzip = str(path).endswith(".gz")
        self.metadata = metadata
        self.n_written = 0
        self.first_event = int(first_event)
        self._run_info = _run_info(metadata)
        self._xs = _cross_section(metadata)
        self._event = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
        self._buffer = io.BytesIO()
        self._ios = pyhepmc._core.pyiostream(self._buffer)
        self._writer = pyhepmc.io.WriterAscii(self._ios, self._run_info)
        self._writer.precision = precision
        # WriterAscii writes the header in pieces (its run info with the first event or at
        # close); _drain puts it, once complete, in a gzip member of its own
        self._header: bytes | None = hepmc3_header(metadata)
        self._stream = self._open(path, binary=True, gzip=gzip)

    def _drain(self) -> None:
        self._ios.flush()
        with self._buffer.getbuffer() as data:  # no copy of the batch's text
            start = 0
            if len(data) and self._header is not None:
                if len(data) < len(self._header):
                    return  # the header is not complete yet: keep it in the buffer
                if data[: len(self._header)] == self._header:  # else: no member boundary
                    self._stream.write(self._header)
                    self._atomic.new_member()
                    start = len(self._header)
                self._header = None
            if len(data) > start:
                with data[start:] as events:
                    self._stream.write(events)
        self._buffer.seek(0)
        self._buffer.truncate()

    def write(self, batch: EventBatch) -> None:
        """Append the events of ``batch``.

        The batch is prepared once: contiguous per-column arrays whose per-event rows pyhepmc
        takes without a copy, and Python lists of the per-event scalars; the loop only slices
        and calls pyhepmc (``from_hepevt`` with positional arguments, weights, cross section,
        attributes, ``write_event``). The run info survives ``from_hepevt`` and is set once.
        """
        with self._guard():
            ev = self._event
            ev.run_info = self._run_info
            px, py, pz, en = np.ascontiguousarray(np.moveaxis(batch.p, -1, 0))
            vx, vy, vz, vt = np.ascontiguousarray(np.moveaxis(batch.vertex, -1, 0))
            m = np.ascontiguousarray(batch.m, dtype=np.float64)
            pid = np.ascontiguousarray(batch.pid, dtype=np.int32)
            status = np.ascontiguousarray(batch.status, dtype=np.int32)
            mother = np.ascontiguousarray(batch.mother, dtype=np.int32)
            helicity = np.rint(batch.spin).astype(np.int64).tolist()
            weights = batch.weight.tolist()
            info = [
                (k, v.tolist() if np.issubdtype(v.dtype, np.integer) else v.astype(float).tolist())
                for k, v in batch.info.items()
            ]
            xs = self._xs
            from_hepevt = ev.from_hepevt
            write_event = self._writer.write_event
            set_attr = ev.attributes.__setitem__  # a view of the event's attributes
            first = self.first_event + self.n_written
            for i, n in enumerate(batch.n_particles.tolist()):
                from_hepevt(
                    first + i,
                    px[i, :n],
                    py[i, :n],
                    pz[i, :n],
                    en[i, :n],
                    m[i, :n],
                    pid[i, :n],
                    status[i, :n],
                    mother[i, :n],
                    None,
                    vx[i, :n],
                    vy[i, :n],
                    vz[i, :n],
                    vt[i, :n],
                    False,
                )
                ev.weights = [weights[i]]
                ev.cross_section = xs
                set_attr("helicity", helicity[i][:n])
                for k, vals in info:
                    set_attr(k, vals[i])
                write_event(ev)
            if self._writer.failed():
                raise OSError("pyhepmc WriterAscii reported a failure")
            self._drain()
        self.n_written += len(batch)

    def _finish(self) -> None:
        self._drain()
        self._atomic.new_member()  # the footer in a gzip member of its own
        self._writer.close()
        self._drain()


def _attr(ev: pyhepmc.GenEvent, name: str, pytype: Any) -> Any:
    try:
        a = ev.attributes[name]
    except KeyError:
        return None
    if isinstance(a, pyhepmc.io.UnparsedAttribute):
        return a.astype(pytype)
    return a


def read_hepmc3(path: str | os.PathLike[str], *, max_particles: int | None = None) -> EventBatch:
    """Read a HepMC3 file (plain or compressed) into an :class:`EventBatch`.

    Works for any HepMC3 file; for files from :class:`HepMC3Writer` the batch is the one that
    was written (up to the 16 significant digits of the file). Conventions of the rebuilt
    record: particles in file order; mother / daughter ranges from the production / end vertex
    (first and last index, 0-based; exact for HEPEVT-like records whose parents are
    contiguous); each particle's vertex is its production vertex, or for incoming particles
    without one their end vertex; helicities from the ``helicity`` attribute where present
    (else 0); ``weight`` the first event weight; ``beam_energy`` the energy of the first
    status-4 particle with |pid| < 100 (the lepton), else of the first particle; attributes
    named like the ``info`` keys written by :class:`HepMC3Writer` return in ``info``.
    ``max_particles`` defaults to the largest event (at least ``MAX_PARTICLES``).
    """
    events: list[dict[str, Any]] = []
    info_keys: list[str] | None = None
    with pyhepmc.open(Path(path)) as f:
        for ev in f:
            ev.set_units(pyhepmc.Units.GEV, pyhepmc.Units.MM)
            parts = ev.particles
            index = {p.id: j for j, p in enumerate(parts)}
            n = len(parts)
            rec: dict[str, Any] = {
                "pid": np.array([p.pid for p in parts], np.int32),
                "status": np.array([p.status for p in parts], np.int32),
                "p": np.array([list(p.momentum) for p in parts], float).reshape(n, 4),
                "m": np.array([p.generated_mass for p in parts], float),
                "mother": np.full((n, 2), -1, np.int32),
                "daughter": np.full((n, 2), -1, np.int32),
                "vertex": np.zeros((n, 4)),
            }
            for j, p in enumerate(parts):
                pv, ev_end = p.production_vertex, p.end_vertex
                if pv is not None and pv.id < 0:
                    mothers = [index[q.id] for q in pv.particles_in]
                    if mothers:
                        rec["mother"][j] = (min(mothers), max(mothers))
                    rec["vertex"][j] = list(pv.position)
                elif ev_end is not None:
                    rec["vertex"][j] = list(ev_end.position)
                if ev_end is not None:
                    kids = [index[q.id] for q in ev_end.particles_out]
                    if kids:
                        rec["daughter"][j] = (min(kids), max(kids))
            hel = _attr(ev, "helicity", list[int])
            rec["spin"] = (
                np.asarray(hel, float) if hel is not None and len(hel) == n else np.zeros(n)
            )
            weights = list(ev.weights)
            rec["weight"] = weights[0] if weights else 1.0
            beams = [
                j for j in range(n) if rec["status"][j] == STATUS_BEAM and abs(rec["pid"][j]) < 100
            ]
            rec["beam_energy"] = rec["p"][beams[0] if beams else 0, 3] if n else 0.0
            if info_keys is None:
                info_keys = sorted(
                    key for key in ev.attributes if key not in ("helicity", "GenCrossSection")
                )
            rec["info"] = {}
            for key in info_keys:
                a = _attr(ev, key, str)
                if isinstance(a, str):
                    text = a
                    try:
                        rec["info"][key] = int(text)
                    except ValueError:
                        try:
                            rec["info"][key] = float(text)
                        except ValueError:
                            continue
                elif isinstance(a, int | float):
                    rec["info"][key] = a
            events.append(rec)

    k: int = max([len(r["pid"]) for r in events], default=0)
    k = max(k, MAX_PARTICLES) if max_particles is None else max_particles
    b = EventBatch.empty(len(events), k)
    for i, r in enumerate(events):
        n = len(r["pid"])
        if n > k:
            raise ValueError(f"event {i} has {n} particles, more than max_particles={k}")
        for name in ("pid", "status", "p", "m", "mother", "daughter", "vertex", "spin"):
            getattr(b, name)[i, :n] = r[name]
        b.weight[i] = r["weight"]
        b.beam_energy[i] = r["beam_energy"]
        b.n_particles[i] = n
    keys = set.intersection(*(set(r["info"]) for r in events)) if events else set()
    for key in sorted(keys):
        vals = [r["info"][key] for r in events]
        b.info[key] = np.asarray(vals, np.int64 if all(isinstance(v, int) for v in vals) else float)
    return b
