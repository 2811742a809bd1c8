"""Pythia 8 reads alpgen's fixed-target LHE file and decays its τ's (the ``pythia`` extra;
skipped locally without ``pythia8mc``, never in CI, which installs it and fails on skips).
Settings as in DESIGN.md / README."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alpgen.constants import CTAU_TAU_MM

p8 = pytest.importorskip("pythia8mc")

N = 200


def test_pythia_reads_fixed_target_lhe_and_decays_taus(alpgen_run, tmp_path):
    rc, out = alpgen_run(
        tmp_path,
        overrides=(
            f"run.events={N}",
            f"run.batch_size={N}",
            "production.precision=0.05",
            "decays.tau=none",
            'output.formats=["lhe"]',
        ),
    )
    assert rc == 0
    pythia = p8.Pythia("", False)
    for setting in (
        "Beams:frameType = 4",
        f"Beams:LHEF = {out / 'events.lhe'}",
        "Check:beams = off",
        "ProcessLevel:all = off",
        "PartonLevel:FSRinResonances = off",
        "9000005:new = a void 1 0 0 2.0 0.0 0.0 0.0 0.0",
        "Next:numberCount = 0",
        "Print:quiet = on",
    ):
        assert pythia.readString(setting), setting
    assert pythia.init()
    n_events, flight, expected = 0, [], []
    while pythia.next():
        n_events += 1
        ev = pythia.event
        e_in = sum(ev[i].e() for i in range(ev.size()) if ev[i].status() in (-21,))
        e_out = sum(ev[i].e() for i in range(ev.size()) if ev[i].isFinal())
        assert math.isclose(e_in, e_out, rel_tol=1e-9), (e_in, e_out)
        for i in range(ev.size()):
            p = ev[i]
            if abs(p.id()) != 15:
                continue
            assert not p.isFinal(), "Pythia must decay every τ"
            d = ev[p.daughter1()]
            # Pythia places the τ decay at the vertex from VTIMUP (proper cτ, mm)
            flight.append(
                math.dist((d.xProd(), d.yProd(), d.zProd()), (p.xProd(), p.yProd(), p.zProd()))
            )
            expected.append(p.pAbs() / p.m() * CTAU_TAU_MM)
    assert n_events == N
    # mean flight length ≈ ⟨βγ cτ⟩ (exponential law, 2N τ's: 4σ ≈ 4/√(2N) relative)
    assert np.mean(flight) == pytest.approx(np.mean(expected), rel=4 / math.sqrt(2 * N))
