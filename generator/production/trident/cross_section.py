"""Trident cross sections σ(μ N → μ N ℓ⁺ℓ⁻) and σ(γ N → ℓ⁺ℓ⁻ N) with vegas.

Public entry points (units: GeV, pb):

* :func:`trident_cross_section` — the exact tree-level QED σ(μ^± A → μ^± A ℓ⁺ℓ⁻), ℓ = τ, μ, e,
  split into coherent and incoherent form-factor parts (physics.md §5.6, §8.2);
* :func:`photo_cross_section` — σ(γ A → ℓ⁺ℓ⁻ A) for a photon of energy ω, from the same pair
  tensor (used by the Bethe–Heitler and equivalent-photon checks);
* :func:`lepto_events` — weights and lab four-momenta at given hypercube points (for an unweighted
  sampler / EventBatch built on top).

The integration follows :mod:`alpgen.production.integrator`: vegas adapts its map on the total
(column 0), then the map is frozen and equal-weight iterations are averaged until the relative
precision is reached. Deterministic in ``seed``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import vegas

from ...constants import HBARC_GEV_FM, LEPTONS, M_MU, PID_MU
from ...targets import Target, get_target
from ..formfactors import nuclear_radius, screening_lengths
from ..integrator import estimate_frozen
from . import integrand as _ig

log = logging.getLogger("alpgen")

__all__ = [
    "TridentCrossSection",
    "TridentParams",
    "lepto_events",
    "photo_cross_section",
    "trident_cross_section",
    "trident_params",
]

#: Diagnostic diagram selections: all (physical), Bethe–Heitler only, radiation only.
_DIAGRAMS = {"all": 0, "bh": 1, "rad": 2}

NDIM_LEPTO = 7
NDIM_PHOTO = 5


@dataclass(frozen=True)
class TridentParams:
    """Everything the trident kernels need. Energies/masses GeV, t GeV².

    ``E`` is the beam energy (photon energy ω for photoproduction); ``lepton`` is ``"tau"``,
    ``"mu"`` or ``"e"``; ``beam_charge`` ±1; ``t_max`` the cut on t for every form-factor component
    (``None``: no cut, up to the kinematic limit); ``point_nucleus``: Z²F² = Z², no screening (the
    textbook Bethe–Heitler setting); the remaining fields are those of ``ProcessParams``."""

    E: float
    lepton: str
    Z: int
    A: int
    M: float
    beam_charge: int = -1
    t_max: float | None = 1.0
    point_nucleus: bool = False
    coherent: bool = True
    incoherent: bool = True
    atomic_screening: bool = True
    coherent_norm: str = "Z"
    a_el: float = 111.0
    a_inel: float = 571.4
    ws_a0_fm: float = 0.79
    v_min: float = 0.0
    v_max: float = 1.0
    v_weighted: bool = False
    diagrams: str = "all"

    def __post_init__(self) -> None:
        if self.lepton not in LEPTONS:
            raise ValueError(f"lepton must be one of {sorted(LEPTONS)}, not {self.lepton!r}")
        if self.beam_charge not in (-1, 1):
            raise ValueError(f"beam_charge must be ±1, not {self.beam_charge!r}")
        if self.diagrams not in _DIAGRAMS:
            raise ValueError(f"diagrams must be one of {sorted(_DIAGRAMS)}, not {self.diagrams!r}")

    @property
    def m_l(self) -> float:
        return LEPTONS[self.lepton][1]

    @property
    def identical(self) -> bool:
        """Two identical same-charge muons in the final state (ℓ = μ)."""
        return self.lepton == "mu"

    def pack(self) -> np.ndarray:
        """The float64 parameter array of :mod:`.integrand`."""
        par = np.zeros(_ig.N_PAR)
        par[_ig.I_E], par[_ig.I_M], par[_ig.I_MMU], par[_ig.I_ML] = self.E, self.M, M_MU, self.m_l
        par[_ig.I_TCUT] = self.t_max if self.t_max is not None else math.inf
        par[_ig.I_IDENT] = 1.0 if self.identical else 0.0
        par[_ig.I_CHARGE] = float(self.beam_charge)
        par[_ig.I_Z], par[_ig.I_A] = self.Z, self.A
        par[_ig.I_ZCOH] = self.Z if self.coherent_norm == "Z" else self.Z - 1
        par[_ig.I_RA] = nuclear_radius(self.A)
        par[_ig.I_A0] = self.ws_a0_fm / HBARC_GEV_FM
        par[_ig.I_AEL], par[_ig.I_AINEL] = screening_lengths(self.Z, self.a_el, self.a_inel)
        par[_ig.I_SCREEN] = 1.0 if self.atomic_screening else 0.0
        par[_ig.I_POINT] = 1.0 if self.point_nucleus else 0.0
        par[_ig.I_VLO], par[_ig.I_VHI] = self.v_min, self.v_max
        par[_ig.I_VWEIGHT] = 1.0 if self.v_weighted else 0.0
        par[_ig.I_DIAG] = float(_DIAGRAMS[self.diagrams])
        return par


def trident_params(
    E: float,
    lepton: str,
    target: Target | str,
    *,
    beam_charge: int = -1,
    t_max: float | None = 1.0,
    point_nucleus: bool = False,
    form_factors: Sequence[str] = ("coherent", "incoherent"),
    **kw: object,
) -> TridentParams:
    """Build :class:`TridentParams` from a target (``Target`` or symbol, e.g. ``"Pb"``)."""
    tg = get_target(target) if isinstance(target, str) else target
    bad = set(form_factors) - {"coherent", "incoherent"}
    if bad:
        raise ValueError(f"unknown form-factor component(s) {sorted(bad)}")
    return TridentParams(
        E=float(E),
        lepton=lepton,
        Z=tg.Z,
        A=tg.A,
        M=tg.nucleus_mass,
        beam_charge=beam_charge,
        t_max=t_max,
        point_nucleus=point_nucleus,
        coherent="coherent" in form_factors,
        incoherent="incoherent" in form_factors,
        **kw,  # type: ignore[arg-type]
    )


@dataclass
class TridentCrossSection:
    """σ in pb (total and its coherent/incoherent parts) with MC errors; ``integrator`` holds the
    adapted vegas map (for an unweighted sampler), ``params`` the process."""

    sigma_pb: float
    sigma_err_pb: float
    sigma_coherent_pb: float
    sigma_coherent_err_pb: float
    sigma_incoherent_pb: float
    sigma_incoherent_err_pb: float
    time_s: float
    n_eval: int
    precision: float
    params: TridentParams
    integrator: vegas.Integrator | None = field(default=None, repr=False)

    @property
    def relative_error(self) -> float:
        return self.sigma_err_pb / self.sigma_pb if self.sigma_pb > 0 else 0.0


def _batch(params: TridentParams, photo: bool) -> Callable[[np.ndarray], np.ndarray]:
    par = params.pack()
    use_c, use_i = params.coherent, params.incoherent

    def f(x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.empty((x.shape[0], 3))
        if photo:
            _ig.photo_weights(x, par, out)
        else:
            _ig.lepto_weights(x, par, out, np.empty((1, 5, 4)), False)
        if not use_c:
            out[:, 1] = 0.0
        if not use_i:
            out[:, 2] = 0.0
        out[:, 0] = out[:, 1] + out[:, 2]
        return out

    return f


def _integrate(
    f: Callable[[np.ndarray], np.ndarray],
    dim: int,
    params: TridentParams,
    *,
    seed: int,
    precision: float,
    n_adapt: int,
    nitn_adapt: int,
    n_est_min: int,
    max_evals: int | None,
) -> TridentCrossSection:
    t0 = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    probe = f(rng.random((4096, dim)))
    n_eval = 4096
    if not np.any(probe[:, 0] > 0.0):
        return TridentCrossSection(
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, time.perf_counter() - t0, n_eval, precision, params
        )
    integ = vegas.Integrator(dim * [[0.0, 1.0]], ran_array_generator=lambda size: rng.random(size))
    fb = vegas.lbatchintegrand(f)
    integ(fb, nitn=nitn_adapt, neval=n_adapt)
    n_eval += nitn_adapt * n_adapt
    mean, err, used = estimate_frozen(
        integ,
        fb,
        precision=precision,
        n_min=n_est_min,
        n_max=4_000_000,
        max_evals=max_evals,
        label="trident: ",
    )
    n_eval += used
    return TridentCrossSection(
        sigma_pb=float(mean[0]),
        sigma_err_pb=float(err[0]),
        sigma_coherent_pb=float(mean[1]),
        sigma_coherent_err_pb=float(err[1]),
        sigma_incoherent_pb=float(mean[2]),
        sigma_incoherent_err_pb=float(err[2]),
        time_s=time.perf_counter() - t0,
        n_eval=n_eval,
        precision=precision,
        params=params,
        integrator=integ,
    )


def trident_cross_section(
    beam_pid: int,
    E_beam: float,
    lepton: str,
    target: Target | str,
    *,
    form_factors: Sequence[str] = ("coherent", "incoherent"),
    t_max: float | None = 1.0,
    point_nucleus: bool = False,
    precision: float = 0.01,
    seed: int = 1,
    max_evals: int | None = None,
    n_adapt: int = 40_000,
    nitn_adapt: int = 10,
    n_est_min: int = 100_000,
    **ff_options: object,
) -> TridentCrossSection:
    """σ(μ^± A → μ^± A ℓ⁺ℓ⁻) in pb, exact tree-level QED with the nuclear form factors.

    ``beam_pid`` = 13 (μ⁻) or −13 (μ⁺); ``E_beam`` in GeV (lab = nucleus rest frame);
    ``lepton`` ∈ {"tau", "mu", "e"}; ``target`` a :class:`~alpgen.targets.Target` or symbol;
    ``t_max`` the cut on t (GeV², ``None`` = none); ``form_factors`` the components kept;
    ``ff_options`` are passed to :class:`TridentParams` (``atomic_screening``, ``coherent_norm``,
    ``a_el``, ``a_inel``, ``ws_a0_fm``; and ``v_min``, ``v_max``, ``v_weighted`` for a cut on /
    a weight by v = (E − E')/E, the beam muon's fractional energy loss; ``diagrams`` = "bh" or
    "rad" for diagnostics). MC precision ``precision`` (relative, on the total)."""
    if abs(beam_pid) != PID_MU:
        raise ValueError(f"beam_pid must be ±{PID_MU} (muon), not {beam_pid}")
    params = trident_params(
        E_beam,
        lepton,
        target,
        beam_charge=-1 if beam_pid > 0 else 1,
        t_max=t_max,
        point_nucleus=point_nucleus,
        form_factors=form_factors,
        **ff_options,
    )
    return _integrate(
        _batch(params, False),
        NDIM_LEPTO,
        params,
        seed=seed,
        precision=precision,
        n_adapt=n_adapt,
        nitn_adapt=nitn_adapt,
        n_est_min=n_est_min,
        max_evals=max_evals,
    )


def photo_cross_section(
    omega: float,
    lepton: str,
    target: Target | str,
    *,
    form_factors: Sequence[str] = ("coherent", "incoherent"),
    t_max: float | None = 1.0,
    point_nucleus: bool = False,
    precision: float = 0.01,
    seed: int = 1,
    max_evals: int | None = None,
    n_adapt: int = 20_000,
    nitn_adapt: int = 8,
    n_est_min: int = 50_000,
    **ff_options: object,
) -> TridentCrossSection:
    """σ(γ A → ℓ⁺ℓ⁻ A) in pb for a photon of energy ``omega`` (GeV) on a nucleus at rest,
    Bethe–Heitler diagrams with the same pair tensor and form factors as the trident."""
    params = trident_params(
        omega,
        lepton,
        target,
        t_max=t_max,
        point_nucleus=point_nucleus,
        form_factors=form_factors,
        **ff_options,  # type: ignore[arg-type]
    )
    return _integrate(
        _batch(params, True),
        NDIM_PHOTO,
        params,
        seed=seed,
        precision=precision,
        n_adapt=n_adapt,
        nitn_adapt=nitn_adapt,
        n_est_min=n_est_min,
        max_evals=max_evals,
    )


def lepto_events(y: np.ndarray, params: TridentParams) -> tuple[np.ndarray, np.ndarray]:
    """(weights [n, 3] pb, momenta [n, 5, 4]) at hypercube points ``y`` [n, 7].

    Momenta (px, py, pz, E) in GeV, lab frame, beam along +z: (beam μ, scattered μ, ℓ⁻, ℓ⁺,
    recoil nucleus); weights (total, coherent, incoherent), the vegas integrand (multiply by the
    vegas map's Jacobian for weighted events)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    out = np.empty((y.shape[0], 3))
    mom = np.empty((y.shape[0], 5, 4))
    _ig.lepto_weights(y, params.pack(), out, mom, True)
    return out, mom
