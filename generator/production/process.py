"""Definition of the production process ℓ_in(p) + N(P_i) → ℓ_out(p') + a(k) + N(P_f).

Lab frame = nucleus rest frame, beam along +z, GeV throughout (physics.md §5). The couplings
enter only as ``g2_sum = S² + P²`` and ``gP2 = P²`` (P = pseudoscalar Yukawa coupling of (1.1)):

    |M̄|² = e⁴ Z²F²(t)/t² [ g2_sum 𝒜₀ + gP2 𝒜_PV ]   (physics.md (5.1)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any

from ..spectrum import BeamSpectrum

if TYPE_CHECKING:
    from ..model import ALPModel
    from ..targets import Target


@dataclass(frozen=True)
class ProcessParams:
    """Everything the production integrand needs. Energies and masses in GeV, t in GeV².

    ``E_beam`` is the incident lepton energy (ignored when ``spectrum`` is set: the energy is then
    an extra integration variable and σ is the flux average ∫φσ dE / ∫φ dE over the whole
    spectrum). ``M`` is the nuclear mass (use ``Target.nucleus_mass``). ``coherent_norm`` is
    ``"Z"`` (paper) or ``"Z-1"`` (author's code) for the coherent nuclear factor; ``a_el``,
    ``a_inel`` are the atomic screening constants of Eqs. 17-18, ``ws_a0_fm`` the Yukawa range of
    Eq. 20 in fm; ``t_max`` is the cut on t applied to every form-factor component.
    """

    E_beam: float
    m_in: float
    m_out: float
    m_a: float
    Z: int
    A: int
    M: float
    g2_sum: float
    gP2: float
    coherent: bool = True
    incoherent: bool = True
    atomic_screening: bool = True
    t_max: float = 1.0
    coherent_norm: str = "Z"
    a_el: float = 111.0
    a_inel: float = 571.4
    ws_a0_fm: float = 0.79
    include_pv: bool = True
    spectrum: BeamSpectrum | None = None
    #: signed scalar / pseudoscalar Yukawas (V = g_S − g_P γ5 for a negative beam); only the
    #: sign of g_S·g_P and |g_S|/|g_P| enter, through the beam-helicity split. ``None``:
    #: g_S = +√(g2_sum − gP2), g_P = +√gP2 (the paper's sign for 0 < θ < π/2)
    g_S: float | None = None
    g_P: float | None = None
    #: charge of the beam lepton (−1 or +1; with a spectrum the charge fractions of the file)
    beam_charge: int = -1
    #: longitudinal beam polarization P = mean lab-frame helicity of the beam lepton, −1 … 1
    #: (with a spectrum: both charges; the spectrum's own columns replace it when present)
    polarization: float = 0.0

    def __post_init__(self) -> None:
        if self.coherent_norm not in ("Z", "Z-1"):
            raise ValueError(f"coherent_norm must be 'Z' or 'Z-1', not {self.coherent_norm!r}")
        for name in ("m_in", "m_out", "m_a", "M", "t_max", "g2_sum"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)!r}")
        if self.M <= 0.0:
            raise ValueError("the nuclear mass M must be positive")
        if not 0.0 <= self.gP2 <= self.g2_sum * (1.0 + 1e-12):
            raise ValueError("need 0 <= gP2 <= g2_sum (gP2 = P², g2_sum = S² + P²)")
        if self.spectrum is None and not self.E_beam > 0.0:
            raise ValueError("E_beam must be positive")
        if not -1.0 <= self.polarization <= 1.0:
            raise ValueError(f"polarization must lie in [-1, 1], got {self.polarization!r}")
        if self.beam_charge not in (-1, 1):
            raise ValueError(f"beam_charge must be -1 or +1, got {self.beam_charge!r}")
        if self.spectrum is not None and self.spectrum.has_polarization and self.polarization:
            raise ValueError("give either the spectrum's polarization columns or polarization")

    @property
    def signed_couplings(self) -> tuple[float, float]:
        """(g_S, g_P) with their signs (see the field comments)."""
        g_s = math.sqrt(max(self.g2_sum - self.gP2, 0.0)) if self.g_S is None else self.g_S
        g_p = math.sqrt(self.gP2) if self.g_P is None else self.g_P
        return float(g_s), float(g_p)

    # -- convenience constructors ---------------------------------------------------------------
    @classmethod
    def from_model(cls, model: ALPModel, target: Target, E_beam: float, **kw: Any) -> ProcessParams:
        """Build from an ``ALPModel`` (alpgen.model) and a ``Target`` (alpgen.targets).

        ``g2_sum = S² + P²`` and ``gP2 = P²`` are taken from the model, and the signed couplings
        g_S = √S², g_P = sign(S·P)·√P² (``model.sign_SP``)."""
        kw.setdefault("g_S", math.sqrt(model.S2))
        kw.setdefault("g_P", math.copysign(math.sqrt(model.P2), model.sign_SP))
        return cls(
            E_beam=E_beam,
            m_in=model.m_in,
            m_out=model.m_out,
            m_a=model.m_a,
            Z=target.Z,
            A=target.A,
            M=target.nucleus_mass,
            g2_sum=model.S2 + model.P2,
            gP2=model.P2,
            **kw,
        )

    # -- kinematic helpers ------------------------------------------------------------------------
    @property
    def threshold_energy(self) -> float:
        """Lab-frame threshold E_th (GeV) from (p + P_i)² = (m_out + m_a + M)²."""
        return production_threshold(self.m_in, self.m_out, self.m_a, self.M)

    @property
    def energy_range(self) -> tuple[float, float]:
        """(E_min, E_max) of the incident lepton in GeV (equal for a monochromatic beam)."""
        if self.spectrum is None:
            return self.E_beam, self.E_beam
        return self.spectrum.e_min, self.spectrum.e_max

    def t_min(self, E: float | None = None) -> float:
        """Global minimum momentum transfer t (GeV²) at energy E (default: the largest energy)."""
        return global_t_min(
            self.energy_range[1] if E is None else E, self.m_in, self.m_out, self.m_a, self.M
        )

    @property
    def is_open(self) -> bool:
        """True if some energy is above threshold and the t window t_min < t_max is non-empty."""
        e_hi = self.energy_range[1]
        if not (self.coherent or self.incoherent) or self.g2_sum == 0.0:
            return False
        if e_hi <= self.threshold_energy:
            return False
        return self.t_min(e_hi) < self.t_max


def production_threshold(m_in: float, m_out: float, m_a: float, M: float) -> float:
    """E_th = [(m_out + m_a)² + 2M(m_out + m_a) − m_in²] / (2M) in GeV (nucleus at rest)."""
    mx = m_out + m_a
    return max((mx * mx + 2.0 * M * mx - m_in * m_in) / (2.0 * M), m_in)


def global_t_min(E: float, m_in: float, m_out: float, m_a: float, M: float) -> float:
    """Smallest t = −q² (GeV²) reachable at lab energy E: the (τ a) pair at its threshold mass
    m_X = m_out + m_a, emitted forward (2 → 2 kinematics ℓ N → X N).

    Evaluated with 50-digit decimals because the forward t_min is a small difference of large
    CM quantities; approx. [(m_X² − m_in²)/(2E)]² (physics.md §5.3). Returns +inf below threshold.
    """
    if E <= production_threshold(m_in, m_out, m_a, M):
        return math.inf
    with localcontext() as ctx:
        ctx.prec = 50
        E_, m1, mx, M_ = Decimal(E), Decimal(m_in), Decimal(m_out + m_a), Decimal(M)
        s = m1 * m1 + M_ * M_ + 2 * M_ * E_
        rs = s.sqrt()

        def lam(a: Decimal, b: Decimal, c: Decimal) -> Decimal:
            return a * a + b * b + c * c - 2 * (a * b + a * c + b * c)

        pi = lam(s, m1 * m1, M_ * M_).sqrt() / (2 * rs)
        lf = lam(s, mx * mx, M_ * M_)
        if lf <= 0:
            return math.inf
        pf = lf.sqrt() / (2 * rs)
        ei = (s + M_ * M_ - m1 * m1) / (2 * rs)  # nucleus CM energies
        ef = (s + M_ * M_ - mx * mx) / (2 * rs)
        t = 2 * (ei * ef - pi * pf) - 2 * M_ * M_
        return float(t)
