"""``alpgen detect``: the fast detector as a stand-alone step on a HepMC3 event file.

Like a Delphes-style step, it reads any compatible HepMC3 file (alpgen's own or another
generator's with the same particle content), applies a detector definition and returns the
cutflow, the expected signal and the reach — the same quantities, under the same names, as the
``detector`` block of a run's summary.json (:mod:`alpgen.reach`). The cross section, the target
and the model (with the coupling C/Λ the cross section was computed at) are read from the file's
run info when alpgen wrote it (``alpgen_metadata``: the resolved card, rebuilt with
:func:`alpgen.card.build_card`, so a card that gave ``model.g`` is converted by the card's own
rule); ``--sigma-pb``, ``--set detector.target_*`` and ``--set model.C_over_Lambda`` override.
A file without alpgen's run info needs ``--set model.C_over_Lambda=...``; without the model the
branching ratios cannot be recomputed, so its reach is the fixed-BR one (said in
``coupling_source``). :func:`detect_file` neither prints nor exits; the CLI does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .card import build_card, parse_set
from .errors import CardError
from .io.checks import (
    check_sigma_pb,
    input_note,
    input_record,
    readable_events,
    selection_note,
    stdout_to_stderr,
    verify_event_file,
)

if TYPE_CHECKING:
    from .card import RunCard
    from .model import ALPModel
    from .reach import SignalResult

__all__ = ["DetectResult", "detect_file"]


@dataclass(frozen=True)
class DetectResult:
    """The detector result with its reach, which coupling it used (a sentence), what was read
    (``input``: the file check, :func:`alpgen.io.checks.input_record`) and report ``notes``
    (the selection used and, if nothing passed, why; a truncated input)."""

    signal: SignalResult
    coupling_source: str
    input: dict[str, Any]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The keys of summary.json's ``detector`` block (``sensitivity`` included), plus
        ``coupling_source`` and ``input``."""
        return {
            **self.signal.to_dict(),
            "coupling_source": self.coupling_source,
            "input": self.input,
        }


def _split_overrides(name: str, overrides: Iterable[str]) -> tuple[dict[str, Any], float | None]:
    """The detector section (``detector.KEY=VALUE``) and ``model.C_over_Lambda`` (or None)."""
    section: dict[str, Any] = {"name": name}
    coupling = None
    for item in overrides:
        sec, key, value = parse_set(item)
        if sec == "model" and key == "C_over_Lambda":
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise CardError("model.C_over_Lambda", f"{value!r} must be a number > 0 (TeV⁻¹)")
            coupling = float(value)
            continue
        if sec != "detector":
            raise CardError(
                f"{sec}.{key}",
                "alpgen detect only takes detector.KEY=VALUE and model.C_over_Lambda=VALUE "
                "overrides",
            )
        section[key] = value
    return section, coupling


def _card_from_metadata(card: Mapping[str, Any]) -> RunCard | None:
    """The run card stored in a file's run info (the parsed card, all defaults filled in)."""
    doc = {
        sec: {k: v for k, v in values.items() if v is not None}
        for sec, values in card.items()
        if isinstance(values, Mapping) and sec != "detector"
    }
    try:
        return build_card(doc, check_files=False, check_decays=False)
    except CardError:
        return None


def detect_file(
    path: str | Path,
    detector: str,
    overrides: Iterable[str] = (),
    *,
    sigma_pb: float | None = None,
    allow_truncated: bool = False,
) -> DetectResult:
    """Run detector ``detector`` (na64mu, fasernu2, thin_target) on the HepMC3 file ``path``.

    ``overrides``: ``detector.KEY=VALUE`` and ``model.C_over_Lambda=VALUE`` strings; ``sigma_pb``
    the cross section (pb) if not the file's. The file is checked first (format, completeness:
    :mod:`alpgen.io.checks`); a damaged one is an error unless ``allow_truncated``, which uses
    and normalises by its complete events. Raises :class:`CardError` on bad input.
    """
    from .detectors.config import DetectorConfig, DetectorConfigError
    from .io.hepmc import read_hepmc3
    from .reach import SignalCounter
    from .targets import get_target

    try:
        section, coupling_override = _split_overrides(detector, overrides)
        config = DetectorConfig.from_card(section)
    except DetectorConfigError as exc:
        raise CardError(getattr(exc, "key", "detector"), str(exc)) from None
    file = Path(path)
    if not file.is_file():
        raise CardError("FILE", f"{str(path)!r} does not exist or is not a file")
    check_sigma_pb(sigma_pb, "--sigma-pb")
    check = verify_event_file(file, allow_truncated=allow_truncated)
    with stdout_to_stderr(), readable_events(check) as events_file:  # HepMC3 talks on stdout
        try:
            batch = read_hepmc3(events_file)
            run_info = _run_info(events_file)
        except (OSError, RuntimeError, ValueError) as exc:
            raise CardError("FILE", f"{str(path)!r} is not a readable HepMC3 file: {exc}") from None
    if len(batch) == 0:
        raise CardError("FILE", f"{str(path)!r} contains no events")
    if sigma_pb is None:
        sigma_pb = run_info.get("sigma_pb")
        if sigma_pb is None:
            raise CardError("--sigma-pb", "the file carries no cross section; give --sigma-pb")
        check_sigma_pb(sigma_pb, f"the cross section in {path}")
    sigma_err_pb = float(run_info.get("sigma_err_pb", 0.0)) if "sigma_pb" in run_info else 0.0
    card = _card_from_metadata(run_info.get("card", {}))
    # the target: a --set override, else the file's run, else the experiment's nominal one
    material = config.target_material if "target_material" in section else None
    thickness = config.target_thickness_cm if "target_thickness_cm" in section else None
    if card is not None:
        material = material or card.target.material
        thickness = thickness or card.target.thickness_cm
    material = material or config.target_material
    thickness = thickness or config.target_thickness_cm
    if material is None or thickness is None:
        raise CardError(
            "detector.target_material",
            "the file does not name its target; set detector.target_material and "
            "detector.target_thickness_cm",
        )
    model: ALPModel | None = None
    if coupling_override is not None:
        c_ref = coupling_override
        source = f"--set model.C_over_Lambda = {c_ref:g} TeV^-1"
        if card is not None:
            model = card.alp_model(C_over_Lambda=c_ref)
    elif card is not None:
        c_ref = card.C_over_Lambda
        given = "model.g" if card.model.g is not None else "model.C_over_Lambda"
        source = f"{given} of the file's run metadata: C/Lambda = {c_ref:.6g} TeV^-1"
        model = card.alp_model()
    else:
        raise CardError(
            "model.C_over_Lambda",
            "the file carries no alpgen run metadata with the coupling its cross section "
            "was computed at; give it with --set model.C_over_Lambda=VALUE (TeV^-1)",
        )
    if model is None:  # a foreign file: no model, so the branching ratios stay fixed
        source += "; no ALP model in the file, so the reach holds the branching ratios fixed"
    counter = SignalCounter(
        config,
        target=get_target(material),
        thickness_cm=thickness,
        c_ref=c_ref,
        model=model,
        n_generated=len(batch),
    )
    counter.add(batch)
    signal = counter.result(sigma_pb=sigma_pb, sigma_err_pb=sigma_err_pb)
    notes = (input_note(check), selection_note(signal.detector, config, run_info))
    return DetectResult(signal, source, input_record(check), tuple(n for n in notes if n))


def _run_info(path: Path) -> dict[str, Any]:
    """σ ± δσ (pb) and the parsed card from an alpgen-written HepMC3 file (empty if foreign)."""
    import pyhepmc

    info: dict[str, Any] = {}
    with pyhepmc.open(path) as f:
        for event in f:
            if event.cross_section is not None:
                info["sigma_pb"] = float(event.cross_section.xsec())
                info["sigma_err_pb"] = float(event.cross_section.xsec_err())
            ri = event.run_info
            if ri is not None and "alpgen_metadata" in ri.attributes:
                try:
                    meta = json.loads(str(ri.attributes["alpgen_metadata"]))
                except (TypeError, ValueError):
                    meta = {}
                info["card"] = meta.get("card", {})
                info["sigma_pb"] = meta.get("sigma_pb", info.get("sigma_pb"))
                info["sigma_err_pb"] = meta.get("sigma_err_pb", info.get("sigma_err_pb", 0.0))
            break
    return info
