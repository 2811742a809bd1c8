"""Channel registry: lookup, charge conjugation, plug-in registration."""

from __future__ import annotations

import numpy as np
import pytest

from alpgen.decays import registry
from alpgen.decays.registry import Channel, channels_for, conjugate, get, names, register


def test_conjugate_ids():
    assert conjugate(15) == -15 and conjugate(-211) == 211
    assert conjugate(111) == 111 and conjugate(22) == 22
    assert conjugate(9000005) == 9000005  # the ALP is its own antiparticle
    assert conjugate(9000006) == -9000006  # Dirac χ


def test_builtin_names():
    n = names()
    for name in (
        "tau->mu nu nu",
        "tau->e nu nu",
        "tau->pi nu",
        "tau->pi pi0 nu",
        "tau->3pi nu",
        "a->mu- tau+",
        "a->mu+ tau-",
        "a->chi chibar",
    ):
        assert name in n
    assert {c.name for c in channels_for(-15)} == {c.name for c in channels_for(15)}
    assert channels_for(13) == []


def test_cc_channels_conjugate_daughters():
    for c, cc in zip(channels_for(15), channels_for(-15), strict=True):
        assert cc.parent == -15 and cc.conjugated and not c.conjugated
        assert cc.daughters == tuple(conjugate(d) for d in c.daughters)
        assert cc.branching() == c.branching() and cc.tags == c.tags


def _echo_kernel(p4, hel, u):
    # test kernel: puts the helicity it received in the first daughter's px
    out = np.zeros((len(p4), 2, 4))
    out[:, 0, 0] = hel
    out[:, 0, 3] = p4[:, 3] / 2
    out[:, 1, 3] = p4[:, 3] / 2
    return out


def test_plugin_channel_and_cp_helicity():
    ch = Channel("test-x->e nu", 9000111, (11, -12), 0.25, 1, _echo_kernel, frozenset({"test"}))
    register(ch)
    try:
        assert get("test-x->e nu") is ch
        with pytest.raises(ValueError, match="already registered"):
            register(ch)
        (cc,) = channels_for(-9000111)
        assert cc.daughters == (-11, 12)
        p4 = np.array([[0.0, 0.0, 1.0, 2.0]] * 3)
        hel = np.array([1.0, -1.0, 0.0])
        assert np.array_equal(ch.run(p4, hel, np.zeros((3, 1)))[:, 0, 0], hel)
        # the antiparticle decays as the particle with the opposite helicity (CP)
        assert np.array_equal(cc.run(p4, hel, np.zeros((3, 1)))[:, 0, 0], -hel)
    finally:
        registry.unregister("test-x->e nu")
    assert "test-x->e nu" not in names()
    assert channels_for(-9000111) == []


def test_register_rejects_antiparticle_parent():
    with pytest.raises(ValueError, match="positive"):
        register(Channel("bad", -15, (11,), 1.0, 1, _echo_kernel))
