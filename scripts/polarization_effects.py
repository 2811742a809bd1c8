#!/usr/bin/env python
"""Consequences of the τ polarization: detector efficiencies and the τ → πν energy fraction.

Compares ``[decays] tau_polarization = "matrix_element"`` (the produced τ's lab helicity drawn
from the helicity-resolved production |M|²) with ``"unpolarized"`` (±1 at random):

(a) the efficiencies ε = Σ_selected w / N_generated of NA64-μ (``cards/na64mu_160GeV.toml``:
    τ → μνν with the muon below 80 GeV), of the thin target with a visible ALP
    (``cards/thin_target_1p5TeV.toml``) and with an invisible one
    (``cards/thin_target_1p5TeV_invisible.toml``), at θ = π/4 (largest τ polarization) and
    θ = π/2 (pure scalar coupling: no net polarization from production, see
    ``generator/production/helicity.py``);
(b) the distribution of x = E_π/E_τ in τ → πν for the τ from production and for the τ from
    a → μτ (thin-target visible card, θ = π/4, both τ forced to πν), with and without
    polarization. The card switch only concerns the produced τ; the ALP-decay τ's helicity
    always comes from the a → μτ amplitude, so its "unpolarized" sample replaces that helicity
    by ±1 drawn at random here.

Paired samples: both settings use the same card seed, and the switch changes nothing but the
drawn helicities (same random streams, same number of draws), so event i of the two samples has
the same hard process, decay channels, decay lengths and decay uniforms (asserted below). The
difference Δε is therefore estimated event by event, with error std(w_me·s_me − w_un·s_un)/√N,
much smaller than the two independent errors.

Writes ``docs/figures/polarization_efficiencies.csv``, ``polarization_pion_fraction.csv`` and
``polarization_pion_fraction.png`` and prints a summary. About 2.5 minutes on 2 cores::

    python scripts/polarization_effects.py [--events-na64 800000] [--events-thin 200000]
                                           [--events-x 300000] [--outdir docs/figures]
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alpgen.card import RunCard, load_card
from alpgen.constants import M_PI, M_TAU, PID_ALP, PID_TAU
from alpgen.decays.chain import DecayConfig, decay_batch
from alpgen.engine import Engine
from alpgen.events import SLOT_ALP, SLOT_LEPTON, EventBatch

ROOT = Path(__file__).resolve().parents[1]
THETAS = {"pi/4": math.pi / 4, "pi/2": math.pi / 2}
EXPERIMENTS = {
    "na64mu": "cards/na64mu_160GeV.toml",
    "thin_target_visible": "cards/thin_target_1p5TeV.toml",
    "thin_target_invisible": "cards/thin_target_1p5TeV_invisible.toml",
}
MODES = ("matrix_element", "unpolarized")
X_BINS = np.linspace(0.0, 1.0, 21)
PION_CHANNEL = "tau->pi nu"


def card_for(path: str, theta: float, mode: str, n: int, extra: tuple[str, ...] = ()) -> RunCard:
    return load_card(
        ROOT / path,
        [
            f"model.theta={theta!r}",
            f"decays.tau_polarization={mode}",
            f"run.events={n}",
            "run.batch_size=50000",
            *extra,
        ],
    )


def counter_for(card: RunCard, n: int):
    """The card's fast detector (as ``alpgen run`` builds it)."""
    from alpgen.detectors.config import DetectorConfig
    from alpgen.detectors.counting import Counter

    return Counter(
        DetectorConfig.from_card(dict(card.detector)),
        target=card.target_material,
        thickness_cm=card.target.thickness_cm,
        n_generated=n,
        coupling_C_over_Lambda=card.C_over_Lambda,
    )


def assert_paired(a: EventBatch, b: EventBatch) -> None:
    """The two settings must give the same events up to the τ helicities (module docstring)."""
    if not (np.array_equal(a.pid, b.pid) and np.array_equal(a.p[:, :5], b.p[:, :5])):
        raise RuntimeError("the two polarization settings did not give paired samples")


# --------------------------------------------------------------------------------------------
# (a) efficiencies


@dataclass
class EfficiencyRow:
    experiment: str
    theta: str
    n_events: int
    eff_me: float
    err_me: float
    eff_unpol: float
    err_unpol: float
    diff: float
    diff_err: float
    mean_helicity_me: float
    mean_helicity_me_err: float
    events_differing: int
    cutflow: str  # "cut: n_MC(me)/n_MC(unpol)" after each cut

    @property
    def rel_diff(self) -> float:
        return self.diff / self.eff_unpol if self.eff_unpol > 0 else float("nan")


def efficiencies(experiment: str, theta_name: str, n: int) -> EfficiencyRow:
    """ε with and without τ polarization on paired samples of ``n`` events."""
    theta = THETAS[theta_name]
    cards = {m: card_for(EXPERIMENTS[experiment], theta, m, n) for m in MODES}
    sources = {m: Engine(cards[m]) for m in MODES}
    counters = {m: counter_for(cards[m], n) for m in MODES}
    size = cards[MODES[0]].run.batch_size
    diffs, hel, differing = [], [], 0
    for index in range(math.ceil(n / size)):
        m_n = min(size, n - index * size)
        batches = {m: sources[m].batch(index, m_n) for m in MODES}
        assert_paired(batches["matrix_element"], batches["unpolarized"])
        sel = {}
        for m in MODES:
            counters[m].add(batches[m])
            sel[m] = counters[m].selected(batches[m]) * batches[m].weight
        diffs.append(sel["matrix_element"] - sel["unpolarized"])
        differing += int(np.count_nonzero(diffs[-1]))
        hel.append(batches["matrix_element"].spin[:, SLOT_LEPTON])
    res = {m: counters[m].result(sigma_pb=sources[m].sigma_pb) for m in MODES}
    d = np.concatenate(diffs)
    h = np.concatenate(hel)
    return EfficiencyRow(
        experiment=experiment,
        theta=theta_name,
        n_events=n,
        eff_me=res["matrix_element"].efficiency,
        err_me=res["matrix_element"].efficiency_error,
        eff_unpol=res["unpolarized"].efficiency,
        err_unpol=res["unpolarized"].efficiency_error,
        diff=float(d.mean()),
        diff_err=float(d.std(ddof=1) / math.sqrt(len(d))),
        mean_helicity_me=float(h.mean()),
        mean_helicity_me_err=float(h.std(ddof=1) / math.sqrt(len(h))),
        events_differing=differing,
        cutflow="; ".join(
            f"{c}: {a}/{b}"
            for c, a, b in zip(
                counters[MODES[0]].selection.cut_names,
                counters["matrix_element"].n_mc,
                counters["unpolarized"].n_mc,
                strict=True,
            )
        ),
    )


# --------------------------------------------------------------------------------------------
# (b) x = E_π / E_τ


def _pion_fractions(ev: EventBatch, tau_mask: np.ndarray) -> np.ndarray:
    """x = E_π/E_τ for the τ slots selected by ``tau_mask`` [N, K] (decayed to πν)."""
    rows, slots = np.nonzero(tau_mask)
    first = ev.daughter[rows, slots, 0]
    last = ev.daughter[rows, slots, 1]
    x = np.full(len(rows), np.nan)
    for k in range(2):  # πν: the pion is one of the two daughters
        d = first + k
        ok = (d <= last) & (np.abs(ev.pid[rows, d]) == 211)
        x[ok] = ev.p[rows[ok], d[ok], 3] / ev.p[rows[ok], slots[ok], 3]
    return x[np.isfinite(x)]


def _alp_tau_mask(ev: EventBatch) -> np.ndarray:
    mask = np.zeros(ev.pid.shape, bool)
    n_slots = ev.pid.shape[1]
    idx = np.arange(n_slots)[None, :]
    alp = (ev.pid[:, SLOT_ALP] == PID_ALP) & (ev.daughter[:, SLOT_ALP, 0] >= 0)
    lo = ev.daughter[:, SLOT_ALP, 0][:, None]
    hi = ev.daughter[:, SLOT_ALP, 1][:, None]
    mask[:] = alp[:, None] & (idx >= lo) & (idx <= hi) & (np.abs(ev.pid) == PID_TAU)
    return mask


def pion_fraction_samples(n: int, m_a: float, seed: int = 7) -> dict[str, dict[str, np.ndarray]]:
    """x samples {"production"|"alp": {mode: x}} from the thin-target visible card at θ = π/4
    and ALP mass ``m_a`` (GeV), plus {"helicity"|"helicity_production": {mode: h}}: the ALP
    (produced) τ's lab helicity times (−charge), the sign with which it enters the x
    distribution (CP: τ⁺ with −h decays like τ⁻ with h).

    τ's are generated undecayed with their helicities (``decays.tau = "none"``), then every τ is
    decayed to πν with the same random stream in the two settings."""
    out: dict[str, dict[str, np.ndarray]] = {
        k: {} for k in ("production", "alp", "helicity", "helicity_production")
    }
    for mode in MODES:
        card = card_for(
            EXPERIMENTS["thin_target_visible"],
            THETAS["pi/4"],
            mode,
            n,
            ('decays.tau="none"', f"model.m_a={m_a!r}"),
        )
        source = Engine(card)
        config = DecayConfig(alp="visible", tau=(PION_CHANNEL,))
        xs_p, xs_a, hel_a, hel_p = [], [], [], []
        for index, batch in enumerate(source.batches()):
            alp_tau = _alp_tau_mask(batch)
            if mode == "unpolarized":  # the ALP τ: replace the a → μτ helicity by a coin flip
                coin = np.random.default_rng([seed, index, 1])
                batch.spin[alp_tau] = np.where(coin.random(int(alp_tau.sum())) < 0.5, 1.0, -1.0)
            hel_a.append(batch.spin[alp_tau] * np.sign(batch.pid[alp_tau]))
            hel_p.append(batch.spin[:, SLOT_LEPTON] * np.sign(batch.pid[:, SLOT_LEPTON]))
            ev = decay_batch(batch, source.model, config, np.random.default_rng([seed, index]))
            prod = np.zeros(ev.pid.shape, bool)
            prod[:, SLOT_LEPTON] = np.abs(ev.pid[:, SLOT_LEPTON]) == PID_TAU
            xs_p.append(_pion_fractions(ev, prod))
            xs_a.append(_pion_fractions(ev, _alp_tau_mask(ev)))
        out["production"][mode] = np.concatenate(xs_p)
        out["alp"][mode] = np.concatenate(xs_a)
        out["helicity"][mode] = np.concatenate(hel_a)
        out["helicity_production"][mode] = np.concatenate(hel_p)
    return out


def alp_tau_mean_helicity(m_a: float) -> float:
    """Expected ⟨h·(−charge)⟩ of the τ from a → μτ at θ = π/4 (paper convention, S = P) for a
    very fast ALP (γ_a ≫ 1), computed by hand from physics.md §2.1, independently of
    generator/decays/alp.py: |A_h| = 2√(X₋X₊)/(X₋ + X₊) in the ALP frame; the lab helicity of a
    τ emitted at cos θ* to the boost is λ (β* + cos θ*)/(1 + β* cos θ*), whose average over an
    isotropic decay is g(β*) = [1 − (1 − β*²)/(2β*) ln((1 + β*)/(1 − β*))]/β*."""
    from alpgen.constants import M_MU

    xm = m_a**2 - (M_MU + M_TAU) ** 2
    xp = m_a**2 - (M_TAU - M_MU) ** 2
    a_h = 2.0 * math.sqrt(xm * xp) / (xm + xp)
    e_star = (m_a**2 + M_TAU**2 - M_MU**2) / (2 * m_a)
    beta = math.sqrt(e_star**2 - M_TAU**2) / e_star
    g = (1.0 - (1.0 - beta**2) / (2.0 * beta) * math.log((1.0 + beta) / (1.0 - beta))) / beta
    return a_h * g


def collinear_mean_x(helicity: float) -> float:
    """⟨x⟩ of τ⁻ → π⁻ν for E_τ ≫ m_τ and mean helicity h: (1 + r)/2 + h (1 − r)/6."""
    r = (M_PI / M_TAU) ** 2
    return 0.5 * (1 + r) + helicity * (1 - r) / 6


def histogram(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts, _ = np.histogram(x, X_BINS)
    width = np.diff(X_BINS)
    return counts / (len(x) * width), np.sqrt(counts) / (len(x) * width)


#: (label, ALP mass in GeV, sample key) of the x panels and CSV column groups
X_PANELS = (
    ("production_ma2", 2.0, "production"),
    ("alp_ma2", 2.0, "alp"),
    ("alp_ma10", 10.0, "alp"),
)


def plot_pion_fraction(samples, path: Path) -> None:
    """``samples[m_a]`` as returned by :func:`pion_fraction_samples`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(X_PANELS), figsize=(13, 4.2), sharey=True)
    titles = {
        "production": r"produced $\tau^-$ ($\mu^-$Pb$\to\tau^-$Pb$a$), $m_a$ = {:g} GeV",
        "alp": r"$\tau$ from $a\to\mu\tau$ (CP-combined), $m_a$ = {:g} GeV",
    }
    centres = 0.5 * (X_BINS[1:] + X_BINS[:-1])
    for ax, (_, m_a, key) in zip(axes, X_PANELS, strict=True):
        for mode, colour in zip(MODES, ("C0", "C3"), strict=True):
            x = samples[m_a][key][mode]
            y, err = histogram(x)
            ax.stairs(
                y, X_BINS, color=colour, label=f"{mode.replace('_', ' ')}: ⟨x⟩ = {x.mean():.3f}"
            )
            ax.errorbar(centres, y, err, fmt="none", color=colour, lw=0.8)
        ax.set_title(titles[key].format(m_a), fontsize=9)
        ax.set_xlabel(r"$x = E_\pi / E_\tau$  ($\tau\to\pi\nu$)")
        ax.set_xlim(0, 1)
        ax.legend(fontsize=8, loc="lower center")
    axes[0].set_ylabel(r"$(1/N)\,dN/dx$")
    fig.suptitle(
        r"1.5 TeV $\mu^-$ on 2 cm Pb, $\theta=\pi/4$ (paper couplings), all $\tau\to\pi\nu$",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def write_pion_csv(samples, path: Path) -> None:
    cols = {}
    for label, m_a, key in X_PANELS:
        for mode in MODES:
            y, err = histogram(samples[m_a][key][mode])
            cols[f"{label}_{mode}"], cols[f"{label}_{mode}_err"] = y, err
    with path.open("w", newline="") as fh:
        fh.write(
            "# (1/N) dN/dx of x = E_pi/E_tau in tau -> pi nu; thin-target visible card (1.5 TeV "
            "mu- on Pb, theta = pi/4, paper couplings), m_a = 2 and 10 GeV; production = the "
            "produced tau-, alp = the tau from a -> mu tau (both charges); "
            "scripts/polarization_effects.py\n"
        )
        w = csv.writer(fh)
        w.writerow(["x_lo", "x_hi", *cols])
        for i in range(len(X_BINS) - 1):
            w.writerow(
                [
                    f"{X_BINS[i]:.3f}",
                    f"{X_BINS[i + 1]:.3f}",
                    *(f"{v[i]:.5g}" for v in cols.values()),
                ]
            )


def write_efficiency_csv(rows: list[EfficiencyRow], path: Path) -> None:
    with path.open("w", newline="") as fh:
        fh.write(
            "# efficiencies with tau_polarization = matrix_element (me) and unpolarized, paired "
            "samples (same seed); diff = eff_me - eff_unpol with its event-by-event error; "
            "scripts/polarization_effects.py\n"
        )
        w = csv.writer(fh)
        names = [
            "experiment",
            "theta",
            "n_events",
            "eff_me",
            "err_me",
            "eff_unpol",
            "err_unpol",
            "diff",
            "diff_err",
            "rel_diff",
            "mean_helicity_me",
            "mean_helicity_me_err",
            "events_differing",
            "cutflow",
        ]
        w.writerow(names)
        for r in rows:
            vals = [getattr(r, k) for k in names]
            w.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in vals])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events-na64", type=int, default=800_000)
    ap.add_argument("--events-thin", type=int, default=200_000)
    ap.add_argument("--events-x", type=int, default=300_000)
    ap.add_argument("--outdir", type=Path, default=ROOT / "docs" / "figures")
    args = ap.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    rows = []
    for exp in EXPERIMENTS:
        n = args.events_na64 if exp == "na64mu" else args.events_thin
        for theta_name in THETAS:
            t0 = time.perf_counter()
            r = efficiencies(exp, theta_name, n)
            rows.append(r)
            print(
                f"{exp:22s} θ={theta_name:4s} N={n:7d}  ⟨h_τ⟩={r.mean_helicity_me:+.4f}"
                f"±{r.mean_helicity_me_err:.4f}  ε_ME={r.eff_me:.5f}±{r.err_me:.5f}  "
                f"ε_unpol={r.eff_unpol:.5f}±{r.err_unpol:.5f}  Δε={r.diff:+.6f}±{r.diff_err:.6f}"
                f" ({r.rel_diff:+.2%}, {r.diff / r.diff_err if r.diff_err else 0:+.1f}σ; "
                f"{r.events_differing} events differ)  [{time.perf_counter() - t0:.0f} s]",
                flush=True,
            )
            print(f"    cutflow n_MC (matrix_element/unpolarized): {r.cutflow}")
    write_efficiency_csv(rows, args.outdir / "polarization_efficiencies.csv")

    t0 = time.perf_counter()
    samples = {m_a: pion_fraction_samples(args.events_x, m_a) for m_a in (2.0, 10.0)}
    for label, m_a, key in X_PANELS:
        s = samples[m_a]
        for mode in MODES:
            x = s[key][mode]
            h = s["helicity" if key == "alp" else "helicity_production"][mode]
            extra = f"  ⟨h·(−q)⟩ = {h.mean():+.4f}±{h.std(ddof=1) / math.sqrt(len(h)):.4f}"
            print(
                f"x(τ→πν) {label:15s} {mode:14s} n={len(x):6d} ⟨x⟩ = {x.mean():.4f}"
                f"±{x.std(ddof=1) / math.sqrt(len(x)):.4f}{extra}"
            )
        h_me = s["helicity" if key == "alp" else "helicity_production"]["matrix_element"].mean()
        print(f"  collinear ⟨x⟩ from the measured ⟨h⟩: {collinear_mean_x(h_me):.4f}", end="")
        if key == "alp":
            print(f"; expected ⟨h·(−q)⟩ (γ_a → ∞, by hand) = {alp_tau_mean_helicity(m_a):+.4f}")
        else:
            print()
    write_pion_csv(samples, args.outdir / "polarization_pion_fraction.csv")
    plot_pion_fraction(samples, args.outdir / "polarization_pion_fraction.png")
    print(f"collinear ⟨x⟩ unpolarized: {collinear_mean_x(0.0):.4f}")
    t1 = time.perf_counter()
    print(f"x samples {t1 - t0:.0f} s; total {t1 - t_start:.0f} s")


if __name__ == "__main__":
    main()
