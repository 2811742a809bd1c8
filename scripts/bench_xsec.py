#!/usr/bin/env python3
"""Benchmark of the production integrator and |M|² kernel; prints one JSON object.

* ``xsec_time_s``: wall time of ``integrate`` to 0.5 % at (1.5 TeV μ⁻, Pb, m_a = 2 GeV) after the
  JIT warm-up (median of 3 seeds);
* ``warmup_cold_s`` / ``warmup_warm_s``: import + first integrate in a fresh subprocess with an
  empty NUMBA_CACHE_DIR (compilation) and again with that cache filled;
* ``amp2_evals_per_s``: closed-form |M|² evaluations per second (batch kernel, one thread);
* ``integrand_evals_per_s``: full integrand (kinematics + |M|² + form factors) per second;
* ``unweighted_events_per_s``: hard-process events per second from the sampler.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

SNIPPET = """
import time; t0 = time.perf_counter()
from alpgen.constants import M_MU, M_TAU
from alpgen.production.integrator import integrate
from alpgen.production.process import ProcessParams
from alpgen.targets import get_target
pb = get_target("Pb")
p = ProcessParams(E_beam=1500.0, m_in=M_MU, m_out=M_TAU, m_a=2.0, Z=82, A=208,
                  M=pb.nucleus_mass, g2_sum=1.0, gP2=0.0)
integrate(p, seed=0, precision=0.05)
print(time.perf_counter() - t0)
"""


def warmup(cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    res: dict[str, float | int | str] = {}
    with tempfile.TemporaryDirectory() as d:
        res["warmup_cold_s"] = round(warmup(d), 3)
        res["warmup_warm_s"] = round(warmup(d), 3)

    from alpgen.constants import M_MU, M_TAU
    from alpgen.production.integrand import evaluate
    from alpgen.production.integrator import integrate
    from alpgen.production.kinematics import hypercube_to_momenta
    from alpgen.production.matrix_element import amplitude_terms_batch
    from alpgen.production.process import ProcessParams
    from alpgen.production.sampler import UnweightedSampler
    from alpgen.targets import get_target

    pb = get_target("Pb")
    p = ProcessParams(
        E_beam=1500.0,
        m_in=M_MU,
        m_out=M_TAU,
        m_a=2.0,
        Z=82,
        A=208,
        M=pb.nucleus_mass,
        g2_sum=1.0,
        gP2=0.0,
    )
    integrate(p, seed=0, precision=0.05)  # JIT warm-up in this process
    times, sig = [], []
    for seed in (1, 2, 3):
        r = integrate(p, seed=seed, precision=0.005)
        times.append(r.time_s)
        sig.append((r.sigma_pb, r.sigma_err_pb, r.n_eval))
    k = int(np.argsort(times)[1])
    res["xsec_time_s"] = round(times[k], 3)
    res["xsec_sigma_over_g2_pb"] = round(sig[k][0], 1)
    res["xsec_rel_err"] = round(sig[k][1] / sig[k][0], 5)
    res["xsec_n_eval"] = sig[k][2]

    n = 2_000_000
    y = np.random.default_rng(0).random((n, 4))
    jac, mom, inv = hypercube_to_momenta(y, 1500.0, M_MU, M_TAU, 2.0, pb.nucleus_mass, 1.0)
    ok = jac > 0
    s, u, t = (np.ascontiguousarray(inv[ok, i]) for i in range(3))
    E = np.full(s.shape, 1500.0)
    Ea = np.ascontiguousarray(mom[ok, 4, 3])
    amplitude_terms_batch(
        s[:10], u[:10], t[:10], E[:10], Ea[:10], pb.nucleus_mass, M_MU, M_TAU, 2.0
    )
    t0 = time.perf_counter()
    amplitude_terms_batch(s, u, t, E, Ea, pb.nucleus_mass, M_MU, M_TAU, 2.0)
    res["amp2_evals_per_s"] = float(f"{s.size / (time.perf_counter() - t0):.3g}")
    evaluate(p, y[:10])
    t0 = time.perf_counter()
    evaluate(p, y)
    res["integrand_evals_per_s"] = float(f"{n / (time.perf_counter() - t0):.3g}")

    smp = UnweightedSampler(p, r, seed=5)
    rng = np.random.default_rng(7)
    smp.sample(1000, rng)
    t0 = time.perf_counter()
    smp.sample(500_000, rng)
    res["unweighted_events_per_s"] = float(f"{500_000 / (time.perf_counter() - t0):.3g}")
    res["unweighting_efficiency"] = round(smp.efficiency, 4)
    res["overweight_fraction"] = float(f"{smp.overweight_fraction:.2g}")
    import numba

    res["numba_threads"] = numba.get_num_threads()
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
