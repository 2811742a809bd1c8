"""Run metadata shared by all writers (card, seed, versions, cross section, beams).

Everything here is plain data (str, int, float, dicts and lists of those) so that it can be
stored in a file header as JSON and compared between runs.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = [
    "PROCESS_DESCRIPTIONS",
    "RunMetadata",
    "collect_versions",
    "process_description",
    "process_name",
]

#: Distributions whose versions are recorded with every run.
_RECORDED = (
    "alpgen",
    "numpy",
    "numba",
    "vegas",
    "particle",
    "pylhe",
    "pyhepmc",
    "uproot",
    "hist",
)


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def collect_versions() -> dict[str, str]:
    """Versions of Python and of the packages that influence the generated events or files."""
    out = {"python": platform.python_version()}
    out.update({name: _dist_version(name) for name in _RECORDED})
    return out


def _alpgen_version() -> str:
    return _dist_version("alpgen")


@dataclass(frozen=True)
class RunMetadata:
    """What a file needs to know about the run that produced it.

    Units: ``sigma_pb`` and ``sigma_err_pb`` in pb, energies and masses in GeV. ``beam_energy``
    is the nominal lepton beam energy (the per-event energy is ``EventBatch.beam_energy``);
    ``target_mass`` is the nucleus mass, which is also the "beam energy" of the nucleus at rest.
    ``card`` is the parsed card as plain data, ``card_text`` its exact text.
    """

    card_text: str
    card: dict[str, Any]
    seed: int
    sigma_pb: float
    sigma_err_pb: float
    n_events: int
    beam_pid: int
    beam_energy: float
    target_pid: int
    target_mass: float
    versions: dict[str, str] = field(default_factory=collect_versions)
    generator_name: str = "alpgen"
    generator_version: str = field(default_factory=_alpgen_version)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys) of all fields."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=1, default=_json_default)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunMetadata:
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> RunMetadata:
        return cls.from_dict(json.loads(text))


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays sneak into cards built programmatically
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


#: Process descriptions for the files' generator/tool records, by ``[process] name``.
PROCESS_DESCRIPTIONS = {
    "alp": "mu A -> tau A a (LFV axion-like particle)",
    "sm_tautau": "mu A -> mu A tau+ tau- (SM trident, exact tree-level QED)",
    "sm_mumu": "mu A -> mu A mu+ mu- (SM trident, exact tree-level QED)",
    "charm": "mu N -> mu c cbar X (photon-gluon fusion, Pythia 8)",
}


def process_name(meta: RunMetadata) -> str:
    """The run's ``[process] name`` from its parsed card (``"alp"``, the signal, if absent)."""
    proc = meta.card.get("process") if isinstance(meta.card, dict) else None
    return str(proc.get("name", "alp")) if isinstance(proc, dict) else "alp"


def process_description(meta: RunMetadata, signal: str = PROCESS_DESCRIPTIONS["alp"]) -> str:
    """One line naming the run's process (``signal`` for the ALP signal)."""
    name = process_name(meta)
    if name == "alp":
        return signal
    return PROCESS_DESCRIPTIONS.get(name, f"{name} (alpgen process)")
