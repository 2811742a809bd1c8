"""Figures: the reach against the ALP mass (matplotlib, headless ``Agg`` backend)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_reach"]


def plot_reach(
    table: Sequence[Mapping[str, Any]], *, title: str = "", label: str = "reach"
) -> Figure:
    """Matplotlib figure of the reach C/Λ (TeV⁻¹) against m_a (GeV), log–log, with MC errors."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    m = np.array([r["m_a_GeV"] for r in table], float)
    y = np.array([r["reach_C_over_Lambda_invTeV"] for r in table], float)
    e = np.array([r["reach_err_invTeV"] for r in table], float)
    ok = np.isfinite(y) & (y > 0)
    fig, ax = plt.subplots(figsize=(6.0, 4.5), layout="constrained")
    err = np.where(np.isfinite(e[ok]), e[ok], 0.0)
    ax.errorbar(m[ok], y[ok], yerr=err, marker="o", ms=3, capsize=2, label=label)
    # the MC error as a band, so that it reads as the curve's precision
    ax.fill_between(m[ok], y[ok] - err, y[ok] + err, alpha=0.25, lw=0)
    if ok.any():
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:  # no mass has a reach: an empty frame that says so (log axes need data)
        ax.text(0.5, 0.5, "no sensitivity at any mass", ha="center", transform=ax.transAxes)
    ax.set_xlabel(r"$m_a$ [GeV]")
    ax.set_ylabel(r"$C_{\mu\tau}/\Lambda$ reach [TeV$^{-1}$]")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if ok.any():
        ax.legend()
    return fig
