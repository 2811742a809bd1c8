"""Run cards: TOML → validated, frozen dataclasses.

Every user error raises :class:`CardError`, whose message names the card key, the offending value
and what is allowed. The CLI turns it into exit status 2 before any work starts.

A card has the sections ``[run]``, ``[beam]``, ``[target]``, ``[model]``, ``[production]``,
``[decays]``, ``[output]``, ``[detector]``, ``[process]`` and ``[background]`` (see README.md
for every key). ``[process] name`` picks the ALP signal (default) or a Standard-Model background;
for the latter ``[model]`` and ``decays.alp`` are ignored (not validated). ``--set
section.key=value`` overrides are applied to the raw document first and then validated like the
card itself.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .constants import LEPTONS
from .errors import CardError as CardError  # re-exported: `from alpgen.card import CardError`
from .limits import (
    MAX_BEAM_ENERGY_GEV,
    MAX_C_OVER_LAMBDA,
    MAX_MASS_GEV,
    MAX_T_MAX,
    MAX_THICKNESS_CM,
    MAX_YUKAWA,
    precision_error,
)
from .model import ALPModel
from .production.process import global_t_min, production_threshold
from .targets import TARGETS, Target, get_target

#: Largest number of events a card may ask for (issue: runs up to 10⁸ events are accepted).
MAX_EVENTS = 100_000_000


# --------------------------------------------------------------------------------------------
# schema


@dataclass(frozen=True)
class Key:
    """One card key: its type(s), default and an optional validator returning an error text."""

    types: tuple[type, ...]
    default: Any = None
    check: Callable[[Any], str | None] | None = None
    required: bool = False
    doc: str = ""


def _positive(v: float) -> str | None:
    return None if v > 0 and math.isfinite(v) else "must be a finite number > 0"


def _non_negative(v: float) -> str | None:
    return None if v >= 0 and math.isfinite(v) else "must be a finite number ≥ 0"


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        return None if v in allowed else f"allowed values are {', '.join(map(repr, allowed))}"

    return check


def _subset_of(*allowed: str) -> Callable[[Any], str | None]:
    def check(v: list[str]) -> str | None:
        if not v:
            return f"must be a non-empty list drawn from {', '.join(map(repr, allowed))}"
        bad = [x for x in v if x not in allowed]
        if bad or len(set(v)) != len(v):
            return f"must list distinct values drawn from {', '.join(map(repr, allowed))}"
        return None

    return check


def _range(
    lo: float, hi: float, lo_open: bool = False, hi_open: bool = False, unit: str = ""
) -> Callable[[Any], str | None]:
    def check(v: float) -> str | None:
        ok = (lo < v if lo_open else lo <= v) and (v < hi if hi_open else v <= hi)
        low = f"> {lo:g}" if lo_open else f"≥ {lo:g}"
        high = f"< {hi:g}" if hi_open else f"≤ {hi:g}"
        where = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        return None if ok else f"must be a number {low} and {high}{unit}: {where} is its range"

    return check


def _precision(v: float) -> str | None:
    return precision_error(v)


def _int_range(lo: int, hi: int) -> Callable[[Any], str | None]:
    def check(v: int) -> str | None:
        return None if lo <= v <= hi else f"must be an integer in [{lo}, {hi}]"

    return check


def _tau_channels(v: Any) -> str | None:
    if isinstance(v, str):
        return None if v in ("all", "none") else "must be 'all', 'none' or a list of channel names"
    if not v or not all(isinstance(x, str) for x in v):
        return "must be 'all', 'none' or a non-empty list of channel names or tags"
    known = _known_tau_selectors()
    if known is not None:
        bad = [x for x in v if x not in known]
        if bad:
            return f"unknown τ channel(s) {bad}; known: {', '.join(sorted(known))}"
    return None


def _known_tau_selectors() -> set[str] | None:
    """Channel names and tags of the τ decay registry (None if it cannot be imported)."""
    try:
        from .decays.registry import channels_for
    except ImportError:  # pragma: no cover - registry always present in a full install
        return None
    names: set[str] = set()
    for ch in channels_for(15):
        names.add(ch.name)
        names.update(ch.tags)
    return names


FLOAT = (float, int)
FORMATS = ("lhe", "lhe.gz", "hepmc3", "hepmc3.gz", "root")

#: The processes ``[process] name`` may choose: the ALP signal and the Standard-Model
#: backgrounds of :mod:`alpgen.background` (physics.md §8).
PROCESS_NAMES = ("alp", "sm_tautau", "sm_mumu", "charm")
#: The Standard-Model processes (``[background] processes`` draws from these).
SM_PROCESSES = PROCESS_NAMES[1:]

SCHEMA: dict[str, dict[str, Key]] = {
    "process": {
        "name": Key(
            (str,),
            "alp",
            _one_of(*PROCESS_NAMES),
            doc="alp (the signal) | sm_tautau | sm_mumu | charm (Standard-Model backgrounds)",
        ),
    },
    "background": {
        "processes": Key(
            (list,),
            None,
            lambda v: _subset_of(*SM_PROCESSES)(v) if v else None,  # [] = none
            doc="SM backgrounds whose expected count after the detector's cuts run and scan "
            "estimate (default: none)",
        ),
        "events": Key(
            (int,),
            20_000,
            _int_range(100, MAX_EVENTS),
            doc="events generated per background process for the estimate",
        ),
    },
    "run": {
        "name": Key((str,), None, doc="run name (default: the card's file name)"),
        "events": Key((int,), 10_000, _int_range(1, MAX_EVENTS), doc="unweighted events"),
        "seed": Key((int,), 1, _int_range(0, 2**63 - 1), doc="master random seed"),
        "batch_size": Key((int,), 20_000, _int_range(100, 10_000_000), doc="events per batch"),
        "shard_events": Key(
            (int,),
            20_000,
            _int_range(1, MAX_EVENTS),
            doc="events per shard: a run is ⌈events / shard_events⌉ independent shards",
        ),
        "variance_reduction": Key(
            (str,),
            "auto",
            _one_of("auto", "none"),
            doc="auto: the counting decays only the channels the selection accepts (weight "
            "ΣBR) with biased τ decay lengths; none: the counting uses the physical decays",
        ),
        "target_precision": Key(
            FLOAT,
            0.02,
            _range(0.0, 1.0, True, True),
            doc="relative MC error of the reach at which the counting stops",
        ),
        "max_count_events": Key(
            (int,),
            200_000,
            _int_range(1, MAX_EVENTS),
            doc="most events the counting generates to reach target_precision",
        ),
    },
    "beam": {
        "particle": Key((str,), "mu-", _one_of("mu-", "mu+", "e-", "e+")),
        "energy": Key(FLOAT, None, _range(0, MAX_BEAM_ENERGY_GEV, True, unit=" GeV"), doc="GeV"),
        "spectrum": Key((str,), None, doc="CSV spectrum (E_GeV, dN_dE_mu_minus, dN_dE_mu_plus)"),
        "polarization": Key(
            FLOAT, 0.0, _range(-1.0, 1.0), doc="longitudinal: mean lab helicity of the beam, −1 … 1"
        ),
    },
    "target": {
        "material": Key((str,), None, _one_of(*TARGETS), required=True),
        "thickness_cm": Key(
            FLOAT, None, _range(0, MAX_THICKNESS_CM, True, unit=" cm"), required=True
        ),
    },
    "model": {
        "m_a": Key(FLOAT, None, _range(0, MAX_MASS_GEV, True, unit=" GeV"), required=True),
        "C_over_Lambda": Key(FLOAT, None, _range(0, MAX_C_OVER_LAMBDA, True, unit=" TeV⁻¹")),
        "g": Key(FLOAT, None, _range(0, MAX_YUKAWA, True), doc="Yukawa coupling of paper Eq. 3"),
        "theta": Key(FLOAT, math.pi / 4, _range(0.0, math.pi), doc="rad"),
        "couplings": Key((str,), "paper", _one_of("paper", "exact")),
        "m_chi": Key(FLOAT, None, _range(0, MAX_MASS_GEV, True, unit=" GeV"), doc="GeV"),
        "g_chi": Key(FLOAT, 0.0, _range(0, MAX_YUKAWA)),
        "eq5_is_total": Key((bool,), False),
    },
    "production": {
        "lepton_out": Key((str,), "tau", _one_of("tau", "mu", "e")),
        "form_factors": Key(
            (list,), ["coherent", "incoherent"], _subset_of("coherent", "incoherent")
        ),
        "atomic_screening": Key((bool,), True),
        "t_max": Key(FLOAT, 1.0, _range(0, MAX_T_MAX, True, unit=" GeV²"), doc="GeV²"),
        "coherent_norm": Key((str,), "Z", _one_of("Z", "Z-1")),
        "a_el": Key(FLOAT, 111.0, _positive, doc="elastic screening constant a·Z^(1/3)·m_e"),
        "a_inel": Key(FLOAT, 571.4, _positive, doc="inelastic screening constant"),
        "ws_a0_fm": Key(FLOAT, 0.79, _positive, doc="Woods–Saxon Yukawa range, fm"),
        "include_pv": Key((bool,), True, doc="keep the P²·𝒜_PV term"),
        "precision": Key(FLOAT, 0.005, _precision, doc="relative"),
    },
    "decays": {
        "alp": Key((str,), "auto", _one_of("auto", "visible", "invisible")),
        "tau": Key((str, list), "all", _tau_channels),
        "tau_polarization": Key((str,), "matrix_element", _one_of("matrix_element", "unpolarized")),
    },
    "output": {
        "dir": Key((str,), None, doc="default: runs/<run.name>"),
        "formats": Key((list,), ["lhe", "hepmc3", "root"], _subset_of(*FORMATS)),
        "merge": Key(
            (bool,),
            True,
            doc="assemble the shards into one file per format (false: events-NNNNN.* and "
            "shards.json)",
        ),
    },
}


def _detector_keys() -> tuple[str, ...]:
    try:
        from .detectors.config import ALLOWED_KEYS
    except ImportError:  # pragma: no cover
        return ("name",)
    return tuple(ALLOWED_KEYS)


# --------------------------------------------------------------------------------------------
# parsed card


@dataclass(frozen=True)
class ProcessSection:
    name: str = "alp"

    @property
    def is_alp(self) -> bool:
        """The ALP signal (not a Standard-Model background process)."""
        return self.name == "alp"


@dataclass(frozen=True)
class BackgroundSection:
    #: the Standard-Model processes to estimate after the detector's cuts (empty: none)
    processes: tuple[str, ...] = ()
    #: events generated per process for the estimate
    events: int = 20_000


@dataclass(frozen=True)
class RunSection:
    name: str
    events: int
    seed: int
    batch_size: int
    variance_reduction: str = "auto"
    target_precision: float = 0.02
    max_count_events: int = 200_000
    shard_events: int = 20_000


@dataclass(frozen=True)
class BeamSection:
    particle: str
    energy: float | None
    spectrum: str | None
    polarization: float

    @property
    def flavour(self) -> str:
        return self.particle.rstrip("+-")

    @property
    def charge(self) -> int:
        return -1 if self.particle.endswith("-") else +1


@dataclass(frozen=True)
class TargetSection:
    material: str
    thickness_cm: float


@dataclass(frozen=True)
class ModelSection:
    m_a: float
    C_over_Lambda: float | None
    g: float | None
    theta: float
    couplings: str
    m_chi: float | None
    g_chi: float
    eq5_is_total: bool


@dataclass(frozen=True)
class ProductionSection:
    lepton_out: str
    form_factors: tuple[str, ...]
    atomic_screening: bool
    t_max: float
    coherent_norm: str
    a_el: float
    a_inel: float
    ws_a0_fm: float
    include_pv: bool
    precision: float


@dataclass(frozen=True)
class DecaySection:
    alp: str
    tau: str | tuple[str, ...]
    tau_polarization: str


@dataclass(frozen=True)
class OutputSection:
    dir: str
    formats: tuple[str, ...]
    merge: bool = True


@dataclass(frozen=True)
class RunCard:
    """A validated run card. ``raw`` is the TOML document after ``--set`` overrides."""

    run: RunSection
    beam: BeamSection
    target: TargetSection
    model: ModelSection
    production: ProductionSection
    decays: DecaySection
    output: OutputSection
    detector: Mapping[str, Any] | None
    raw: Mapping[str, Any] = field(repr=False)
    process: ProcessSection = ProcessSection()
    background: BackgroundSection = BackgroundSection()
    path: str | None = None
    text: str = field(default="", repr=False)
    overrides: tuple[str, ...] = ()

    # -- derived objects --------------------------------------------------------------------
    @property
    def target_material(self) -> Target:
        return get_target(self.target.material)

    @property
    def m_in(self) -> float:
        return LEPTONS[self.beam.flavour][1]

    @property
    def m_out(self) -> float:
        return LEPTONS[self.production.lepton_out][1]

    def alp_model(self, *, C_over_Lambda: float | None = None) -> ALPModel:
        """The ALP model of this card (optionally at another C/Λ in TeV⁻¹)."""
        m = self.model
        kw = dict(
            m_in=self.m_in,
            m_out=self.m_out,
            m_chi=m.m_chi if m.m_chi is not None else math.inf,
            g_chi=m.g_chi,
            eq5_is_total=m.eq5_is_total,
        )
        if C_over_Lambda is not None or m.g is None:
            c = C_over_Lambda if C_over_Lambda is not None else self.C_over_Lambda
            return ALPModel.from_C_over_Lambda(m.m_a, c, m.theta, couplings=m.couplings, **kw)
        return ALPModel.from_g(m.m_a, m.g, m.theta, **kw)

    def signed_couplings(self, *, C_over_Lambda: float | None = None) -> tuple[float, float]:
        """Signed scalar and pseudoscalar Yukawas (S, P) of ``−i a ℓ̄_in (S + Pγ5) ℓ_out``.

        Rates depend on S² and P² only, but the τ polarization depends on the sign of S·P:
        ``"paper"`` uses Eq. 3 of arXiv:2407.15942 (S = g sinθ, P = g cosθ), ``"exact"`` uses
        Eq. 2 (S = (C/Λ)(m_in − m_out) sinθ, P = (C/Λ)(m_in + m_out) cosθ), whose m_μ → 0 limit
        carries −sinθ (physics.md §1.2): the two predict opposite τ polarizations at equal θ.
        """
        return self.alp_model(C_over_Lambda=C_over_Lambda).signed_couplings()

    @property
    def C_over_Lambda(self) -> float:
        """C/Λ in TeV⁻¹ (from g via g = C m_out/Λ when the card gives g)."""
        if self.model.C_over_Lambda is not None:
            return self.model.C_over_Lambda
        assert self.model.g is not None  # a valid card gives exactly one of the two
        return self.model.g / (max(self.m_in, self.m_out) * 1e-3)

    def spectrum_path(self) -> Path | None:
        if self.beam.spectrum is None:
            return None
        p = Path(self.beam.spectrum)
        if not p.is_absolute() and self.path is not None:
            p = Path(self.path).parent / p
        return p

    def to_dict(self) -> dict[str, Any]:
        """The card as parsed (all defaults filled in), JSON-serialisable."""
        d: dict[str, Any] = {
            name: asdict(getattr(self, name))
            for name in (
                "process",
                "run",
                "beam",
                "target",
                "model",
                "production",
                "decays",
                "output",
                "background",
            )
        }
        d["detector"] = dict(self.detector) if self.detector is not None else None
        return d


# --------------------------------------------------------------------------------------------
# loading


def parse_set(item: str) -> tuple[str, str, Any]:
    """Parse one ``section.key=value`` override; the value is read as TOML, a bare word as text."""
    if "=" not in item:
        raise CardError(item, "a --set override must look like section.key=value")
    lhs, rhs = item.split("=", 1)
    lhs = lhs.strip()
    if lhs.count(".") != 1 or not all(lhs.split(".")):
        raise CardError(lhs, "a --set override must name section.key (e.g. model.m_a=2.0)")
    section, key = lhs.split(".")
    rhs = rhs.strip()
    try:
        value = tomllib.loads(f"v = {rhs}")["v"]
    except tomllib.TOMLDecodeError:
        value = rhs
    return section, key, value


#: Keys that are alternatives to each other: a ``--set`` of one replaces the other.
_ALTERNATIVES = {"model": (("g", "C_over_Lambda"),), "beam": (("energy", "spectrum"),)}


def apply_overrides(doc: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``--set`` overrides to a raw card document (a deep-enough copy is returned)."""
    doc = {k: dict(v) if isinstance(v, dict) else v for k, v in doc.items()}
    for item in overrides:
        section, key, value = parse_set(item)
        sec = doc.setdefault(section, {})
        if not isinstance(sec, dict):
            raise CardError(section, "is not a table")
        # alternatives: setting one replaces the other
        for pair in _ALTERNATIVES.get(section, ()):
            if key in pair:
                sec.pop(pair[1 - pair.index(key)], None)
        sec[key] = value
    return doc


def _typename(types: tuple[type, ...]) -> str:
    names = {
        bool: "true/false",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
    }
    if types == FLOAT:
        return "a number"
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check_value(section: str, key: str, spec: Key, value: Any) -> Any:
    full = f"{section}.{key}"
    # bool is an int subclass in Python: never accept it for a numeric key (and vice versa)
    if isinstance(value, bool) != (bool in spec.types) or not isinstance(value, spec.types):
        raise CardError(full, f"{value!r} has the wrong type; expected {_typename(spec.types)}")
    if spec.types == FLOAT:
        value = float(value)  # type: ignore[arg-type]  # an int or float, checked above
    if isinstance(value, list) and list in spec.types and spec.check is not _tau_channels:
        if not all(isinstance(x, str) for x in value):
            raise CardError(full, f"{value!r}: expected a list of strings")
    if spec.check is not None:
        msg = spec.check(value)
        if msg:
            raise CardError(full, f"{value!r} is not allowed: {msg}")
    return value


def _section_values(doc: Mapping[str, Any], section: str) -> dict[str, Any]:
    raw = doc.get(section, {})
    if not isinstance(raw, dict):
        raise CardError(section, f"must be a table [{section}], got {raw!r}")
    schema = SCHEMA[section]
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise CardError(
            f"{section}.{unknown[0]}",
            f"unknown key; allowed keys in [{section}] are {', '.join(schema)}",
        )
    out = {}
    for key, spec in schema.items():
        if key in raw:
            out[key] = _check_value(section, key, spec, raw[key])
        elif spec.required:
            raise CardError(f"{section}.{key}", "is required but missing")
        else:
            out[key] = list(spec.default) if isinstance(spec.default, list) else spec.default
    return out


def build_card(
    doc: Mapping[str, Any],
    *,
    path: str | None = None,
    text: str = "",
    overrides: tuple[str, ...] = (),
    check_files: bool = True,
    check_decays: bool = True,
) -> RunCard:
    """Validate a raw card document (after overrides) and build the :class:`RunCard`.

    ``check_decays=False`` skips the open-decay-channel checks (for the production cross
    section alone, which does not depend on decays)."""
    allowed_sections = (*SCHEMA, "detector")
    unknown = sorted(set(doc) - set(allowed_sections))
    if unknown:
        raise CardError(
            unknown[0], f"unknown section; allowed sections are {', '.join(allowed_sections)}"
        )
    process = _section_values(doc, "process")
    sm = process["name"] != "alp"
    # an SM process ignores [model] (and decays.alp): not validated, a placeholder model
    v = {s: _section_values(doc, s) for s in SCHEMA if not (sm and s == "model")}
    if sm:
        v["model"] = dict(_SM_MODEL)
    bkg = v["background"]
    bkg["processes"] = tuple(bkg["processes"] or ())
    if process["name"] == "charm":
        _require_pythia("process.name")
    if "charm" in bkg["processes"]:
        _require_pythia("background.processes")
    if bkg["processes"]:
        if doc.get("detector") is None:
            raise CardError(
                "background.processes",
                "a background estimate needs the card's [detector] (its cuts and MOT)",
            )
        if v["beam"]["particle"] not in ("mu-", "mu+"):
            raise CardError(
                "background.processes",
                f"the Standard-Model backgrounds need a muon beam, not {v['beam']['particle']!r}",
            )

    run = v["run"]
    if run["name"] is None:
        run["name"] = Path(path).stem if path else "alpgen"
    if not run["name"] or "/" in run["name"]:
        raise CardError(
            "run.name", f"{run['name']!r} is not allowed: must be a non-empty name without '/'"
        )

    beam = v["beam"]
    if (beam["energy"] is None) == (beam["spectrum"] is None):
        raise CardError(
            "beam.energy",
            "give exactly one of beam.energy (GeV, monochromatic) and beam.spectrum (CSV file)",
        )

    model = v["model"]
    if sm:
        pass
    elif (model["C_over_Lambda"] is None) == (model["g"] is None):
        raise CardError(
            "model.C_over_Lambda", "give exactly one of model.C_over_Lambda (TeV⁻¹) and model.g"
        )
    if model["g"] is not None and model["couplings"] == "exact":
        raise CardError(
            "model.g",
            "the exact couplings (model.couplings = 'exact') need model.C_over_Lambda, not model.g",
        )

    prod = v["production"]
    prod["form_factors"] = tuple(prod["form_factors"])
    flavour_in = beam["particle"].rstrip("+-")
    if sm and flavour_in != "mu":
        raise CardError(
            "beam.particle",
            f"{beam['particle']!r} is not allowed with process.name = {process['name']!r}: the "
            "Standard-Model background processes need a muon beam ('mu-' or 'mu+')",
        )
    if sm:
        pass
    elif prod["lepton_out"] == flavour_in:
        raise CardError(
            "production.lepton_out",
            f"{prod['lepton_out']!r} equals the beam flavour: alpgen models flavour-violating "
            "couplings only; choose a different lepton",
        )

    dec = v["decays"]
    if isinstance(dec["tau"], list):
        dec["tau"] = tuple(dec["tau"])

    out = v["output"]
    out["formats"] = tuple(out["formats"])
    if out["dir"] is None:
        out["dir"] = str(Path("runs") / run["name"])
    elif not out["dir"].strip():
        raise CardError(
            "output.dir", "is empty; give a directory (or leave it out for runs/<run.name>)"
        )

    detector = doc.get("detector")
    if detector is not None:
        if not isinstance(detector, dict):
            raise CardError("detector", f"must be a table [detector], got {detector!r}")
        try:
            from .detectors.config import DetectorConfig, DetectorConfigError
        except ImportError:  # pragma: no cover
            pass
        else:
            try:
                DetectorConfig.from_card(detector)
            except DetectorConfigError as exc:
                raise CardError(getattr(exc, "key", "detector"), str(exc)) from None

    card = RunCard(
        run=RunSection(**run),
        beam=BeamSection(**beam),
        target=TargetSection(**v["target"]),
        model=ModelSection(**model),
        production=ProductionSection(**prod),
        decays=DecaySection(**dec),
        output=OutputSection(**out),
        detector=detector,
        raw=doc,
        path=path,
        text=text,
        overrides=overrides,
        process=ProcessSection(**process),
        background=BackgroundSection(**bkg),
    )
    if sm:
        _check_sm(card, check_files=check_files)
    else:
        _check_physics(card, check_files=check_files, decays=check_decays)
    return card


#: The placeholder [model] of a Standard-Model process card (its [model] is ignored).
_SM_MODEL: dict[str, Any] = {
    "m_a": math.nan,
    "C_over_Lambda": None,
    "g": None,
    "theta": math.pi / 4,
    "couplings": "paper",
    "m_chi": None,
    "g_chi": 0.0,
    "eq5_is_total": False,
}


def _require_pythia(key: str) -> None:
    """``charm`` needs Pythia 8 (``pythia8mc``): a :class:`CardError` on ``key`` with the
    install hint when it cannot be imported (checked before any work)."""
    import importlib.util

    if importlib.util.find_spec("pythia8mc") is None:
        raise CardError(
            key,
            "'charm' needs Pythia 8 (the pythia8mc package), which is not installed: "
            "pip install 'alpgen[charm]'",
        )


def _check_sm(card: RunCard, *, check_files: bool = True) -> None:
    """Cross-key checks of a Standard-Model process card: open charm above its threshold at a
    fixed beam energy (a beam spectrum runs at energy nodes, closed ones with σ = 0; the ALP's
    thresholds and decays do not apply)."""
    path = card.spectrum_path()
    if check_files and path is not None:
        _load_spectrum_file(path)
    if card.process.name == "charm" and card.beam.energy is not None:
        from .background.estimate import charm_open
        from .background.params import BackgroundParams

        if not charm_open(BackgroundParams(beam_energy=card.beam.energy)):
            raise CardError(
                "beam.energy",
                f"{card.beam.energy!r} GeV is too low for open charm: the μN energy must exceed "
                "Pythia's W_min = 5 GeV by 0.5 GeV (E ≳ 15 GeV)",
            )


def check_alp_decays(card: RunCard) -> None:
    """The ALP decay channels the card asks for are open (``decays.alp = "visible"`` or
    ``"invisible"``). The production cross section does not depend on them, so ``alpgen xsec``
    skips this check; with ``"auto"`` and no open channel the ALP is stable."""
    m = card.model
    model = card.alp_model()
    thr = model.lepton_threshold
    lep = f"{card.beam.flavour}{card.production.lepton_out}"
    if card.decays.alp == "visible" and m.m_a <= thr:
        raise CardError(
            "model.m_a",
            f"{m.m_a!r} GeV is not allowed with decays.alp = 'visible': a → {lep} is closed "
            f"up to m_a = m_{card.beam.flavour} + m_{card.production.lepton_out} = {thr:.12g} GeV",
        )
    if card.decays.alp == "invisible":
        if m.m_chi is None:
            raise CardError("model.m_chi", "is required with decays.alp = 'invisible'")
        if 2 * m.m_chi >= m.m_a:
            raise CardError(
                "model.m_chi",
                f"{m.m_chi:g} GeV is not allowed with decays.alp = 'invisible': a → χχ̄ needs "
                f"2 m_chi < m_a = {m.m_a:g} GeV",
            )
        if m.g_chi <= 0:
            raise CardError("model.g_chi", "must be > 0 with decays.alp = 'invisible'")


def _load_spectrum_file(path: Path) -> Any:
    """The card's spectrum file, loaded; a :class:`CardError` on ``beam.spectrum`` if it
    cannot be read or carries no flux."""
    from .spectrum import load_spectrum  # local: only needed for spectrum cards

    try:
        spec = load_spectrum(path)
    except (OSError, ValueError) as exc:
        raise CardError("beam.spectrum", str(exc) + _bom_hint(path)) from None
    if not any(float(v) > 0 for v in spec.dn_de):
        raise CardError("beam.spectrum", f"{str(path)!r}: every flux value is 0 (no beam)")
    return spec


def _bom_hint(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            bom = f.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return ""
    return " (the file starts with a UTF-8 byte-order mark; save it without one)" if bom else ""


def check_width(card: RunCard) -> None:
    """The ALP's total width must stay below its mass (a narrow, perturbative resonance);
    the error names the coupling that makes it wide. Only the card's own couplings are
    checked: the trial couplings of the reach solver are not cards."""
    model = card.alp_model()
    m = card.model
    width = model.width_total
    if width <= m.m_a:
        return
    invisible = model.width_invisible
    value: float | None
    if invisible > width - invisible:
        key, value = "model.g_chi", m.g_chi
    elif m.g is not None:
        key, value = "model.g", m.g
    else:
        key, value = "model.C_over_Lambda", m.C_over_Lambda
    raise CardError(
        key,
        f"{value!r} gives the ALP a total width of {width:.4g} GeV, above its mass "
        f"m_a = {m.m_a:g} GeV: no narrow resonance, outside the model's validity; lower it",
    )


def _check_physics(card: RunCard, *, check_files: bool, decays: bool = True) -> None:
    """Cross-key checks: thresholds, open decay channels (``decays``), the ALP width, files."""
    if decays:
        check_alp_decays(card)
        if card.detector is not None:
            from .precision import check_forced_channels

            check_forced_channels(card)
    check_width(card)
    m = card.model
    target = card.target_material
    M = target.nucleus_mass
    if card.beam.energy is not None:
        energies = [("beam.energy", card.beam.energy)]
    else:
        energies = []
        path = card.spectrum_path()
        if check_files and path is not None:
            spec = _load_spectrum_file(path)
            energies = [("beam.spectrum", spec.e_max)]
            beam_raw = card.raw.get("beam", {})
            if spec.has_polarization and "polarization" in beam_raw:
                raise CardError(
                    "beam.polarization",
                    f"{beam_raw['polarization']!r} is not allowed: the spectrum file {str(path)!r} "
                    "has polarization column(s) (polarization_mu_minus/polarization_mu_plus); "
                    "give the polarization in one place only",
                )
    for key, energy in energies:
        e_thr = production_threshold(card.m_in, card.m_out, m.m_a, M)
        if energy <= e_thr:
            raise CardError(
                key,
                f"{energy!r} GeV is not above the production threshold {e_thr:.12g} GeV for "
                f"m_a = {m.m_a!r} GeV on {target.symbol}",
            )
        tmin = global_t_min(energy, card.m_in, card.m_out, m.m_a, M)
        if tmin >= card.production.t_max:
            raise CardError(
                "production.t_max",
                f"{card.production.t_max:g} GeV² is below the smallest momentum transfer "
                f"t_min = {tmin:.3g} GeV² at E = {energy:g} GeV, m_a = {m.m_a:g} GeV: "
                "the cross section would vanish; raise production.t_max or the energy",
            )


def load_card(
    path: str | os.PathLike[str],
    overrides: Iterable[str] = (),
    *,
    check_files: bool = True,
    check_decays: bool = True,
) -> RunCard:
    """Read, override and validate a TOML run card (``check_decays``: see :func:`build_card`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is accepted
    except FileNotFoundError:
        raise CardError("card", f"file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError("card", f"cannot read {str(path)!r}: {exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardError("card", f"{str(path)!r} is not valid TOML: {exc}") from None
    overrides = tuple(overrides)
    doc = apply_overrides(doc, overrides)
    return build_card(
        doc,
        path=str(path),
        text=text,
        overrides=overrides,
        check_files=check_files,
        check_decays=check_decays,
    )
