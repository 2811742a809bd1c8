"""A Standard-Model process on a beam spectrum (FASERν2): a mixture of fixed-energy nodes.

The spectrum is approximated by the background estimate's :data:`~.estimate.SPECTRUM_NODES`
energy nodes (:func:`~.estimate.spectrum_nodes`: bins of equal flux share w_k, E_k the
flux-weighted mean energy of bin k), each run as a μ⁻ beam carrying the flux of both charges
(:func:`~.estimate._params`; QED and γg → c c̄ are C-invariant, so a μ⁺ beam has the same σ)
with the master seed ``(STREAM_BACKGROUND, p, BKG_NODE, k)`` — exactly the estimate's nodes.

* σ (:func:`spectrum_cross_section`): the flux average Σ_k w_k σ(E_k), its MC error
  √Σ_k (w_k δσ_k)², and the coherent / incoherent parts likewise. A node where the process is
  closed (open charm within 0.5 GeV of Pythia's W_min, :func:`~.estimate.charm_open`) has σ = 0.
* Events (:meth:`~.engine.BackgroundEngine.hard`): each batch splits its n events over the nodes
  by a multinomial draw with probabilities w_k σ_k / Σ_j w_j σ_j from the batch's own stream,
  generates each node's events from that node's sampler (tridents: the node's
  :class:`~.trident.TridentSampler` on the same stream; charm: the node's Pythia generator,
  started lazily in each shard) and joins them in node order; ``beam_energy`` is E_k.

The six-node approximation is the estimate's documented accuracy (docs/backgrounds.md).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..streams import BKG_NODE, background_int_seed
from .params import PROCESSES, BackgroundCrossSection, BackgroundParams

if TYPE_CHECKING:
    from ..card import RunCard

__all__ = ["NodeSamplers", "node_params", "node_probabilities", "spectrum_cross_section"]


def node_params(card: RunCard, energy: float, precision: float | None = None) -> BackgroundParams:
    """The inputs of the node at ``energy`` GeV (the estimate's, μ⁻ beam)."""
    from .estimate import _params

    bp = _params(card, energy)
    if precision is not None:
        bp = dataclasses.replace(bp, precision=float(precision))
    return bp


def spectrum_cross_section(
    card: RunCard, process: str, *, precision: float | None = None
) -> BackgroundCrossSection:
    """σ of ``process`` averaged over the card's beam spectrum (pb per nucleus; module
    docstring). ``nodes`` holds (E_k GeV, w_k, σ at E_k without its sampler); ``sampler`` the
    :class:`NodeSamplers` of a trident process (``None`` for charm)."""
    from .api import background_cross_section
    from .estimate import charm_open, spectrum_nodes

    kind = PROCESSES[process][0]
    nodes: list[tuple[float, float, BackgroundCrossSection]] = []
    samplers: list[Any] = []
    time_s, n_eval = 0.0, 0
    for k, (energy, share) in enumerate(spectrum_nodes(card)):
        bp = node_params(card, energy, precision)
        if kind == "charm" and not charm_open(bp):
            res = BackgroundCrossSection(process, 0.0, 0.0, details={"closed": True})
        else:
            seed = background_int_seed(card.run.seed, process, BKG_NODE, k)
            res = background_cross_section(process, bp, seed)
        time_s += float(res.details.get("time_s", 0.0))
        n_eval += int(res.details.get("n_eval", 0))
        samplers.append(res.sampler if kind == "trident" else None)
        own = {key: v for key, v in res.details.items() if key != "sampler"}
        nodes.append((energy, share, dataclasses.replace(res, sampler=None, details=own)))

    def wsum(attr: str) -> float | None:
        vals = [getattr(r, attr) for _, _, r in nodes]
        if any(v is None for v in vals):
            return None
        return math.fsum(w * v for (_, w, _), v in zip(nodes, vals, strict=True))

    def werr(values: list[float]) -> float:
        return math.sqrt(
            math.fsum((w * e) ** 2 for (_, w, _), e in zip(nodes, values, strict=True))
        )

    sigma = wsum("sigma_pb")
    assert sigma is not None
    details: dict[str, Any] = {
        "time_s": time_s,
        "n_eval": n_eval,
        "spectrum_nodes": [
            {"energy_GeV": e, "share": w, "sigma_pb": r.sigma_pb, "sigma_err_pb": r.sigma_err_pb}
            for e, w, r in nodes
        ],
    }
    if kind == "trident":
        for part in ("coherent", "incoherent"):
            errs = [
                float(getattr(s.xsec, f"sigma_{part}_err_pb")) if s is not None else 0.0
                for s in samplers
            ]
            details[f"sigma_{part}_err_pb"] = werr(errs)
    return BackgroundCrossSection(
        process=process,
        sigma_pb=sigma,
        sigma_err_pb=werr([r.sigma_err_pb for _, _, r in nodes]),
        sigma_coherent_pb=wsum("sigma_coherent_pb"),
        sigma_incoherent_pb=wsum("sigma_incoherent_pb"),
        sigma_per_nucleon_pb=wsum("sigma_per_nucleon_pb"),
        details=details,
        sampler=NodeSamplers(samplers) if kind == "trident" and sigma > 0.0 else None,
        nodes=tuple(nodes),
    )


def node_probabilities(res: BackgroundCrossSection) -> np.ndarray:
    """The probabilities w_k σ_k / Σ_j w_j σ_j of the nodes of a spectrum σ."""
    p = np.array([w * r.sigma_pb for _, w, r in res.nodes], float)
    return p / p.sum()


class NodeSamplers:
    """The trident samplers of the nodes (``None`` where σ = 0), with the counters of
    :class:`~alpgen.production.sampler.UnweightingStats` summed over the nodes (setting a
    counter to 0 resets every node's; a copy copies each node's sampler)."""

    def __init__(self, samplers: list[Any]) -> None:
        self.samplers = list(samplers)

    def __copy__(self) -> NodeSamplers:
        return NodeSamplers([copy.copy(s) for s in self.samplers])

    def _sum(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.samplers if s is not None)

    def _reset(self, name: str, value: int) -> None:
        if value != 0:
            raise ValueError(f"{name} of a node mixture can only be reset to 0")
        for s in self.samplers:
            if s is not None:
                setattr(s, name, 0)

    @property
    def n_trials(self) -> int:
        return self._sum("n_trials")

    @n_trials.setter
    def n_trials(self, value: int) -> None:
        self._reset("n_trials", value)

    @property
    def n_accepted(self) -> int:
        return self._sum("n_accepted")

    @n_accepted.setter
    def n_accepted(self, value: int) -> None:
        self._reset("n_accepted", value)

    @property
    def n_overweight(self) -> int:
        return self._sum("n_overweight")

    @n_overweight.setter
    def n_overweight(self, value: int) -> None:
        self._reset("n_overweight", value)

    @property
    def efficiency(self) -> float:
        """Accepted / trials over all nodes (before any event: the nodes' mean estimate)."""
        if self.n_trials:
            return self.n_accepted / self.n_trials
        effs = [float(s.efficiency) for s in self.samplers if s is not None]
        return sum(effs) / len(effs) if effs else 0.0

    @property
    def overweight_fraction(self) -> float:
        return self.n_overweight / self.n_accepted if self.n_accepted else 0.0
