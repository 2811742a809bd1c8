"""Les Houches Event (LHE v3) output, streamed batch by batch through pylhe.

Conventions (fixed-target, the nucleus at rest):

* beam 1 is the lepton (IDBMUP1 = its PDG id, EBMUP1 = nominal beam energy), beam 2 the nucleus
  (PDG 10LZZZAAAI, EBMUP2 = its mass); no PDFs (PDFGUP = PDFSUP = 0); IDWTUP = 3 and
  XWGTUP = the event weight (1 for unweighted events, or the forced-branching-ratio factor);
  XSECUP / XERRUP in pb, XMAXUP = 1, one process (LPRUP = 1).
* An event lists its used slots in record order; the two incoming beams have ISTUP = −1, decayed
  particles (the ALP, decayed τ) ISTUP = 2 with their decay products below them, final ones +1.
* MOTHUP1/2 are the 1-based first and last mother (0 for none).
* VTIMUP is the proper decay length cτ (mm) actually sampled for the particle, recovered from
  its decay vertex, cτ = m Δ(ct) / E, and 0 for particles that do not decay in the record.
* SPINUP is the lab helicity ±1, 9 where the record has none (0).
* SCALUP is the event's hard scale in GeV: ``batch.info["scale"]`` when the batch has one (the
  Standard-Model backgrounds: the lepton-pair mass of a trident, Pythia's factorisation scale
  of γg → c c̄), else the mass in the ALP slot (the signal: the ALP mass). AQEDUP = α(0),
  AQCDUP = 0.
* The generator's process description (``<generator>`` in ``<init>``) names the process of
  ``card["process"]["name"]`` (the signal when absent).
* The card text, the seed, the versions and the full run metadata (JSON) are in ``<header>``.

pylhe writes a whole ``LesHouchesEvents`` object from an event iterable; our writer is pushed
batches instead, so the header and ``<init>`` are produced by pylhe's own objects and each event
by ``LHEEvent.tolhe`` with the same format: the bytes are exactly what
``LesHouchesEvents(...).write()`` would produce for the same events. The particle format is
widened to 17 significant digits (``.16e``): pylhe's default 9 digits cannot resolve the recoil
energy M + |t|/2M of a nucleus with M ≈ 195 GeV and |t| ~ 1e-4 GeV².
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pylhe

from ..constants import ALPHA_EM
from ..events import SLOT_ALP, STATUS_BEAM, EventBatch
from .atomic import AtomicWriter
from .metadata import RunMetadata, process_description

__all__ = [
    "LHE_FOOTER",
    "LHE_FORMAT",
    "LHEWriter",
    "batch_to_lhe_events",
    "event_scale",
    "format_lhe_events",
    "lhe_header",
    "proper_decay_length",
]

#: pylhe's XML format with 17-significant-digit momenta, masses, energies and weights.
LHE_FORMAT = pylhe.LHEXMLFormat(
    weights=pylhe.LHEWeightFormat.NONE,
    eventinfo="{nparticles:3d} {pid:6d} {weight: .16e} {scale: .16e} {aqed: .16e} {aqcd: .16e}",
    particle=(
        "{id:9d} {status:3d} {mother1:3d} {mother2:3d} {color1:3d} {color2:3d}"
        " {px: .16e} {py: .16e} {pz: .16e} {e: .16e} {m: .16e} {lifetime: .10e} {spin: .1f}"
    ),
    initinfo=(
        " {beamA:9d} {beamB:11d} {energyA: .16e} {energyB: .16e} {PDFgroupA: 2d}"
        " {PDFgroupB: 2d} {PDFsetA: 2d} {PDFsetB: 2d} {weightingStrategy: 2d} {numProcesses: 2d}"
    ),
    procinfo="{xSection: .16e} {error: .16e} {unitWeight: .16e} {procId: 3d}",
)

# The same two line formats in printf style, for the fast path of LHEWriter.write (str.format
# with 13 keyword fields plus one pylhe object per particle is ~3x slower). A test checks that
# both paths give identical bytes.
_EVENTINFO_PCT = "%3d %6d % .16e % .16e % .16e % .16e"
_PARTICLE_PCT = "%9d %3d %3d %3d %3d %3d % .16e % .16e % .16e % .16e % .16e % .10e % .1f"

#: The last bytes of every LHE file (no newline after it, as pylhe writes it).
LHE_FOOTER = "</LesHouchesEvents>"


def proper_decay_length(batch: EventBatch) -> np.ndarray:
    """Proper decay length cτ = m Δ(ct) / E in mm of every slot, ``[N, K]``.

    Δ(ct) is the time component of (decay vertex − production vertex), the decay vertex being
    the production vertex of the first daughter. 0 for particles without daughters or without
    mass (and for the beams, whose daughters start where they are recorded).
    """
    n, k = batch.pid.shape
    first = batch.daughter[:, :, 0]
    has = first >= 0
    rows = np.broadcast_to(np.arange(n)[:, None], (n, k))
    dct = np.zeros((n, k))
    dct[has] = batch.vertex[rows[has], first[has], 3] - batch.vertex[has][:, 3]
    e = batch.p[:, :, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(has & (e > 0), batch.m * dct / e, 0.0)
    return np.where(batch.status == STATUS_BEAM, 0.0, np.maximum(out, 0.0))


def _header(meta: RunMetadata) -> pylhe.LHEHeader:
    run = ET.Element(
        "alpgen",
        {"version": meta.generator_version, "seed": str(meta.seed)},
    )
    card = ET.SubElement(run, "card", {"format": "toml"})
    card.text = meta.card_text
    versions = ET.SubElement(run, "versions")
    versions.text = "\n".join(f"{k} {v}" for k, v in sorted(meta.versions.items()))
    metadata = ET.SubElement(run, "metadata", {"format": "json"})
    metadata.text = meta.to_json()
    return pylhe.LHEHeader(initrwgt=pylhe.LHEInitRWGT(entries=[]), extra_elements=[run])


def event_scale(batch: EventBatch) -> np.ndarray:
    """SCALUP of every event (GeV): ``info["scale"]`` if present, else the ALP-slot mass."""
    if "scale" in batch.info:
        return np.ascontiguousarray(batch.info["scale"], dtype=np.float64)
    return np.ascontiguousarray(batch.m[:, SLOT_ALP], dtype=np.float64)


def _init(meta: RunMetadata) -> pylhe.LHEInit:
    return pylhe.LHEInit(
        initInfo=pylhe.LHEInitInfo(
            beamA=int(meta.beam_pid),
            beamB=int(meta.target_pid),
            energyA=float(meta.beam_energy),
            energyB=float(meta.target_mass),
            PDFgroupA=0,
            PDFgroupB=0,
            PDFsetA=0,
            PDFsetB=0,
            weightingStrategy=3,
            numProcesses=1,
        ),
        procInfo=[
            pylhe.LHEProcInfo(
                xSection=float(meta.sigma_pb),
                error=float(meta.sigma_err_pb),
                unitWeight=1.0,
                procId=1,
            )
        ],
        generators=[
            pylhe.LHEGenerator(
                name=meta.generator_name,
                version=meta.generator_version,
                description=process_description(meta),
            )
        ],
    )


def _columns(
    batch: EventBatch,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Per-event HEPEUP header tuples and per-particle tuples (used slots only, in order)."""
    used = np.arange(batch.n_slots)[None, :] < batch.n_particles[:, None]
    zeros = np.zeros(int(used.sum()), np.int64)
    cols = [
        batch.pid[used],
        np.where(batch.status == STATUS_BEAM, -1, batch.status)[used],
        np.where(batch.mother[..., 0] >= 0, batch.mother[..., 0] + 1, 0)[used],
        np.where(batch.mother[..., 1] >= 0, batch.mother[..., 1] + 1, 0)[used],
        zeros,
        zeros,
        batch.p[..., 0][used],
        batch.p[..., 1][used],
        batch.p[..., 2][used],
        batch.p[..., 3][used],
        batch.m[used],
        proper_decay_length(batch)[used],
        np.where(batch.spin == 0, 9.0, batch.spin)[used],
    ]
    particles = list(zip(*(c.tolist() for c in cols), strict=True))
    n = len(batch)
    events = list(
        zip(
            batch.n_particles.tolist(),
            [1] * n,
            batch.weight.tolist(),
            event_scale(batch).tolist(),
            [ALPHA_EM] * n,
            [0.0] * n,
            strict=True,
        )
    )
    return events, particles


def batch_to_lhe_events(batch: EventBatch) -> list[pylhe.LHEEvent]:
    """The events of ``batch`` as pylhe objects (see the module docstring for conventions)."""
    events, particles = _columns(batch)
    out = []
    start = 0
    for ev in events:
        stop = start + ev[0]
        out.append(
            pylhe.LHEEvent(
                eventinfo=pylhe.LHEEventInfo(*ev),
                particles=[pylhe.LHEParticle(*row) for row in particles[start:stop]],
            )
        )
        start = stop
    return out


def _format_unique(values: np.ndarray, spec: str) -> np.ndarray:
    """``spec % v`` for every element of the 1-d ``values``, as an object array of str.

    Each distinct value is formatted once. Floats are told apart by their bit pattern, not by
    ``==``, so that -0.0 and 0.0 (equal, but formatted differently) and NaNs with different
    signs each keep their own text.
    """
    keys = values.view(np.int64) if values.dtype == np.float64 else values
    uniq, inverse = np.unique(keys, return_inverse=True)
    texts = np.array([spec % v for v in uniq.view(values.dtype).tolist()], dtype=object)
    return texts[inverse.ravel()]


def _format_unique_rows(rows: np.ndarray, spec: str) -> np.ndarray:
    """``spec % tuple(row)`` for every row of the 2-d integer array ``rows`` (see above).

    Rows are told apart by one int64 key packing the columns (offset by their minimum) when
    their ranges fit in 62 bits, as they do for HEPEUP's integer columns; else by their bytes.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    lo = rows.min(axis=0, initial=0)
    bits = [int(span).bit_length() for span in (rows.max(axis=0, initial=0) - lo).tolist()]
    keys: np.ndarray
    if sum(bits) <= 62:
        keys = np.zeros(len(rows), dtype=np.int64)
        for j, b in enumerate(bits):
            keys = (keys << b) | (rows[:, j] - lo[j])
    else:
        keys = rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    texts = np.array([spec % tuple(r) for r in rows[first].tolist()], dtype=object)
    return texts[inverse.ravel()]


def _format_sparse(values: np.ndarray, spec: str) -> np.ndarray:
    """``spec % v`` for every element of the 1-d float ``values``, most of which are +0.0."""
    out = np.full(len(values), spec % 0.0, dtype=object)
    nonzero = values.view(np.int64) != 0  # -0.0 has a bit set: formatted as itself
    out[nonzero] = [spec % v for v in values[nonzero].tolist()]
    return out


#: ``%s`` slots of one particle line: the integer columns, px, py, pz, E, m, VTIMUP, SPINUP
_LINE_TEMPLATE = "%s % .16e % .16e % .16e % .16e %s %s %s"
_LINE_ITEMS = 8
_PREFIX_PCT = _PARTICLE_PCT[: _PARTICLE_PCT.index(" % .16e")]  # the six integer columns
_event_templates: dict[int, str] = {}


def _event_template(n: int) -> str:
    """The ``%`` template of one ``<event>`` block with ``n`` particles (the layout of
    ``LHEEvent.tolhe``: the event line, the particle lines joined by newlines)."""
    t = _event_templates.get(n)
    if t is None:
        t = _event_templates[n] = "<event>\n%s\n" + "\n".join([_LINE_TEMPLATE] * n) + "\n</event>\n"
    return t


def format_lhe_events(batch: EventBatch) -> str:
    """The ``<event>`` blocks of ``batch``, byte-identical to pylhe's ``LHEEvent.tolhe`` with
    :data:`LHE_FORMAT`, one per line group, each followed by a newline.

    The batch is prepared once with numpy and formatted by a single ``%`` operation: columns
    with few distinct values (the integer columns, masses, VTIMUP, SPINUP, the event lines) are
    formatted once per distinct value and looked up; only the four momentum components are
    converted per particle. The number formats are those of :data:`LHE_FORMAT`, so the text is
    the same as pylhe's (a test compares them, including -0.0, NaN and 3-digit exponents).
    """
    n = len(batch)
    if n == 0:
        return ""
    used = np.arange(batch.n_slots)[None, :] < batch.n_particles[:, None]
    ints = np.stack(
        [
            batch.pid,
            np.where(batch.status == STATUS_BEAM, -1, batch.status),
            np.where(batch.mother[..., 0] >= 0, batch.mother[..., 0] + 1, 0),
            np.where(batch.mother[..., 1] >= 0, batch.mother[..., 1] + 1, 0),
            np.zeros_like(batch.pid),
            np.zeros_like(batch.pid),
        ],
        axis=-1,
    )[used]
    n_lines = len(ints)
    items = np.empty((n_lines, _LINE_ITEMS), dtype=object)
    items[:, 0] = _format_unique_rows(ints, _PREFIX_PCT)
    items[:, 1:5] = batch.p[used]  # Python floats, formatted by the template
    items[:, 5] = _format_unique(batch.m[used], "% .16e")
    items[:, 6] = _format_sparse(proper_decay_length(batch)[used], "% .10e")
    items[:, 7] = _format_unique(np.where(batch.spin == 0, 9.0, batch.spin)[used], "% .1f")

    weight = np.ascontiguousarray(batch.weight, dtype=np.float64)
    scale = event_scale(batch)
    info_rows = np.stack(
        [batch.n_particles.astype(np.int64), weight.view(np.int64), scale.view(np.int64)], axis=1
    )
    _, first, inverse = np.unique(info_rows, axis=0, return_index=True, return_inverse=True)
    info_texts = [
        _EVENTINFO_PCT % (int(batch.n_particles[i]), 1, weight[i], scale[i], ALPHA_EM, 0.0)
        for i in first.tolist()
    ]
    info = np.array(info_texts, dtype=object)[inverse.ravel()]

    counts = batch.n_particles.astype(np.int64)
    starts = np.arange(n) + _LINE_ITEMS * (np.cumsum(counts) - counts)
    flat = np.empty(n + _LINE_ITEMS * n_lines, dtype=object)
    is_info = np.zeros(len(flat), dtype=bool)
    is_info[starts] = True
    flat[is_info] = info
    flat[~is_info] = items.ravel()
    template = "".join([_event_template(c) for c in counts.tolist()])
    return template % tuple(flat.tolist())


def lhe_header(metadata: RunMetadata) -> str:
    """Everything an LHE file of this run holds before its first ``<event>``: the opening tag,
    ``<header>`` (card, seed, versions, metadata) and ``<init>`` (beams, XSECUP / XERRUP),
    ending with ``"</init>\\n"``. A file is ``lhe_header(meta)``, the event blocks
    (:func:`format_lhe_events`), then :data:`LHE_FOOTER`.
    """
    doc = pylhe.LesHouchesEvents(init=_init(metadata), header=_header(metadata), events=()).tolhe(
        LHE_FORMAT
    )
    # pylhe closes the document after the (here empty) event iterable
    if not doc.endswith(LHE_FOOTER):  # pragma: no cover - guards a pylhe format change
        raise RuntimeError("unexpected pylhe output: no closing </LesHouchesEvents> tag")
    return doc[: -len(LHE_FOOTER)]


class LHEWriter(AtomicWriter):
    """Streamed LHE writer: ``with LHEWriter(path, meta) as w: w.write(batch)``.

    ``gzip`` defaults to whether ``path`` ends in ``.gz``; gzip output is byte-reproducible,
    with the header, the events and the footer in three gzip members (one stream to every
    reader; shard assembly copies the events' member). The file appears under ``path`` only
    after :meth:`close` succeeds.
    """

    def __init__(
        self, path: str | os.PathLike[str], metadata: RunMetadata, *, gzip: bool | None = None
    ):
        if gzip is None:
            gzip = str(path).endswith(".gz")
        self.metadata = metadata
        self.n_written = 0
        stream = self._open(path, binary=False, gzip=gzip)
        self._stream = stream
        with self._guard():
            stream.write(lhe_header(metadata))
            self._atomic.new_member()  # gzip: header, events and footer in their own members

    def write(self, batch: EventBatch) -> None:
        """Append the events of ``batch``."""
        with self._guard():
            self._stream.write(format_lhe_events(batch))
        self.n_written += len(batch)

    def _finish(self) -> None:
        self._atomic.new_member()
        self._stream.write(LHE_FOOTER)
