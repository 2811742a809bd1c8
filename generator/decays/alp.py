r"""ALP decay channels: a → ℓ_in⁻ ℓ_out⁺, a → ℓ_in⁺ ℓ_out⁻ (visible) and a → χ χ̄ (invisible).

All are isotropic two-body decays in the ALP rest frame (spin 0, narrow width). The visible
channels are registered for the lepton pairs (μ, τ), (e, τ) and (e, μ); each has
BR = model.br_visible / 2 when the model's (m_in, m_out) are that pair's masses and 0 otherwise.
a → χχ̄ (χ = 9000006, χ̄ = −9000006, mass model.m_chi) has BR = model.br_invisible.

Lepton helicities (physics.md §2.1)
----------------------------------
From ``L ⊃ −i a ℓ̄_in (S + Pγ5) ℓ_out + h.c.`` the amplitude of a → ℓ_in⁻(p₁, λ₁) ℓ_out⁺(p₂, λ₂)
is M = ū₁(S + Pγ5)v₂ = (S − P) u₁,R† v₂,L + (S + P) u₁,L† v₂,R (chiral basis). In the ALP frame,
with ℓ_in⁻ along n̂ and helicity spinors u₁ = (√(E₁ − λ₁p) ξ, √(E₁ + λ₁p) ξ),
v₂ = (√(E₂ + λ₂p) η, −√(E₂ − λ₂p) η), η = n̂-eigenspinor of eigenvalue λ₂, only λ₁ = λ₂ ≡ λ
survives (spin 0: J_z = 0 along the decay axis) and, with A = √((E₁+p)(E₂+p)),
B = √((E₁−p)(E₂−p)), (A ∓ B)² = m_a² − (m₁ ± m₂)² ≡ X∓:

    M(λ, λ) = S(A − B)λ − P(A + B)    (up to a phase)
    |M(+,+)|² + |M(−,−)|² = 2S² X₋ + 2P² X₊        (= physics.md §2.1, one charge mode)
    P(λ, λ) = ½ (1 + λ A_h),  A_h = −2 S P √(X₋X₊) / (S² X₋ + P² X₊).

The conjugate term gives a → ℓ_out⁻ ℓ_in⁺ with M = ū(S − Pγ5)v, i.e. A_h → −A_h (the CP image:
λ → −λ). In the m_in → 0 limit with S = −g sinθ, P = g cosθ, A_h = sin2θ, so at θ = π/4 the
state is pure: both leptons of a → μ⁻τ⁺ have helicity +1 in the ALP frame (−1 for μ⁺τ⁻).

**Sign of S·P.** ALPModel stores S² and P² only. The sign follows physics.md (1.1), the
derivative coupling with φ = 0 (v/a > 0): sign(S·P) = sign(m_in − m_out) (−1 for μ → τ). The
paper's Eq. 3 (+sinθ) corresponds to the opposite sign, which flips every τ helicity here. A
model attribute ``sign_SP`` (±1), if present, overrides the default.

Lab helicities: the ALP-frame helicity vector of a daughter (momentum k, mass m) is
s_a = [k (k·a) − m² a]/(m √((k·a)² − m²)) with a = p_ALP/m_a. The lab longitudinal
polarisation is P_L = −λ s_a·s_lab = λ [(k·a) E − m² a⁰] / (|k*| |k⃗|). Each daughter's lab
helicity is drawn ±1 with probability (1 ± P_L)/2; spin components transverse to the lab
momentum (O(1/γ) effects on lab observables) are dropped.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..constants import LEPTONS, PID_ALP, PID_CHI, mass
from .kinematics import set_direction, to_lab, two_body_momentum
from .polarization import draw_helicity, frame_polarization
from .registry import Channel, register

if TYPE_CHECKING:
    from ..model import ALPModel


@njit(cache=True)
def _two_body_iso(p4, u, M, m1, m2):
    """Isotropic M → m1 m2 in the parent rest frame; M ≤ 0 means: use the invariant mass of p4."""
    n = p4.shape[0]
    out = np.empty((n, 2, 4))
    masses = np.array([m1, m2])
    rest = np.empty((2, 3))
    for i in range(n):
        mm = M
        if mm <= 0.0:
            mm = math.sqrt(max(p4[i, 3] ** 2 - p4[i, 0] ** 2 - p4[i, 1] ** 2 - p4[i, 2] ** 2, 0.0))
        k = two_body_momentum(mm, m1, m2)
        set_direction(rest[0], k, 2.0 * u[i, 0] - 1.0, 2.0 * math.pi * u[i, 1])
        rest[1, 0], rest[1, 1], rest[1, 2] = -rest[0, 0], -rest[0, 1], -rest[0, 2]
        to_lab(rest, masses, p4[i], mm, out[i])
    return out


def sign_sp(model) -> float:
    """Sign of S·P: ``model.sign_SP`` (:meth:`alpgen.model.ALPModel.signed_couplings`)."""
    return 1.0 if model.sign_SP >= 0 else -1.0


def helicity_asymmetry(model, m1: float | None = None, m2: float | None = None) -> float:
    """A_h of a → ℓ_in⁻ ℓ_out⁺: P(λ₁ = λ₂ = λ) = (1 + λ A_h)/2 in the ALP rest frame.

    For a → ℓ_in⁺ ℓ_out⁻ use −A_h. Masses default to the model's (m_in, m_out)."""
    m1 = model.m_in if m1 is None else m1
    m2 = model.m_out if m2 is None else m2
    ma2 = model.m_a**2
    xm = ma2 - (m1 + m2) ** 2
    xp = ma2 - (m1 - m2) ** 2
    if xm <= 0.0:
        return 0.0
    den = model.S2 * xm + model.P2 * xp
    if den <= 0.0:
        return 0.0
    sp = sign_sp(model) * math.sqrt(model.S2 * model.P2)
    return -2.0 * sp * math.sqrt(xm * xp) / den


def helicity_amplitudes2(model, m1: float, m2: float) -> tuple[float, float]:
    """(|M(+,+)|², |M(−,−)|²) of a → ℓ₁⁻ ℓ₂⁺ (ℓ₁ the ``ū`` field) from the closed form above."""
    ma2 = model.m_a**2
    a_minus_b = math.sqrt(max(ma2 - (m1 + m2) ** 2, 0.0))
    a_plus_b = math.sqrt(max(ma2 - (m1 - m2) ** 2, 0.0))
    S = math.sqrt(model.S2) * sign_sp(model)
    P = math.sqrt(model.P2)
    return (S * a_minus_b - P * a_plus_b) ** 2, (-S * a_minus_b - P * a_plus_b) ** 2


def _lepton_pair_matches(model, pid_in: int, pid_out: int) -> bool:
    return math.isclose(model.m_in, mass(pid_in), rel_tol=1e-6) and math.isclose(
        model.m_out, mass(pid_out), rel_tol=1e-6
    )


def lepton_channels(pid_in: int, pid_out: int) -> tuple[Channel, Channel]:
    """The two charge modes a → ℓ_in⁻ ℓ_out⁺ and a → ℓ_in⁺ ℓ_out⁻ for a lepton pair (negative-
    lepton PDG ids, e.g. 13, 15). Registered by the caller."""
    m_in, m_out = mass(pid_in), mass(pid_out)
    name = {v[0]: k for k, v in LEPTONS.items()}
    n_in, n_out = name.get(pid_in, str(pid_in)), name.get(pid_out, str(pid_out))

    def br(model) -> float:
        return 0.5 * model.br_visible if _lepton_pair_matches(model, pid_in, pid_out) else 0.0

    def make(sign: int) -> Channel:
        # sign = +1: ℓ_in⁻ ℓ_out⁺ (A_h), −1: ℓ_in⁺ ℓ_out⁻ (−A_h)
        daughters = (pid_in, -pid_out) if sign > 0 else (-pid_in, pid_out)

        def kernel(p4, hel, u):
            return _two_body_iso(p4, u, -1.0, m_in, m_out)

        def bind(model):
            def k(p4, hel, u):
                return _two_body_iso(p4, u, model.m_a, m_in, m_out)

            return k

        def daughter_helicity(model, parent_p4, daughters_p4, u):
            """Lab helicities [N, 2]: λ drawn in the ALP frame from the amplitude, then each
            daughter's lab helicity from its lab longitudinal polarisation λ P_L."""
            a_h = sign * helicity_asymmetry(model, m_in, m_out)
            lam = draw_helicity(a_h, u[:, 0])
            out = np.empty((len(lam), 2))
            for j, (m, mo) in enumerate(((m_in, m_out), (m_out, m_in))):
                pl = lam * frame_polarization(parent_p4, model.m_a, daughters_p4[:, j], m, mo)
                out[:, j] = draw_helicity(pl, u[:, 1 + j])
            return out

        sgn = ("-", "+") if sign > 0 else ("+", "-")
        return Channel(
            name=f"a->{n_in}{sgn[0]} {n_out}{sgn[1]}",
            parent=PID_ALP,
            daughters=daughters,
            br=br,
            n_random=2,
            kernel=kernel,
            tags=frozenset({"visible", "leptonic"}),
            daughter_helicity=daughter_helicity,
            bind=bind,
        )

    return make(+1), make(-1)


def _chi_kernel(p4, hel, u):
    raise ValueError("a->chi chibar needs the model (m_chi): use Channel.kernel_for(model)")


def _chi_bind(model):
    def k(p4, hel, u):
        return _two_body_iso(p4, u, model.m_a, model.m_chi, model.m_chi)

    return k


def _chi_masses(model: ALPModel | None) -> tuple[float, float]:
    if model is None:
        raise ValueError("the a → χχ̄ kinematics need the ALP model (m_χ)")
    return model.m_chi, model.m_chi


CHI_CHANNEL = Channel(
    name="a->chi chibar",
    parent=PID_ALP,
    daughters=(PID_CHI, -PID_CHI),
    br=lambda model: model.br_invisible,
    n_random=2,
    kernel=_chi_kernel,
    tags=frozenset({"invisible"}),
    masses=_chi_masses,
    bind=_chi_bind,
)

# every (beam flavour, produced flavour) pair a card can ask for; only the pair matching the
# model has a non-zero branching ratio
for _pair in ((13, 15), (11, 15), (11, 13), (13, 11)):
    for _ch in lepton_channels(*_pair):
        register(_ch)
register(CHI_CHANNEL)
