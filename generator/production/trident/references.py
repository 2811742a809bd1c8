"""Independent formulas the exact trident cross sections are validated against (physics.md §8.3).

Nothing here is used by the generator itself. Units: GeV, pb.

* :func:`bethe_heitler_limit_pb` — σ(γZ → ℓ⁺ℓ⁻Z) for a point nucleus, no screening, ω ≫ m:
  (28/9) Z² α r_ℓ² [ln(2ω/m) − 109/42], r_ℓ = α/m (Bethe & Heitler 1934; Tsai, RMP 46 (1974) 815).
* :func:`epa_photon_flux` — the lepton's equivalent-photon spectrum n(ω) (Budnev et al., Phys.
  Rept. 15 (1975) 181; Frixione et al., PLB 319 (1993) 339), and :func:`epa_cross_section`, its
  fold with the exact σ(γA → ℓ⁺ℓ⁻A) of this package.
* :func:`kkp_mumu_dsigma_dv` — μ⁺μ⁻ pair production by muons, Kelner, Kokoulin & Petrukhin,
  Phys. Atom. Nucl. 63 (2000) 1603 (their Eqs. 18, 21, 22; B = 183):

      dσ/dv = (4/3π) (Z α r_μ)² (1 − v)/v ∫₀^{ρ_max} φ(v, ρ) ln X dρ ,  ρ_max = 1 − 2m_μ/(vE),

  i.e. (2/3π)(Zαr_μ)² (1 − v)/v ∫ over the full, symmetric range −ρ_max < ρ < ρ_max of the pair
  asymmetry ρ. This is the prefactor of PROPOSAL's ``MupairKelnerKokoulinPetrukhin``. Geant4's
  ``G4MuonToMuonPairProductionModel`` uses 2/(3π) but integrates only 0 < |ρ| < ρ_max (its Gauss
  points run over ln(1 − ρ) from ρ = 0 to −ρ_max) and Y = 10√(m_μ/E) instead of 12√(m_μ/E): its
  cross section is a factor ≈ 2 lower (the "prefactor caution" of physics.md §8.3). The exact
  tree level decides between them (tests/…/test_trident_validation.py).
* :func:`kp_epair_dsigma_dv`, :func:`b_pair_kp` — e⁺e⁻ pair production by muons, the
  Kokoulin–Petrukhin formula (Proc. 12th ICCR 1971; Kelner, Kokoulin, Petrukhin 1998 for the
  atomic electrons, Z² → Z(Z + ζ)) as coded in Geant4's ``G4MuPairProductionModel``
  (R. Kokoulin, V. Ivanchenko, 2004). It is the formula behind the pair-production columns of
  Groom, Mokhov & Striganov, ADNDT 78 (2001) 183, whose b_pair tables it reproduces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...constants import ALPHA_EM, GEV2_TO_PB, M_E, M_MU
from ...targets import Target, get_target

__all__ = [
    "b_pair_kp",
    "bethe_heitler_limit_pb",
    "epa_cross_section",
    "epa_photon_flux",
    "kkp_mumu_dsigma_dv",
    "kkp_mumu_sigma_pb",
    "kp_epair_dsigma_dv",
]


def bethe_heitler_limit_pb(omega: float, m: float, Z: int) -> float:
    """Asymptotic point-nucleus, unscreened σ(γZ → ℓ⁺ℓ⁻Z) in pb (valid for ω ≫ m)."""
    r = ALPHA_EM / m
    return (
        28.0
        / 9.0
        * Z**2
        * ALPHA_EM
        * r
        * r
        * (math.log(2.0 * omega / m) - 109.0 / 42.0)
        * GEV2_TO_PB
    )


def epa_photon_flux(omega: float, E: float, m: float, q2_max: float) -> float:
    """n(ω) in GeV⁻¹: equivalent photons of a lepton (mass m, energy E) per unit ω, with
    y = ω/E, Q²_min = m² y²/(1 − y) and virtualities up to ``q2_max`` (GeV²)."""
    y = omega / E
    if not 0.0 < y < 1.0:
        return 0.0
    q2_min = m * m * y * y / (1.0 - y)
    if q2_max <= q2_min:
        return 0.0
    return (
        ALPHA_EM
        / (math.pi * omega)
        * (
            (1.0 - y + 0.5 * y * y) * math.log(q2_max / q2_min)
            - (1.0 - y) * (1.0 - q2_min / q2_max)
        )
    )


def epa_cross_section(
    E: float,
    lepton: str,
    target: Target | str,
    q2_max: Sequence[float],
    *,
    n_nodes: int = 16,
    precision: float = 0.01,
    seed: int = 1,
    **photo_kw: object,
) -> tuple[np.ndarray, float]:
    """∫ dω n_μ(ω) σ(γA → ℓ⁺ℓ⁻A)(ω) in pb for each Q²_max in ``q2_max``.

    σ_γ is the exact photoproduction cross section of :func:`.cross_section.photo_cross_section`
    (same form factors and t cut, ``photo_kw``), evaluated at ``n_nodes`` Gauss–Legendre nodes in
    ln ω between the pair threshold 2m_ℓ and E − m_μ. Returns (σ_EPA per Q²_max, the MC error of
    the fold, common to all Q²_max up to the weights)."""
    from .cross_section import photo_cross_section, trident_params

    par = trident_params(E, lepton, target)
    w_lo, w_hi = 2.0 * par.m_l * (1.0 + 1e-9), E - M_MU
    x, wx = np.polynomial.legendre.leggauss(n_nodes)
    lo, hi = math.log(w_lo), math.log(w_hi)
    ln_w = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
    jac = 0.5 * (hi - lo) * wx
    sig = np.zeros(len(q2_max))
    var = 0.0
    for k, (lw, jw) in enumerate(zip(ln_w, jac, strict=True)):
        w = math.exp(lw)
        r = photo_cross_section(w, lepton, target, precision=precision, seed=seed + k, **photo_kw)  # type: ignore[arg-type]
        fl = np.array([epa_photon_flux(w, E, M_MU, q) for q in q2_max])
        sig += jw * w * fl * r.sigma_pb
        var += (jw * w * fl[0] * r.sigma_err_pb) ** 2
    return sig, math.sqrt(var)


def _kkp_phi(v: float, rho: np.ndarray) -> np.ndarray:
    r2 = rho * rho
    xi = 0.25 * v * v * (1.0 - r2) / (1.0 - v)
    beta = v * v / (2.0 * (1.0 - v))
    return (
        ((2.0 + r2) * (1.0 + beta) + xi * (3.0 + r2)) * np.log1p(1.0 / xi)
        + ((1.0 + r2) * (1.0 + 1.5 * beta) - (1.0 + 2.0 * beta) * (1.0 - r2) / xi) * np.log1p(xi)
        - 1.0
        - 3.0 * r2
        + beta * (1.0 - 2.0 * r2)
    )


def _kkp_u(v: float, rho2: np.ndarray | float, E: float, Z: int, A: float) -> np.ndarray | float:
    B = 183.0
    z13 = Z ** (-1.0 / 3.0)
    xi = 0.25 * v * v * (1.0 - rho2) / (1.0 - v)
    Y = 12.0 * math.sqrt(M_MU / E)
    num = 0.65 * A**-0.27 * B * z13 * M_MU / M_E
    den = 1.0 + 2.0 * math.sqrt(math.e) * M_MU**2 * B * z13 * (1.0 + xi) * (1.0 + Y) / (
        M_E * E * v * (1.0 - rho2)
    )
    return num / den


def kkp_mumu_dsigma_dv(v: float, E: float, Z: int, A: float, n_rho: int = 64) -> float:
    """KKP dσ/dv (pb) for μ N → μ N μ⁺μ⁻ at muon energy E (GeV), v = pair energy / E, on an atom of
    charge Z and atomic mass A (g/mol; enters as A^-0.27 in the nuclear-size term)."""
    rho_max = 1.0 - 2.0 * M_MU / (v * E)
    if rho_max <= 0.0 or v >= 1.0 - M_MU / E:
        return 0.0
    # Gauss–Legendre in s = ln(1 − ρ), ρ from 0 to ρ_max
    x, wx = np.polynomial.legendre.leggauss(n_rho)
    smax = math.log1p(-rho_max)
    s = 0.5 * smax * (x + 1.0)
    rho = -np.expm1(s)
    drho = 0.5 * (-smax) * wx * (1.0 - rho)
    umax = _kkp_u(v, rho_max * rho_max, E, Z, A)
    X = 1.0 + _kkp_u(v, rho * rho, E, Z, A) - umax
    integrand = _kkp_phi(v, rho) * np.log(np.maximum(X, 1e-300))
    integrand = np.where(X > 1.0, integrand, 0.0)
    r_mu = ALPHA_EM / M_MU
    pref = 4.0 / (3.0 * math.pi) * (Z * ALPHA_EM * r_mu) ** 2 * (1.0 - v) / v
    return float(pref * np.sum(integrand * drho) * GEV2_TO_PB)


def kkp_mumu_sigma_pb(
    E: float, target: Target | str, v_min: float, v_max: float | None = None, n_v: int = 96
) -> float:
    """∫ dσ/dv dv (pb) of :func:`kkp_mumu_dsigma_dv` over v_min < v < v_max (default: the end
    point 1 − m_μ/E), Gauss–Legendre in ln v."""
    tg = get_target(target) if isinstance(target, str) else target
    v_hi = (1.0 - M_MU / E) if v_max is None else v_max
    v_lo = max(v_min, 2.0 * M_MU / E * (1.0 + 1e-9))
    x, wx = np.polynomial.legendre.leggauss(n_v)
    lo, hi = math.log(v_lo), math.log(v_hi)
    lv = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
    tot = 0.0
    for li, wi in zip(lv, wx, strict=True):
        v = math.exp(li)
        tot += 0.5 * (hi - lo) * wi * v * kkp_mumu_dsigma_dv(v, E, tg.Z, tg.molar_mass)
    return tot


def kp_epair_dsigma_dv(v: float, E: float, Z: int, n_rho: int = 32) -> float:
    """Kokoulin–Petrukhin dσ/dv (pb per atom) for μ Z → μ Z e⁺e⁻, v = pair energy / E (total
    muon energy E in GeV). Screening (B = 183), nuclear size and the atomic-electron term
    Z(Z + ζ) included; integral over the pair asymmetry 0 < ρ < ρ_max by Gauss–Legendre in
    ln(1 − ρ), with the prefactor 4α²r_e²/(3π) that goes with that half range."""
    mu, me = M_MU, M_E
    eps = v * E
    resid = E - eps
    z13, z23 = Z ** (1.0 / 3.0), Z ** (2.0 / 3.0)
    sqrte = math.sqrt(math.e)
    if resid <= 0.75 * sqrte * mu * z13:
        return 0.0
    alf = 4.0 * me / eps
    a3 = 1.0 - alf
    if a3 <= 0.0:
        return 0.0
    bbb, g1, g2 = 183.0, 1.95e-5, 5.3e-5
    zeta = 0.0
    zeta1 = 0.073 * math.log(E / (mu + g1 * z23 * E)) - 0.26
    if zeta1 > 0.0:
        zeta2 = 0.058 * math.log(E / (mu + g2 * z13 * E)) - 0.14
        zeta = zeta1 / zeta2
    z2 = Z * (Z + zeta)
    mr2 = (mu / me) ** 2
    screen0 = 2.0 * me * sqrte * bbb / (z13 * eps)
    a0 = E * resid
    a1 = eps * eps / a0
    bet = 0.5 * a1
    xi0 = 0.25 * mr2 * a1
    dl = 6.0 * mu * mu / a0
    tmnexp = (alf + 2.0 * dl * a3) / (1.0 + (1.0 - dl) * math.sqrt(a3))
    if tmnexp <= 0.0:
        return 0.0
    tmn = math.log(tmnexp)
    x, w = np.polynomial.legendre.leggauss(n_rho)
    xg, wg = 0.5 * (x + 1.0), 0.5 * w
    a4 = np.exp(tmn * xg)  # 1 − ρ
    a5 = a4 * (2.0 - a4)  # 1 − ρ²
    a6 = 1.0 - a5  # ρ²
    a7 = 1.0 + a6
    a9 = 3.0 + a6
    xi = xi0 * a5
    xii = 1.0 / xi
    xi1 = 1.0 + xi
    screen = screen0 * xi1 / a5
    yeu = 5.0 - a6 + 4.0 * bet * a7
    yed = 2.0 * (1.0 + 3.0 * bet) * np.log(3.0 + xii) - a6 - a1 * (2.0 - a6)
    ye1 = 1.0 + yeu / yed
    ale = np.log(bbb / z13 * np.sqrt(xi1 * ye1) / (1.0 + screen * ye1))
    cre = 0.5 * np.log(1.0 + 2.25 * z23 * xi1 * ye1 / mr2)
    be = np.where(
        xi <= 1e3,
        ((2.0 + a6) * (1.0 + bet) + xi * a9) * np.log1p(xii) + (a5 - bet) / xi1 - a9,
        (3.0 - a6 + a1 * a7) / (2.0 * xi),
    )
    fe = np.maximum((ale - cre) * be, 0.0)
    ymu = 4.0 + a6 + 3.0 * bet * a7
    ymd = a7 * (1.5 + a1) * np.log(3.0 + xi) + 1.0 - 1.5 * a6
    ym1 = 1.0 + ymu / ymd
    alm_crm = np.log(bbb * (mu / me) / (1.5 * z23 * (1.0 + screen * ym1)))
    a10 = (1.0 + a1) * a5
    bm = np.where(
        xi >= 1e-3,
        (a7 * (1.0 + 1.5 * bet) - a10 * xii) * np.log(xi1) + xi * (a5 - bet) / xi1 + a10,
        (5.0 - a6 + bet * a9) * (xi / 2.0),
    )
    fm = np.maximum(alm_crm * bm, 0.0)
    total = float(np.sum(wg * a4 * (fe + fm / mr2)))
    r_e = ALPHA_EM / M_E
    pref = 4.0 * ALPHA_EM**2 * r_e**2 / (3.0 * math.pi)
    # Geant4 returns dσ/dε; dσ/dv = E dσ/dε
    return -tmn * total * pref * z2 * resid / (E * eps) * E * GEV2_TO_PB


def b_pair_kp(E: float, target: Target | str, n_v: int = 128) -> float:
    """b_pair = (N_A/A) ∫ v dσ/dv dv in g⁻¹cm² from :func:`kp_epair_dsigma_dv` (Gauss–Legendre in
    ln v from the threshold 4m_e/E to 1 − 0.75√e m_μ Z^{1/3}/E)."""
    from ...constants import AVOGADRO, PB_TO_CM2

    tg = get_target(target) if isinstance(target, str) else target
    v_lo = 4.0 * M_E / E * (1.0 + 1e-9)
    v_hi = 1.0 - 0.75 * math.sqrt(math.e) * M_MU * tg.Z ** (1.0 / 3.0) / E
    x, wx = np.polynomial.legendre.leggauss(n_v)
    lo, hi = math.log(v_lo), math.log(v_hi)
    lv = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
    tot = 0.0
    for li, wi in zip(lv, wx, strict=True):
        v = math.exp(li)
        tot += 0.5 * (hi - lo) * wi * v * v * kp_epair_dsigma_dv(v, E, tg.Z)
    return tot * PB_TO_CM2 * AVOGADRO / tg.molar_mass
