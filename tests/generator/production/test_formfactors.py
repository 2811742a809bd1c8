"""Form factors of physics.md §5.6: limits, normalisations and the small-x series."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from alpgen.constants import HBARC_GEV_FM, M_E
from alpgen.production.formfactors import form_factor_components, sphere_ff


def test_sphere_form_factor_vs_mpmath_across_series_switch():
    for x in [1e-6, 1e-4, 3e-3, 1e-2, 0.0499, 0.0501, 0.2, 1.0, 4.4934]:
        with mpmath.workdps(50):
            xm = mpmath.mpf(x)
            exact = 3 * (mpmath.sin(xm) - xm * mpmath.cos(xm)) / xm**3
        assert sphere_ff(x) == pytest.approx(float(exact), rel=1e-12, abs=1e-15)


def test_unscreened_limits():
    """t → 0 without screening: coherent → Z², incoherent → Z (protons only, τ_p → 0)."""
    out = form_factor_components(np.array([1e-12]), 82, 208, atomic_screening=False)[0]
    assert out[0] == pytest.approx(82**2, rel=1e-9)
    assert out[1] == pytest.approx(82, rel=1e-9)
    z1 = form_factor_components(
        np.array([1e-12]), 82, 208, atomic_screening=False, coherent_norm="Z-1"
    )[0]
    assert z1[0] == pytest.approx(81**2, rel=1e-9)


def test_screening_and_hand_values():
    t = np.array([1e-12, 1e-9, 1e-4, 0.01, 0.5])
    scr = form_factor_components(t, 82, 208)
    bare = form_factor_components(t, 82, 208, atomic_screening=False)
    a = 111 * 82 ** (-1 / 3) / M_E
    ap = 571.4 * 82 ** (-2 / 3) / M_E
    assert scr[:, 0] / bare[:, 0] == pytest.approx((a * a * t / (1 + a * a * t)) ** 2, rel=1e-12)
    assert scr[:, 1] / bare[:, 1] == pytest.approx(
        (ap * ap * t / (1 + ap * ap * t)) ** 2, rel=1e-12
    )
    assert scr[0, 0] < 1e-3 * bare[0, 0]  # fully screened far below 1/a²
    # coherent at t = 0.01 GeV² by hand (Eq. 20)
    ra, a0 = 1.2 * 208 ** (1 / 3) / HBARC_GEV_FM, 0.79 / HBARC_GEV_FM
    x = ra * 0.1
    f = 3 * (np.sin(x) - x * np.cos(x)) / x**3 / (1 + a0 * a0 * 0.01)
    assert bare[3, 0] == pytest.approx(82**2 * f * f, rel=1e-12)
    # incoherent at t = 0.5 by hand (Eq. 19)
    tau = 0.5 / (4 * 0.93827208816**2)
    inc = (82 * (1 + 2.79**2 * tau) + 126 * 1.91**2 * tau) / ((1 + 0.5 / 0.71) ** 4 * (1 + tau))
    assert bare[4, 1] == pytest.approx(inc, rel=1e-6)
