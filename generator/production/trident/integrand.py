"""Batched numba weights of the trident processes on the unit hypercube.

Lepto-production μ N → μ N ℓ⁺ℓ⁻ (7 dimensions, :func:`.phase_space.lepto_point`)::

    w(y) = J(y) · ½ Σ_hel |A|² · e⁸ Z²F²(t)/t² · S · (GeV⁻² → pb)

and photoproduction γ N → ℓ⁺ℓ⁻ N (5 dimensions, :func:`.phase_space.photo_point`)::

    w(y) = J(y) · ½ Σ_pol Σ_hel |ε·T|² · e⁶ Z²F²(t)/t² · (GeV⁻² → pb)

with S = 1 and, for identical muons (ℓ = μ), the two same-charge muons ordered in energy: p' is
the more energetic one (S = ½ over the full phase space gives the same σ; the ordering makes "the
scattered muon" and v = ω/E well defined, as KKP's v). Optionally restricted to v_lo < v < v_hi
and weighted by v (for the energy-loss coefficient b = N_A/A ∫ v dσ/dv). Each weight is returned
split into the coherent and incoherent parts of Z²F²(t) (columns total, coherent, incoherent), the
form factors of :mod:`alpgen.production.formfactors` (physics.md §5.6). With ``point = True`` the
nucleus is point-like and unscreened: Z²F² = Z² in the coherent column.

The nuclear current is J = 2P = (0, 0, 0, 2M) (lab), equal to P + P' by current conservation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ...constants import E_CHARGE_SQ, GEV2_TO_PB
from ..formfactors import components
from .amplitude import _me2_point, _photo_me2_point
from .phase_space import lepto_point, photo_point

# packed parameters
I_E, I_M, I_MMU, I_ML, I_TCUT, I_IDENT, I_CHARGE = 0, 1, 2, 3, 4, 5, 6
I_Z, I_A, I_ZCOH, I_RA, I_A0, I_AEL, I_AINEL, I_SCREEN, I_POINT = range(7, 16)
I_VLO, I_VHI, I_VWEIGHT, I_DIAG = 16, 17, 18, 19
N_PAR = 20

E8_PB = E_CHARGE_SQ**4 * GEV2_TO_PB
E6_PB = E_CHARGE_SQ**3 * GEV2_TO_PB


@njit(cache=True)
def _ff(t, par):
    if par[I_POINT] > 0.5:
        return par[I_Z] * par[I_Z], 0.0
    return components(
        t,
        par[I_Z],
        par[I_A],
        par[I_ZCOH],
        par[I_RA],
        par[I_A0],
        par[I_AEL],
        par[I_AINEL],
        par[I_SCREEN] > 0.5,
    )


@njit(cache=True, parallel=True)
def lepto_weights(y, par, out, mom, keep):
    """Weights [n, 3] (pb) at points y [n, 7]; if ``keep``, momenta [n, 5, 4] = (p, p', ℓ⁻, ℓ⁺, P')
    in the lab (for the μ⁺ beam p, p' are μ⁺ and (ℓ⁻, ℓ⁺) keep their charges). Parallel over
    points (numba prange), as the signal's kernels."""
    E, M, m_mu, m_l, t_cut = par[I_E], par[I_M], par[I_MMU], par[I_ML], par[I_TCUT]
    identical = par[I_IDENT] > 0.5
    plus = par[I_CHARGE] > 0.0
    v_lo, v_hi, vweight = par[I_VLO], par[I_VHI], par[I_VWEIGHT] > 0.5
    which = int(par[I_DIAG])
    for i in prange(y.shape[0]):
        p = np.empty(4)
        pp = np.empty(4)
        km = np.empty(4)
        kp = np.empty(4)
        Pf = np.empty(4)
        qv = np.empty(4)
        J = np.zeros(4)
        J[3] = 2.0 * M
        jac, t = lepto_point(y[i], E, M, m_mu, m_l, t_cut, v_lo, v_hi, p, pp, km, kp, Pf, qv)
        if jac > 0.0 and identical:
            # the same-charge partner of the beam muon: ℓ⁻ for μ⁻, ℓ⁺ for μ⁺
            e_partner = kp[3] if plus else km[3]
            if e_partner > pp[3]:
                jac = 0.0
        if jac > 0.0:
            # μ⁺ beam: C-conjugate, i.e. the μ⁻ formula with the pair momenta swapped
            if plus:
                a2 = _me2_point(p, pp, kp, km, qv, J, m_mu, m_l, identical, which)
            else:
                a2 = _me2_point(p, pp, km, kp, qv, J, m_mu, m_l, identical, which)
            coh, inc = _ff(t, par)
            w = jac * 0.5 * a2 * E8_PB / (t * t)
            if vweight:
                w *= (E - pp[3]) / E
            out[i, 0] = w * (coh + inc)
            out[i, 1] = w * coh
            out[i, 2] = w * inc
        else:
            out[i, 0] = 0.0
            out[i, 1] = 0.0
            out[i, 2] = 0.0
        if keep:
            for c in range(4):
                mom[i, 0, c] = p[c]
                mom[i, 1, c] = pp[c]
                mom[i, 2, c] = km[c]
                mom[i, 3, c] = kp[c]
                mom[i, 4, c] = Pf[c]


@njit(cache=True, parallel=True)
def photo_weights(y, par, out):
    """Weights [n, 3] (pb) of γ(ω = par[I_E]) N → ℓ⁻ℓ⁺ N at points y [n, 5]."""
    w, M, m_l, t_cut = par[I_E], par[I_M], par[I_ML], par[I_TCUT]
    for i in prange(y.shape[0]):
        km = np.empty(4)
        kp = np.empty(4)
        Pf = np.empty(4)
        qv = np.empty(4)
        J = np.zeros(4)
        J[3] = 2.0 * M
        jac, t = photo_point(y[i], w, M, m_l, t_cut, km, kp, Pf, qv)
        if jac > 0.0:
            a2 = _photo_me2_point(km, kp, qv, J, m_l)
            coh, inc = _ff(t, par)
            wt = jac * 0.5 * a2 * E6_PB / (t * t)
            out[i, 0] = wt * (coh + inc)
            out[i, 1] = wt * coh
            out[i, 2] = wt * inc
        else:
            out[i, 0] = 0.0
            out[i, 1] = 0.0
            out[i, 2] = 0.0
