"""ROOT output (uproot): weighted histograms of the key distributions and a flat TTree.

Per-event quantities (all in the lab = target rest frame, beam along +z):

=================  =========================================================================
``beam_energy``    incident lepton energy (GeV)
``E_tau``          energy of the outgoing lepton (slot ``SLOT_LEPTON``, GeV): the produced τ of
                   the signal, the scattered μ of a Standard-Model background
``E_a``            ALP energy (GeV); NaN (not filled) for a background event, which has no ALP
``x``              E_tau / beam_energy
``theta_tau``      polar angle of the produced τ (rad)
``theta_a``        polar angle of the ALP (rad)
``t``              Mandelstam t = (P_f − P_i)² ≤ 0 of the nucleus (GeV²): −``info["t"]`` when the
                   batch has it (the generator stores t ≡ −q² > 0, physics.md §5), else
                   (p_recoil − p_target)² from the four-vectors when the recoil slot holds the
                   target's particle, else NaN (a charm event: the nucleon breaks up)
``tau_decay_length``  lab distance (mm) from the τ production to its decay vertex, NaN when the
                   τ does not decay in the record
``weight``         event weight
=================  =========================================================================

Histograms (``hist``, weighted storage, written as TH1D) live in one directory per fill tag,
``<tag>/<quantity>``: angles, −t and the decay length on log axes (the histogram of −t is named
``minus_t``). The TTree ``events`` (made with ``mktree`` + ``extend``, a TTree and not the
RNTuple that ``file[name] = dict`` writes in uproot ≥ 5.7) gets one entry per event of the
``"all"`` fills, plus the ``extra`` columns passed there; it is streamed batch by batch.

Reproducibility: uproot lets us pin the file and directory UUIDs (``uuid_function``; we derive
a name-based UUID from the seed and the card) but stamps TKeys, directories and TTree baskets
with the wall-clock time (``datetime.now()``, one-second resolution) with no public option to
fix it. Two identical runs therefore give identical *contents* (every histogram and branch),
but the files are byte-identical only when written within the same second.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from typing import Any

import hist
import numpy as np
import uproot

from ..constants import PID_ALP
from ..events import SLOT_ALP, SLOT_LEPTON, SLOT_RECOIL, SLOT_TARGET, EventBatch
from .atomic import AtomicWriter
from .metadata import RunMetadata

__all__ = ["TREE_BRANCHES", "HistogramWriter", "event_quantities"]

#: Branches of the ``events`` tree before any ``extra`` columns.
TREE_BRANCHES = (
    "beam_energy",
    "E_tau",
    "E_a",
    "x",
    "theta_a",
    "theta_tau",
    "t",
    "tau_decay_length",
    "weight",
)


def _polar_angle(p: np.ndarray) -> np.ndarray:
    # atan2 of the transverse and longitudinal momenta stays accurate for θ ≪ 1
    return np.arctan2(np.hypot(p[:, 0], p[:, 1]), p[:, 2])


def event_quantities(batch: EventBatch) -> dict[str, np.ndarray]:
    """The per-event quantities of the module docstring, each an array of length N."""
    tau = batch.p[:, SLOT_LEPTON]
    alp = batch.p[:, SLOT_ALP]
    is_alp = np.abs(batch.pid[:, SLOT_ALP]) == PID_ALP  # else a background record: no ALP
    if "t" in batch.info:
        t = -np.asarray(batch.info["t"], float)  # info["t"] = −q² > 0; Mandelstam t ≤ 0
    else:
        q = batch.p[:, SLOT_RECOIL] - batch.p[:, SLOT_TARGET]
        t = q[:, 3] ** 2 - np.sum(q[:, :3] ** 2, axis=1)
        # no recoil of the target's kind (e.g. a charm event's hadron in slot 3): undefined
        t = np.where(batch.pid[:, SLOT_RECOIL] == batch.pid[:, SLOT_TARGET], t, np.nan)
    dv = batch.decay_vertex(SLOT_LEPTON)
    length = np.linalg.norm(dv[:, :3] - batch.vertex[:, SLOT_LEPTON, :3], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = tau[:, 3] / batch.beam_energy
    return {
        "beam_energy": batch.beam_energy.astype(float),
        "E_tau": tau[:, 3].copy(),
        "E_a": np.where(is_alp, alp[:, 3], np.nan),
        "x": x,
        "theta_a": np.where(is_alp, _polar_angle(alp), np.nan),
        "theta_tau": _polar_angle(tau),
        "t": t,
        "tau_decay_length": length,
        "weight": batch.weight.astype(float),
    }


def _axes(e_max: float) -> dict[str, tuple[str, hist.axis.Regular]]:
    """Histogram name → (quantity, axis)."""
    log = hist.axis.transform.log
    return {
        "E_tau": ("E_tau", hist.axis.Regular(100, 0.0, e_max, name="E_tau", label="E_tau [GeV]")),
        "E_a": ("E_a", hist.axis.Regular(100, 0.0, e_max, name="E_a", label="E_a [GeV]")),
        "x": ("x", hist.axis.Regular(100, 0.0, 1.0, name="x", label="x = E_tau / E_beam")),
        "theta_a": (
            "theta_a",
            hist.axis.Regular(120, 1e-7, np.pi, transform=log, name="theta_a", label="θ_a [rad]"),
        ),
        "theta_tau": (
            "theta_tau",
            hist.axis.Regular(120, 1e-7, np.pi, transform=log, name="theta_tau", label="θ_τ [rad]"),
        ),
        "minus_t": (
            "minus_t",
            hist.axis.Regular(120, 1e-12, 1e2, transform=log, name="minus_t", label="−t [GeV²]"),
        ),
        "tau_decay_length": (
            "tau_decay_length",
            hist.axis.Regular(
                120, 1e-5, 1e5, transform=log, name="tau_decay_length", label="L_τ [mm]"
            ),
        ),
    }


class HistogramWriter(AtomicWriter):
    """Weighted histograms per tag and the ``events`` TTree, written atomically to ``path``.

    ``fill(batch, tag, mask, extra)`` fills the histograms of ``tag`` with the events where
    ``mask`` is true (all if None), weighted by ``batch.weight``; for ``tag == "all"`` the same
    events (and the ``extra`` columns, arrays of length N, numeric) are appended to the tree.
    The extra column names are fixed by the first ``"all"`` fill. ``e_max`` (GeV) is the upper
    edge of the energy axes, by default the nominal beam energy (larger values land in the
    overflow bin). Histograms are written on :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        metadata: RunMetadata,
        *,
        e_max: float | None = None,
    ):
        self.metadata = metadata
        self.e_max = float(e_max if e_max is not None else metadata.beam_energy)
        self._hists: dict[str, dict[str, hist.Hist[Any]]] = {}
        self._tree: Any = None
        self._extra_names: tuple[str, ...] | None = None
        self.n_entries = 0
        tmp = self._reserve(path)
        digest = hashlib.sha256(f"{metadata.seed}\n{metadata.card_text}".encode()).hexdigest()
        file_uuid = uuid.uuid5(uuid.NAMESPACE_OID, f"alpgen.{digest}")
        with self._guard():
            self._file = uproot.recreate(tmp, uuid_function=lambda: file_uuid)

    def _hist_set(self, tag: str) -> dict[str, hist.Hist[Any]]:
        if tag not in self._hists:
            if not tag or "/" in tag:
                raise ValueError(f"histogram tag must be a non-empty name without '/', got {tag!r}")
            self._hists[tag] = {
                name: hist.Hist(axis, storage=hist.storage.Weight())
                for name, (_, axis) in _axes(self.e_max).items()
            }
        return self._hists[tag]

    def fill(
        self,
        batch: EventBatch,
        tag: str = "all",
        mask: np.ndarray | None = None,
        extra: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Fill the histograms of ``tag`` (and the tree for ``"all"``) with ``batch``."""
        self.fill_quantities(event_quantities(batch), tag, mask, extra)

    def fill_quantities(
        self,
        q: dict[str, np.ndarray],
        tag: str = "all",
        mask: np.ndarray | None = None,
        extra: dict[str, np.ndarray] | None = None,
    ) -> None:
        """:meth:`fill` from a batch's :func:`event_quantities` (e.g. computed in another
        process: a shard of a run ships its batches' quantities, and the run fills one file
        from them in shard order, as if it had filled the batches itself)."""
        n = len(q["weight"])
        sel = np.ones(n, bool) if mask is None else np.asarray(mask)
        if sel.dtype != bool or sel.shape != (n,):
            raise ValueError("mask must be a boolean array with one entry per event")
        q = {k: v[sel] for k, v in q.items()}
        w = q["weight"]
        values = dict(q)
        values["minus_t"] = -q["t"]
        for name, h in self._hist_set(tag).items():
            v = values[name]
            ok = np.isfinite(v)  # e.g. no decay length for an undecayed τ
            h.fill(v[ok], weight=w[ok])
        if tag == "all":
            self._extend_tree(q, extra or {}, sel, n)

    def _extend_tree(
        self, q: dict[str, np.ndarray], extra: dict[str, np.ndarray], sel: np.ndarray, n: int
    ) -> None:
        names = tuple(extra)
        cols: dict[str, np.ndarray] = {k: q[k] for k in TREE_BRANCHES}
        for k, v in extra.items():
            if k in cols:
                raise ValueError(f"extra column {k!r} clashes with a standard branch")
            v = np.asarray(v)
            if v.shape != (n,) or v.dtype.kind not in "biuf":
                raise ValueError(f"extra column {k!r} must be a numeric array of length {n}")
            cols[k] = v[sel]
        if self._extra_names is not None and names != self._extra_names:
            raise ValueError(
                f"extra columns {names} differ from those of the first fill {self._extra_names}"
            )
        with self._guard():
            if self._tree is None:
                self._extra_names = names
                self._tree = self._file.mktree(
                    "events",
                    {k: v.dtype for k, v in cols.items()},
                    title="alpgen per-event quantities",
                )
            self._tree.extend(cols)
        self.n_entries += int(sel.sum())

    @property
    def histograms(self) -> dict[str, dict[str, hist.Hist[Any]]]:
        """The histograms filled so far, ``{tag: {name: Hist}}``."""
        return self._hists

    def _finish(self) -> None:
        # the card, seed and versions travel with the histograms (a TObjString of JSON)
        self._file["alpgen_metadata"] = self.metadata.to_json()
        for tag, hs in self._hists.items():
            for name, h in hs.items():
                self._file[f"{tag}/{name}"] = h
        self._file.close()

    def abort(self) -> None:
        if hasattr(self, "_file"):
            with contextlib.suppress(Exception):  # the file is being discarded anyway
                self._file.close()
        super().abort()
