#!/usr/bin/env python
"""Fig. 6 of arXiv:2407.15942: reach in C/Λ for the invisible ALP (a → χχ̄), μN → τN + E_miss.

Left: NA64-μ (160 GeV, 10¹³ MOT), FASERν2 with cuts (the μ → τ → μ chain) and "ultimate", and
the 1.5 TeV thin target with d = 2 cm, 2 mm and "ultimate". Right: the same curves with the
(g−2)_μ-favoured bands (±2σ, paper Eqs. 11–12) for θ = π/2, 3π/8, π/4 (hatched above each band:
disfavoured) and the C/Λ at which ⟨σv⟩(χχ̄ → μτ) equals the thermal value 4.4×10⁻²⁶ cm³/s for
g_χ = 1, m_a = 3m_χ (physics.md §4; below it the symmetric χ component would be overabundant).

Every setup uses m_a = 3 m_χ and g_χ = 1 (the cards' ratio is kept at each mass) and the
branching ratio BR(a → χχ̄) = Γ_χ/(Γ_χ + Γ_vis(C/Λ)) at each coupling.

Runtime: modest on purpose — 9 log-spaced masses from 1 to 40 GeV, 10⁴ events per mass and
σ to 2 % (production.precision = 0.02); under a minute on 2 cores once numba's cache is warm.
Raise EVENTS, N_MASSES and lower PRECISION for a smoother figure. NA64-μ has no points above
m_a ≈ 16 GeV (t_min > t_max = 1 GeV² at 160 GeV). FASERν2 uses the stand-in FASERν Run-3 muon flux.

Writes docs/figures/fig6_invisible.png, fig6_reach.csv (every plotted reach point) and
fig6_constraints.csv (the g−2 bands and the relic line).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"

N_MASSES = 9
M_MIN, M_MAX = 1.0, 40.0
EVENTS = 10000
PRECISION = 0.02
THETAS = {"π/2": math.pi / 2, "3π/8": 3 * math.pi / 8, "π/4": math.pi / 4}

SETUPS = [
    ("cards/na64mu_160GeV.toml", [("NA64-μ, 10¹³ MOT", {})]),
    (
        "cards/fasernu2.toml",
        [
            ("FASERν2 with cuts", {"selection": "chain"}),
            ("FASERν2 ultimate", {"selection": "ultimate"}),
        ],
    ),
    (
        "cards/thin_target_1p5TeV_invisible.toml",
        [
            ("thin target, d = 2 cm", {"resolution_mm": 20.0}),
            ("thin target, d = 2 mm", {"resolution_mm": 2.0}),
            ("thin target, ultimate", {"selection": "ultimate"}),
        ],
    ),
]
CURVES = [label for _, curves in SETUPS for label, _ in curves]
STYLE = {
    "NA64-μ, 10¹³ MOT": dict(color="tab:green", ls="-"),
    "FASERν2 with cuts": dict(color="tab:blue", ls="-"),
    "FASERν2 ultimate": dict(color="tab:blue", ls=":"),
    "thin target, d = 2 cm": dict(color="tab:red", ls="--"),
    "thin target, d = 2 mm": dict(color="tab:red", ls="-"),
    "thin target, ultimate": dict(color="tab:red", ls=":"),
}


def constraint_rows(masses: np.ndarray, *, relic: bool = True) -> list[dict[str, float]]:
    """g−2 band edges (TeV⁻¹) for each θ and the relic C/Λ (g_χ = 1, m_a = 3 m_χ) per mass."""
    from alpgen.constants import M_TAU
    from alpgen.phenomenology import g2_band_C_over_Lambda, relic_g_mutau

    rows = []
    for m in masses:
        row: dict[str, float] = {"m_a_GeV": float(m)}
        for name, th in THETAS.items():
            band = g2_band_C_over_Lambda(float(m), th)
            row[f"g2_lo_theta_{name}"] = band[0] if band else math.nan
            row[f"g2_hi_theta_{name}"] = band[1] if band else math.nan
        if relic:
            g = float(relic_g_mutau(float(m), float(m) / 3.0, 1.0))
            row["relic_C_over_Lambda_invTeV"] = g / (M_TAU * 1e-3)
        rows.append(row)
    return rows


def _curves(ax, table, curves, column: str = "reach_C_over_Lambda_invTeV") -> None:
    for label in curves:
        pts = [r for r in table if r["curve"] == label]
        m = np.array([r["m_a_GeV"] for r in pts], float)
        y = np.array([r[column] for r in pts], float)
        ok = np.isfinite(y) & (y > 0)
        ax.plot(m[ok], y[ok], marker="o", ms=3, label=label, **STYLE.get(label, {}))


def draw_constraints(ax, cons, *, relic: bool) -> None:
    """(g−2) bands (filled) with the disfavoured region above (hatched) and the relic line."""
    m = np.array([r["m_a_GeV"] for r in cons], float)
    colors = {"π/2": "tab:orange", "3π/8": "tab:purple", "π/4": "tab:gray"}
    top = 1e4
    for name in THETAS:
        lo = np.array([r[f"g2_lo_theta_{name}"] for r in cons], float)
        hi = np.array([r[f"g2_hi_theta_{name}"] for r in cons], float)
        ok = np.isfinite(hi)
        c = colors[name]
        ax.fill_between(m[ok], lo[ok], hi[ok], color=c, alpha=0.35, lw=0,
                        label=f"(g−2)$_\\mu$ favoured, θ = {name}")  # fmt: skip
        ax.fill_between(m[ok], hi[ok], top, facecolor="none", edgecolor=c, hatch="//", lw=0,
                        alpha=0.12)  # fmt: skip
    if relic:
        y = np.array([r["relic_C_over_Lambda_invTeV"] for r in cons], float)
        ok = np.isfinite(y)
        ax.plot(m[ok], y[ok], color="k", ls="-.",
                label="⟨σv⟩(χχ̄→μτ) = 4.4×10⁻²⁶ cm³/s ($g_\\chi$=1, $m_a$=3$m_\\chi$)")  # fmt: skip


def _style(ax, ylim) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$m_a$ [GeV]")
    ax.set_ylabel(r"$C_{\mu\tau}/\Lambda$ [TeV$^{-1}$]")
    ax.set_xlim(M_MIN * 0.9, M_MAX * 1.1)
    ax.set_ylim(*ylim)
    ax.grid(True, which="both", alpha=0.25)


def make_figure(table, constraints, *, ylim=(1e-2, 1e3)):
    """The two-panel figure from a reach table (:data:`alpgen.figures.CURVE_COLUMNS` rows) and
    constraint rows (:func:`constraint_rows`). Returns the matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    curves = [c for c in dict.fromkeys(r["curve"] for r in table)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2), layout="constrained")
    # left: the paper's normalisation "for B(a→χχ̄)" (physics.md §7 item 11), i.e. N ∝ (C/Λ)²
    # with the branching ratio frozen at its C/Λ = 1 TeV⁻¹ value (≈ 1 for g_χ = 1)
    _curves(left, table, curves, column="reach_fixed_br_invTeV")
    _style(left, ylim)
    left.set_title("invisible ALP: reach (N = 3, B(a→χχ̄) fixed at its C/Λ = 1 value ≈ 1)")
    left.legend(fontsize=8, loc="upper left")
    _curves(right, table, curves)
    draw_constraints(right, constraints, relic=True)
    _style(right, ylim)
    right.set_title("$g_\\chi$ = 1: B(a→χχ̄) at each C/Λ; (g−2)$_\\mu$ bands and relic line")
    right.legend(fontsize=6.5, loc="lower right", ncol=2, framealpha=0.9)
    return fig


def main(argv=None) -> int:
    from alpgen.figures import figure_main

    return figure_main(
        argv,
        name="fig6_invisible",
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
