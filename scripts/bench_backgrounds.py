"""Speed of the Standard-Model background samples (issue 14 acceptance; docs/performance.md).

    python scripts/bench_backgrounds.py [--events 100000] [--repeats 3] [--charm-events 2000]
                                        [--energy 1500] [--skip-charm]

For μ⁻ Pb → μ⁻ Pb τ⁺τ⁻ (``sm_tautau``) and μ⁻ Pb → μ⁻ Pb μ⁺μ⁻ (``sm_mumu``) at ``--energy`` GeV
on a 2 cm lead target, through the public :func:`alpgen.background.background_events`:

* **σ time**: the trident cross section to 1 % (vegas adaptation + frozen-map estimation), and
  the whole set-up (σ + the unweighting pre-scan) before the first event;
* **events/s**: unweighted events with the full record and every τ decayed (the EventBatches a
  run writes), consuming the iterator;
* the unweighting: efficiency (accepted/trials), the share of accepted events above their cell
  maximum, and the share of σ above the maxima (two-fold cross-validated on the pre-scan, and
  from the sampling trials): the bias the capped maxima leave in the event distributions (σ
  itself is vegas' and is not affected).

``charm`` (Pythia 8, if ``pythia8mc`` is installed): σ time and events/s.

Each line is repeated ``--repeats`` times with different seeds; the table quotes mean ± standard
deviation over the repeats and the load average seen (other processes share the machine). Run
once beforehand to warm the numba cache (the first run of a fresh checkout compiles).
"""

from __future__ import annotations

import argparse
import os
import time
from statistics import mean, stdev
from typing import Any

from alpgen.background import BackgroundParams, background_events


def _ms(values: list[float], fmt: str = ".3g") -> str:
    if len(values) < 2:
        return format(values[0], fmt)
    return f"{format(mean(values), fmt)} ± {format(stdev(values), '.2g')}"


def bench_trident(process: str, energy: float, n: int, repeats: int) -> dict[str, Any]:
    """Time σ, the set-up and the event generation of one trident process."""
    bp = BackgroundParams(beam_energy=energy, target="Pb", thickness_cm=2.0, batch_size=10_000)
    rows: dict[str, list[float]] = {
        k: [] for k in ("t_sigma", "t_setup", "rate", "eff", "ow", "ow_cv", "ow_trials", "load")
    }
    sigma = ""
    for r in range(repeats):
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        res, it = background_events(process, bp, n, seed=100 + r)
        t1 = time.perf_counter()
        count = sum(len(b) for b in it)
        t2 = time.perf_counter()
        assert count == n
        s = res.sampler
        rows["t_sigma"].append(float(res.details["time_s"]))
        rows["t_setup"].append(t1 - t0)
        rows["rate"].append(n / (t2 - t1))
        rows["eff"].append(s.efficiency)
        rows["ow"].append(s.overweight_fraction)
        rows["ow_cv"].append(s.overweight_sigma_fraction)
        rows["ow_trials"].append(s.trial_overweight_sigma_fraction)
        rows["load"].append(0.5 * (load0 + os.getloadavg()[0]))
        sigma = f"{res.sigma_pb:.4g} ± {res.sigma_err_pb:.2g}"
        print(
            f"  {process} repeat {r}: σ = {sigma} pb in {rows['t_sigma'][-1]:.2f} s, set-up "
            f"{rows['t_setup'][-1]:.2f} s, {rows['rate'][-1]:.3g} events/s, efficiency "
            f"{s.efficiency:.3f} ({s.n_cells} cells), load {rows['load'][-1]:.1f}",
            flush=True,
        )
    return {"process": process, "sigma": sigma, **rows}


def compare_samplers(process: str, energy: float, n: int) -> None:
    """Hard events/s (no record, no decays) of the stratified sampler against the plain one
    (one cell, W_max = the 99.99 % quantile of the pre-scan: the sampler before issue 14's
    speed work; and the unbiased global maximum) on the same σ and vegas map, measured
    alternately; prints one line each."""
    import numpy as np

    from alpgen.background import background_cross_section
    from alpgen.background.trident import TridentSampler

    bp = BackgroundParams(beam_energy=energy, target="Pb", thickness_cm=2.0)
    res = background_cross_section(process, bp, seed=1)
    xs = res.sampler.xsec
    variants = {
        "stratified (default)": res.sampler,
        "one cell, 99.99 % quantile": TridentSampler(xs, seed=2, quantile=0.9999, bins=1),
        "one cell, maximum": TridentSampler(xs, seed=2, quantile=1.0, bins=1),
    }
    rates: dict[str, list[float]] = {k: [] for k in variants}
    for rep in range(2):
        for name, smp in variants.items():
            rng = np.random.default_rng(rep)
            t0 = time.perf_counter()
            smp.sample(n, rng)
            rates[name].append(n / (time.perf_counter() - t0))
    for name, smp in variants.items():
        print(
            f"| {process} | {name} | {smp.efficiency:.3f} | {smp.overweight_sigma_fraction:.1e} "
            f"| {_ms(rates[name])} |",
            flush=True,
        )


def bench_charm(energy: float, n: int) -> dict[str, Any] | None:
    """σ time and events/s of the Pythia 8 open-charm sample (None without pythia8mc)."""
    try:
        import pythia8mc  # noqa: F401
    except ImportError:
        return None
    bp = BackgroundParams(beam_energy=energy, target="Pb", thickness_cm=2.0, batch_size=1000)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    res, it = background_events("charm", bp, n, seed=7)
    t1 = time.perf_counter()
    count = sum(len(b) for b in it)
    t2 = time.perf_counter()
    return {
        "sigma": f"{res.sigma_pb:.4g} ± {res.sigma_err_pb:.2g}",
        "t_setup": t1 - t0,
        "rate": count / (t2 - t1),
        "load": 0.5 * (load0 + os.getloadavg()[0]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--charm-events", type=int, default=2000)
    ap.add_argument("--energy", type=float, default=1500.0)
    ap.add_argument("--skip-charm", action="store_true")
    ap.add_argument(
        "--compare", action="store_true", help="also time the plain (one-cell) samplers"
    )
    a = ap.parse_args()
    import numba

    print(f"numba threads: {numba.get_num_threads()}, cores: {os.cpu_count()}\n", flush=True)
    results = [bench_trident(p, a.energy, a.events, a.repeats) for p in ("sm_tautau", "sm_mumu")]
    charm = None if a.skip_charm else bench_charm(a.energy, a.charm_events)
    print(
        f"\n| process ({a.energy:g} GeV, Pb, μ⁻) | σ [pb] | σ to 1 % [s] "
        "| set-up incl. pre-scan [s] | events/s (decayed, full record) | efficiency "
        "| overweight events "
        "| σ above the maxima (pre-scan CV / trials) | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['process']} | {r['sigma']} | {_ms(r['t_sigma'], '.2f')} "
            f"| {_ms(r['t_setup'], '.2f')} | {_ms(r['rate'])} | {_ms(r['eff'], '.3f')} "
            f"| {mean(r['ow']):.1e} | {mean(r['ow_cv']):.1e} / {mean(r['ow_trials']):.1e} "
            f"| {min(r['load']):.1f}–{max(r['load']):.1f} |"
        )
    if charm is not None:
        print(
            f"| charm (Pythia 8) | {charm['sigma']} | – | {charm['t_setup']:.2f} "
            f"| {charm['rate']:.3g} | – | – | – | {charm['load']:.1f} |"
        )
    else:
        print("\n(charm skipped: pythia8mc not installed or --skip-charm)")
    if a.compare:
        print(f"\nload {os.getloadavg()[0]:.1f}\n")
        print("| process | sampler | efficiency | σ above the maxima (CV) | hard events/s |")
        print("|---|---|---|---|---|")
        for p in ("sm_tautau", "sm_mumu"):
            compare_samplers(p, a.energy, a.events // 2)


if __name__ == "__main__":
    main()
