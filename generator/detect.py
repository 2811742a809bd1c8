"""``alpgen detect``: the fast detector as a stand-alone step on a HepMC3 event file.

Like a Delphes-style step, it reads any compatible HepMC3 file (alpgen's own or another
generator's with the same particle content), applies a detector definition and prints the
cutflow, the expected signal and the reach. The cross section and the target are read from the
file's run info when alpgen wrote it; ``--sigma-pb`` and ``--set detector.target_*`` override.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .card import parse_set
from .errors import CardError
from .io.checks import (
    check_sigma_pb,
    input_note,
    input_record,
    json_safe,
    readable_events,
    selection_note,
    stdout_to_stderr,
    verify_event_file,
)


def _detector_section(name: str, overrides: Iterable[str]) -> dict[str, Any]:
    section: dict[str, Any] = {"name": name}
    for item in overrides:
        sec, key, value = parse_set(item)
        if sec != "detector":
            raise CardError(f"{sec}.{key}", "alpgen detect only takes detector.KEY=VALUE overrides")
        section[key] = value
    return section


def detect_file(
    path: str,
    detector: str,
    overrides: Iterable[str] = (),
    *,
    sigma_pb: float | None = None,
    json_out: bool = False,
    allow_truncated: bool = False,
) -> int:
    """Run detector ``detector`` on the HepMC3 file ``path``; returns the exit status.

    The file is checked first (format, completeness: :mod:`alpgen.io.checks`); a damaged one
    is an error unless ``allow_truncated``, which uses and normalises by its complete events."""
    from .detectors.config import DetectorConfig, DetectorConfigError
    from .detectors.counting import count_signal, format_table
    from .io.hepmc import read_hepmc3
    from .targets import get_target

    try:
        config = DetectorConfig.from_card(_detector_section(detector, overrides))
    except DetectorConfigError as exc:
        raise CardError(getattr(exc, "key", "detector"), str(exc)) from None
    file = Path(path)
    if not file.is_file():
        raise CardError("FILE", f"{path!r} does not exist or is not a file")
    # -- issue 16: --sigma-pb range, format and completeness; HepMC3's messages to stderr --
    check_sigma_pb(sigma_pb, "--sigma-pb")
    check = verify_event_file(file, allow_truncated=allow_truncated)
    with stdout_to_stderr(), readable_events(check) as events_file:
        try:
            batch = read_hepmc3(events_file)
            run_info = _run_info(events_file)
        except (OSError, RuntimeError, ValueError) as exc:
            raise CardError("FILE", f"{path!r} is not a readable HepMC3 file: {exc}") from None
    # -------------------------------------------------------------------------------------
    if len(batch) == 0:
        raise CardError("FILE", f"{path!r} contains no events")
    if sigma_pb is None:
        sigma_pb = run_info.get("sigma_pb")
        if sigma_pb is None:
            raise CardError("--sigma-pb", "the file carries no cross section; give --sigma-pb")
        check_sigma_pb(sigma_pb, f"the cross section in {path}")
    card = run_info.get("card", {})
    material = config.target_material or card.get("target", {}).get("material")
    thickness = config.target_thickness_cm or card.get("target", {}).get("thickness_cm")
    if material is None or thickness is None:
        raise CardError(
            "detector.target_material",
            "the file does not name its target; set detector.target_material and "
            "detector.target_thickness_cm",
        )
    c_over_lambda = card.get("model", {}).get("C_over_Lambda") or 1.0
    result = count_signal(
        config,
        batch,
        sigma_pb=sigma_pb,
        target=get_target(material),
        thickness_cm=thickness,
        n_generated=len(batch),
        coupling_C_over_Lambda=c_over_lambda,
    )
    # -- issue 16: say what was read and, if nothing passed, why --------------------------
    notes = [n for n in (input_note(check), selection_note(result, config, run_info)) if n]
    if json_out:
        out = json_safe({**result.to_dict(), "input": input_record(check)})
        out["sensitivity"] = "ok" if out.get("reach_fixed_br_invTeV") is not None else "none"
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print("\n".join([format_table(result), *notes]))
    return 0


def _run_info(path: Path) -> dict[str, Any]:
    """σ (pb) and the parsed card from an alpgen-written HepMC3 file (empty if foreign)."""
    import pyhepmc

    info: dict[str, Any] = {}
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
