"""A Standard-Model process on a beam spectrum (FASERν2's card): σ is the flux average over the
six energy nodes, and a (sharded) run draws its events' beam energies from the nodes with
frequencies w_k σ_k / Σ w_j σ_j. The node σ's are computed independently here, at a fixed beam
energy each (``--set beam.energy=E_k``: other seeds, other integrations)."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from alpgen.background.estimate import spectrum_nodes
from alpgen.card import load_card
from alpgen.cli import main
from alpgen.io.hepmc import read_hepmc3

pytestmark = pytest.mark.slow  # seven σ integrations and a run: ≈ 3 min

ROOT = Path(__file__).resolve().parents[3]
CARD = str(ROOT / "cards" / "fasernu2.toml")
SETS = ["process.name=sm_tautau"]
N = 400


def _xsec(*sets: str) -> dict[str, float]:
    argv = ["xsec", CARD, "--precision", "0.05", "--json"]
    for s in (*SETS, *sets):
        argv += ["--set", s]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    result: dict[str, float] = json.loads(out.getvalue())
    return result


@pytest.fixture(scope="module")
def nodes() -> list[tuple[float, float]]:
    return spectrum_nodes(load_card(CARD, SETS))


@pytest.fixture(scope="module")
def fixed(nodes) -> list[dict[str, float]]:
    """``alpgen xsec`` at each node energy, a fixed-energy beam."""
    return [_xsec(f"beam.energy={e!r}") for e, _ in nodes]


@pytest.fixture(scope="module")
def spectrum_xsec() -> dict[str, float]:
    return _xsec()


def test_xsec_is_the_share_weighted_sum_over_the_nodes(nodes, fixed, spectrum_xsec):
    for part in ("", "_coherent", "_incoherent"):
        key, err = f"sigma{part}_pb", f"sigma{part}_err_pb"
        expect = sum(w * f[key] for (_, w), f in zip(nodes, fixed, strict=True))
        expect_err = math.sqrt(
            sum((w * f[err]) ** 2 for (_, w), f in zip(nodes, fixed, strict=True))
        )
        got, got_err = spectrum_xsec[key], spectrum_xsec[err]
        assert got > 0.0 and 0.0 < got_err < 0.05 * got, part
        assert abs(got - expect) < 4.0 * math.hypot(got_err, expect_err), (part, got, expect)


@pytest.fixture(scope="module")
def spectrum_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("spectrum") / "run"
    sets = [
        *SETS,
        f"run.events={N}",
        "run.shard_events=250",  # two shards: σ and the node samplers shipped to each
        "run.batch_size=100",
        "production.precision=0.05",
        'output.formats=["lhe", "hepmc3"]',
        f"output.dir={out}",
    ]
    assert main(["run", CARD, "--quiet", *[x for s in sets for x in ("--set", s)]]) == 0
    return out


def test_run_beam_energies_are_the_nodes_with_their_sigma_shares(
    spectrum_run, nodes, fixed, spectrum_xsec
):
    summary = json.loads((spectrum_run / "summary.json").read_text())
    assert summary["events"] == N and summary["shards"] == 2
    assert summary["sigma_pb"] == spectrum_xsec["sigma_pb"]  # the same σ as alpgen xsec
    assert summary["detector"]["n_generated"] == N
    listed = summary["beam"]["spectrum_nodes"]
    assert [(d["energy_GeV"], d["share"]) for d in listed] == [tuple(x) for x in nodes]
    events = read_hepmc3(spectrum_run / "events.hepmc3")
    assert len(events) == N
    energies = np.array([e for e, _ in nodes])
    k = np.argmin(np.abs(events.beam_energy[:, None] - energies[None, :]), axis=1)
    np.testing.assert_allclose(events.beam_energy, energies[k], rtol=1e-12)
    np.testing.assert_allclose(events.p[:, 0, 3], energies[k], rtol=1e-12)
    counts = np.bincount(k, minlength=len(energies))
    p = np.array([w * f["sigma_pb"] for (_, w), f in zip(nodes, fixed, strict=True)])
    p /= p.sum()
    for j in range(len(energies)):  # each node's count is binomial(N, p_j)
        assert binomtest(int(counts[j]), N, float(p[j])).pvalue > 1e-3, (j, counts, N * p)
