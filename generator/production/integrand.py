"""The production integrand on the unit hypercube, as batched numba kernels.

For a point y ∈ [0,1]^d (d = 4, or 5 with a beam spectrum, the energy being y[0]) the weight is

    w(y) = ∂(E, E_a, θ_a, t, φ_q)/∂y × dσ/(dE_a dθ_a dt dφ_q)   [pb]     (physics.md (5.2))
    dσ/(dE_a dθ_a dt dφ_q) = |k⃗| sinθ_a |M̄|² / (1024 π⁴ M² |p⃗| V)

so that σ = ∫ w dᵈy. With a spectrum φ(E) the energy Jacobian carries φ(E)/∫φ dE, so the
integral is the flux-averaged cross section. Each weight is returned split into its coherent and
incoherent form-factor components, and resolved in the beam helicity (columns: total, coherent,
incoherent, helicity −1, helicity +1; see below).

Beam helicity (issue 15). h = ±1 is the helicity of the beam lepton in the lab (= target rest)
frame, whatever its charge. With R_h = Σ_λ' |A(h, λ')|² / Σ_{h,λ'} |A|² the share of the
spin-summed |M|² carried by beam helicity h at this phase-space point (explicit spinor amplitudes
of :mod:`.helicity`, negative-lepton convention; a positive beam has R_h⁺ = R_{−h} by CP),
the weight of a beam of polarization P (mean helicity) is

    w(P) = w̄ · Σ_h (1 + hP) R_h ,   w_h = 2 w̄ R_h ,   w(P) = Σ_h (1 + hP)/2 · w_h ,

where w̄ is the spin-averaged weight of physics.md (5.1)-(5.2) (closed form, unchanged). So
w(0) = w̄ exactly. With a spectrum of both charges, fractions f_∓(E) and polarizations P_∓(E),
w = w̄ [1 + A (f₋P₋ − f₊P₊)] and w_h = w̄ [1 + hA (f₋ − f₊)] with A = R₊ − R₋ (μ⁻ convention).
Parity makes A = 0 when g_S g_P = 0 (pure scalar or pseudoscalar); A is odd in g_S g_P.

The physics parameters travel to the kernels as one float64 array built by :func:`pack`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..constants import E_CHARGE_SQ, GEV2_TO_PB, HBARC_GEV_FM
from .formfactors import components, nuclear_radius, screening_lengths
from .helicity import beam_helicity_sums
from .kinematics import four_momenta, phase_space
from .matrix_element import amplitude_terms
from .process import ProcessParams, production_threshold

# indices into the packed parameter array
I_MIN, I_MOUT, I_MA, I_M, I_TCUT, I_G2, I_GP2 = 0, 1, 2, 3, 4, 5, 6
I_Z, I_A, I_ZCOH, I_RA, I_A0, I_AEL, I_AINEL, I_SCREEN, I_COH, I_INC = range(7, 17)
I_EBEAM, I_ELO, I_EHI, I_NORM, I_SPEC = range(17, 22)
# signed couplings (g_S, g_P of V = g_S − g_P γ5 for a negative beam), beam polarization of the
# negative / positive component, fraction of negative beam leptons (monochromatic beam), and
# whether the spectrum carries its own energy-dependent fractions/polarizations (spec_aux)
I_GS, I_GPS, I_POLM, I_POLP, I_FMINUS, I_SPECPOL = range(22, 28)
N_PAR = 28
#: weight columns: total, coherent, incoherent (at the beam polarization), h = −1, h = +1, and
#: (not a weight) the negative-lepton beam-helicity asymmetry A = R₊ − R₋ at the point
N_COL = 6
#: the columns that are weights (integrated by vegas)
N_WEIGHTS = 5


def pack(params: ProcessParams) -> np.ndarray:
    """Flatten :class:`ProcessParams` into the float64 array read by the kernels."""
    par = np.zeros(N_PAR)
    par[I_MIN], par[I_MOUT], par[I_MA], par[I_M] = params.m_in, params.m_out, params.m_a, params.M
    par[I_TCUT] = params.t_max
    par[I_G2] = params.g2_sum
    par[I_GP2] = params.gP2 if params.include_pv else 0.0
    par[I_Z], par[I_A] = params.Z, params.A
    par[I_ZCOH] = params.Z if params.coherent_norm == "Z" else params.Z - 1
    par[I_RA] = nuclear_radius(params.A)
    par[I_A0] = params.ws_a0_fm / HBARC_GEV_FM
    par[I_AEL], par[I_AINEL] = screening_lengths(params.Z, params.a_el, params.a_inel)
    par[I_SCREEN] = 1.0 if params.atomic_screening else 0.0
    par[I_COH] = 1.0 if params.coherent else 0.0
    par[I_INC] = 1.0 if params.incoherent else 0.0
    par[I_EBEAM] = params.E_beam
    # e⁴/(1024 π⁴ M²) in GeV⁻² → pb
    par[I_NORM] = GEV2_TO_PB * E_CHARGE_SQ**2 / (1024.0 * math.pi**4 * params.M**2)
    par[I_GS], par[I_GPS] = params.signed_couplings
    negative = params.beam_charge < 0
    par[I_FMINUS] = 1.0 if negative else 0.0
    par[I_POLM] = params.polarization if negative else 0.0
    par[I_POLP] = 0.0 if negative else params.polarization
    if params.spectrum is not None:
        e_th = production_threshold(params.m_in, params.m_out, params.m_a, params.M)
        par[I_SPEC] = 1.0
        par[I_ELO] = max(params.spectrum.e_min, e_th * (1.0 + 1e-12))
        par[I_EHI] = params.spectrum.e_max
        par[I_SPECPOL] = 1.0
    else:
        par[I_ELO] = par[I_EHI] = params.E_beam
    return par


def pack_spectrum(params: ProcessParams) -> tuple[np.ndarray, np.ndarray]:
    """(energies, dN/dE normalised to ∫ dN/dE dE = 1) for the kernels; dummies without spectrum."""
    if params.spectrum is None:
        return np.ones(2), np.zeros(2)
    e = np.asarray(params.spectrum.energies, dtype=np.float64)
    f = np.asarray(params.spectrum.dn_de, dtype=np.float64)
    total = spectrum_integral(e, f)
    if not total > 0.0:
        raise ValueError("the beam spectrum integrates to zero")
    return np.ascontiguousarray(e), np.ascontiguousarray(f / total)


def pack_spectrum_aux(params: ProcessParams) -> np.ndarray:
    """[3, n] on the spectrum nodes: fraction of negative leptons, polarization of the negative
    and of the positive leptons (interpolated linearly in ln E by the kernels, as
    ``BeamSpectrum.fraction_minus``). A dummy without spectrum."""
    if params.spectrum is None:
        return np.zeros((3, 2))
    spec = params.spectrum
    e = np.asarray(spec.energies, dtype=np.float64)
    tot = np.asarray(spec.dn_de, dtype=np.float64)
    frac = np.divide(
        np.asarray(spec.dn_de_minus, float), tot, out=np.full_like(tot, 0.5), where=tot > 0
    )
    pm = spec.polarization_nodes("minus")
    pp = spec.polarization_nodes("plus")
    if pm is None:
        pm = np.full_like(e, params.polarization)
    if pp is None:
        pp = np.full_like(e, params.polarization)
    return np.ascontiguousarray(np.vstack([frac, pm, pp]), dtype=np.float64)


@njit(cache=True)
def _interp_log(E, e, v):
    """v interpolated linearly in ln E between the nodes e (clamped outside), like np.interp."""
    n = e.shape[0]
    if E <= e[0]:
        return v[0]
    if E >= e[n - 1]:
        return v[n - 1]
    j = np.searchsorted(e, E) - 1
    if j < 0:
        j = 0
    if j > n - 2:
        j = n - 2
    x = math.log(E / e[j]) / math.log(e[j + 1] / e[j])
    return v[j] + x * (v[j + 1] - v[j])


def spectrum_integral(e: np.ndarray, f: np.ndarray) -> float:
    """∫ f dE over the nodes with the power-law (log-log) interpolation of BeamSpectrum.

    Segments with a zero end are interpolated linearly (a power law cannot reach 0)."""
    total = 0.0
    for j in range(len(e) - 1):
        e0, e1, f0, f1 = e[j], e[j + 1], f[j], f[j + 1]
        if f0 > 0.0 and f1 > 0.0:
            r = e1 / e0
            g = math.log(f1 / f0) / math.log(r)
            if abs(g + 1.0) < 1e-9:
                total += f0 * e0 * math.log(r)
            else:
                total += f0 * e0 / (g + 1.0) * (r ** (g + 1.0) - 1.0)
        else:
            total += 0.5 * (f0 + f1) * (e1 - e0)
    return total


@njit(cache=True)
def spectrum_value(E, e, f):
    """Interpolated dN/dE at E (power law between nodes, linear next to a zero node)."""
    n = e.shape[0]
    if E < e[0] or E > e[n - 1]:
        return 0.0
    j = np.searchsorted(e, E) - 1
    if j < 0:
        j = 0
    if j > n - 2:
        j = n - 2
    f0 = f[j]
    f1 = f[j + 1]
    if f0 > 0.0 and f1 > 0.0:
        x = math.log(E / e[j]) / math.log(e[j + 1] / e[j])
        return f0 * math.exp(x * math.log(f1 / f0))
    x = (E - e[j]) / (e[j + 1] - e[j])
    return f0 + x * (f1 - f0)


@njit(cache=True)
def _point(x, i, par, spec_e, spec_f):
    """Weight of row i of x: returns (w_coh, w_inc, E, phase-space tuple)."""
    m_in = par[I_MIN]
    m_out = par[I_MOUT]
    m_a = par[I_MA]
    M = par[I_M]
    off = 0
    jac_e = 1.0
    E = par[I_EBEAM]
    if par[I_SPEC] > 0.0:
        off = 1
        e_lo = par[I_ELO]
        e_hi = par[I_EHI]
        if e_hi > e_lo:
            le = math.log(e_hi / e_lo)
            E = e_lo * math.exp(x[i, 0] * le)
            jac_e = E * le * spectrum_value(E, spec_e, spec_f)
        else:
            jac_e = 0.0
            E = e_hi
    ps = phase_space(
        E,
        x[i, off],
        x[i, off + 1],
        x[i, off + 2],
        x[i, off + 3],
        m_in,
        m_out,
        m_a,
        M,
        par[I_TCUT],
    )
    jac = ps[0] * jac_e
    if not jac > 0.0:
        return 0.0, 0.0, E, ps
    p = ps[1]
    Ea = ps[2]
    k = ps[3]
    sin_th = ps[4]
    t = ps[6]
    s = ps[7]
    u = ps[8]
    V = ps[9]
    a0, apv = amplitude_terms(s, u, t, E, Ea, M, m_in, m_out, m_a)
    bracket = par[I_G2] * a0 + par[I_GP2] * apv
    if not bracket > 0.0:  # only rounding noise at the t₋ edge can make it ≤ 0
        return 0.0, 0.0, E, ps
    base = par[I_NORM] * jac * k * sin_th / (p * V) * bracket / (t * t)
    coh, inc = components(
        t,
        par[I_Z],
        par[I_A],
        par[I_ZCOH],
        par[I_RA],
        par[I_A0],
        par[I_AEL],
        par[I_AINEL],
        par[I_SCREEN] > 0.0,
    )
    return base * coh * par[I_COH], base * inc * par[I_INC], E, ps


@njit(cache=True)
def _helicity_factors(E, ps, par, spec_e, spec_aux):
    """(F(P), F₋, F₊, A) with w(P) = w̄ F(P) and w_h = w̄ F_h at one point (module doc).

    R_h comes from the explicit-spinor amplitudes at the point's lab four-momenta; with
    g_S g_P = 0 parity gives R₋ = R₊ = ½ exactly and the amplitudes are not evaluated."""
    if par[I_SPECPOL] > 0.0:
        fm = _interp_log(E, spec_e, spec_aux[0])
        pm = _interp_log(E, spec_e, spec_aux[1])
        pp = _interp_log(E, spec_e, spec_aux[2])
    else:
        fm = par[I_FMINUS]
        pm = par[I_POLM]
        pp = par[I_POLP]
    fp = 1.0 - fm
    gs = par[I_GS]
    gp = par[I_GPS]
    r_m = 0.5
    r_p = 0.5
    if gs * gp != 0.0:
        mom = np.empty((5, 4))
        four_momenta(
            E, par[I_M], par[I_MIN], par[I_MOUT], ps[1], ps[2], ps[3], ps[4], ps[5], ps[6],
            ps[9], ps[10], ps[11], ps[12], ps[13], ps[14], ps[15], ps[16], mom,
        )  # fmt: skip
        s_m, s_p = beam_helicity_sums(mom, par[I_MIN], par[I_MOUT], par[I_MA], gs, gp)
        tot = s_m + s_p
        if tot > 0.0:
            r_m = s_m / tot
            r_p = s_p / tot
    f_pol = fm * ((1.0 + pm) * r_p + (1.0 - pm) * r_m) + fp * ((1.0 + pp) * r_m + (1.0 - pp) * r_p)
    f_minus = 2.0 * (fm * r_m + fp * r_p)
    f_plus = 2.0 * (fm * r_p + fp * r_m)
    return f_pol, f_minus, f_plus, r_p - r_m


@njit(cache=True)
def _fill(x, i, par, spec_e, spec_f, spec_aux, scale, out):
    wc, wi, E, ps = _point(x, i, par, spec_e, spec_f)
    w = wc + wi
    if w > 0.0:
        f_pol, f_minus, f_plus, asym = _helicity_factors(E, ps, par, spec_e, spec_aux)
    else:
        f_pol = f_minus = f_plus = 1.0
        asym = 0.0
    out[i, 0] = scale * w * f_pol
    out[i, 1] = scale * wc * f_pol
    out[i, 2] = scale * wi * f_pol
    out[i, 3] = scale * w * f_minus
    out[i, 4] = scale * w * f_plus
    out[i, 5] = asym


@njit(cache=True, parallel=True)
def weights(x, par, spec_e, spec_f, spec_aux, out):
    """out[i] = (total, coherent, incoherent, h = −1, h = +1) weight in pb for each row of x[n, d],
    and out[i, 5] = A, the μ⁻ beam-helicity asymmetry R₊ − R₋ at the point (0 where w = 0).

    The first three are at the beam's polarization, columns 3, 4 for a fully polarized beam of
    lab helicity −1 / +1 (module docstring)."""
    for i in prange(x.shape[0]):
        _fill(x, i, par, spec_e, spec_f, spec_aux, 1.0, out)


@njit(cache=True)
def vegas_map_point(y, i, grid, inc, ninc_d, x):
    """Map point ``i`` of the uniforms ``y`` through a vegas map (grid, inc, ninc of
    ``vegas.AdaptiveMap``) into ``x[i]`` and return the map's Jacobian there: the one copy of
    vegas' piecewise-linear map for the signal and background samplers (vegas' own
    ``AdaptiveMap.map`` is not callable from numba kernels)."""
    jm = 1.0
    for d in range(y.shape[1]):
        ninc = ninc_d[d]
        yn = y[i, d] * ninc
        iy = math.floor(yn)
        if iy < ninc:
            x[i, d] = grid[d, iy] + inc[d, iy] * (yn - iy)
            jm *= inc[d, iy] * ninc
        else:
            x[i, d] = grid[d, ninc]
            jm *= inc[d, ninc - 1] * ninc
    return jm


@njit(cache=True, parallel=True)
def mapped_weights(y, grid, inc, ninc_d, par, spec_e, spec_f, spec_aux, x, out):
    """Apply a vegas map (grid, inc, ninc of vegas.AdaptiveMap) to uniform y and weight points.

    Fills x[n, d] with the mapped points and out[i] = jac_map × the five weight columns of
    :func:`weights` (and out[i, 5] = A, unscaled)."""
    for i in prange(y.shape[0]):
        jm = vegas_map_point(y, i, grid, inc, ninc_d, x)
        _fill(x, i, par, spec_e, spec_f, spec_aux, jm, out)


@njit(cache=True, parallel=True)
def event_kinematics(x, par, spec_e, spec_f, mom, t_out, e_out):
    """For accepted rows of x: momenta mom[n, 5, 4] (p_in, P_i, p_out, P_f, k), t and E."""
    M = par[I_M]
    for i in prange(x.shape[0]):
        _, _, E, ps = _point(x, i, par, spec_e, spec_f)
        t_out[i] = ps[6]
        e_out[i] = E
        four_momenta(
            E,
            M,
            par[I_MIN],
            par[I_MOUT],
            ps[1],
            ps[2],
            ps[3],
            ps[4],
            ps[5],
            ps[6],
            ps[9],
            ps[10],
            ps[11],
            ps[12],
            ps[13],
            ps[14],
            ps[15],
            ps[16],
            mom[i],
        )


def evaluate(params: ProcessParams, x: np.ndarray) -> np.ndarray:
    """[n, 6] at hypercube points x[n, d]: weights in pb (total, coherent, incoherent at the beam
    polarization; total for beam helicity −1 and +1) and the μ⁻ helicity asymmetry A
    (see :func:`weights`)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty((x.shape[0], N_COL))
    se, sf = pack_spectrum(params)
    weights(x, pack(params), se, sf, pack_spectrum_aux(params), out)
    return out


def ndim(params: ProcessParams) -> int:
    """Dimension of the integration hypercube (4, or 5 with a beam spectrum)."""
    return 4 if params.spectrum is None else 5
