"""The LFV ALP model: couplings, decay widths, branching ratios and lifetime.

Conventions (physics.md §1–2). The interaction with the lepton pair (ℓ_in, ℓ_out) — μ and τ for the
paper's process — is ``L ⊃ −i a ℓ̄_in (S + P γ5) ℓ_out + h.c.``. Two coupling conventions:

* ``"paper"`` (arXiv:2407.15942 Eq. 3, m_μ → 0): g = C m_out / Λ, S² = g² sin²θ, P² = g² cos²θ;
* ``"exact"`` (Eq. 2 / physics.md (1.1)): S = (C/Λ)(m_in − m_out) sinθ,
  P = (C/Λ)(m_in + m_out) cosθ.

A card may also give the Yukawa coupling g directly (paper convention only). The dark sector is
``L ⊃ −i g_χ a χ̄ γ5 χ`` with a Dirac fermion χ. Energies in GeV, cτ in mm, C/Λ in TeV⁻¹.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .constants import HBARC_GEV_MM


def kallen(x: float, y: float, z: float) -> float:
    """Källén triangle function λ(x, y, z) = x² + y² + z² − 2xy − 2xz − 2yz."""
    return x * x + y * y + z * z - 2.0 * (x * y + x * z + y * z)


@dataclass(frozen=True)
class ALPModel:
    """An ALP of mass ``m_a`` coupled to one lepton pair and to a Dirac dark fermion.

    ``S2`` and ``P2`` are the squared scalar and pseudoscalar Yukawa couplings of (1.1);
    ``m_in``/``m_out`` the masses (GeV) of the beam-flavour and the produced-flavour lepton;
    ``eq5_is_total`` switches to the other reading of paper Eq. 5 (one-mode formula taken as the
    whole visible width; physics.md §7 item 1).
    """

    m_a: float
    m_in: float
    m_out: float
    S2: float
    P2: float
    m_chi: float = math.inf
    g_chi: float = 0.0
    eq5_is_total: bool = False
    C_over_Lambda: float | None = None  #: TeV⁻¹, when the model was built from C/Λ (or g)
    #: sign of S·P. Rates depend on S² and P² only, but τ polarizations flip with this sign:
    #: paper Eq. 3 (S = g sinθ, P = g cosθ) and the exact Eq. 2 (S ∝ (m_μ − m_τ) sinθ) differ.
    sign_SP: float = 1.0

    def __post_init__(self) -> None:
        if not self.m_a > 0.0:
            raise ValueError(f"ALP mass must be positive, got m_a = {self.m_a}")
        if self.m_in < 0.0 or self.m_out < 0.0:
            raise ValueError("lepton masses must be non-negative")
        if self.S2 < 0.0 or self.P2 < 0.0:
            raise ValueError("S2 and P2 are squared couplings and must be non-negative")

    def signed_couplings(self) -> tuple[float, float]:
        """Signed Yukawas (S, P) of ``−i a ℓ̄_in (S + Pγ5) ℓ_out``: |S| = √S², |P| = √P² and
        sign(S·P) = ``sign_SP``, the one home of the sign convention (only the sign of S·P is
        physical; flipping both S and P changes nothing)."""
        return math.sqrt(self.S2), math.copysign(math.sqrt(self.P2), self.sign_SP)

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def from_C_over_Lambda(
        cls,
        m_a: float,
        C_over_Lambda: float,
        theta: float,
        *,
        m_in: float,
        m_out: float,
        couplings: str = "paper",
        **kw: Any,
    ) -> ALPModel:
        """Build the model from C/Λ in TeV⁻¹ and the mixing angle θ (rad)."""
        c = C_over_Lambda * 1e-3  # GeV⁻¹
        sign = 1.0 if math.sin(theta) * math.cos(theta) >= 0.0 else -1.0
        if couplings == "exact" and m_in < m_out:
            sign = -sign
        kw.setdefault("sign_SP", sign)
        if couplings == "paper":
            g = c * max(m_in, m_out)
            S2, P2 = (g * math.sin(theta)) ** 2, (g * math.cos(theta)) ** 2
        elif couplings == "exact":
            S2 = (c * (m_in - m_out) * math.sin(theta)) ** 2
            P2 = (c * (m_in + m_out) * math.cos(theta)) ** 2
        else:
            raise ValueError(f"couplings must be 'paper' or 'exact', not {couplings!r}")
        return cls(m_a, m_in, m_out, S2, P2, C_over_Lambda=C_over_Lambda, **kw)

    @classmethod
    def from_g(
        cls, m_a: float, g: float, theta: float, *, m_in: float, m_out: float, **kw: Any
    ) -> ALPModel:
        """Build the model from the Yukawa coupling g of paper Eq. 3 (S = g sinθ, P = g cosθ).

        ``C_over_Lambda`` is filled in with the paper relation g = C m_out/Λ unless given."""
        kw.setdefault("sign_SP", 1.0 if math.sin(theta) * math.cos(theta) >= 0.0 else -1.0)
        m_heavy = max(m_in, m_out)
        if m_heavy > 0.0:
            kw.setdefault("C_over_Lambda", g / (m_heavy * 1e-3))
        return cls(m_a, m_in, m_out, (g * math.sin(theta)) ** 2, (g * math.cos(theta)) ** 2, **kw)

    def with_coupling_scale(self, factor2: float) -> ALPModel:
        """The same model with S² and P² multiplied by ``factor2`` (C/Λ scaled by √factor2)."""
        if factor2 < 0.0:
            raise ValueError("the coupling-squared scale factor must be non-negative")
        c = None if self.C_over_Lambda is None else self.C_over_Lambda * math.sqrt(factor2)
        return dataclasses.replace(
            self, S2=self.S2 * factor2, P2=self.P2 * factor2, C_over_Lambda=c
        )

    # -- couplings ----------------------------------------------------------------------------
    @property
    def g2(self) -> float:
        """Effective coupling squared g_eff² = S² + P² (= g_μτ² in the paper convention)."""
        return self.S2 + self.P2

    @property
    def g(self) -> float:
        """Effective coupling g_eff = √(S² + P²) (dimensionless)."""
        return math.sqrt(self.g2)

    # -- widths (GeV) -------------------------------------------------------------------------
    @property
    def lepton_threshold(self) -> float:
        """Threshold m_in + m_out (GeV) of the visible decay."""
        return self.m_in + self.m_out

    def width_one_charge_mode(self) -> float:
        """Γ(a → ℓ_in⁻ ℓ_out⁺) = Γ(a → ℓ_in⁺ ℓ_out⁻) in GeV, physics.md (2.1).

        The S² term carries the (m_in + m_out)² threshold factor and the P² term the
        (m_in − m_out)² one (scalar ↔ opposite-parity pair at threshold is P-wave)."""
        m_a, m1, m2 = self.m_a, self.m_in, self.m_out
        if m_a <= m1 + m2:
            return 0.0
        lam = kallen(m_a**2, m1**2, m2**2)
        lam = max(lam, 0.0)
        bracket = self.S2 * (m_a**2 - (m1 + m2) ** 2) + self.P2 * (m_a**2 - (m1 - m2) ** 2)
        return math.sqrt(lam) / (8.0 * math.pi * m_a**3) * bracket

    @property
    def width_visible(self) -> float:
        """Visible width Γ(a → ℓℓ') summed over both charge modes, (2.2).

        With ``eq5_is_total`` the one-mode formula is taken as the whole visible width."""
        one = self.width_one_charge_mode()
        return one if self.eq5_is_total else 2.0 * one

    @property
    def width_invisible(self) -> float:
        """Γ(a → χχ̄) = g_χ² m_a/(8π) √(1 − 4m_χ²/m_a²), physics.md §2.3."""
        if self.g_chi == 0.0 or not (2.0 * self.m_chi < self.m_a):
            return 0.0
        return (
            self.g_chi**2
            * self.m_a
            / (8.0 * math.pi)
            * math.sqrt(1.0 - 4.0 * self.m_chi**2 / self.m_a**2)
        )

    @property
    def width_total(self) -> float:
        """Total width (GeV): visible + invisible; other ALP couplings are ignored (§2.4)."""
        return self.width_visible + self.width_invisible

    @property
    def br_visible(self) -> float:
        """BR(a → ℓℓ'), both charge modes together (0 if no channel is open)."""
        tot = self.width_total
        return self.width_visible / tot if tot > 0 else 0.0

    @property
    def br_one_charge_mode(self) -> float:
        """BR(a → ℓ_in⁻ ℓ_out⁺) = BR(a → ℓ_in⁺ ℓ_out⁻) = ½ BR_visible (CP-conserving, φ = 0)."""
        return 0.5 * self.br_visible

    @property
    def br_invisible(self) -> float:
        """BR(a → χχ̄)."""
        tot = self.width_total
        return self.width_invisible / tot if tot > 0 else 0.0

    @property
    def ctau_mm(self) -> float:
        """Proper decay length cτ_a in mm (``inf`` if no channel is open)."""
        tot = self.width_total
        return HBARC_GEV_MM / tot if tot > 0 else math.inf
