"""Property-based tests of the card loader (hypothesis).

Cards are built from the schema: valid ones from each key's allowed domain (kept inside the
kinematically open region), invalid ones by one labelled mutation (unknown key, wrong type,
out-of-range value). The loader must accept every valid card, reject every invalid one with a
:class:`CardError` naming the mutated key, and never raise anything else — also for arbitrary
TOML documents and arbitrary ``--set`` strings.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpgen.card import SCHEMA, CardError, apply_overrides, build_card

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def valid_cards(draw) -> dict:
    m_a = draw(st.floats(1.9, 5.0))
    alp = draw(st.sampled_from(["auto", "visible", "invisible"]))
    doc = {
        "run": {
            "events": draw(st.integers(1, 10**8)),
            "seed": draw(st.integers(0, 2**63 - 1)),
            "batch_size": draw(st.integers(100, 10**6)),
        },
        "beam": {
            "particle": draw(st.sampled_from(["mu-", "mu+"])),
            "energy": draw(st.floats(200.0, 5e4)),
            "polarization": draw(st.floats(-1.0, 1.0)),
        },
        "target": {
            "material": draw(st.sampled_from(["C", "Al", "Fe", "Cu", "W", "Au", "Pb"])),
            "thickness_cm": draw(st.floats(1e-3, 1e3)),
        },
        "model": {
            "m_a": m_a,
            "theta": draw(st.floats(0.0, math.pi)),
            "couplings": draw(st.sampled_from(["paper", "exact"])),
        },
        "production": {
            "form_factors": draw(
                st.sampled_from([["coherent"], ["incoherent"], ["coherent", "incoherent"]])
            ),
            "atomic_screening": draw(st.booleans()),
            "t_max": draw(st.floats(0.1, 1.0)),
        },
        "decays": {"alp": alp, "tau": draw(st.sampled_from(["all", "none"]))},
        "output": {"formats": draw(st.sampled_from([["lhe"], ["hepmc3", "root"]]))},
    }
    if draw(st.booleans()) and doc["model"]["couplings"] == "paper":
        doc["model"]["g"] = draw(st.floats(1e-6, 1.0))
    else:
        doc["model"]["C_over_Lambda"] = draw(st.floats(1e-3, 1e3))
    if alp == "invisible" or draw(st.booleans()):
        doc["model"]["m_chi"] = draw(st.floats(0.01, 0.49)) * m_a
        doc["model"]["g_chi"] = draw(st.floats(1e-3, 2.0))
    return doc


def _wrong_type_value(types: tuple[type, ...]):
    if bool in types:
        return st.sampled_from([1, "yes", 2.5])
    if str in types and list in types:
        return st.sampled_from([1, 2.5, True])
    if str in types:
        return st.sampled_from([1, 2.5, True, ["x"]])
    if list in types:
        return st.sampled_from([1, "coherent", True])
    if int in types and float not in types:
        return st.sampled_from([2.5, "10", True])
    return st.sampled_from(["1.0", True, [1.0]])


@st.composite
def invalid_cards(draw) -> tuple[dict, str]:
    doc = draw(valid_cards())
    kind = draw(st.sampled_from(["unknown_key", "unknown_section", "wrong_type", "range"]))
    if kind == "unknown_key":
        section = draw(st.sampled_from(sorted(SCHEMA)))
        key = draw(
            st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
                lambda k, s=section: k not in SCHEMA[s]
            )
        )
        doc.setdefault(section, {})[key] = 1
        return doc, f"{section}.{key}"
    if kind == "unknown_section":
        name = draw(
            st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10).filter(
                lambda s: s not in SCHEMA and s != "detector"
            )
        )
        doc[name] = {"x": 1}
        return doc, name
    if kind == "wrong_type":
        section = draw(st.sampled_from(["run", "beam", "target", "model", "production", "decays"]))
        key = draw(st.sampled_from(sorted(SCHEMA[section])))
        doc.setdefault(section, {})[key] = draw(_wrong_type_value(SCHEMA[section][key].types))
        if section == "model" and key == "g":
            doc["model"].pop("C_over_Lambda", None)
        if section == "model" and key == "C_over_Lambda":
            doc["model"].pop("g", None)
        if section == "beam" and key == "spectrum":
            doc["beam"].pop("energy", None)
        return doc, f"{section}.{key}"
    # out of range
    section, key, value = draw(
        st.sampled_from(
            [
                ("run", "events", 0),
                ("run", "events", 10**8 + 1),
                ("run", "seed", -1),
                ("beam", "energy", -1.0),
                ("beam", "polarization", 1.5),
                ("target", "thickness_cm", 0.0),
                ("model", "m_a", -2.0),
                ("model", "theta", 3.2),
                ("model", "theta", -0.01),
                ("production", "t_max", -1.0),
                ("production", "t_max", 1e-9),
                ("beam", "energy", 2.5),
                ("model", "g_chi", -1.0),
            ]
        )
    )
    doc[section][key] = value
    return doc, f"{section}.{key}"


@SETTINGS
@given(valid_cards())
def test_valid_cards_are_accepted(doc):
    card = build_card(doc, path="prop.toml")
    assert card.model.m_a == doc["model"]["m_a"]
    assert card.alp_model().width_total > 0


@SETTINGS
@given(invalid_cards())
def test_invalid_cards_are_rejected_naming_the_key(case):
    doc, key = case
    try:
        build_card(doc, path="prop.toml")
    except CardError as exc:
        # the message names the mutated key (or, for a cross-key check, the related key)
        assert "card key" in str(exc)
        if not key.startswith(("beam.energy", "production.t_max", "model.g_chi")):
            assert key in str(exc), (key, str(exc))
    else:
        raise AssertionError(f"invalid card accepted (mutated {key})")


toml_scalars = st.one_of(
    st.booleans(), st.integers(-(10**12), 10**12), finite, st.text(max_size=12)
)
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8)
sections = st.sampled_from([*sorted(SCHEMA), "detector", "other"])


@SETTINGS
@given(
    st.dictionaries(
        sections,
        st.one_of(toml_values, st.dictionaries(st.text(max_size=12), toml_values, max_size=6)),
        max_size=8,
    )
)
def test_arbitrary_documents_never_crash(doc):
    try:
        build_card(doc, path="prop.toml")
    except CardError:
        pass


@SETTINGS
@given(
    valid_cards(),
    st.lists(
        st.tuples(st.sampled_from(sorted(SCHEMA)), st.text(max_size=10), st.text(max_size=20)),
        max_size=3,
    ),
)
def test_arbitrary_set_overrides_never_crash(doc, sets):
    overrides = [f"{s}.{k}={v}" for s, k, v in sets]
    try:
        build_card(apply_overrides(doc, overrides), path="prop.toml")
    except CardError:
        pass
