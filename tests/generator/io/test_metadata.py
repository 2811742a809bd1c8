from __future__ import annotations

import json

import numpy as np

from alpgen.io.metadata import RunMetadata, collect_versions


def test_json_round_trip(meta):
    text = meta.to_json()
    assert RunMetadata.from_json(text) == meta
    assert json.loads(text)["card_text"] == meta.card_text
    assert text == meta.to_json()  # deterministic


def test_numpy_values_serialise(meta):
    m = RunMetadata(**{**meta.to_dict(), "extra": {"edges": np.arange(3.0)}})
    assert json.loads(m.to_json())["extra"]["edges"] == [0.0, 1.0, 2.0]


def test_versions_default():
    v = collect_versions()
    assert v["numpy"] == np.__version__
    assert {"python", "alpgen", "pyhepmc", "pylhe", "uproot"} <= set(v)
