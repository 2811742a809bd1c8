"""Spin and polarisation helpers, and analytic reference distributions for polarised τ decays.

Conventions: four-vectors (px, py, pz, E) in GeV, metric (+,−,−,−); helicity h = ±1 is twice the
spin projection on the lab momentum; the longitudinal polarisation P ∈ [−1, 1] is its mean.
"""

from __future__ import annotations

import numpy as np

from .kinematics import two_body_momentum


def frame_polarization(
    parent_p4: np.ndarray, m_parent: float, daughter_p4: np.ndarray, m: float, m_other: float
) -> np.ndarray:
    """Lab longitudinal polarisation P_L [N] of a two-body-decay daughter (mass m, partner
    m_other) that has helicity +1 in its parent's rest frame.

    Helicity spin vector with respect to a frame of four-velocity a:
    s_a = [k (k·a) − m² a]/(m √((k·a)² − m²)); then P_L = −s_parent·s_lab
    = [(k·a) E − m² a⁰]/(|k*| |k⃗|), a = p_parent/m_parent, k·a = E* (parent-frame energy)."""
    e_star = (m_parent**2 + m**2 - m_other**2) / (2.0 * m_parent)
    k_star = two_body_momentum(m_parent, m, m_other)
    e_par = np.sqrt(np.sum(parent_p4[:, :3] ** 2, axis=1) + m_parent**2)
    k_lab = np.sqrt(np.sum(daughter_p4[:, :3] ** 2, axis=1))
    e_lab = np.sqrt(k_lab**2 + m**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        pl = (e_star * e_lab - m**2 * e_par / m_parent) / (k_star * k_lab)
    return np.clip(np.nan_to_num(pl, nan=0.0), -1.0, 1.0)


def sample_helicity(prob_plus: np.ndarray | float, uniforms: np.ndarray) -> np.ndarray:
    """Helicities ±1 (float64, as in ``EventBatch.spin``) with P(+1) = ``prob_plus``, from
    caller-supplied uniforms in [0, 1): the one helicity draw of the generator (beam and
    produced lepton jointly from the matrix element, ALP daughters, τ of unknown spin)."""
    return np.where(np.asarray(uniforms) < np.asarray(prob_plus), 1.0, -1.0)


def draw_helicity(polarization: np.ndarray | float, u: np.ndarray) -> np.ndarray:
    """Helicity ±1 with P(+1) = (1 + polarization)/2 (:func:`sample_helicity`)."""
    return sample_helicity(0.5 * (1.0 + np.asarray(polarization)), u)


def michel_pdf(x: np.ndarray, cos_t: np.ndarray | float, P: float, x0: float = 0.0) -> np.ndarray:
    """Tree-level V−A d²Γ/dx dcosθ (unnormalised) of τ⁻ → ℓ⁻ν̄ν in the τ rest frame.

    x = E_ℓ/E_max with E_max = (m_τ² + m_ℓ²)/(2m_τ), x0 = m_ℓ/E_max, θ = angle between ℓ⁻ and
    the τ spin, SM Michel parameters ρ = δ = 3/4, ξ = 1, η = 0 (PDG review "Muon decay
    parameters"): √(x² − x0²)[F_IS(x) − P cosθ F_AS(x)]. For x0 = 0 this is
    x²[(3 − 2x) + P cosθ (1 − 2x)]/6."""
    rho = delta = 0.75
    x = np.asarray(x, dtype=float)
    r = np.sqrt(np.clip(x**2 - x0**2, 0.0, None))
    f_is = x * (1 - x) + (2.0 / 9.0) * rho * (4 * x**2 - 3 * x - x0**2)
    f_as = (r / 3.0) * (1 - x + (2.0 / 3.0) * delta * (4 * x - 4 + np.sqrt(1 - x0**2)))
    return r * (f_is - P * np.asarray(cos_t) * f_as)


def collinear_pion_fraction_pdf(x: np.ndarray, helicity: float, r: float = 0.0) -> np.ndarray:
    """dN/dx of x = E_π/E_τ for τ⁻ → π⁻ν in the collinear (E_τ ≫ m_τ) limit, normalised on
    [r, 1] with r = m_π²/m_τ²: (1 + h (2x − 1 − r)/(1 − r))/(1 − r). For r = 0 the mean is
    1/2 + h/6: 2/3 for h = +1 (right-handed τ⁻), 1/3 for h = −1; τ⁺ has the opposite sign."""
    x = np.asarray(x, dtype=float)
    return (1.0 + helicity * (2 * x - 1 - r) / (1 - r)) / (1 - r)
