"""Strict JSON for every file and ``--json`` output alpgen writes.

JSON has no NaN or infinity; :func:`json_safe` maps them to ``null`` (an undefined reach, an
efficiency error without events, ...), unwraps numpy scalars and arrays and turns tuples into
lists, and :func:`dumps` then serialises with ``allow_nan=False`` so that nothing slips by.
No numpy import here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps", "json_safe"]


def json_safe(obj: Any) -> Any:
    """Plain JSON data: NaN and ±inf become ``None``; numpy values become Python ones."""
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if type(obj).__module__ == "numpy":
        obj = obj.tolist() if hasattr(obj, "shape") and obj.shape else obj.item()
        return json_safe(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """``json.dumps`` of :func:`json_safe` ``(obj)``, strict (``allow_nan=False``)."""
    return json.dumps(json_safe(obj), indent=indent, allow_nan=False)
