"""Beam polarization end to end (issue 15): CLI, cards, spectrum columns, the written events.

Independent references: the helicity-resolved σ_± of ``alpgen xsec`` (the prediction for the
mean beam SPINUP of an unpolarized run), and a weighted Monte Carlo over the vegas map built here
from the integrand, the event kinematics and the explicit-spinor joint |A(h, λ')|² — not through
the sampler, ``hard_batch`` or the writers — for the τ helicity given the beam helicity.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pylhe
import pytest

from alpgen.card import CardError, load_card
from alpgen.cli import main
from alpgen.engine import Engine, process_params
from alpgen.events import SLOT_BEAM, SLOT_LEPTON
from alpgen.production import integrand as ig
from alpgen.production.helicity import joint_helicity_me2
from alpgen.production.integrator import integrate
from alpgen.spectrum import SpectrumError, load_spectrum

ROOT = Path(__file__).resolve().parents[2]
CARD = ROOT / "cards" / "thin_target_1p5TeV.toml"
FAST = ("production.precision=0.01",)


def xsec_json(capsys, *overrides: str) -> dict:
    args = ["xsec", str(CARD), "--json"]
    for o in (*FAST, *overrides):
        args += ["--set", o]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_polarization_changes_sigma_at_pi_over_4_only(capsys):
    res = {p: xsec_json(capsys, f"beam.polarization={p}") for p in (-1, 0, 1)}
    s = [res[p]["sigma_pb"] for p in (-1, 0, 1)]
    # paper convention at θ = π/4: the μ⁻ couples left-handed; P = −1 doubles σ, +1 kills it
    assert s[0] > 1.9 * s[1] and s[2] < 1e-3 * s[1]
    for p in (-1, 0, 1):
        d = res[p]
        assert d["beam_polarization"] == p
        assert d["sigma_helicity_minus_pb"] + d["sigma_helicity_plus_pb"] == pytest.approx(
            2 * res[0]["sigma_pb"], rel=5 * d["relative_precision"] + 0.01
        )
        assert d["sigma_pb"] == pytest.approx(
            0.5 * (1 - p) * d["sigma_helicity_minus_pb"]
            + 0.5 * (1 + p) * d["sigma_helicity_plus_pb"],
            rel=1e-9,
        )
    # pure scalar (θ = π/2): parity, σ does not depend on P
    pure = [
        xsec_json(capsys, f"beam.polarization={p}", "model.theta=1.5707963267948966")
        for p in (-1, 0, 1)
    ]
    assert pure[0]["sigma_pb"] == pytest.approx(pure[1]["sigma_pb"], rel=1e-9)
    assert pure[2]["sigma_pb"] == pytest.approx(pure[1]["sigma_pb"], rel=1e-9)


@pytest.mark.parametrize("value", ["1.5", "-1.01", "nan", '"left"'])
def test_bad_polarization_exits_2_naming_the_key(capsys, value):
    assert main(["xsec", str(CARD), "--set", f"beam.polarization={value}"]) == 2
    assert "beam.polarization" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# spectrum beams
# --------------------------------------------------------------------------------------------
def write_spectrum(path: Path, minus: float, plus: float, pol_minus=None, pol_plus=None) -> Path:
    cols = ["E_GeV", "dN_dE_mu_minus", "dN_dE_mu_plus"]
    if pol_minus is not None:
        cols.append("polarization_mu_minus")
    if pol_plus is not None:
        cols.append("polarization_mu_plus")
    lines = ["# label: test", ",".join(cols)]
    for e in (1000.0, 1200.0, 1500.0):
        row = [e, minus * (e / 1000) ** -2, plus * (e / 1000) ** -2]
        row += [v for v in (pol_minus, pol_plus) if v is not None]
        lines.append(",".join(str(v) for v in row))
    path.write_text("\n".join(lines) + "\n")
    return path


def spectrum_card(tmp_path: Path, spectrum: Path, extra: str = "") -> Path:
    text = CARD.read_text().replace(
        "energy = 1500.0          # GeV", f'spectrum = "{spectrum.name}"'
    )
    text = text.replace("[beam]\n", "[beam]\n" + extra)
    card = tmp_path / "card.toml"
    card.write_text(text)
    return card


def test_spectrum_polarization_columns(tmp_path):
    spec = load_spectrum(write_spectrum(tmp_path / "s.csv", 1.0, 1.0, pol_minus=-0.5))
    assert spec.has_polarization
    assert np.all(spec.polarization(np.array([1000.0, 1300.0]), "minus") == -0.5)
    assert np.all(spec.polarization(1300.0, "plus") == 0.0)  # missing column: unpolarized
    assert not load_spectrum(write_spectrum(tmp_path / "u.csv", 1.0, 1.0)).has_polarization
    with pytest.raises(SpectrumError, match="polarization_mu_plus"):
        load_spectrum(write_spectrum(tmp_path / "bad.csv", 1.0, 1.0, pol_plus=1.2))


def test_spectrum_polarization_errors_exit_2(tmp_path, capsys):
    bad = spectrum_card(tmp_path, write_spectrum(tmp_path / "bad.csv", 1.0, 1.0, pol_minus=-3))
    assert main(["xsec", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "beam.spectrum" in err and "polarization_mu_minus" in err and "bad.csv" in err
    both = spectrum_card(
        tmp_path,
        write_spectrum(tmp_path / "ok.csv", 1.0, 1.0, pol_minus=-1),
        "polarization = 0.0\n",
    )
    with pytest.raises(CardError, match=r"beam\.polarization"):
        load_card(both)
    assert main(["xsec", str(both)]) == 2
    assert "beam.polarization" in capsys.readouterr().err


def _sigma(card_path: Path, *overrides: str):
    card = load_card(card_path, (*FAST, *overrides))
    return integrate(process_params(card), seed=3, precision=0.01)


def test_spectrum_polarization_enters_sigma_per_charge(tmp_path):
    """Both charges 50/50. μ⁻ with P = −1 and μ⁺ with P = +1 are both the coupled chirality at
    θ = π/4 (paper; CP maps μ⁻ h to μ⁺ −h): σ ≈ 2σ(0). Reversed signs: σ ≈ 0. A constant
    beam.polarization = −1 instead favours μ⁻ and suppresses μ⁺: σ ≈ σ(0)."""
    unpol = _sigma(spectrum_card(tmp_path, write_spectrum(tmp_path / "u.csv", 1.0, 1.0)))
    # helicity columns of a half/half beam: equal (each helicity is coupled for one charge)
    assert unpol.sigma_helicity_minus_pb == pytest.approx(unpol.sigma_helicity_plus_pb, rel=1e-6)
    good = _sigma(spectrum_card(tmp_path, write_spectrum(tmp_path / "g.csv", 1.0, 1.0, -1.0, 1.0)))
    assert good.sigma_pb == pytest.approx(2 * unpol.sigma_pb, rel=0.03)
    bad = _sigma(spectrum_card(tmp_path, write_spectrum(tmp_path / "b.csv", 1.0, 1.0, 1.0, -1.0)))
    assert bad.sigma_pb < 1e-3 * unpol.sigma_pb
    const = _sigma(
        spectrum_card(tmp_path, write_spectrum(tmp_path / "c.csv", 1.0, 1.0)),
        "beam.polarization=-1",
    )
    assert const.sigma_pb == pytest.approx(unpol.sigma_pb, rel=0.03)


def test_spectrum_events_charge_and_helicity(tmp_path):
    """Constant P = −1 on a 50/50 μ± spectrum: μ⁺ (which need helicity +1) are suppressed by the
    chirality flip, so almost every event is a μ⁻, and every beam helicity is −1."""
    card = load_card(
        spectrum_card(tmp_path, write_spectrum(tmp_path / "c.csv", 1.0, 1.0)),
        ("run.events=2000", "run.batch_size=2000", "beam.polarization=-1", *FAST),
    )
    batch = next(Engine(card).batches())
    assert np.mean(batch.pid[:, SLOT_BEAM] == 13) > 0.99  # μ⁻ (PDG +13)
    assert np.all(batch.spin[:, SLOT_BEAM] == -1.0)


# --------------------------------------------------------------------------------------------
# the written events (LHE of a real run)
# --------------------------------------------------------------------------------------------
def _lhe_helicities(out: Path) -> tuple[np.ndarray, np.ndarray]:
    beam, tau = [], []
    for ev in pylhe.LHEFile.fromfile(out / "events.lhe").events:
        parts = ev.particles
        assert abs(parts[SLOT_BEAM].id) == 13 and parts[SLOT_BEAM].status == -1
        assert abs(parts[SLOT_LEPTON].id) == 15
        beam.append(parts[SLOT_BEAM].spin)
        tau.append(parts[SLOT_LEPTON].spin)
    return np.array(beam), np.array(tau)


def _predicted_tau_given_beam(card, n: int = 200_000) -> dict[int, float]:
    """⟨λ'_τ | h⟩ from a weighted MC over a vegas map: Σ w̄ (|A(h,+)|² − |A(h,−)|²)/½Σ|A|² over
    Σ w̄ (|A(h,+)|² + |A(h,−)|²)/½Σ|A|², with w̄ the unpolarized weight."""
    params = process_params(card)
    xs = integrate(params, seed=99, precision=0.02)
    rng = np.random.default_rng(5)
    y = rng.random((n, ig.ndim(params)))
    x, jac = np.empty_like(y), np.empty(n)
    xs.integrator.map.map(y, x, jac)
    w = ig.evaluate(params, x)[:, 0] * jac
    keep = w > 0
    x, w = np.ascontiguousarray(x[keep]), w[keep]
    mom = np.zeros((len(w), 5, 4))
    t, e = np.empty(len(w)), np.empty(len(w))
    ig.event_kinematics(x, ig.pack(params), *ig.pack_spectrum(params), mom, t, e)
    gs, gp = card.signed_couplings()
    me = joint_helicity_me2(
        *(mom[:, i] for i in range(5)), card.m_in, card.m_out, gs, gp, m_a=card.model.m_a
    )
    norm = 0.5 * me.sum(axis=(1, 2))
    out = {}
    for j, h in enumerate((-1, 1)):
        num = np.sum(w * (me[:, j, 1] - me[:, j, 0]) / norm)
        den = np.sum(w * (me[:, j, 1] + me[:, j, 0]) / norm)
        out[h] = num / den
    return out


@pytest.mark.parametrize("couplings", ["paper", "exact"])
def test_lhe_beam_and_tau_helicities(alpgen_run, tmp_path, couplings):
    """Unpolarized μ⁻ beam at θ = π/4: the written beam SPINUP has the mean that σ_± predict
    (paper: ≈ −1; exact couplings: ≈ +1 with ≈ 0.3 % helicity −1), and the τ SPINUP given the
    dominant beam helicity has the mean of the helicity-resolved matrix element."""
    overrides = (
        "run.events=3000",
        "run.batch_size=1000",
        "production.precision=0.02",
        f"model.couplings={couplings}",
    )
    rc, out = alpgen_run(tmp_path, overrides=overrides)
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    sm, sp = summary["sigma_helicity_minus_pb"], summary["sigma_helicity_plus_pb"]
    beam, tau = _lhe_helicities(out)
    n = len(beam)
    assert n == 3000 and set(np.unique(beam)) <= {-1, 1}
    p_plus = sp / (sm + sp)
    n_plus = int(np.sum(beam == 1))
    # binomial count of beam helicity +1 within 4σ (+1 for the discreteness at tiny rates)
    assert abs(n_plus - n * p_plus) <= 4 * math.sqrt(n * p_plus * (1 - p_plus)) + 1
    dominant = -1 if couplings == "paper" else 1
    assert np.sign(beam.mean()) == dominant and abs(beam.mean()) > 0.98
    card = load_card(CARD, overrides)
    pred = _predicted_tau_given_beam(card)
    sel = beam == dominant
    a = pred[dominant]
    assert abs(tau[sel].mean() - a) < 4 * math.sqrt((1 - a * a) / sel.sum()) + 0.01
    # the τ polarization given the beam helicity is substantial (|⟨λ'⟩| ≫ statistical error)
    assert abs(a) > 0.2


# --------------------------------------------------------------------------------------------
# other beams and leptons, experiments
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("particle", "lepton_out", "couplings", "dominant", "bound"),
    [
        # μ⁺: CP, the helicity +1 μ⁺ is the coupled one in the paper convention
        ("mu+", "tau", "paper", "plus", 1e-3),
        ("mu+", "tau", "exact", "minus", 5e-3),
        # e⁻ → τ: the chirality flip costs m_e², and |a_L/a_R|² = (m_e/m_τ)² with exact couplings
        ("e-", "tau", "paper", "minus", 1e-6),
        ("e-", "tau", "exact", "plus", 1e-6),
        # μ⁻ → e (paper: V ∝ 1 − γ5): the flip on the beam line costs ~ x m_μ²/s, s ≥ (m_a + m_e)²
        ("mu-", "e", "paper", "minus", 1e-2),
    ],
)
def test_other_beams_and_leptons(capsys, particle, lepton_out, couplings, dominant, bound):
    d = xsec_json(
        capsys,
        f"beam.particle={particle}",
        f"production.lepton_out={lepton_out}",
        f"model.couplings={couplings}",
        "decays.alp=auto",
        "model.m_a=3.0",
    )
    big = d[f"sigma_helicity_{dominant}_pb"]
    small = d["sigma_helicity_minus_pb" if dominant == "plus" else "sigma_helicity_plus_pb"]
    assert 0 < small < bound * big, (small, big)
    assert big == pytest.approx(2 * d["sigma_pb"], rel=0.01)


def test_detectors_record_a_beam_polarization():
    from alpgen.detectors.config import EXPERIMENTS, DetectorConfig, DetectorConfigError

    for name in EXPERIMENTS:
        p = DetectorConfig.default(name).beam_polarization
        assert p is not None and -1.0 <= p <= 1.0
    assert DetectorConfig.default("na64mu").beam_polarization > 0.5  # μ⁻ of the M2 line
    with pytest.raises(DetectorConfigError, match="beam_polarization"):
        DetectorConfig.default("na64mu", beam_polarization=1.5)
    # the cards keep the default beam.polarization = 0
    for card in ("thin_target_1p5TeV.toml", "na64mu_160GeV.toml", "fasernu2.toml"):
        assert load_card(ROOT / "cards" / card).beam.polarization == 0.0
