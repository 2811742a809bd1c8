"""Signal counting, cutflow, Poisson limit and reach."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from alpgen.detectors.config import DetectorConfig
from alpgen.detectors.counting import (
    Counter,
    count_signal,
    format_table,
    poisson_upper_limit,
    signal_limit,
)
from alpgen.targets import get_target


@pytest.fixture(scope="module")
def na64_sample(synth, mode_sampler):
    """10⁴ invisible events with exactly 17.39 % τ → μνν, muons well below 80 GeV."""
    rng = np.random.default_rng(160)
    n = 10000
    modes = mode_sampler(n, {"mu": 0.1739, "pipi0": 1}, rng)
    return synth(n, rng, beam_energy=160.0, tau_p=100.0, tau_modes=modes, muon_fraction=0.3)


def test_poisson_limit_zero_background():
    assert poisson_upper_limit(0.0) == pytest.approx(math.log(20.0), rel=1e-10)  # 2.996
    assert round(poisson_upper_limit(0.0), 1) == 3.0
    assert signal_limit(0.0) == 3.0  # the paper's convention


@pytest.mark.parametrize("b", [0.3, 1.0, 2.6, 5.0, 100.0, 2.1e5])
def test_poisson_limit_against_chi2(b):
    """Classical limit: P(n ≤ n_obs | μ) = 1 − F_χ²(2μ; 2(n_obs+1)) ⇒ μ_up = ½ χ²_{0.95}."""
    from scipy.stats import chi2

    n_obs = math.floor(b + 0.5)
    expected = 0.5 * chi2.ppf(0.95, 2 * (n_obs + 1)) - b
    assert poisson_upper_limit(b) == pytest.approx(max(expected, 0.0), rel=1e-7, abs=1e-9)
    assert signal_limit(b) == poisson_upper_limit(b)


def test_na64_cross_check_from_spec(na64_sample):
    """physics.md §6.1: σ = 5.7e-34 cm² at C/Λ = 100 TeV⁻¹, 22.4 cm Pb, 2e10 MOT, B_μ → N ≈ 1.5,
    and N = 3 is reached near 140 TeV⁻¹."""
    cfg = DetectorConfig.default("na64mu", mot=2e10)
    res = count_signal(cfg, na64_sample, sigma_pb=5.7e-34 / 1e-36, coupling_C_over_Lambda=100.0)
    assert res.efficiency == pytest.approx(0.1739, abs=1e-12)
    hand = 2e10 * 3.30e22 * 22.448 * 5.7e-34 * 0.1739  # n(Pb) from physics.md §6.1
    assert res.signal_events == pytest.approx(hand, rel=0.005)
    assert 1.4 < res.signal_events < 1.6
    assert res.reach_fixed_br_invTeV == pytest.approx(100 * math.sqrt(3 / hand), rel=0.005)
    assert 135 < res.reach_fixed_br_invTeV < 150
    assert res.signal_per_mot == pytest.approx(res.signal_events / 2e10)


def test_reach_scales_as_inverse_sqrt_mot(na64_sample):
    cfg = DetectorConfig.default("na64mu")
    r1 = count_signal(cfg, na64_sample, sigma_pb=10.0)
    r4 = count_signal(cfg.replace(mot=4 * cfg.mot), na64_sample, sigma_pb=10.0)
    assert r4.signal_events == pytest.approx(4 * r1.signal_events)
    assert r4.reach_fixed_br_invTeV == pytest.approx(r1.reach_fixed_br_invTeV / 2)
    assert r1.reach_for_mot(100 * cfg.mot) == pytest.approx(r1.reach_fixed_br_invTeV / 10)
    # σ ∝ (C/Λ)²: quoting σ at twice the coupling (4σ) gives the same reach
    r2 = count_signal(cfg, na64_sample, sigma_pb=40.0, coupling_C_over_Lambda=2.0)
    assert r2.reach_fixed_br_invTeV == pytest.approx(r1.reach_fixed_br_invTeV)
    # background raises the limit and weakens the reach
    rb = count_signal(cfg.replace(background=10.0), na64_sample, sigma_pb=10.0)
    assert rb.n_limit > 3 and rb.reach_fixed_br_invTeV > r1.reach_fixed_br_invTeV


def test_streaming_equals_single_batch(na64_sample):
    cfg = DetectorConfig.default("na64mu")
    whole = count_signal(cfg, na64_sample, sigma_pb=1.0)
    idx = np.arange(len(na64_sample))
    parts = [na64_sample.select(idx[i::3]) for i in range(3)]
    listed = count_signal(cfg, parts, sigma_pb=1.0)
    c = Counter(cfg)
    for p in parts:
        c.add(p)
    streamed = c.result(sigma_pb=1.0)
    for r in (listed, streamed):
        assert r.signal_events == pytest.approx(whole.signal_events, rel=1e-12)
        assert [e.n_mc for e in r.cutflow] == [e.n_mc for e in whole.cutflow]


def test_weights_carry_forced_branching_ratio(na64_sample):
    cfg = DetectorConfig.default("na64mu")
    r1 = count_signal(cfg, na64_sample, sigma_pb=1.0)
    forced = na64_sample.select(np.arange(len(na64_sample)))
    forced.weight = np.full(len(forced), 0.25)
    r2 = count_signal(cfg, forced, sigma_pb=1.0)
    assert r2.efficiency == pytest.approx(0.25 * r1.efficiency)
    # more generated events than passed in (e.g. events lost upstream) dilute ε
    r3 = count_signal(cfg, na64_sample, sigma_pb=1.0, n_generated=2 * len(na64_sample))
    assert r3.efficiency == pytest.approx(0.5 * r1.efficiency)
    with pytest.raises(ValueError, match="n_generated"):
        count_signal(cfg, na64_sample, sigma_pb=1.0, n_generated=10)
    forced.weight[0] = -1.0
    with pytest.raises(ValueError, match="weights"):
        count_signal(cfg, forced, sigma_pb=1.0)


@pytest.mark.parametrize(
    ("name", "selection"),
    [
        ("na64mu", "invisible"),
        ("fasernu2", "chain"),
        ("thin_target", "invisible"),
        ("thin_target", "visible_charge_flip"),
        ("thin_target", "ultimate"),
    ],
)
def test_cutflow_monotone_and_consistent(synth, mode_sampler, name, selection):
    rng = np.random.default_rng(31)
    n = 1500
    modes = mode_sampler(n, {"mu": 0.3, "3pi": 0.4, "e": 1}, rng)
    alp = mode_sampler(n, {"inv": 0.4, "flip": 0.3, "same": 1}, rng)
    z = rng.uniform(-2.0, 25.0, n)  # some vertices outside a 2 cm plate
    b = synth(n, rng, tau_modes=modes, alp=alp, alp_tau_modes=modes, vertex_z=z, tau_p=300.0)
    cfg = DetectorConfig.default(name, selection=selection)
    res = count_signal(cfg, b, sigma_pb=3.0)
    cum = [c.cumulative_efficiency for c in res.cutflow]
    assert all(a >= b_ for a, b_ in itertools.pairwise(cum))
    assert all(0.0 <= c.efficiency <= 1.0 for c in res.cutflow)
    assert res.cutflow[1].cut == "interaction_in_target"
    t_mm = 10 * cfg.target_thickness_cm
    assert res.cutflow[1].n_mc == np.sum((z >= 0) & (z <= t_mm))
    for c in res.cutflow:
        assert c.events == pytest.approx(res.produced_events * c.cumulative_efficiency)
    assert res.efficiency == cum[-1]
    assert res.signal_events == pytest.approx(res.cutflow[-1].events)


def test_result_dict_and_table(na64_sample):
    res = count_signal(DetectorConfig.default("na64mu"), na64_sample, sigma_pb=1.0)
    d = res.to_dict()
    for key in (
        "signal_events",
        "signal_per_mot",
        "mot",
        "cutflow",
        "reach_fixed_br_invTeV",
        "efficiency",
        "detector",
        "selection",
    ):
        assert key in d
    assert set(d["cutflow"][0]) >= {"cut", "events", "efficiency", "cumulative_efficiency"}
    json.dumps(d)
    # the table prints the result's numbers, row by row
    lines = format_table(res).splitlines()
    for c in res.cutflow:
        row = next(ln.split() for ln in lines if ln.split()[:1] == [c.cut])
        assert float(row[1]) == pytest.approx(c.events, rel=1e-3)
        assert int(row[2]) == c.n_mc
        assert float(row[4]) == pytest.approx(c.cumulative_efficiency, rel=1e-3)
    eff_line = next(ln for ln in lines if "efficiency =" in ln)
    assert float(eff_line.split("=")[1].split("±")[0]) == pytest.approx(res.efficiency, rel=1e-3)
    reach_line = next(ln for ln in lines if "reach C/Lambda" in ln)
    assert float(reach_line.split("=")[1].split()[0]) == pytest.approx(
        res.reach_fixed_br_invTeV, rel=1e-3
    )


def test_no_signal_gives_infinite_reach(synth):
    rng = np.random.default_rng(0)
    b = synth(10, rng, tau_modes="pipi0")
    res = count_signal(DetectorConfig.default("na64mu"), b, sigma_pb=1.0)
    assert res.signal_events == 0.0 and math.isinf(res.reach_fixed_br_invTeV)
    assert "no sensitivity" in format_table(res)


def test_warns_when_no_tau_decayed(synth):
    b = synth(5, np.random.default_rng(0), tau_modes="none")
    with pytest.warns(UserWarning, match="τ decays"):
        count_signal(DetectorConfig.default("fasernu2"), b, sigma_pb=1.0)


def test_production_probability_thin_plate_vs_fasernu2():
    """physics.md §6.4: n·L·Z² of 6.4 m W over 2 cm Pb ≈ 5×10² (> 100)."""
    fas = DetectorConfig.default("fasernu2")
    thin = DetectorConfig.default("thin_target")
    w, pb = get_target(fas.target_material), get_target(thin.target_material)
    ratio = (w.number_density * fas.target_thickness_cm * w.Z**2) / (
        pb.number_density * thin.target_thickness_cm * pb.Z**2
    )
    assert ratio > 100
    assert ratio == pytest.approx(5.0e2, rel=0.1)
    # the counter uses the same n·L: equal σ·ε → yields per MOT in the same ratio without Z²
    r_f = Counter(fas.replace(selection="ultimate")).result(sigma_pb=1.0, n_generated=1)
    r_t = Counter(thin.replace(selection="ultimate")).result(sigma_pb=1.0, n_generated=1)
    assert r_f.produced_events / fas.mot / (r_t.produced_events / thin.mot) == pytest.approx(
        ratio * pb.Z**2 / w.Z**2
    )


def test_counter_flags_selected_and_defaults(na64_sample):
    cfg = DetectorConfig.default("na64mu")
    c = Counter(
        cfg, target="Pb", thickness_cm=22.448, n_generated=20000, coupling_C_over_Lambda=5.0
    )
    flags = c.flags(na64_sample)
    sel = c.selected(na64_sample)
    c.add(na64_sample)
    assert set(flags) >= {"det_selected", "det_n_tracks", "det_tau_prongs"}
    assert all(len(v) == len(na64_sample) for v in flags.values())
    np.testing.assert_array_equal(flags["det_selected"].astype(bool), sel)
    np.testing.assert_array_equal(flags["det_tau_to_mu_nu_nu"].astype(bool), sel)
    res = c.result(sigma_pb=1.0)
    assert res.n_generated == 20000 and res.coupling_C_over_Lambda == 5.0
    assert res.efficiency == pytest.approx(0.5 * sel.mean())


def test_efficiency_error_is_the_standard_error_of_the_mean(na64_sample):
    """δε = sqrt(Σ_sel w² − (Σ_sel w)²/N)/N: the binomial sqrt(ε(1−ε)/N) for unit weights (the
    old sqrt(Σ_sel w²)/N overstated it by 1/sqrt(1−ε)), and the spread of ε over independent
    sub-samples for weighted events."""
    cfg = DetectorConfig.default("na64mu")
    n = len(na64_sample)
    r = count_signal(cfg, na64_sample, sigma_pb=1.0)
    eps = r.efficiency
    assert eps == pytest.approx(0.1739, abs=1e-12)
    assert r.efficiency_error == pytest.approx(math.sqrt(eps * (1 - eps) / n), rel=1e-12)
    assert r.efficiency_error < math.sqrt(eps / n) / 1.05  # not the old √Σw²/N

    # weighted events: ε of 40 independent sub-samples of 250 events scatter by δε
    rng = np.random.default_rng(7)
    weighted = na64_sample.select(np.arange(n))
    weighted.weight = rng.exponential(1.0, n)
    idx = rng.permutation(n).reshape(40, 250)
    subs = [count_signal(cfg, weighted.select(i), sigma_pb=1.0) for i in idx]
    effs = np.array([s.efficiency for s in subs])
    errs = np.array([s.efficiency_error for s in subs])
    x = np.where(Counter(cfg).selected(weighted), weighted.weight, 0.0)
    for s, i in zip(subs, idx, strict=True):
        assert s.efficiency_error == pytest.approx(x[i].std() / math.sqrt(len(i)), rel=1e-9)
    # sample variance of 40 values: relative error sqrt(2/39) = 23 %; 4σ band
    ratio = effs.std(ddof=1) / np.sqrt(np.mean(errs**2))
    assert abs(ratio - 1.0) < 4 * math.sqrt(1 / 78)


def test_prompt_reach_error_is_half_the_relative_signal_error():
    """Prompt decays: N ∝ (C/Λ)², so δ(C/Λ)/(C/Λ) = ½ δN/N (scan.reach_error)."""
    from alpgen.reach import ReweightSample, reach_error, solve_sample

    n = 50
    sample = ReweightSample(
        c_ref=1.0,
        n_ref=12.0,
        weight=np.ones(n),
        ell_mm=np.full(n, np.nan),
        lam_ref_mm=np.full(n, np.inf),
        channel=np.full(n, -1),
        width_vis_ref=1e-6,
        width_inv=0.0,
    )
    root = solve_sample(sample, 3.0).reach
    assert root == pytest.approx(math.sqrt(3.0 / 12.0), rel=1e-9)
    assert reach_error(sample, root, 0.1) == pytest.approx(0.5 * 0.1 * root, rel=1e-6)
