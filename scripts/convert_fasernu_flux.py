#!/usr/bin/env python
"""Convert the FLUKA FASERν Run-3 muon flux into an alpgen beam-spectrum CSV.

Input: ``fasernu_run3_muon_flux_fluka.csv`` (shared reference data; released with
arXiv:2506.13889, github LHCfitNikhef/DIS_with_LHC_muons). Its derived columns
``dN_dlnE_mu_{minus,plus}_var2_per_cm2_per_fb-1`` give dN/dlnE per cm² per fb⁻¹ over the full
25×30 cm² FASERν face (var2). The output is dN/dE = (dN/dlnE) / E per GeV per cm² per fb⁻¹
in the format read by :func:`alpgen.spectrum.load_spectrum`.

THIS IS THE FASERν RUN-3 FLUX (480 m, TI12), A STAND-IN FOR THE UNPUBLISHED FPF/FASERν2 FLUX the
paper uses (physics.md §7 item 9). The output file says so in its comments.

The script also prints the default FASERν2 muons-on-target number used in
``detectors/fasernu2.toml``: MOT = Φ × A × L_int, with Φ the total flux per cm² per fb⁻¹
(integral of the output spectrum with the spectrum's own power-law interpolation), A = 40×40 cm²
and L_int = 3 ab⁻¹ = 3000 fb⁻¹.

Usage: ``python scripts/convert_fasernu_flux.py [INPUT] [OUTPUT]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from alpgen.spectrum import BeamSpectrum, load_spectrum

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "fasernu_run3_muon_flux_fluka.csv"
)
FALLBACK_INPUT = REPO / "tests" / "data" / "fasernu_run3_muon_flux_fluka.csv"
DEFAULT_OUTPUT = REPO / "cards" / "data" / "fasernu_run3_muon_spectrum.csv"

COL_E = "E_mu_GeV"
COL_MINUS = "dN_dlnE_mu_minus_var2_per_cm2_per_fb-1"
COL_PLUS = "dN_dlnE_mu_plus_var2_per_cm2_per_fb-1"

FACE_CM2 = 40.0 * 40.0  #: FASERν2 transverse face (physics.md §6.1; benchmark_setups.csv)
LUMI_FB = 3000.0  #: HL-LHC integrated luminosity 3 ab⁻¹ (benchmark_setups.csv, FPF row)


def read_fluka_table(path: Path) -> dict[str, np.ndarray]:
    """Columns of the shared FLUKA flux CSV by header name (``#`` lines are comments)."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    header = [h.strip() for h in lines[0].split(",")]
    data = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]])
    return {name: data[:, i] for i, name in enumerate(header)}


def convert(src: Path) -> BeamSpectrum:
    """dN/dE per GeV per cm² per fb⁻¹ (var2 face) from the FLUKA table."""
    cols = read_fluka_table(src)
    energy = cols[COL_E]
    return BeamSpectrum(
        energies=energy,
        dn_de_minus=cols[COL_MINUS] / energy,
        dn_de_plus=cols[COL_PLUS] / energy,
        label="FASERnu Run-3 muon flux (stand-in for FASERnu2)",
        source=str(src),
    )


def write_spectrum(spec: BeamSpectrum, out: Path, src: Path) -> None:
    total = spec.integral()
    header = [
        "label: FASERnu Run-3 muon flux (stand-in for FASERnu2)",
        "STAND-IN: this is the FLUKA muon flux reaching FASERnu in LHC Run 3 (TI12, 480 m from",
        "ATLAS, full 25x30 cm^2 face, 'var2'). It is NOT the FPF/FASERnu2 flux used in",
        "arXiv:2407.15942 (CERN STI FLUKA, unpublished); use it for the shape or as a labelled",
        "stand-in only (physics.md section 7 item 9).",
        f"source: {src.name} (shared reference data),",
        "LHCfitNikhef/DIS_with_LHC_muons commit dff153750d11b9df99c9bd08ff3d61d0291f1e3a,",
        "released with arXiv:2506.13889.",
        "conversion: dN/dE = (dN/dlnE)/E from the derived dN_dlnE_*_var2 columns",
        "(scripts/convert_fasernu_flux.py).",
        "normalisation: muons per GeV per cm^2 per fb^-1 of pp luminosity (13.6 TeV).",
        f"total (power-law interpolation between nodes): {total:.6g} mu / cm^2 / fb^-1",
        f"  (mu-: {spec.integral(charge='minus'):.6g}, mu+: {spec.integral(charge='plus'):.6g})",
        f"FASERnu2 default MOT = total x {FACE_CM2:g} cm^2 x {LUMI_FB:g} fb^-1 = "
        f"{total * FACE_CM2 * LUMI_FB:.4g}",
        "columns: E_GeV [GeV], dN_dE_mu_minus and dN_dE_mu_plus [1/(GeV cm^2 fb^-1)]",
    ]
    lines = [f"# {h}" for h in header]
    lines.append("E_GeV,dN_dE_mu_minus,dN_dE_mu_plus")
    for e, fm, fp in zip(spec.energies, spec.dn_de_minus, spec.dn_de_plus, strict=True):
        lines.append(f"{e:.6g},{fm:.6g},{fp:.6g}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_in = DEFAULT_INPUT if DEFAULT_INPUT.exists() else FALLBACK_INPUT
    ap.add_argument("input", nargs="?", type=Path, default=default_in)
    ap.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)

    spec = convert(args.input)
    write_spectrum(spec, args.output, args.input)
    back = load_spectrum(args.output)  # round trip through the reader the generator uses
    total = back.integral()
    print(f"wrote {args.output}: {len(back.energies)} nodes")
    print(f"total flux   = {total:.6g} mu/cm^2/fb^-1 (power-law interpolation)")
    trap = np.trapezoid(back.dn_de * back.energies, np.log(back.energies))
    print(f"             = {trap:.6g} mu/cm^2/fb^-1 (trapezoid in ln E, as in the data README)")
    print(f"FASERnu2 MOT = {total:.6g} x {FACE_CM2:g} cm^2 x {LUMI_FB:g} fb^-1 = ", end="")
    print(f"{total * FACE_CM2 * LUMI_FB:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
