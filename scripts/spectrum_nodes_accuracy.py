"""How well six energy nodes of equal flux share approximate a beam spectrum's flux average
of a Standard-Model σ (docs/backgrounds.md): σ(E) of the card's process at ``--points``
energies over the spectrum (a short vegas run each), interpolated in log σ vs log E (cubic),
then ⟨σ⟩ = ∫ φ(E) σ(E) dE / ∫ φ dE on a fine grid against Σ_k w_k σ(E_k) at the nodes of
:func:`alpgen.background.estimate.spectrum_nodes`. Both use the same interpolated σ(E), so the
MC errors of σ(E) largely cancel in the ratio.

    python scripts/spectrum_nodes_accuracy.py cards/fasernu2.toml sm_tautau
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
from scipy.interpolate import CubicSpline

from alpgen.background.api import background_cross_section
from alpgen.background.estimate import _params, spectrum_nodes
from alpgen.card import load_card
from alpgen.spectrum import load_spectrum


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("card")
    ap.add_argument("process", choices=["sm_tautau", "sm_mumu"])
    ap.add_argument("--points", type=int, default=14)
    args = ap.parse_args()
    card = load_card(args.card, [f"process.name={args.process}"])
    path = card.spectrum_path()
    assert path is not None
    spec = load_spectrum(path)
    grid = np.geomspace(spec.e_min * 1.001, spec.e_max, args.points)
    sig = []
    for i, e in enumerate(grid):
        bp = dataclasses.replace(
            _params(card, float(e)), precision=0.01, prescan=1000, n_adapt=10_000, nitn_adapt=6
        )
        res = background_cross_section(args.process, bp, 1000 + i)
        sig.append(res.sigma_pb)
        print(f"E = {e:10.4g} GeV  σ = {res.sigma_pb:.5g} ± {res.sigma_err_pb:.2g} pb", flush=True)
    ok = np.asarray(sig) > 0
    spline = CubicSpline(np.log(grid[ok]), np.log(np.asarray(sig)[ok]))

    def sigma(e: np.ndarray) -> np.ndarray:
        e = np.asarray(e, float)
        out = np.exp(spline(np.log(np.clip(e, grid[ok][0], None))))
        return np.where(e >= grid[ok][0], out, 0.0)

    e = np.geomspace(spec.e_min, spec.e_max, 20001)
    f = np.asarray(spec.dn_de_at(e, "sum"), float)
    exact = np.trapezoid(f * sigma(e), e) / np.trapezoid(f, e)
    nodes = spectrum_nodes(card)
    approx = sum(w * float(sigma(np.array([en]))[0]) for en, w in nodes)
    print(f"flux average {exact:.5g} pb, six nodes {approx:.5g} pb, ratio {approx / exact:.4f}")


if __name__ == "__main__":
    main()
