"""Production cross section with vegas: adapt the map, then estimate σ ± δσ.

The integrand (:mod:`.integrand`) returns (total, coherent, incoherent, beam helicity −1, beam
helicity +1) weights, the first three at the card's beam polarization P; vegas adapts its map to
the first column (the total σ(P)) and the stopping rule uses its error, so ``sigma_pb`` is σ(P) to
the requested precision for any P. The helicity columns are integrated on the same points:
σ_± are the cross sections of a fully polarized beam of lab helicity ±1,
σ(P) = Σ_h (1 + hP)/2 σ_h. After the adaptation iterations (discarded), the map is frozen
(``adapt=False``) and independent iterations of equal size are averaged with equal weights, which
keeps the estimate unbiased, until the requested relative precision on the total is reached.
vegas draws its random numbers from a numpy Generator seeded from ``SeedSequence(seed)``, so the
result is reproducible.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import vegas

from . import integrand as _ig
from .process import ProcessParams

log = logging.getLogger("alpgen")

#: Points per adaptation iteration and number of adaptation iterations.
N_ADAPT = 20_000
NITN_ADAPT = 10
#: Points per iteration of the (frozen-map) estimation phase: min and max.
N_EST_MIN = 50_000
N_EST_MAX = 2_000_000


@dataclass
class CrossSection:
    """Production cross section in pb (flux-averaged ⟨σ⟩ = ∫φσ dE/∫φ dE with a spectrum).

    ``integrator`` holds the adapted vegas map reused by the sampler (``None`` if σ = 0)."""

    sigma_pb: float
    sigma_err_pb: float
    sigma_coherent_pb: float
    sigma_coherent_err_pb: float
    sigma_incoherent_pb: float
    sigma_incoherent_err_pb: float
    time_s: float
    n_eval: int
    precision: float
    integrator: vegas.Integrator | None
    #: σ of a fully polarized beam of lab helicity −1 / +1 (pb), whatever the beam charge
    sigma_helicity_minus_pb: float = 0.0
    sigma_helicity_minus_err_pb: float = 0.0
    sigma_helicity_plus_pb: float = 0.0
    sigma_helicity_plus_err_pb: float = 0.0
    #: the beam polarization σ was integrated at
    polarization: float = 0.0

    @property
    def relative_error(self) -> float:
        return self.sigma_err_pb / self.sigma_pb if self.sigma_pb > 0 else 0.0


def _zero(precision: float, t0: float, n_eval: int = 0, polarization: float = 0.0) -> CrossSection:
    return CrossSection(
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, time.perf_counter() - t0, n_eval, precision, None,
        polarization=polarization,
    )  # fmt: skip


def make_integrand(params: ProcessParams) -> Callable[[np.ndarray], np.ndarray]:
    """A vegas ``lbatchintegrand`` for ``params`` returning [n, 5] in pb: total, coherent,
    incoherent (at the beam polarization), beam helicity −1, beam helicity +1."""
    par = _ig.pack(params)
    se, sf = _ig.pack_spectrum(params)
    aux = _ig.pack_spectrum_aux(params)

    @vegas.lbatchintegrand  # type: ignore[untyped-decorator]  # vegas is untyped
    def f(x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.empty((x.shape[0], _ig.N_COL))
        _ig.weights(x, par, se, sf, aux, out)
        return np.ascontiguousarray(out[:, : _ig.N_WEIGHTS])

    return f


def estimate_frozen(
    integ: vegas.Integrator,
    f: Callable[[np.ndarray], np.ndarray],
    *,
    precision: float,
    n_min: int,
    n_max: int,
    max_evals: float | None = None,
    label: str = "",
) -> tuple[np.ndarray, np.ndarray, int]:
    """Estimate the integral of the batch integrand ``f`` (columns of weights, column 0 the
    one the precision refers to) with the adapted map of ``integ`` frozen: independent
    iterations of ``n_min`` … ``n_max`` evaluations, sized from the error per evaluation seen
    so far, until the relative error of column 0 is ``precision`` or ``max_evals`` is spent.

    Iterations are combined with weights ∝ their number of evaluations (fixed in advance, not
    ∝ 1/variance), which keeps the average unbiased. Returns (mean, error, evaluations used);
    shared by the signal and the trident integrations."""
    ncol: int | None = None
    sums = var_sums = np.zeros(0)
    neval = n_min
    budget = np.inf if max_evals is None else max_evals
    used = 0
    while True:
        r = integ(f, nitn=1, neval=neval, adapt=False)
        n_it = int(integ.last_neval)
        used += n_it
        means = np.array([v.mean for v in r])
        if ncol is None:
            ncol = means.shape[0]
            sums, var_sums = np.zeros(ncol), np.zeros(ncol)
        sums += n_it * means
        var_sums += n_it**2 * np.array([max(v.var, 0.0) for v in r])
        mean = sums / used
        err = np.sqrt(var_sums) / used
        log.debug("%s%d evals: %.6g ± %.3g pb", label, used, mean[0], err[0])
        if mean[0] <= 0.0 or err[0] <= precision * mean[0] or used >= budget:
            return mean, err, used
        # evaluations still needed, from the error per evaluation seen so far
        need = used * ((err[0] / (precision * mean[0])) ** 2 - 1.0)
        neval = int(np.clip(1.05 * need, n_min, n_max))
        if used + neval > budget:
            neval = int(max(budget - used, 1000))


def integrate(
    params: ProcessParams,
    *,
    seed: int,
    precision: float = 0.005,
    max_evals: int | None = None,
) -> CrossSection:
    """σ(ℓ_in N → ℓ_out a N) in pb to relative MC precision ``precision`` (on the total).

    Below threshold, with t_min > t_max, or with all components off, σ = 0 exactly (no vegas
    run). ``max_evals`` caps the number of integrand evaluations of the estimation phase (the
    precision may then not be reached; the reported error says what was). Deterministic in
    ``seed``. Progress goes to the ``alpgen`` logger at DEBUG level.
    """
    t0 = time.perf_counter()
    if not params.is_open:
        return _zero(precision, t0, polarization=params.polarization)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    dim = _ig.ndim(params)
    f = make_integrand(params)

    # Cheap probe: an all-zero integrand (closed phase space) must not reach vegas' adaptation.
    packed = (_ig.pack(params), *_ig.pack_spectrum(params), _ig.pack_spectrum_aux(params))
    probe = np.empty((4096, _ig.N_COL))
    _ig.weights(rng.random((4096, dim)), *packed, probe)
    n_eval = 4096
    if not np.any(probe[:, 0] > 0.0):
        probe = np.empty((200_000, _ig.N_COL))
        _ig.weights(rng.random((200_000, dim)), *packed, probe)
        n_eval += 200_000
        if not np.any(probe[:, 0] > 0.0):
            return _zero(precision, t0, n_eval, params.polarization)

    integ = vegas.Integrator(dim * [[0.0, 1.0]], ran_array_generator=lambda size: rng.random(size))
    warm = integ(f, nitn=NITN_ADAPT, neval=N_ADAPT)
    n_eval += int(NITN_ADAPT * N_ADAPT)
    log.debug("vegas adaptation: %s pb (Q = %.2f)", warm[0], warm.Q)

    mean, err, used = estimate_frozen(
        integ, f, precision=precision, n_min=N_EST_MIN, n_max=N_EST_MAX, max_evals=max_evals
    )
    n_eval += used
    sig, sig_c, sig_i, sig_m, sig_p = (float(v) for v in mean)
    e, e_c, e_i, e_m, e_p = (float(v) for v in err)
    return CrossSection(
        sigma_pb=sig,
        sigma_err_pb=e,
        sigma_coherent_pb=sig_c,
        sigma_coherent_err_pb=e_c,
        sigma_incoherent_pb=sig_i,
        sigma_incoherent_err_pb=e_i,
        time_s=time.perf_counter() - t0,
        n_eval=n_eval,
        precision=precision,
        integrator=integ,
        sigma_helicity_minus_pb=sig_m,
        sigma_helicity_minus_err_pb=e_m,
        sigma_helicity_plus_pb=sig_p,
        sigma_helicity_plus_err_pb=e_p,
        polarization=params.polarization,
    )
