"""The Standard-Model background table and the reach with background (docs/backgrounds.md).

For NA64-μ, FASERν2 and the thin target (visible and invisible) it runs ``alpgen background``
(:func:`alpgen.estimate_background`: σ, the events through the experiment's cuts, the expected
count with its MC error, the 95 % CL upper limit and the required extra rejection) for every
Standard-Model process, with the experiments' default detector parameters and, for the visible
charge flip, also with a seen scattered muon and 1 % charge misidentification. Then it scans the
thin-target visible and invisible cards over the ALP mass with and without the estimated
background (:func:`alpgen.scanning.scan_points` with the estimate) and draws the two reaches.

Writes docs/figures/background_table.csv (and the same table in Markdown,
background_table.md, as quoted in docs/backgrounds.md), background_reach.csv and
background_reach.png.
FASERν2's beam is the FASERν Run-3 stand-in spectrum, run at the estimate's energy nodes
(:func:`alpgen.background.estimate.spectrum_nodes`).

    python scripts/background_table.py [--events 20000] [--out docs/figures]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

import alpgen
from alpgen.background.estimate import BackgroundEstimate
from alpgen.card import load_card
from alpgen.scanning import rows, scan_points

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "cards"

#: (label, card, --set overrides)
SETUPS = [
    ("NA64-mu (160 GeV, Pb, invisible)", "na64mu_160GeV.toml", []),
    ("FASERnu2 (spectrum, W, chain)", "fasernu2.toml", []),
    ("thin target (1.5 TeV, Pb, invisible)", "thin_target_1p5TeV_invisible.toml", []),
    ("thin target (1.5 TeV, Pb, visible charge flip)", "thin_target_1p5TeV.toml", []),
    (
        "thin target visible, muon seen, charge_misid = 0.01",
        "thin_target_1p5TeV.toml",
        ["detector.muon_veto_inefficiency=0.0", "detector.charge_misid=0.01"],
    ),
]
PROCESSES = ("sm_tautau", "sm_mumu", "charm")
REACH_CARDS = {
    "visible": "thin_target_1p5TeV.toml",
    "invisible": "thin_target_1p5TeV_invisible.toml",
}


def table(events: int, out: Path) -> dict[str, BackgroundEstimate]:
    """The background table: one row per setup and process (and the total)."""
    estimates = {}
    path = out / "background_table.csv"
    cols = [
        "setup",
        "process",
        "sigma_pb",
        "sigma_err_pb",
        "events_per_mot",
        "mot",
        "n_generated",
        "n_mc_passed",
        "expected_events",
        "expected_events_err",
        "expected_events_upper95",
        "required_rejection",
    ]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for label, card_name, sets in SETUPS:
            t0 = time.perf_counter()
            card = load_card(CARDS / card_name, [*sets, f"background.events={events}"])
            est = alpgen.estimate_background(card, PROCESSES)
            estimates[label] = est
            for p in est.processes:
                d = {**p.to_dict(), "mot": est.mot}
                w.writerow([label, p.process, *(repr(d[c]) for c in cols[2:])])
            t = est.total
            w.writerow(
                [
                    label,
                    "total",
                    repr(t["sigma_pb"]),
                    repr(t["sigma_err_pb"]),
                    "",
                    repr(est.mot),
                    "",
                    "",
                    repr(t["expected_events"]),
                    repr(t["expected_events_err"]),
                    repr(t["expected_events_upper95"]),
                    repr(t["required_rejection"]),
                ]
            )
            print(
                f"{label}: {time.perf_counter() - t0:.0f} s, total {t['expected_events']:.3g}"
                f" ± {t['expected_events_err']:.2g}, required {t['required_rejection']:.3g}"
            )
    return estimates


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _num(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, as a×10ⁿ outside [0.01, 10^digits)."""
    if x == 0 or not np.isfinite(x):
        return "0" if x == 0 else "–"
    if 0.01 <= abs(x) < 10**digits:
        return f"{x:.{digits}g}"
    mant, exp = f"{x:.{digits - 1}e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    power = f"10{str(int(exp)).translate(_SUPERSCRIPT)}"
    return power if mant == "1" else f"{mant}×{power}"


def markdown_table(csv_path: Path) -> str:
    """The table of docs/backgrounds.md from background_table.csv (values ± MC errors)."""
    with csv_path.open(newline="") as fh:
        rows_ = list(csv.DictReader(fh))
    lines = [
        "| setup (MOT) | process | σ [pb per nucleus] | per MOT | MC pass / N | expected after "
        "cuts | 95 % CL upper | required rejection |",
        "|---|---|---|---|---|---|---|---|",
    ]
    seen: set[str] = set()
    for r in rows_:
        f = {
            k: float(v) if v not in ("", None) else float("nan")
            for k, v in r.items()
            if k not in ("setup", "process")
        }
        if r["process"] == "total":
            lines.append(
                f"| | **total** | | | | **{_num(f['expected_events'])}"
                + (f" ± {_num(f['expected_events_err'], 2)}" if f["expected_events"] else "")
                + f"** | {_num(f['expected_events_upper95'])}"
                + f" | **{_num(f['required_rejection'])}** |"
            )
            continue
        setup = "" if r["setup"] in seen else f"{r['setup']} ({_num(f['mot'])})"
        seen.add(r["setup"])
        expected = _num(f["expected_events"])
        if f["expected_events"]:
            expected += f" ± {_num(f['expected_events_err'], 2)}"
        lines.append(
            f"| {setup} | {r['process']} | {_num(f['sigma_pb'], 4)} ± {_num(f['sigma_err_pb'], 2)}"
            f" | {_num(f['events_per_mot'])} | {int(f['n_mc_passed'])} / {int(f['n_generated'])}"
            f" | {expected} | {_num(f['expected_events_upper95'])}"
            f" | {_num(f['required_rejection'])} |"
        )
    return "\n".join(lines) + "\n"


def reach(events: int, out: Path, estimates: dict[str, BackgroundEstimate]) -> None:
    """Scan the thin-target cards with and without the estimated background; CSV and figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    masses = np.geomspace(2.0, 30.0, 6)
    backgrounds = {
        "visible": [
            "thin target (1.5 TeV, Pb, visible charge flip)",
            "thin target visible, muon seen, charge_misid = 0.01",
        ],
        "invisible": ["thin target (1.5 TeV, Pb, invisible)"],
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    path = out / "background_reach.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "case",
                "background_setup",
                "m_a_GeV",
                "reach_invTeV",
                "reach_err_invTeV",
                "reach_with_background_invTeV",
                "reach_with_background_err_invTeV",
                "background_events",
                "background_err",
            ]
        )
        for ax, (case, card_name) in zip(axes, REACH_CARDS.items(), strict=True):
            card = load_card(
                CARDS / card_name,
                [
                    f"run.events={events}",
                    f"run.max_count_events={4 * events}",
                    "run.target_precision=0.05",
                ],
            )
            for n_bkg, setup in enumerate(backgrounds[case]):
                est = estimates[setup]
                b, b_err = est.expected_events, est.expected_events_err
                rs = rows(scan_points(card, masses, background=(b, b_err)))
                m = np.array([r["m_a_GeV"] for r in rs])
                r0 = np.array([r["reach_C_over_Lambda_invTeV"] for r in rs])
                e0 = np.array([r["reach_err_invTeV"] for r in rs])
                rb = np.array([r["reach_with_background_C_over_Lambda_invTeV"] for r in rs])
                eb = np.array([r["reach_with_background_C_over_Lambda_err_invTeV"] for r in rs])
                for row in zip(m, r0, e0, rb, eb, strict=True):
                    w.writerow([case, setup, *(repr(float(x)) for x in row), repr(b), repr(b_err)])
                if n_bkg == 0:
                    ax.errorbar(m, r0, e0, marker="o", label="zero background (paper)")
                extra = "" if n_bkg == 0 else " (muon seen, 1 % charge misid.)"
                ax.errorbar(
                    m,
                    rb,
                    eb,
                    marker="s",
                    ls="--",
                    label=f"SM background b = {b:.3g} ± {b_err:.2g}{extra}",
                )
                print(
                    f"{case} / {setup}: b = {b:.3g} ± {b_err:.2g}; reach ratio "
                    f"{np.round(rb / r0, 3)}"
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xticks([2, 3, 5, 10, 20, 30])
            ax.set_xlabel("m_a [GeV]")
            ax.set_ylabel("95 % CL reach C/Λ [TeV⁻¹]")
            ax.set_title(f"thin target 1.5 TeV μ⁻, 2 cm Pb, 10¹⁶ MOT: {case}", fontsize=10)
            ax.legend(fontsize=8)
            ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "background_reach.png", dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20000, help="MC events per background process")
    ap.add_argument("--signal-events", type=int, default=5000, help="signal events per mass")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    estimates = table(args.events, args.out)
    (args.out / "background_table.md").write_text(
        markdown_table(args.out / "background_table.csv"), encoding="utf-8"
    )
    reach(args.signal_events, args.out, estimates)
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
