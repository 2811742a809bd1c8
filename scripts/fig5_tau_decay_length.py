#!/usr/bin/env python3
"""Paper Fig. 5: dσ/dℓ of the τ lab decay length, τ from production (left) and from the ALP (right).

μ⁻ Pb → τ⁻ Pb a with a → μτ (visible ALP), θ = π/4, C/Λ = 1 TeV⁻¹ (g = C m_τ/Λ), at
E_μ = 160 GeV, 1.5 TeV and 5 TeV and m_a = 2 and 10 GeV. The events come from the full
generator (:class:`alpgen.engine.Engine`) with a card built from
cards/thin_target_1p5TeV.toml by ``--set``-style overrides; ℓ is the distance between the τ's
production and decay vertices in the event record (the exponentially sampled lab decay length,
mean βγcτ), so dσ/dℓ = σ × (events per bin) / (N Δℓ), in pb/mm. Shaded: the decay lengths
that a 2 mm (dark) and a 2 cm (light) vertex resolution cannot resolve.

Writes docs/figures/fig5_tau_decay_length.{png,csv}; about 30 s with the defaults.
Usage: python scripts/fig5_tau_decay_length.py [--events N] [--out PATH_STEM]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from alpgen.card import load_card
from alpgen.constants import PID_TAU
from alpgen.engine import Engine
from alpgen.events import SLOT_ALP, SLOT_LEPTON

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "cards" / "thin_target_1p5TeV.toml"
ENERGIES = (160.0, 1500.0, 5000.0)  # GeV
MASSES = (2.0, 10.0)  # GeV
EDGES = np.geomspace(1e-4, 1e5, 91)  # mm
RESOLUTIONS_MM = (2.0, 20.0)


def tau_decay_lengths(batch) -> tuple[np.ndarray, np.ndarray]:
    """Lab decay lengths (mm) of the produced τ and of the τ from the ALP decay, one per event
    (NaN where that τ did not decay in the record or the ALP gave no τ)."""
    n = len(batch)
    rows = np.arange(n)

    def length(slot: np.ndarray) -> np.ndarray:
        dv = batch.decay_vertex(slot) - batch.vertex[rows, slot]
        return np.linalg.norm(dv[:, :3], axis=1)

    produced = length(np.full(n, SLOT_LEPTON))
    from_alp = (np.abs(batch.pid) == PID_TAU) & (batch.mother[..., 0] == SLOT_ALP)
    has = from_alp.any(axis=1)
    slot = np.argmax(from_alp, axis=1)
    alp_tau = np.where(has, length(slot), np.nan)
    return produced, alp_tau


def run_point(e_beam: float, m_a: float, n_events: int, seed: int) -> dict:
    overrides = [
        f"beam.energy={e_beam}",
        f"model.m_a={m_a}",
        "model.C_over_Lambda=1.0",
        "model.theta=0.7853981633974483",
        "decays.alp=visible",
        "decays.tau=all",
        f"run.events={n_events}",
        "run.batch_size=50000",
        f"run.seed={seed}",
        "production.precision=0.01",
    ]
    card = load_card(CARD, overrides)
    src = Engine(card)
    hists = {"production": np.zeros(len(EDGES) - 1), "alp": np.zeros(len(EDGES) - 1)}
    above = {k: np.zeros(len(RESOLUTIONS_MM)) for k in hists}
    mean = dict.fromkeys(hists, 0.0)
    wsum = 0.0
    for batch in src.batches():
        w = batch.weight
        wsum += w.sum()
        for key, ell in zip(hists, tau_decay_lengths(batch), strict=True):
            ok = np.isfinite(ell)
            hists[key] += np.histogram(ell[ok], EDGES, weights=w[ok])[0]
            above[key] += [np.sum(w[ok] * (ell[ok] > r)) for r in RESOLUTIONS_MM]
            mean[key] += np.sum(w[ok] * ell[ok])
    sigma = src.sigma_pb
    width = np.diff(EDGES)
    return {
        "E": e_beam,
        "m_a": m_a,
        "sigma_pb": sigma,
        "sigma_err_pb": src.integrated.xsec.sigma_err_pb,
        "n": n_events,
        # dσ/dℓ in pb/mm and its statistical error (unit weights: Poisson in each bin)
        "dsdl": {k: sigma * h / (wsum * width) for k, h in hists.items()},
        "err": {k: sigma * np.sqrt(h) / (wsum * width) for k, h in hists.items()},
        "frac_above": {k: v / wsum for k, v in above.items()},
        "mean_mm": {k: v / wsum for k, v in mean.items()},
    }


def write_csv(points: list[dict], path: Path) -> None:
    lines = [
        "# Fig. 5: d sigma / d l (pb/mm) of the tau lab decay length l (mm); mu- Pb -> tau- Pb a,"
        " a -> mu tau, theta = pi/4, C/Lambda = 1 TeV^-1, g = C m_tau/Lambda; alpgen events",
        "# panel = production (tau produced with the ALP) or alp (tau from the ALP decay)",
    ]
    for p in points:
        fr = {k: ", ".join(f"{f:.4f}" for f in v) for k, v in p["frac_above"].items()}
        lines.append(
            f"# E_mu={p['E']:g} GeV m_a={p['m_a']:g} GeV: sigma={p['sigma_pb']:.5e}"
            f" +- {p['sigma_err_pb']:.1e} pb, N={p['n']}; mean l: production"
            f" {p['mean_mm']['production']:.4g} mm, alp {p['mean_mm']['alp']:.4g} mm; fraction"
            f" with l > (2 mm, 2 cm): production ({fr['production']}), alp ({fr['alp']})"
        )
    lines.append("panel,E_mu_GeV,m_a_GeV,l_lo_mm,l_hi_mm,dsigma_dl_pb_per_mm,stat_err_pb_per_mm")
    for p in points:
        for key in ("production", "alp"):
            for lo, hi, v, e in zip(
                EDGES[:-1], EDGES[1:], p["dsdl"][key], p["err"][key], strict=True
            ):
                lines.append(f"{key},{p['E']:g},{p['m_a']:g},{lo:.6g},{hi:.6g},{v:.6g},{e:.3g}")
    path.write_text("\n".join(lines) + "\n")


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {160.0: "tab:blue", 1500.0: "tab:orange", 5000.0: "tab:green"}
    styles = {2.0: "-", 10.0: "--"}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    titles = {"production": r"$\tau$ from production", "alp": r"$\tau$ from $a\to\mu\tau$"}
    for ax, key in zip(axes, ("production", "alp"), strict=True):
        ax.axvspan(EDGES[0], RESOLUTIONS_MM[1], color="0.92", zorder=0, label="< 2 cm")
        ax.axvspan(EDGES[0], RESOLUTIONS_MM[0], color="0.80", zorder=0, label="< 2 mm")
        for p in points:
            y = np.where(p["dsdl"][key] > 0, p["dsdl"][key], np.nan)
            e_label = f"{p['E'] / 1000:g} TeV" if p["E"] >= 1000 else f"{p['E']:g} GeV"
            ax.stairs(
                y,
                EDGES,
                color=colors[p["E"]],
                linestyle=styles[p["m_a"]],
                label=rf"$E_\mu$ = {e_label}, $m_a$ = {p['m_a']:g} GeV",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1e-3, 1e5)
        ax.set_xlabel(r"$\tau$ decay length $\ell$ [mm]")
        ax.set_title(titles[key])
        ax.grid(alpha=0.3, which="major")
    axes[0].set_ylabel(r"$d\sigma/d\ell$ [pb/mm]")
    ymax = max(np.nanmax(p["dsdl"][k]) for p in points for k in ("production", "alp"))
    axes[0].set_ylim(ymax * 1e-9, ymax * 5)
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(
        r"$\mu^- \mathrm{Pb} \to \tau^- \mathrm{Pb}\, a$, $a \to \mu\tau$,"
        r" $C/\Lambda$ = 1 TeV$^{-1}$, $\theta = \pi/4$",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=150)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000, help="events per (E, m_a) point")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "figures" / "fig5_tau_decay_length")
    args = ap.parse_args()
    t0 = time.perf_counter()
    points = []
    for m_a in MASSES:
        for e in ENERGIES:
            t1 = time.perf_counter()
            p = run_point(e, m_a, args.events, args.seed)
            points.append(p)
            print(
                f"E={e:6g} GeV m_a={m_a:4g} GeV  σ={p['sigma_pb']:.4e} pb  mean ℓ: production "
                f"{p['mean_mm']['production']:.3g} mm, ALP τ {p['mean_mm']['alp']:.3g} mm; "
                f"ℓ > 2 mm / 2 cm: {p['frac_above']['production'][0]:.3f} / "
                f"{p['frac_above']['production'][1]:.3f} (production), "
                f"{p['frac_above']['alp'][0]:.3f} / {p['frac_above']['alp'][1]:.3f} (ALP)"
                f"  [{time.perf_counter() - t1:.1f} s]"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(points, args.out.with_suffix(".csv"))
    plot(points, args.out.with_suffix(".png"))
    print(f"wrote {args.out}.csv/.png in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
