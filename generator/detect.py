"""``alpgen detect``: the fast detector as a stand-alone step on a HepMC3 event file.

Like a Delphes-style step, it reads any compatible HepMC3 file (alpgen's own or another
generator's with the same particle content), applies a detector definition and prints the
cutflow, the expected signal and the reach. The cross section, the target and the coupling C/Λ
the cross section was computed at are read from the file's run info when alpgen wrote it
(``alpgen_metadata``: the resolved card); ``--sigma-pb``, ``--set detector.target_*`` and
``--set model.C_over_Lambda`` override. The reach is quoted in C/Λ, so a file without alpgen's
run info needs ``--set model.C_over_Lambda=...`` (exit status 2 otherwise). A card that gave
``model.g`` instead is converted with the card's own convention, C/Λ = g/m_heavy
(:attr:`alpgen.card.RunCard.C_over_Lambda`). The text table and the JSON (``coupling_source``)
say which coupling was used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .card import CardError, parse_set


def _split_overrides(name: str, overrides: Iterable[str]) -> tuple[dict, float | None]:
    """The detector section (``detector.KEY=VALUE``) and ``model.C_over_Lambda`` (or None)."""
    section: dict = {"name": name}
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


def _card_coupling(card: dict) -> tuple[float, str] | None:
    """C/Λ (TeV⁻¹) of the parsed card stored in a file's run info, and where it came from."""
    model = card.get("model") or {}
    if model.get("C_over_Lambda") is not None:
        c = float(model["C_over_Lambda"])
        return c, f"model.C_over_Lambda = {c:g} TeV^-1 (file run metadata)"
    if model.get("g") is not None:
        from .constants import LEPTONS

        try:
            m_in = LEPTONS[str(card["beam"]["particle"]).rstrip("+-")][1]
            m_out = LEPTONS[str(card["production"]["lepton_out"])][1]
        except (KeyError, TypeError):
            return None
        g = float(model["g"])
        # the card's convention (RunCard.C_over_Lambda): g = C m_heavy / Λ
        c = g / (max(m_in, m_out) * 1e-3)
        return c, f"model.g = {g:g} (file run metadata): C/Lambda = g/m_heavy = {c:.6g} TeV^-1"
    return None


def detect_file(
    path: str,
    detector: str,
    overrides: Iterable[str] = (),
    *,
    sigma_pb: float | None = None,
    json_out: bool = False,
) -> int:
    """Run detector ``detector`` on the HepMC3 file ``path``; returns the exit status."""
    from .detectors.config import DetectorConfig, DetectorConfigError
    from .detectors.counting import count_signal, format_table
    from .io.hepmc import read_hepmc3
    from .targets import get_target

    try:
        section, coupling_override = _split_overrides(detector, overrides)
        config = DetectorConfig.from_card(section)
    except DetectorConfigError as exc:
        raise CardError(getattr(exc, "key", "detector"), str(exc)) from None
    file = Path(path)
    if not file.is_file():
        raise CardError("FILE", f"{path!r} does not exist or is not a file")
    try:
        batch = read_hepmc3(file)
    except (OSError, RuntimeError, ValueError) as exc:
        raise CardError("FILE", f"{path!r} is not a readable HepMC3 file: {exc}") from None
    if len(batch) == 0:
        raise CardError("FILE", f"{path!r} contains no events")
    run_info = _run_info(file)
    if sigma_pb is None:
        sigma_pb = run_info.get("sigma_pb")
        if sigma_pb is None:
            raise CardError("--sigma-pb", "the file carries no cross section; give --sigma-pb")
    card = run_info.get("card", {})
    # the target: a --set override, else the file's run, else the experiment's nominal one
    file_target = card.get("target") or {}
    material = (
        config.target_material if "target_material" in section else file_target.get("material")
    ) or config.target_material
    thickness = (
        config.target_thickness_cm
        if "target_thickness_cm" in section
        else file_target.get("thickness_cm")
    ) or config.target_thickness_cm
    if material is None or thickness is None:
        raise CardError(
            "detector.target_material",
            "the file does not name its target; set detector.target_material and "
            "detector.target_thickness_cm",
        )
    if coupling_override is not None:
        c_over_lambda = coupling_override
        source = f"--set model.C_over_Lambda = {c_over_lambda:g} TeV^-1"
    else:
        found = _card_coupling(card)
        if found is None:
            raise CardError(
                "model.C_over_Lambda",
                "the file carries no alpgen run metadata with the coupling its cross section "
                "was computed at; give it with --set model.C_over_Lambda=VALUE (TeV^-1)",
            )
        c_over_lambda, source = found
    result = count_signal(
        config,
        batch,
        sigma_pb=sigma_pb,
        target=get_target(material),
        thickness_cm=thickness,
        n_generated=len(batch),
        coupling_C_over_Lambda=c_over_lambda,
    )
    if json_out:
        print(json.dumps({**result.to_dict(), "coupling_source": source}, indent=2))
    else:
        print(format_table(result))
        print(f"  coupling: {source}")
    return 0


def _run_info(path: Path) -> dict:
    """σ (pb) and the parsed card from an alpgen-written HepMC3 file (empty if foreign)."""
    import pyhepmc

    info: dict = {}
    with pyhepmc.open(path) as f:
        for event in f:
            if event.cross_section is not None:
                info["sigma_pb"] = float(event.cross_section.xsec())
            ri = event.run_info
            if ri is not None and "alpgen_metadata" in ri.attributes:
                try:
                    meta = json.loads(str(ri.attributes["alpgen_metadata"]))
                except (TypeError, ValueError):
                    meta = {}
                info["card"] = meta.get("card", {})
                info["sigma_pb"] = meta.get("sigma_pb", info.get("sigma_pb"))
            break
    return info
