"""Support for the paper-figure scripts (``scripts/fig6_*.py``, ``scripts/fig7_*.py``).

Several cards × detector variants scanned into one long table (:data:`CURVE_COLUMNS`), and the
command line those scripts share. An edge module like the CLI: it prints, nothing imports it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .scanning import PointResult, scan_points, write_csv

if TYPE_CHECKING:
    from .backends import Backend

__all__ = ["CURVE_COLUMNS", "curve_rows", "figure_main", "scan_setups"]


#: Columns of the long-format reach tables written by the figure scripts.
CURVE_COLUMNS = (
    "curve",
    "experiment",
    "selection",
    "resolution_mm",
    "mot",
    "m_a_GeV",
    "m_chi_GeV",
    "sigma_pb",
    "sigma_err_pb",
    "efficiency",
    "eff_err",
    "signal_per_mot",
    "reach_C_over_Lambda_invTeV",
    "reach_err_invTeV",
    "reach_fixed_br_invTeV",
    "n_solutions",
    "n_events",
)


def curve_rows(
    results: Sequence[PointResult], variant: int, curve: str, config: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Long-format rows (:data:`CURVE_COLUMNS`) of one detector variant of a scan.

    ``config`` gives the experiment name, selection, resolution and MOT used for closed points
    (which have no detector result)."""
    out = []
    for r in results:
        v = r.variants[variant] if r.variants else None
        det = v.detector if v else config
        nan = math.nan
        out.append(
            {
                "curve": curve,
                "experiment": det.get("name", ""),
                "selection": det.get("selection", ""),
                "resolution_mm": det.get("resolution_mm", nan),
                "mot": det.get("mot", nan),
                "m_a_GeV": r.m_a,
                "m_chi_GeV": r.m_chi if r.m_chi is not None else "",
                "sigma_pb": r.sigma_pb,
                "sigma_err_pb": r.sigma_err_pb,
                "efficiency": v.efficiency if v else nan,
                "eff_err": v.eff_err if v else nan,
                "signal_per_mot": v.signal_per_mot if v else 0.0,
                "reach_C_over_Lambda_invTeV": v.reach if v else nan,
                "reach_err_invTeV": v.reach_err if v else nan,
                # N ∝ (C/Λ)² with the branching ratio frozen at its reference-coupling value
                "reach_fixed_br_invTeV": v.reach_prompt if v else nan,
                "n_solutions": v.n_solutions if v else 0,
                "n_events": v.n_events if v else r.n_events,
            }
        )
    return out


def scan_setups(
    setups: Sequence[tuple[str, Sequence[tuple[str, Mapping[str, Any]]]]],
    masses: Iterable[float],
    *,
    overrides: Sequence[str] = (),
    backend: Backend | None = None,
    progress: bool = True,
    n_events: int | None = None,
) -> list[dict[str, Any]]:
    """Scan several cards, each with several detector variants on the same events.

    ``setups``: ``[(card_path, [(curve_label, detector_overrides), ...]), ...]``; ``overrides``:
    ``--set`` strings applied to every card; ``n_events``: the fewest events counted per mass
    (each curve continues to ``[run] target_precision``). Returns :data:`CURVE_COLUMNS` rows.
    """
    from .card import load_card

    table: list[dict[str, Any]] = []
    masses = list(masses)
    for path, curves in setups:
        card = load_card(path, overrides)
        variants = [dict(v) for _, v in curves]
        results = scan_points(
            card,
            masses,
            backend=backend,
            variants=variants,
            n_events=n_events,
            progress=_printer(Path(path).stem) if progress else None,
        )
        for i, (label, v) in enumerate(curves):
            config = {**dict(card.detector or {}), **v}
            table += curve_rows(results, i, label, config)
    return table


def figure_main(
    argv: Sequence[str] | None,
    *,
    name: str,
    description: str,
    setups: Sequence[tuple[str, Sequence[tuple[str, Mapping[str, Any]]]]],
    mass_range: tuple[float, float],
    defaults: Mapping[str, float],
    make_figure: Callable[..., Any],
    constraint_rows: Callable[..., list[dict[str, Any]]],
    out_dir: Path,
) -> int:
    """The command line shared by the paper-figure scripts (``scripts/fig6_*.py``, ...).

    Scans ``setups`` (card path, detector variant) over log-spaced masses in ``mass_range``,
    writes ``<name>_reach.csv`` and ``<name>_constraints.csv`` next to the PNG and prints the
    reach per curve. ``defaults`` holds ``events``, ``masses`` and ``precision``.
    """
    import argparse

    from .backends import ProcessPoolBackend

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--events", type=int, default=int(defaults["events"]))
    p.add_argument("--masses", type=int, default=int(defaults["masses"]))
    p.add_argument("--precision", type=float, default=float(defaults["precision"]))
    p.add_argument(
        "--target-precision",
        type=float,
        default=None,
        help="relative MC error of the reach to count to at each point (default: the cards')",
    )
    p.add_argument("--workers", type=int, default=None, help="process-pool workers")
    p.add_argument("--out", default=str(out_dir))
    args = p.parse_args(argv)

    masses = np.geomspace(*mass_range, args.masses)
    overrides = [f"run.events={args.events}", f"production.precision={args.precision}"]
    if args.target_precision is not None:
        overrides.append(f"run.target_precision={args.target_precision}")
    with ProcessPoolBackend(args.workers) as backend:
        table = scan_setups(
            list(setups), masses, overrides=overrides, backend=backend, n_events=args.events
        )
    cons = constraint_rows(np.geomspace(*mass_range, 200))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = name.split("_")[0]
    write_csv(out / f"{stem}_reach.csv", table, CURVE_COLUMNS)
    write_csv(out / f"{stem}_constraints.csv", cons, list(cons[0]))
    make_figure(table, cons).savefig(out / f"{name}.png", dpi=130)
    for r in table:
        reach, err = r["reach_C_over_Lambda_invTeV"], r["reach_err_invTeV"]
        print(f"{r['curve']:<24} m_a = {r['m_a_GeV']:7.3f} GeV  reach = {reach:.4g} ± {err:.2g}")
    print(f"wrote {out}/{name}.png, {stem}_reach.csv, {stem}_constraints.csv", file=sys.stderr)
    return 0


def _printer(description: str) -> Callable[[int, int, str], None]:
    def report(done: int, total: int, message: str) -> None:
        print(f"{description}: {done}/{total} masses {message}", file=sys.stderr)

    return report
