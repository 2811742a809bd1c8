"""The ``alpgen`` command line: ``run``, ``xsec``, ``model``, ``scan``, ``detect``.

User errors (bad cards, bad ``--set`` values, missing files) exit with status 2 and one message
naming the key or file, before any work starts. SIGINT/SIGTERM during ``run`` exit 130/143.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__
from .card import CardError, RunCard, load_card

EXIT_USAGE = 2


class UsageError(Exception):
    """A user error that is not tied to a card key (e.g. a bad CLI argument)."""


def _card(args: argparse.Namespace) -> RunCard:
    return load_card(args.card, args.set or ())


def _add_card_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("card", help="TOML run card")
    p.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override a card value (repeatable); VALUE is read as TOML, a bare word as text",
    )


# --------------------------------------------------------------------------------------------
# alpgen model


def cmd_model(args: argparse.Namespace) -> int:
    from .pipeline import model_summary

    card = _card(args)
    summary = model_summary(card)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"ALP model — {card.run.name}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if isinstance(value, float):
            text = f"{value:.6g}"
        elif isinstance(value, list):
            text = "[" + ", ".join(f"{x:.4g}" for x in value) + "]"
        else:
            text = str(value)
        table.add_row(key, text)
    Console().print(table)
    return 0


# --------------------------------------------------------------------------------------------
# alpgen xsec


def cmd_xsec(args: argparse.Namespace) -> int:
    card = _card(args)
    from .pipeline import compute_cross_section

    xs = compute_cross_section(card, precision=args.precision, progress=not args.json)
    out = xs.to_dict()
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    sigma, err = out["sigma_pb"], out["sigma_err_pb"]
    unit, f = ("fb", 1e3) if sigma < 1e-2 else ("pb", 1.0)
    print(
        f"σ({card.beam.particle} {card.target.material} → {card.production.lepton_out} "
        f"{card.target.material} a) at m_a = {card.model.m_a:g} GeV"
    )
    print(f"  total       = {sigma * f:.6g} ± {err * f:.2g} {unit}")
    print(f"  coherent    = {out['sigma_coherent_pb'] * f:.6g} {unit}")
    print(f"  incoherent  = {out['sigma_incoherent_pb'] * f:.6g} {unit}")
    print(f"  beam polarization P = {out['beam_polarization']:+g}; fully polarized beam:")
    for h, name in ((-1, "minus"), (1, "plus")):
        v, e = out[f"sigma_helicity_{name}_pb"], out[f"sigma_helicity_{name}_err_pb"]
        print(f"  helicity {h:+d} = {v * f:.6g} ± {e * f:.2g} {unit}")
    rel = err / sigma if sigma > 0 else 0.0
    print(f"  precision   = {rel:.2%}   time = {out['time_s']:.2f} s")
    return 0


# --------------------------------------------------------------------------------------------
# alpgen run / scan / detect


def cmd_run(args: argparse.Namespace) -> int:
    card = _card(args)
    from .pipeline import run

    return run(card, force=args.force, quiet=args.quiet)


def cmd_scan(args: argparse.Namespace) -> int:
    card = _card(args)
    from .scan import parse_masses, run_scan

    try:
        masses = parse_masses(args.masses, log=args.log)
    except ValueError as exc:
        raise UsageError(f"--masses {args.masses!r}: {exc}") from None
    return run_scan(
        card, masses, workers=args.workers, scheduler=args.scheduler, out=args.out, force=args.force
    )


def cmd_detect(args: argparse.Namespace) -> int:
    from .detect import detect_file

    return detect_file(
        args.file, args.detector, args.set or (), sigma_pb=args.sigma_pb, json_out=args.json
    )


# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alpgen",
        description="Event generator for lepton-flavour-violating ALPs: μ A → τ A a.",
    )
    parser.add_argument("--version", action="version", version=f"alpgen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="integrate, generate, decay, write events and count signal")
    _add_card_args(p)
    p.add_argument("--force", action="store_true", help="overwrite an existing output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("xsec", help="integrate the production cross section")
    _add_card_args(p)
    p.add_argument(
        "--precision",
        type=float,
        default=None,
        help="relative precision to stop at (default: production.precision, 0.5%%)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_xsec)

    p = sub.add_parser("model", help="ALP widths, branching ratios, lifetime, (g−2)_μ")
    _add_card_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("scan", help="reach scan over ALP masses")
    _add_card_args(p)
    p.add_argument(
        "--masses", required=True, metavar="START:STOP:N", help="ALP masses in GeV, e.g. 2:40:25"
    )
    p.add_argument("--log", action="store_true", help="log-spaced masses")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="start a local dask cluster with N workers (default: process pool)",
    )
    p.add_argument("--scheduler", default=None, help="address of an existing dask scheduler")
    p.add_argument("--out", default=None, help="output directory (default: runs/<name>_scan)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output directory")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("detect", help="run a fast detector on a HepMC3 event file")
    p.add_argument("file", help="HepMC3 file (e.g. events.hepmc3 written by alpgen run)")
    p.add_argument("--detector", required=True, help="na64mu, fasernu2 or thin_target")
    p.add_argument(
        "--set",
        action="append",
        metavar="detector.KEY=VALUE",
        help="override a detector key (repeatable)",
    )
    p.add_argument(
        "--sigma-pb",
        type=float,
        default=None,
        help="cross section in pb (default: read from the file)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_detect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "precision", None) is not None and not 0 < args.precision < 0.5:
        parser.exit(
            EXIT_USAGE, f"alpgen: error: --precision {args.precision}: must be in (0, 0.5)\n"
        )
    try:
        return int(args.func(args) or 0)
    except CardError as exc:
        print(f"alpgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"alpgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `alpgen model CARD --json | head`: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
