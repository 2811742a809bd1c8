#!/usr/bin/env python
"""Reach in C/Λ against the longitudinal beam polarization P (issue 15).

For each experiment card (``cards/thin_target_1p5TeV.toml``: visible ALP, charge flip, 2 cm;
``cards/na64mu_160GeV.toml``: invisible ALP, 160 GeV μ⁻) and each coupling setup (θ = π/4,
3π/8, π/2 in the paper's convention, and θ = π/4 with the exact couplings of physics.md (1.1)),
the full chain (σ(P) with vegas, unweighted events with the beam and τ helicities drawn jointly,
decays, fast detector, reach solver of ``alpgen scan``) runs at each P on a grid from −1 to +1,
plus the experiment's recorded ``beam_polarization`` (``detectors/<name>.toml``), marked in the
figure. All P of one setup share the card seed (common random numbers: smooth curves).

P is the mean lab-frame helicity of the beam lepton; σ(P) = Σ_h (1 + hP)/2 σ_h. At θ = π/4
the coupling is chiral, so σ, and with it the reach ∝ σ^(−1/2) for prompt decays, depends
strongly on P; at θ = π/2 parity makes σ independent of P (the efficiency too: the τ helicity
given the beam helicity averages to the same distribution).

Writes ``docs/figures/polarization_reach.csv`` and ``polarization_reach.png`` and prints a
markdown table for docs/results.md. About 5 minutes on 2 cores with the defaults::

    python scripts/polarization_reach.py [--events-thin 100000] [--events-na64 8000]
                                         [--points 9] [--outdir docs/figures]
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np

from alpgen.card import load_card
from alpgen.detectors.config import DetectorConfig
from alpgen.engine import compute_cross_section
from alpgen.scanning import PointTask, evaluate_point

ROOT = Path(__file__).resolve().parents[1]
CARDS = {
    "thin_target": "cards/thin_target_1p5TeV.toml",
    "na64mu": "cards/na64mu_160GeV.toml",
}
#: (label, θ, coupling convention)
SETUPS = (
    ("θ=π/4 paper", math.pi / 4, "paper"),
    ("θ=3π/8 paper", 3 * math.pi / 8, "paper"),
    ("θ=π/2", math.pi / 2, "paper"),
    ("θ=π/4 exact", math.pi / 4, "exact"),
)
COLUMNS = (
    "experiment",
    "setup",
    "theta",
    "couplings",
    "polarization",
    "recorded_polarization",
    "sigma_pb",
    "sigma_err_pb",
    "sigma_helicity_minus_pb",
    "sigma_helicity_plus_pb",
    "efficiency",
    "eff_err",
    "reach_C_over_Lambda_invTeV",
    "reach_err",
    "events",
)


def recorded_polarization(card_path: str) -> float:
    """The experiment's ``beam_polarization`` from ``detectors/<name>.toml`` (info only)."""
    card = load_card(ROOT / card_path)
    value = DetectorConfig.from_card(dict(card.detector)).beam_polarization
    return 0.0 if value is None else float(value)


def _card(card_path: str, theta: float, couplings: str, pol: float):
    return load_card(
        ROOT / card_path,
        [f"model.theta={theta!r}", f"model.couplings={couplings}", f"beam.polarization={pol!r}"],
    )


def reach_point(card_path: str, theta: float, couplings: str, pol: float, n_events: int) -> dict:
    """σ(P), efficiency and reach of one (card, θ, convention, P)."""
    card = _card(card_path, theta, couplings, pol)
    res = evaluate_point(
        PointTask(0, card.model.m_a, card.raw, card.path, card.run.seed, n_events=n_events)
    )
    v = res.variants[0] if res.variants else None
    return {
        "sigma_pb": res.sigma_pb,
        "sigma_err_pb": res.sigma_err_pb,
        "efficiency": v.efficiency if v else 0.0,
        "eff_err": v.eff_err if v else 0.0,
        "reach_C_over_Lambda_invTeV": v.reach if v else math.nan,
        "reach_err": v.reach_err if v else math.nan,
        "events": n_events,
    }


def run(args: argparse.Namespace) -> list[dict]:
    rows = []
    grid = np.linspace(-1.0, 1.0, args.points)
    for exp, path in CARDS.items():
        rec = recorded_polarization(path)
        pols = sorted({round(float(p), 6) for p in grid} | {rec})
        n = args.events_thin if exp == "thin_target" else args.events_na64
        for label, theta, conv in SETUPS:
            t0 = time.perf_counter()
            # σ_± do not depend on P: once per setup
            xs = compute_cross_section(_card(path, theta, conv, 0.0)).xsec
            hel = {
                "sigma_helicity_minus_pb": xs.sigma_helicity_minus_pb,
                "sigma_helicity_plus_pb": xs.sigma_helicity_plus_pb,
            }
            for pol in pols:
                r = {**reach_point(path, theta, conv, pol, n), **hel}
                rows.append(
                    {
                        "experiment": exp,
                        "setup": label,
                        "theta": theta,
                        "couplings": conv,
                        "polarization": pol,
                        "recorded_polarization": rec,
                        **r,
                    }
                )
            print(f"{exp:12s} {label:14s} {len(pols)} points in {time.perf_counter() - t0:.1f} s")
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="") as fh:
        fh.write(
            "# reach (C/Lambda, TeV^-1) against the beam polarization P (mean lab helicity of the "
            "beam lepton); scripts/polarization_reach.py\n"
        )
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{r[k]:.6g}" if isinstance(r[k], float) else r[k]) for k in COLUMNS})


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(CARDS), figsize=(11, 4.2), sharey=False)
    for ax, exp in zip(axes, CARDS, strict=True):
        sub = [r for r in rows if r["experiment"] == exp]
        for label, _, _ in SETUPS:
            pts = sorted((r for r in sub if r["setup"] == label), key=lambda r: r["polarization"])
            p = np.array([r["polarization"] for r in pts])
            y = np.array([r["reach_C_over_Lambda_invTeV"] for r in pts])
            e = np.array([r["reach_err"] for r in pts])
            ls = "--" if "exact" in label else "-"
            ax.errorbar(p, y, yerr=e, marker="o", ms=3, ls=ls, label=label, capsize=2)
        rec = sub[0]["recorded_polarization"]
        ax.axvline(rec, color="k", lw=0.8, ls=":")
        ax.text(
            rec, 1.02, f" recorded P = {rec:+g}", transform=ax.get_xaxis_transform(), fontsize=8
        )
        ax.set_yscale("log")
        ax.set_xlabel("beam polarization P (mean lab helicity)")
        ax.set_ylabel("reach C/Λ [TeV⁻¹] (lower is better)")
        ax.set_title(Path(CARDS[exp]).stem, fontsize=10, pad=14)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def markdown(rows: list[dict], pols=(-1.0, -0.5, 0.0, 0.5, 1.0)) -> str:
    """Markdown table of the reach at a few P and at the experiment's recorded P."""
    lines = [
        "| experiment | setup | "
        + " | ".join(f"P = {p:+g}" for p in pols)
        + " | at recorded P | σ₊/σ₋ |",
        "|---|---|" + "---|" * (len(pols) + 2),
    ]

    def cell(sub: list[dict], p: float) -> str:
        match = [r for r in sub if abs(r["polarization"] - p) < 1e-9]
        if not match:
            return "–"
        r = match[0]
        return f"{r['reach_C_over_Lambda_invTeV']:.3g} ± {r['reach_err']:.1g}"

    for exp in CARDS:
        for label, _, _ in SETUPS:
            sub = [r for r in rows if r["experiment"] == exp and r["setup"] == label]
            rec = sub[0]["recorded_polarization"]
            ratio = sub[0]["sigma_helicity_plus_pb"] / sub[0]["sigma_helicity_minus_pb"]
            cells = [cell(sub, p) for p in pols] + [
                f"{cell(sub, rec)} (P = {rec:+g})",
                f"{ratio:.3g}",
            ]
            lines.append(f"| {exp} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV written by :func:`write_csv` (numbers as float)."""
    with path.open() as fh:
        lines = [line for line in fh if not line.startswith("#")]
    out = []
    for r in csv.DictReader(lines):
        row: dict = {}
        for k, v in r.items():
            try:
                row[k] = float(v)
            except ValueError:
                row[k] = v
        out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events-thin", type=int, default=100_000)
    ap.add_argument("--events-na64", type=int, default=8_000)
    ap.add_argument("--points", type=int, default=9, help="P grid points from -1 to +1")
    ap.add_argument("--outdir", type=Path, default=ROOT / "docs" / "figures")
    ap.add_argument(
        "--replot", action="store_true", help="only redraw the figure and table from the CSV"
    )
    args = ap.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    if args.replot:
        rows = read_csv(args.outdir / "polarization_reach.csv")
        plot(rows, args.outdir / "polarization_reach.png")
        print(markdown(rows))
        return
    t0 = time.perf_counter()
    rows = run(args)
    write_csv(rows, args.outdir / "polarization_reach.csv")
    plot(rows, args.outdir / "polarization_reach.png")
    print(markdown(rows))
    print(
        f"wrote {args.outdir}/polarization_reach.csv and .png in {time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
