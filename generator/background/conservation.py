"""Checks of an :class:`~alpgen.events.EventBatch` record: four-momentum and position at every
vertex (used by the background tests and validation scripts; they hold for the signal too).

A vertex is a parent slot with a daughter range [d1, d2] (HEPEVT, contiguous); the beams (status
4) share one vertex, the interaction point, whose incoming four-momentum is their sum.
"""

from __future__ import annotations

import numpy as np

from ..events import STATUS_BEAM, EventBatch

__all__ = ["vertex_displacement_mismatch", "vertex_imbalance"]


def _daughter_sums(batch: EventBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, k = batch.pid.shape
    cs = np.concatenate([np.zeros((n, 1, 4)), np.cumsum(batch.p, axis=1)], axis=1)
    d1 = batch.daughter[..., 0]
    d2 = batch.daughter[..., 1]
    has = d1 >= 0
    rows = np.broadcast_to(np.arange(n)[:, None], (n, k))
    d1c, d2c = np.where(has, d1, 0), np.where(has, d2, 0)
    sums = cs[rows, d2c + 1] - cs[rows, d1c]
    return sums, has, rows


def vertex_imbalance(batch: EventBatch) -> np.ndarray:
    """Per event, the largest |Σ p_in − Σ p_out| component over its vertices, relative to the
    incoming energy of that vertex ([N] floats, 0 for an event without vertices)."""
    sums, has, _ = _daughter_sums(batch)
    beams = batch.status == STATUS_BEAM
    p_beams = np.sum(np.where(beams[..., None], batch.p, 0.0), axis=1)  # [N, 4]
    parent = np.where(beams[..., None], p_beams[:, None, :], batch.p)
    diff = np.max(np.abs(parent - sums), axis=2) / np.maximum(parent[..., 3], 1e-300)
    return np.max(np.where(has, diff, 0.0), axis=1)


def vertex_displacement_mismatch(batch: EventBatch) -> np.ndarray:
    """Per event, the largest difference (mm) between the production vertices of the daughters
    of one parent (all daughters start at one point), and for the beams between their own
    vertex and their daughters' ([N] floats)."""
    n, k = batch.pid.shape
    out = np.zeros(n)
    d1, d2 = batch.daughter[..., 0], batch.daughter[..., 1]
    beams = batch.status == STATUS_BEAM
    for s in range(k):
        rows = np.flatnonzero(d1[:, s] >= 0)
        if rows.size == 0:
            continue
        first = batch.vertex[rows, d1[rows, s]]
        span = d2[rows, s] - d1[rows, s]
        for j in range(int(span.max()) + 1):
            ok = span >= j
            r = rows[ok]
            v = batch.vertex[r, d1[r, s] + j]
            out[r] = np.maximum(out[r], np.max(np.abs(v - first[ok]), axis=1))
        b = beams[rows, s]
        if b.any():
            rb = rows[b]
            out[rb] = np.maximum(out[rb], np.max(np.abs(batch.vertex[rb, s] - first[b]), axis=1))
    return out
