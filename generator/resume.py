"""Resuming an interrupted sharded run: the fingerprint of a run and what changed since.

A sharded run (:mod:`alpgen.sharding`) stores, before its first shard, the fingerprint of
what its events depend on in ``.shards/fingerprint.json``: the parsed card (all defaults
filled in; its seed included), and the versions of alpgen and of the libraries it uses. A
finished run's ``summary.json`` holds the same three things. ``alpgen run CARD --resume``
compares the card it is given with them (:func:`check_resume`):

* no fingerprint and no ``summary.json`` in the directory: nothing to resume (a
  :class:`~alpgen.errors.UsageError`, exit 2);
* a difference: a :class:`~alpgen.errors.CardError` naming every changed key
  (``run.events``, ``versions.numpy``, ...), exit 2: the shards already written would not
  belong to the run asked for;
* otherwise the run is ``"finished"`` (``summary.json`` is there: nothing to do) or
  ``"partial"`` (redo the missing shards and assemble).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import CardError, UsageError

if TYPE_CHECKING:
    from .card import RunCard

__all__ = ["FINGERPRINT", "changed_keys", "check_resume", "fingerprint"]

#: The fingerprint file inside the shard directory.
FINGERPRINT = "fingerprint.json"


def fingerprint(card: RunCard) -> dict[str, Any]:
    """What a run's events depend on: ``{"card": ..., "seed": ..., "versions": ...}``,
    JSON-serialisable and deterministic."""
    from .io.metadata import collect_versions

    return json.loads(
        json.dumps(
            {"card": card.to_dict(), "seed": card.run.seed, "versions": collect_versions()},
            sort_keys=True,
            default=str,
        )
    )


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
        if not value and prefix:
            out[prefix] = {}
    else:
        out[prefix] = value


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, old value, new value)`` of every key that differs, card keys named as in the
    card (``run.events``), versions as ``versions.<package>``; the seed counts as
    ``run.seed``. A key missing on one side has the value ``None`` there."""
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    _flatten({"card": old.get("card"), "versions": old.get("versions")}, "", a)
    _flatten({"card": new.get("card"), "versions": new.get("versions")}, "", b)
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append((key.removeprefix("card."), a.get(key), b.get(key)))
    return out


def check_resume(
    card: RunCard, out_dir: str | Path, shards_dir: str
) -> Literal["finished", "partial"]:
    """Whether the run of ``card`` in ``out_dir`` can be resumed (module docstring)."""
    out = Path(out_dir)
    summary = out / "summary.json"
    stored_file = out / shards_dir / FINGERPRINT
    status: Literal["finished", "partial"]
    try:
        if summary.is_file():
            data = json.loads(summary.read_text(encoding="utf-8"))
            stored = {k: data.get(k) for k in ("card", "seed", "versions")}
            status = "finished"
        elif stored_file.is_file():
            stored = json.loads(stored_file.read_text(encoding="utf-8"))
            status = "partial"
        else:
            raise UsageError(
                f"--resume: there is no earlier run in {str(out)!r} to resume (neither "
                f"{shards_dir}/{FINGERPRINT} nor summary.json); run without --resume"
            )
    except (OSError, ValueError) as exc:
        raise UsageError(f"--resume: cannot read the earlier run in {str(out)!r}: {exc}") from None
    changed = changed_keys(stored, fingerprint(card))
    if changed:
        what = "; ".join(f"{k}: {a!r} → {b!r}" for k, a, b in changed[:8])
        more = f" (and {len(changed) - 8} more)" if len(changed) > 8 else ""
        raise CardError(
            changed[0][0],
            f"--resume: the card or the software differs from the earlier run in {str(out)!r} "
            f"({what}{more}); its shards would not belong to this run. Resume with the same "
            "card and versions, or start again with --force",
        )
    return status
