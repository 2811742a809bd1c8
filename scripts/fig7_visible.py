#!/usr/bin/env python
"""Fig. 7 of arXiv:2407.15942: reach in C/Λ for the visible ALP (a → μτ), thin target only.

1.5 TeV μ⁻ on 2 cm Pb, 10¹⁶ MOT, charge-flip selection μ⁻N → τ⁻N a, a → μ⁺τ⁻ with both τ
3-prong and each τ decay length above the track resolution d = 2 cm (plain plate) or 2 mm
(plate interleaved with tracking layers); "ultimate" = no cuts (the ½ charge-flip factor kept,
physics.md §7 item 7). Overlaid: the (g−2)_μ-favoured bands (±2σ) for θ = π/2, 3π/8, π/4 with
the disfavoured region above each (hatched). The right axis gives g_μτ = C m_τ/Λ.

Runtime: modest on purpose — 9 log-spaced masses from 2 to 40 GeV (a → μτ needs
m_a > m_μ + m_τ = 1.88 GeV), 2×10⁴ events per mass, σ to 2 %; about a minute on 2 cores.
The 2 cm curve has few selected events at low mass (τ's rarely fly 2 cm): raise EVENTS for
smaller errors.

Writes docs/figures/fig7_visible.png, fig7_reach.csv and fig7_constraints.csv.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"

N_MASSES = 9
M_MIN, M_MAX = 2.0, 40.0
EVENTS = 20000
PRECISION = 0.02

SETUPS = [
    (
        "cards/thin_target_1p5TeV.toml",
        [
            ("thin target, d = 2 cm", {"resolution_mm": 20.0}),
            ("thin target, d = 2 mm", {"resolution_mm": 2.0}),
            ("thin target, ultimate", {"selection": "ultimate"}),
        ],
    ),
]
CURVES = [label for _, curves in SETUPS for label, _ in curves]


def _fig6():
    """The helpers shared with scripts/fig6_invisible.py (constraints, styles, axes)."""
    spec = importlib.util.spec_from_file_location(
        "fig6_invisible", Path(__file__).parent / "fig6_invisible.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def constraint_rows(masses: np.ndarray) -> list[dict[str, float]]:
    """g−2 band edges (TeV⁻¹) per θ and mass (no relic line for the visible case)."""
    return _fig6().constraint_rows(masses, relic=False)


def make_figure(table, constraints, *, ylim=(1e-2, 1e2)):
    """One-panel figure from reach rows (:data:`alpgen.figures.CURVE_COLUMNS`) and constraint
    rows (:func:`constraint_rows`). Returns the matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from alpgen.constants import M_TAU

    f6 = _fig6()
    f6.M_MIN, f6.M_MAX = M_MIN, M_MAX
    curves = [c for c in dict.fromkeys(r["curve"] for r in table)]
    fig, ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
    f6._curves(ax, table, curves)
    f6.draw_constraints(ax, constraints, relic=False)
    f6._style(ax, ylim)
    ax.set_title("visible ALP (a → μ⁺τ⁻, charge flip): thin target, 1.5 TeV, 10¹⁶ MOT")
    ax.legend(fontsize=8, loc="upper left")
    k = M_TAU * 1e-3  # g_μτ per TeV⁻¹ of C/Λ
    sec = ax.secondary_yaxis("right", functions=(lambda c: c * k, lambda g: g / k))
    sec.set_ylabel(r"$g_{\mu\tau} = C_{\mu\tau} m_\tau/\Lambda$")
    return fig


def main(argv=None) -> int:
    from alpgen.figures import figure_main

    return figure_main(
        argv,
        name="fig7_visible",
        description=__doc__.splitlines()[0],
        setups=[(str(ROOT / c), v) for c, v in SETUPS],
        mass_range=(M_MIN, M_MAX),
        defaults={"events": EVENTS, "masses": N_MASSES, "precision": PRECISION},
        make_figure=make_figure,
        constraint_rows=constraint_rows,
        out_dir=FIGURES,
    )


if __name__ == "__main__":
    sys.exit(main())
