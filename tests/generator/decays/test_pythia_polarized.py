"""Optional cross-check of the polarized τ → πν and τ → μνν kernels against Pythia 8.

Needs the Pythia 8 Python bindings (the ``pythia`` extra, ``pip install ".[pythia]"``: module
``pythia8mc``; the bindings built with Pythia itself are called ``pythia8``). They are not a
dependency of alpgen; without them the test skips locally, but CI installs the extra and fails
on any skip (``ALPGEN_NO_SKIP=1`` in ``.ci/run``).

Set-up: a τ of fixed lab momentum (100 GeV along +z) with helicity h = ±1 is decayed N times by
alpgen's registered channel kernels and by Pythia 8 (``ProcessLevel:all = off``: the τ is put
into ``pythia.event`` by hand with ``Particle::pol`` = h and decayed by ``pythia.next()``, i.e.
the hadron level only; the decay table of ±15 is restricted to the channel under test; no QED
radiation in decays, as alpgen has none). The spectra of x = E_π/E_τ and x = E_μ/E_τ are
compared with a two-sample χ² test.

Pythia's helicity convention (``ParticleDecays.html``, "Tau decays"): the external
polarization (``pol``, the LHEF SPINUP digit) of an uncorrelated τ is its helicity in the lab
frame, ±1 = spin projection ±½ on the momentum, for τ⁻ and τ⁺ alike. That is alpgen's
``EventBatch.spin`` convention. Measured here: τ⁻ with pol = +1 gives ⟨E_π/E_τ⟩ ≈ 2/3 (the
right-handed τ⁻ emits its π⁻ forward), as alpgen's h = +1, so no sign change is needed; the
test would fail with opposite conventions (it also checks that h = +1 and h = −1 are told apart).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

try:
    import pythia8mc as pythia8
except ImportError:
    pythia8 = pytest.importorskip("pythia8")

from scipy import stats

from alpgen.constants import M_TAU
from alpgen.decays.registry import channels_for

E_TAU = 100.0  # GeV, along +z
N = 12000
BINS = np.linspace(0.0, 1.0, 21)
P_MIN = 1e-3

#: channel name, the Pythia decay products of τ⁻ for ``15:onIfMatch``, the daughter to histogram
CHANNELS = {
    "tau->pi nu": ("16 -211", -211),
    "tau->mu nu nu": ("16 13 -14", 13),
}


def _pythia(products: str, seed: int):
    py = pythia8.Pythia("", False)
    for s in (
        "ProcessLevel:all = off",
        "HadronLevel:QED = off",
        "Next:numberCount = 0",
        "Print:quiet = on",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        "15:onMode = off",
        f"15:onIfMatch = {products}",
    ):
        assert py.readString(s), s
    assert py.init()
    return py


def pythia_fractions(channel: str, pid: int, helicity: float, seed: int) -> np.ndarray:
    """x = E_daughter/E_τ from Pythia 8 for a τ (``pid`` = ±15) of helicity ``helicity``."""
    products, daughter = CHANNELS[channel]
    daughter = daughter if pid > 0 else -daughter
    py = _pythia(products, seed)
    m = py.particleData.m0(15)
    pz = math.sqrt(E_TAU**2 - m**2)
    out = np.empty(N)
    ev = py.event
    for i in range(N):
        ev.reset()
        ev.append(pid, 23, 0, 0, 0.0, 0.0, pz, E_TAU, m, 0.0, helicity)
        assert py.next()
        found = [ev[j].e() for j in range(ev.size()) if ev[j].isFinal() and ev[j].id() == daughter]
        assert len(found) == 1
        out[i] = found[0] / E_TAU
    return out


def alpgen_fractions(channel: str, pid: int, helicity: float, seed: int) -> np.ndarray:
    ch = next(c for c in channels_for(pid) if c.name == channel)
    _, daughter = CHANNELS[channel]
    daughter = daughter if pid > 0 else -daughter
    j = ch.daughters.index(daughter)
    p4 = np.zeros((N, 4))
    p4[:, 2] = math.sqrt(E_TAU**2 - M_TAU**2)
    p4[:, 3] = E_TAU
    rng = np.random.default_rng(seed)
    d = ch.run(p4, np.full(N, helicity), rng.random((N, ch.n_random)))
    return d[:, j, 3] / E_TAU


def chi2_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample χ² test of equal-size unweighted samples on ``BINS`` (empty bins dropped)."""
    assert len(a) == len(b)
    na, _ = np.histogram(a, BINS)
    nb, _ = np.histogram(b, BINS)
    assert na.sum() == len(a) and nb.sum() == len(b)  # x within [0, 1]
    ok = (na + nb) > 0
    chi2 = float(np.sum((na[ok] - nb[ok]) ** 2 / (na[ok] + nb[ok])))
    return float(stats.chi2.sf(chi2, int(ok.sum()) - 1))


CASES = [
    ("tau->pi nu", 15, +1.0),
    ("tau->pi nu", 15, -1.0),
    ("tau->pi nu", -15, +1.0),
    ("tau->mu nu nu", 15, +1.0),
    ("tau->mu nu nu", 15, -1.0),
]


@pytest.fixture(scope="module")
def spectra():
    out = {}
    for k, (channel, pid, h) in enumerate(CASES):
        out[channel, pid, h] = (
            alpgen_fractions(channel, pid, h, 1000 + k),
            pythia_fractions(channel, pid, h, 2000 + k),
        )
    return out


@pytest.mark.parametrize(("channel", "pid", "helicity"), CASES)
def test_spectrum_matches_pythia(spectra, channel, pid, helicity):
    ours, theirs = spectra[channel, pid, helicity]
    p = chi2_pvalue(ours, theirs)
    assert p > P_MIN, (channel, pid, helicity, p, ours.mean(), theirs.mean())


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_the_comparison_resolves_the_helicity(spectra, channel):
    """The χ² test has the power to see a helicity flip: alpgen h = +1 vs Pythia h = −1."""
    ours, _ = spectra[channel, 15, 1.0]
    _, flipped = spectra[channel, 15, -1.0]
    assert chi2_pvalue(ours, flipped) < 1e-6


def test_pion_mean_fraction_sign_convention(spectra):
    """τ⁻ with helicity +1 emits a hard π⁻: ⟨x⟩ = (1 + r)/2 + h(1 − r)/6 (collinear limit,
    r = m_π²/m_τ²), about 0.669; τ⁺ with helicity +1 a soft π⁺, about 0.338."""
    from alpgen.constants import M_PI

    r = (M_PI / M_TAU) ** 2
    for pid, sign in ((15, 1.0), (-15, -1.0)):
        expected = 0.5 * (1 + r) + sign * (1 - r) / 6
        for x in spectra["tau->pi nu", pid, 1.0]:
            assert abs(x.mean() - expected) < 5 * x.std() / math.sqrt(N)
