"""Decay-channel registry.

A :class:`Channel` is plain data plus one vectorised numba kernel::

    kernel(parent_p4[N, 4], helicity[N], u[N, n_random]) -> daughters_p4[N, n, 4]

``parent_p4`` is the lab four-momentum (px, py, pz, E) in GeV; ``helicity`` is the parent's
longitudinal polarisation along its lab momentum (±1 for a helicity state, 0 unpolarised; the
kernels are linear in it, so any value in [−1, 1] is a valid partially polarised state);
``u`` are uniforms in [0, 1). Daughters come back in the lab, in the order of ``daughters``.

Channels are registered for one parent id (the particle, e.g. τ⁻ = 15). :func:`channels_for`
returns the charge-conjugate channels for the antiparticle automatically. For a CP-conserving
decay the rest-frame angular distribution of the antiparticle with spin vector s⃗ equals that of
the particle with spin −s⃗ (P flips momenta but not spins), so the τ⁺ kernel is the τ⁻ kernel
called with the **negated helicity**, and the daughter ids are conjugated. Example: τ⁻(h = +1)
→ π⁻ν gives dN/dcosθ ∝ 1 + cosθ (hard π⁻ in the lab), τ⁺(h = +1) → π⁺ν̄ gives 1 − cosθ.

Adding a channel: write a kernel and call :func:`register` once in the module that defines it.
This module imports no channel: the package ``alpgen.decays`` imports the built-in plug-ins
(:mod:`.alp`, :mod:`.tau`), which register themselves, so the registry is full as soon as any
module of the package is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from ..constants import mass

if TYPE_CHECKING:
    from ..model import ALPModel

_SELF_CONJUGATE_BSM = {9000005}


@cache
def conjugate(pid: int) -> int:
    """PDG id of the antiparticle (self-conjugate ids, e.g. π⁰, γ, the ALP, map to themselves)."""
    if pid in _SELF_CONJUGATE_BSM:
        return pid
    try:
        from particle import Particle

        return int(Particle.from_pdgid(pid).invert().pdgid)
    except Exception:  # ids unknown to `particle` (BSM fermions such as χ = 9000006)
        return -pid


@dataclass(frozen=True)
class Channel:
    """One decay channel (see the module docstring for the kernel contract).

    ``br`` is a number or a function of the :class:`~alpgen.model.ALPModel`.
    ``daughter_helicity(model, parent_p4, daughters_p4, u[N, k]) -> spin[N, n]`` optionally gives
    lab helicities of the daughters (±1, 0 unknown); without it the chain gives massless
    neutrinos their fixed helicity (ν: −1, ν̄: +1) and 0 to the rest. ``masses(model)`` optionally
    gives daughter masses that are not PDG constants (e.g. χ); ``bind(model)`` returns a kernel
    for model-dependent kinematics. ``conjugated`` marks a channel built by :func:`channels_for`
    for an antiparticle parent (its kernel already negates the helicity).
    """

    name: str
    parent: int
    daughters: tuple[int, ...]
    br: float | Callable[[ALPModel], float]
    n_random: int
    kernel: Callable[..., np.ndarray]
    tags: frozenset[str] = field(default_factory=frozenset)
    daughter_helicity: Callable[..., np.ndarray] | None = None
    masses: Callable[[ALPModel | None], tuple[float, ...]] | None = None
    bind: Callable[[ALPModel], Callable[..., np.ndarray]] | None = None
    conjugated: bool = False

    def branching(self, model: ALPModel | None = None) -> float:
        """Branching fraction (evaluated for ``model`` if it is a function)."""
        if callable(self.br):
            if model is None:
                raise ValueError(f"channel {self.name!r} needs a model for its branching ratio")
            return float(self.br(model))
        return float(self.br)

    def daughter_masses(self, model: ALPModel | None = None) -> np.ndarray:
        """Daughter masses in GeV (PDG values from `particle` unless the channel overrides)."""
        if self.masses is not None:
            return np.asarray(self.masses(model), dtype=float)
        return np.array([mass(d) for d in self.daughters], dtype=float)

    def kernel_for(self, model: ALPModel | None = None) -> Callable[..., np.ndarray]:
        """The kernel to call, bound to ``model`` where the kinematics depend on it."""
        if self.bind is None or model is None:
            return self.kernel  # model-free kernel (may raise if the kinematics need a model)
        k = self.bind(model)
        if self.conjugated:
            return lambda p4, h, u: k(p4, -np.asarray(h, dtype=float), u)
        return k

    def run(
        self,
        parent_p4: np.ndarray,
        helicity: np.ndarray,
        u: np.ndarray,
        model: ALPModel | None = None,
    ) -> np.ndarray:
        """Decay N parents: returns daughters_p4[N, n, 4]."""
        p4 = np.ascontiguousarray(parent_p4, dtype=float)
        h = np.ascontiguousarray(helicity, dtype=float)
        uu = np.ascontiguousarray(u, dtype=float)
        return self.kernel_for(model)(p4, h, uu)


_REGISTRY: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    """Add a channel (its name must be new). Returns it, so it can be used as a decorator helper."""
    if channel.name in _REGISTRY:
        raise ValueError(f"decay channel {channel.name!r} is already registered")
    if channel.parent < 0 and conjugate(channel.parent) != channel.parent:
        raise ValueError("register the particle (positive id); antiparticles are automatic")
    _REGISTRY[channel.name] = channel
    return channel


def unregister(name: str) -> Channel:
    """Remove a channel (for tests and plug-in replacement); returns it."""
    _conjugated.cache_clear()
    return _REGISTRY.pop(name)


def get(name: str) -> Channel:
    """The registered channel called ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown decay channel {name!r}; known: {sorted(_REGISTRY)}") from None


def names() -> list[str]:
    """Names of all registered channels, in registration order."""
    return list(_REGISTRY)


def _conjugate_channel(ch: Channel) -> Channel:
    kern = ch.kernel

    def kernel_cc(p4: np.ndarray, h: np.ndarray, u: np.ndarray) -> np.ndarray:
        return kern(p4, -np.asarray(h, dtype=float), u)

    return replace(
        ch,
        parent=conjugate(ch.parent),
        daughters=tuple(conjugate(d) for d in ch.daughters),
        kernel=kernel_cc,
        conjugated=True,
    )


@cache
def _conjugated(name: str) -> Channel:
    return _conjugate_channel(_REGISTRY[name])


def channels_for(pid: int) -> list[Channel]:
    """Channels of the parent ``pid``; for an antiparticle, the conjugates of the particle's."""
    direct = [c for c in _REGISTRY.values() if c.parent == pid]
    if direct:
        return direct
    anti = conjugate(pid)
    if anti == pid:
        return []
    return [_conjugated(c.name) for c in _REGISTRY.values() if c.parent == anti]
