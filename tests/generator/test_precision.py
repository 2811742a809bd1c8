"""Variance reduction and counting to a target precision (alpgen.precision, issue 12).

* The decay-length biasing is unbiased: the biased sampler and the physical one give the same
  τ decay-length efficiency within errors, and both match the analytic ⟨exp(−d/βγcτ)⟩ of the
  same hard events; the cutflow row *before* the cut stays unbiased too (defensive mixture).
* The forced charge-flip mode carries its branching ratio (½ of the visible decays).
* Forced, biased counting agrees with the unforced, unbiased computation (|pull| < 3) for every
  card (modest statistics; the three-mass check at higher statistics is
  scripts/check_precision.py), reaches the 2 % target, and the visible and invisible
  thin-target selections keep ≥ 20 % of the generated events as effective sample.
* Reproducible: stopping after batch k gives a run of k batches.
* Bad input exits 2 naming the key.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from alpgen.card import load_card
from alpgen.cli import main
from alpgen.constants import CTAU_TAU_MM, M_TAU
from alpgen.decays.chain import DecayConfig, decay_batch
from alpgen.decays.registry import channels_for
from alpgen.detectors import fastsim
from alpgen.engine import Engine
from alpgen.precision import counting_decay_config
from alpgen.runner import simulate
from alpgen.streams import rng_for

ROOT = Path(__file__).resolve().parents[2]
CARDS = ROOT / "cards"
FAST = ("production.precision=0.02",)


@pytest.fixture(scope="module")
def thin_engine() -> Engine:
    return Engine(load_card(CARDS / "thin_target_1p5TeV.toml", FAST))


def _tau_length_efficiency(engine: Engine, config: DecayConfig, d_mm: float, seed: int):
    """Σw(produced τ flies > d) / N and its MC error, and Σw(3-prong) / N (all events)."""
    hard, _ = engine.hard(0, 20_000)
    batch = decay_batch(hard, engine.model, config, rng_for(seed, 99, 0))
    obs = fastsim.analyse(batch)
    w = np.asarray(batch.weight, float)
    n = len(w)
    x = np.where(obs.tau.decay_length_mm > d_mm, w, 0.0)
    eff = x.sum() / n
    err = math.sqrt(max((x**2).sum() - x.sum() ** 2 / n, 0.0)) / n
    prong = np.where(obs.tau.n_prongs == 3, w, 0.0).sum() / n
    return eff, err, prong, hard


def test_decay_length_biasing_is_unbiased():
    # invisible ALP: the produced τ is the only one
    engine = Engine(load_card(CARDS / "thin_target_1p5TeV_invisible.toml", FAST))
    d = 20.0
    forced = ("3prong",)
    e_b, de_b, pr_b, hard = _tau_length_efficiency(
        engine, DecayConfig(alp="invisible", tau=forced, tau_min_decay_mm=d), d, 1
    )
    e_u, de_u, pr_u, _ = _tau_length_efficiency(
        engine, DecayConfig(alp="invisible", tau=forced), d, 2
    )
    # analytic: BR(3-prong) ⟨exp(−d m_τ / (|p_τ| cτ))⟩ over the same hard events
    p = np.linalg.norm(hard.p[:, 2, :3], axis=1)  # produced τ (SLOT_LEPTON)
    # forced a → χχ̄ (weight BR_inv ≈ 1) and τ 3-prong (weight BR(3-prong))
    br3 = engine.model.br_invisible * sum(
        c.branching() for c in channels_for(15) if "3prong" in c.tags
    )
    w0 = np.asarray(hard.weight, float)  # 1 but for the sampler's rare overweight events
    analytic = br3 * float(np.mean(w0 * np.exp(-d * M_TAU / (p * CTAU_TAU_MM))))
    assert 0.01 < analytic / br3 < 0.9  # the cut matters
    assert abs(e_b - analytic) < 3 * de_b + 2e-3 * analytic, (e_b, de_b, analytic)
    assert abs(e_u - analytic) < 3 * de_u, (e_u, de_u, analytic)
    assert de_b < 0.5 * de_u  # and the biasing pays
    # the row before the cut (3-prong, all decay lengths) is unbiased as well
    assert pr_b == pytest.approx(br3 * w0.mean(), rel=0.05)
    assert pr_u == pytest.approx(br3 * w0.mean(), rel=1e-9)  # forced: all 3-prong, weight BR


def test_forced_charge_flip_carries_its_branching_ratio(thin_engine):
    card = thin_engine.card
    from alpgen.detectors.config import DetectorConfig

    config = counting_decay_config(card, DetectorConfig.from_card(dict(card.detector)))
    assert config.alp_channels == ("a->mu+ tau-",)  # μ⁻ beam: a → μ⁺τ⁻
    assert set(config.tau) == {"tau->3pi nu", "tau->3pi pi0 nu", "tau->other 3prong"}
    assert config.tau_min_decay_mm == 20.0
    hard, _ = thin_engine.hard(0, 2000)
    plain = DecayConfig(alp="visible", tau="none", alp_channels=config.alp_channels)
    batch = decay_batch(hard, thin_engine.model, plain, rng_for(3, 99, 0))
    # half of the visible decays; the ALP is visible-only at this point
    assert np.allclose(batch.weight, 0.5 * thin_engine.model.br_visible)
    assert fastsim.analyse(batch).charge_flip.all()


#: (card, m_a GeV) for the modest-statistics agreement test: one mass per card (three per card
#: at higher statistics: scripts/check_precision.py)
AGREEMENT = [
    ("thin_target_1p5TeV", 4.0),
    ("thin_target_1p5TeV_2mm", 2.0),
    ("thin_target_1p5TeV_invisible", 2.0),
    ("na64mu_160GeV", 2.0),
    ("fasernu2", 2.0),
]


def _simulate(stem: str, m_a: float, *overrides: str):
    card = load_card(CARDS / f"{stem}.toml", [*FAST, f"model.m_a={m_a}", *overrides])
    engine, result = simulate(card)
    assert result is not None
    return engine.counting_info, result


@pytest.mark.parametrize(("stem", "m_a"), AGREEMENT, ids=[s for s, _ in AGREEMENT])
def test_forced_counting_agrees_with_the_physical_one(stem, m_a):
    info, auto = _simulate(stem, m_a, "run.events=2000", "run.batch_size=2000")
    assert info.stop == "target_precision" and info.reach_relative_error <= 0.02
    seed = load_card(CARDS / f"{stem}.toml").run.seed + 1  # independent events
    ref_info, ref = _simulate(
        stem,
        m_a,
        f"run.seed={seed}",
        "run.variance_reduction=none",
        "run.events=2000",
        "run.batch_size=20000",
        "run.target_precision=0.08",
    )
    assert ref_info.variance_reduction == "none"
    a, b = auto.reach, ref.reach
    pull = (a.reach_C_over_Lambda_invTeV - b.reach_C_over_Lambda_invTeV) / math.hypot(
        a.reach_C_over_Lambda_err_invTeV, b.reach_C_over_Lambda_err_invTeV
    )
    assert abs(pull) < 3.0, (a, b, pull)
    if stem.startswith("thin_target_1p5TeV") and stem != "thin_target_1p5TeV_2mm":
        assert auto.detector.selected_effective_fraction >= 0.2
        # physical decays: ≈ 0.002 (visible) and ≈ 0.05 (invisible)
        assert ref.detector.selected_effective_fraction < 0.1
        ratio = auto.detector.selected_effective_fraction / ref.detector.selected_effective_fraction
        assert ratio > 5.0


def test_stopping_after_k_batches_is_a_run_of_k_batches():
    # physical decays: 3000 events are far from 2 % on the thin-target reach, so the cap stops
    common = ("run.variance_reduction=none", "run.batch_size=1000", "run.max_count_events=3000")
    info3, r3 = _simulate("thin_target_1p5TeV", 2.0, *common, "run.events=1000")
    assert (info3.stop, info3.count_batches, info3.count_events) == ("max_count_events", 3, 3000)
    # a run that asks for those 3000 events up front counts the same events
    info, r = _simulate("thin_target_1p5TeV", 2.0, *common, "run.events=3000")
    assert (info.count_batches, info.count_events) == (3, 3000)
    assert r.detector.n_mc_selected == r3.detector.n_mc_selected
    assert r.detector.efficiency == r3.detector.efficiency
    assert r.reach.reach_C_over_Lambda_invTeV == r3.reach.reach_C_over_Lambda_invTeV


CARD = str(CARDS / "thin_target_1p5TeV.toml")


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("run.target_precision=0", "run.target_precision"),
        ("run.target_precision=1.0", "run.target_precision"),
        ("run.target_precision=-0.1", "run.target_precision"),
        ("run.variance_reduction=fast", "run.variance_reduction"),
        ("run.max_count_events=0", "run.max_count_events"),
        ('decays.tau=["tau->e nu nu"]', "decays.tau"),
        ('decays.alp="invisible"', "decays.alp"),
    ],
)
def test_bad_precision_input_exits_2_naming_the_key(override, key, capsys, tmp_path):
    extra = ["--set", "model.m_chi=0.5", "--set", "model.g_chi=1.0"] if "alp" in key else []
    rc = main(["run", CARD, "--set", override, *extra, "--set", f"output.dir={tmp_path}/o"])
    err = capsys.readouterr().err
    assert rc == 2
    assert key in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_forcing_within_the_selection_is_allowed():
    card = load_card(CARD, ['decays.tau=["tau->3pi nu", "tau->mu nu nu"]'])
    from alpgen.detectors.config import DetectorConfig

    config = counting_decay_config(card, DetectorConfig.from_card(dict(card.detector)))
    assert config.tau == ("tau->3pi nu",)  # the intersection with the selection's needs


def test_alp_decay_length_biasing_is_unbiased():
    """A displaced ALP (C/Λ = 10⁻³ TeV⁻¹: cτ ≈ 10 mm, lab λ of metres) that must decay within
    D = 1 m: biased and physical sampler agree with ⟨1 − exp(−D/βγcτ)⟩."""
    engine = Engine(
        load_card(CARDS / "thin_target_1p5TeV.toml", [*FAST, "model.C_over_Lambda=1e-3"])
    )
    hard, _ = engine.hard(0, 20_000)
    d = 1000.0
    p = np.linalg.norm(hard.p[:, 4, :3], axis=1)  # SLOT_ALP
    analytic = float(np.mean(-np.expm1(-d * engine.model.m_a / (p * engine.model.ctau_mm))))
    assert 0.05 < analytic < 0.8
    est = {}
    for key, dmax in (("biased", d), ("physical", 0.0)):
        config = DecayConfig(alp="visible", tau="none", alp_max_decay_mm=dmax)
        batch = decay_batch(hard, engine.model, config, rng_for(5, 99, 0))
        dist = fastsim.decay_length(batch, 4)
        x = np.where(dist <= d, np.asarray(batch.weight, float), 0.0)
        n = len(x)
        est[key] = (x.sum() / n, math.sqrt(max((x**2).sum() - x.sum() ** 2 / n, 0.0)) / n)
        # every event still carries its full weight on average (the mixture is normalised)
        assert np.asarray(batch.weight).mean() == pytest.approx(1.0, abs=0.05)
    for value, err in est.values():
        assert abs(value - analytic) < 3 * err + 1e-3 * analytic, (est, analytic)
    assert est["biased"][1] < est["physical"][1]


def test_thin_target_2gev_reach_agrees_with_the_docs_and_carries_its_error():
    """docs/results.md (Fig. 7, 2×10⁴ physical events): d = 2 cm, m_a = 2 GeV, 0.91 ± 0.07
    TeV⁻¹. The default counting now gives it to ≤ 2 % (here with 2000 events only)."""
    info, res = _simulate("thin_target_1p5TeV", 2.0, "run.events=2000", "run.batch_size=2000")
    r = res.reach
    value, err = r.reach_C_over_Lambda_invTeV, r.reach_C_over_Lambda_err_invTeV
    assert err / value <= 0.02 and info.reach_relative_error == pytest.approx(err / value)
    assert abs(value - 0.91) < 3 * math.hypot(0.07, err), (value, err)
