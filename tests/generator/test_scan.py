"""Tests of the reach scan (alpgen.scanning, alpgen.reach), its backends and the figure scripts.

The pure-logic tests (mass parsing, root finding, coupling rescaling, Poisson limits, backend
equivalence with a stand-in task, figure objects) need no event generation. The end-to-end
tests run tiny scans (≈1000 events, σ to 5 %) once per module and compare backends, an explicit
regeneration at another coupling and the MOT scaling.
"""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from alpgen.backends import (
    ProcessPoolBackend,
    SerialBackend,
    checksum_task,
    dask_available,
    make_backend,
)
from alpgen.card import CardError, load_card
from alpgen.figures import CURVE_COLUMNS
from alpgen.reach import ReweightSample, solve_reach, solve_sample
from alpgen.scanning import parse_masses, scan_card

ROOT = Path(__file__).resolve().parents[2]
CARD = ROOT / "cards" / "thin_target_1p5TeV.toml"
FAST = ["run.events=1000", "production.precision=0.05"]


# --------------------------------------------------------------------------------------------
# masses


def test_parse_masses_linear_and_log():
    np.testing.assert_allclose(parse_masses("2:10:5", log=False), [2, 4, 6, 8, 10])
    m = parse_masses("1:100:5", log=True)
    np.testing.assert_allclose(m, [1, 10**0.5, 10, 10**1.5, 100], rtol=1e-12)
    assert m[0] == 1.0 and m[-1] == 100.0  # exact end points
    np.testing.assert_allclose(parse_masses("3.5:3.5:1", log=True), [3.5])


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("2:10", "START:STOP:N"),
        ("a:10:3", "numbers"),
        ("2:10:x", "positive integer"),
        ("2:10:0", "positive integer"),
        ("-1:10:3", "> 0"),
        ("10:2:3", "below START"),
        ("2:3:1", "START = STOP"),
        ("2:2:3", "N = 1"),
    ],
)
def test_parse_masses_errors(spec, needle):
    with pytest.raises(ValueError, match=needle):
        parse_masses(spec, log=False)


# --------------------------------------------------------------------------------------------
# root finding and coupling dependence


def test_solve_reach_monotone_and_band():
    # N = A c²: one root √(N_lim/A)
    sol = solve_reach(lambda c: 7.0 * c**2, 3.0, 1e-3, 1e3)
    assert sol.n_solutions == 1 and sol.status == "ok"
    assert sol.reach == pytest.approx(math.sqrt(3.0 / 7.0), rel=1e-10)
    # N = A c²/(1 + (c/c1)⁴) rises then falls: two roots, analytic from a quadratic in c²
    A, c1, n = 100.0, 2.0, 3.0
    sol = solve_reach(lambda c: A * c**2 / (1 + (c / c1) ** 4), n, 1e-3, 1e3)
    # n x²/c1⁴ − A x + n = 0 with x = c²
    a, b, cc = n / c1**4, -A, n
    x = np.sort(
        [
            (-b - math.sqrt(b * b - 4 * a * cc)) / (2 * a),
            (-b + math.sqrt(b * b - 4 * a * cc)) / (2 * a),
        ]
    )
    assert sol.status == "multiple solutions"
    np.testing.assert_allclose(sol.roots, np.sqrt(x), rtol=1e-10)
    assert sol.upper == pytest.approx(math.sqrt(x[1]), rel=1e-10)
    # never reaches the limit
    sol = solve_reach(lambda c: 1.0 / (1.0 + c**-2), 3.0, 1e-3, 1e3)
    assert sol.n_solutions == 0 and math.isnan(sol.reach) and sol.status == "no solution"


def _prompt_sample(n_ref, c_ref=1.0, n=50):
    return ReweightSample(
        c_ref=c_ref,
        n_ref=n_ref,
        weight=np.linspace(0.5, 1.5, n),
        ell_mm=np.full(n, 1e-6),
        lam_ref_mm=np.full(n, 1e-6),
        channel=np.zeros(n, np.int8),
        width_vis_ref=1e-8,
        width_inv=0.0,
    )


def test_prompt_rescaling_is_exact():
    s = _prompt_sample(12.0, c_ref=2.0)
    c = np.geomspace(0.01, 100, 7)
    np.testing.assert_allclose(s.n_signal(c), 12.0 * (c / 2.0) ** 2, rtol=1e-14)
    assert solve_sample(s, 3.0).reach == pytest.approx(2.0 * math.sqrt(3.0 / 12.0), rel=1e-10)
    assert s.effective_fraction(1.0) == pytest.approx(1.0, rel=1e-12)


def test_prompt_reach_scales_as_inverse_sqrt_mot_and_br_eff():
    # N_ref = N_MOT n L σ BR ε (alpgen.detectors.counting): the reach ∝ (N_MOT BR ε)^(-1/2)
    base = dict(n_l_sigma=3.3e-14, mot=1e16, br=0.15, eff=0.02)

    def reach(mot, br, eff):
        n_ref = mot * base["n_l_sigma"] * br * eff
        return solve_sample(_prompt_sample(n_ref), 3.0).reach

    r0 = reach(base["mot"], base["br"], base["eff"])
    assert reach(4 * base["mot"], base["br"], base["eff"]) == pytest.approx(r0 / 2, rel=1e-10)
    assert reach(base["mot"], base["br"] / 9, base["eff"]) == pytest.approx(3 * r0, rel=1e-10)
    assert reach(base["mot"], base["br"] * 2, base["eff"] * 8) == pytest.approx(r0 / 4, rel=1e-10)


def test_invisible_branching_ratio_reweighting():
    # all events a → χχ̄: N(c) = N_ref x² Γ_ref/Γ(c), x = c/c_ref, Γ(c) = Γ_vis x² + Γ_χ
    g_vis, g_inv, n_ref = 2e-6, 1e-4, 5.0
    s = ReweightSample(1.0, n_ref, np.ones(10), np.full(10, np.nan), np.zeros(10),
                       np.ones(10, np.int8), g_vis, g_inv)  # fmt: skip
    c = np.geomspace(0.1, 1e3, 9)
    expect = n_ref * c**2 * (g_vis + g_inv) / (g_vis * c**2 + g_inv)
    np.testing.assert_allclose(s.n_signal(c), expect, rtol=1e-13)
    # the limit: n_ref x² (g_vis+g_inv) = N (g_vis x² + g_inv) → x² = N g_inv/(n_ref G − N g_vis)
    x2 = 3.0 * g_inv / (n_ref * (g_vis + g_inv) - 3.0 * g_vis)
    assert solve_sample(s, 3.0).reach == pytest.approx(math.sqrt(x2), rel=1e-9)
    # saturation below N_limit: N(∞) = n_ref (g_vis+g_inv)/g_vis < 3 → no solution
    s_sat = ReweightSample(1.0, 1e-3, np.ones(3), np.full(3, np.nan), np.zeros(3),
                           np.ones(3, np.int8), 1e-3, 1e-3)  # fmt: skip
    assert solve_sample(s_sat, 3.0).n_solutions == 0


def test_decay_position_reweighting_matches_exponential_law():
    # a selection ℓ > d on an exponential sample of mean λ_ref: reweighting to a shorter
    # lifetime λ = λ_ref Γ_ref/Γ(c) must reproduce exp(−d/λ)/exp(−d/λ_ref) (independent law)
    rng = np.random.default_rng(7)
    lam_ref, d, n = 1.0, 0.5, 400_000
    ell = rng.exponential(lam_ref, n)
    sel = ell > d
    s = ReweightSample(1.0, 1.0, np.ones(sel.sum()), ell[sel], np.full(sel.sum(), lam_ref),
                       np.full(sel.sum(), -1, np.int8), 1.0, 0.0, prompt_mm=1e-3)  # fmt: skip
    c = 1.5  # Γ ∝ c² → λ = λ_ref/2.25
    lam = lam_ref / c**2
    expect = math.exp(-d / lam) / math.exp(-d / lam_ref)
    assert s.ratio(np.array([c]))[0] == pytest.approx(expect, rel=0.02)
    # below the prompt scale the decay position is left alone
    s_prompt = ReweightSample(1.0, 1.0, np.ones(5), np.full(5, 1e-5), np.full(5, 1e-5),
                              np.full(5, -1, np.int8), 1.0, 0.0, prompt_mm=1e-3)  # fmt: skip
    assert s_prompt.ratio(np.array([0.5]))[0] == 1.0


def test_poisson_limit_reused_from_detectors():
    from alpgen.detectors.counting import signal_limit

    assert signal_limit(0.0) == 3.0
    # b = 2.8e3 observed as n = b: the limit ~ 1.645 √b … 2 √b for large b
    lim = signal_limit(2.8e3)
    assert 1.6 * math.sqrt(2.8e3) < lim < 2.1 * math.sqrt(2.8e3)


# --------------------------------------------------------------------------------------------
# backends with a stand-in task


def test_backends_equivalent_with_standin_task():
    tasks = [(123, i) for i in range(6)]
    ref = dict(SerialBackend().map_unordered(checksum_task, tasks))
    with ProcessPoolBackend(2) as pool:
        got = dict(pool.map_unordered(checksum_task, tasks))
    assert got == ref
    assert len(set(ref.values())) == 6  # distinct streams per index
    with pytest.raises(ValueError, match="--workers must be"):
        make_backend(0)


# --------------------------------------------------------------------------------------------
# end to end (tiny scans)


@pytest.fixture(scope="module")
def card():
    return load_card(CARD, FAST)


@pytest.fixture(scope="module")
def serial_points(card):
    """m_a = 4 and 10 GeV with the charge-flip (2 mm) and ultimate selections, two MOTs."""
    from alpgen.scanning import scan_points

    variants = [
        {"resolution_mm": 2.0},
        {"selection": "ultimate"},
        {"selection": "ultimate", "mot": 4e16},
        {},
    ]
    return scan_points(card, [4.0, 10.0], variants=variants)


def test_scan_backends_identical(card, serial_points, tmp_path):
    """Process pool and a 2-worker dask cluster give identical CSVs (and equal the serial run)."""
    pytest.importorskip("distributed")
    out_pool, out_dask = tmp_path / "pool", tmp_path / "dask"
    card_2mm = load_card(CARD, [*FAST, "detector.resolution_mm=2.0"])
    scan_card(card_2mm, [4.0, 10.0], out_dir=out_pool)
    assert dask_available()
    scan_card(card_2mm, [4.0, 10.0], workers=2, out_dir=out_dask)
    pool = (out_pool / "scan.csv").read_text()
    assert pool == (out_dask / "scan.csv").read_text()
    rows = list(csv.DictReader(pool.splitlines()))
    assert [float(r["m_a_GeV"]) for r in rows] == [4.0, 10.0]
    for r, p in zip(rows, serial_points, strict=True):
        assert float(r["sigma_pb"]) == p.sigma_pb
        assert float(r["efficiency"]) == p.variants[0].efficiency
    assert (out_pool / "reach.png").stat().st_size > 0
    # the output directory is not overwritten without --force
    with pytest.raises(CardError) as exc:
        scan_card(card_2mm, [4.0], out_dir=out_pool)
    assert exc.value.key == "scan.out"


def test_detector_variants_do_not_leak(serial_points):
    # the empty variant is the card's own detector (resolution 20 mm), not variant 0's 2 mm
    for p in serial_points:
        assert p.variants[3].detector["resolution_mm"] == 20.0
        assert p.variants[0].detector["resolution_mm"] == 2.0
        assert p.variants[3].detector["selection"] == "visible_charge_flip"


def test_reach_scales_exactly_with_mot(serial_points):
    for p in serial_points:
        v1, v4 = p.variants[1], p.variants[2]
        assert v1.efficiency == v4.efficiency
        assert v4.reach == pytest.approx(v1.reach / 2, rel=1e-9)
        assert v1.reach == pytest.approx(v1.reach_prompt, rel=1e-9)  # prompt: closed form


def test_rescaling_matches_regeneration(card):
    """Reach from C/Λ_ref = 1 against an explicit regeneration at C/Λ = 3 (prompt regime)."""
    from alpgen.scanning import evaluate_point, make_tasks

    variants = ({"selection": "ultimate"},)
    t1 = make_tasks(card, [6.0], variants=variants)[0][0]
    card3 = load_card(CARD, [*FAST, "model.C_over_Lambda=3.0", f"run.seed={card.run.seed + 1}"])
    t3 = make_tasks(card3, [6.0], variants=variants)[0][0]
    p1, p3 = evaluate_point(t1), evaluate_point(t3)
    # σ ∝ (C/Λ)²: the ratio is 9 within the integration errors
    err = 9 * math.hypot(p1.sigma_err_pb / p1.sigma_pb, p3.sigma_err_pb / p3.sigma_pb)
    assert p3.sigma_pb / p1.sigma_pb == pytest.approx(9.0, abs=4 * err)
    v1, v3 = p1.variants[0], p3.variants[0]
    assert v3.reach == pytest.approx(v1.reach, abs=4 * math.hypot(v1.reach_err, v3.reach_err))
    # the rescaled N of the C/Λ = 1 sample is exactly (C/Λ)² × N_ref
    s = ReweightSample(1.0, v1.signal_events_ref, np.ones(3), np.full(3, 1e-7),
                       np.full(3, 1e-7), np.zeros(3, np.int8), 1e-7, 0.0)  # fmt: skip
    assert s.n_signal(3.0) == pytest.approx(9 * v1.signal_events_ref, rel=1e-14)


# --------------------------------------------------------------------------------------------
# figure scripts


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _synthetic_table(curves, masses):
    rows = []
    for k, curve in enumerate(curves):
        for m in masses:
            rows.append({c: 1.0 for c in CURVE_COLUMNS} | {
                "curve": curve, "m_a_GeV": m,
                "reach_C_over_Lambda_invTeV": 0.1 * (k + 1) * m,
            })  # fmt: skip
    return rows


@pytest.mark.parametrize(("name", "n_axes"), [("fig6_invisible", 2), ("fig7_visible", 1)])
def test_figure_object(name, n_axes):
    mod = _script(name)
    masses = np.geomspace(2.0, 40.0, 4)
    fig = mod.make_figure(_synthetic_table(mod.CURVES, masses), mod.constraint_rows(masses))
    axes = [ax for ax in fig.axes if ax.get_xlabel()]
    assert len(axes) == n_axes
    for ax in axes:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert "GeV" in ax.get_xlabel() and "TeV" in ax.get_ylabel()
        labels = ax.get_legend_handles_labels()[1]
        for curve in mod.CURVES:
            assert labels.count(curve) == 1
    import matplotlib.pyplot as plt

    plt.close(fig)


@pytest.mark.parametrize("name", ["fig6", "fig7"])
def test_figure_csvs(name):
    mod = _script({"fig6": "fig6_invisible", "fig7": "fig7_visible"}[name])
    path = ROOT / "docs" / "figures" / f"{name}_reach.csv"
    assert path.exists(), f"run scripts/{mod.__name__}.py to produce {path.name}"
    with path.open() as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == CURVE_COLUMNS
        rows = list(reader)
    curves = list(dict.fromkeys(r["curve"] for r in rows))
    assert curves == mod.CURVES  # one curve per experiment and resolution
    for curve in curves:
        m = np.array([float(r["m_a_GeV"]) for r in rows if r["curve"] == curve])
        assert len(m) >= 4
        np.testing.assert_allclose(np.diff(np.log(m)), np.log(m[1] / m[0]), rtol=1e-9)
        y = np.array([float(r["reach_C_over_Lambda_invTeV"]) for r in rows if r["curve"] == curve])
        assert np.isfinite(y).sum() >= 3
    assert (ROOT / "docs" / "figures" / f"{mod.__name__}.png").exists()
