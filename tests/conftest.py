"""Session-wide fixtures shared by the end-to-end tests.

numba compiles (or reloads from its cache) every kernel of the chain on first use and vegas
adapts a map per card, so the expensive objects are built once per session and reused:

* ``alpgen_run``: a function that runs ``alpgen run`` in-process (``alpgen.cli.main``) in a
  given working directory with ``output.dir=out`` (relative, so that the card text and the
  metadata written into the files do not depend on the temporary path) and returns
  ``(exit status, output directory)``;
* ``thin_target_run``: one small thin-target run (``FAST_OVERRIDES``) with LHE, HepMC3 and ROOT
  output, read-only for the tests that use it;
* ``thin_target_source``: an :class:`alpgen.engine.Engine` for the same card;
* ``card_run``: ``card_run(stem, *overrides)`` runs ``cards/<stem>.toml`` once per session with
  ``CARD_RUN_OVERRIDES`` (plus ``overrides``) and returns its output directory; the per-card
  regression tests, the ``alpgen detect`` agreement tests and the selection checks share them.

Under ``ALPGEN_NO_SKIP=1`` (set by ``.ci/run``) a skipped test fails: CI runs every test, and
slow ones are deselected by their marker (``-m "not slow"``), never skipped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Under pytest's "prepend" import mode (not this project's default, which is "importlib", see
# pyproject.toml) this directory is put on sys.path to import this file, and tests/generator/
# (no __init__.py) would then shadow an *editable* install of the `generator` package as an empty
# namespace package. Nothing imports from tests/ itself, so keep it off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "tests"]
CARDS = ROOT / "cards"
THIN_TARGET_CARD = CARDS / "thin_target_1p5TeV.toml"

#: Small, fast settings for end-to-end runs: a few thousand events in several batches and a
#: 2 % target precision on σ (the integrator's minimum sample usually does better). The
#: detector counts exactly the events written, with their physical decays (no variance
#: reduction, no counting beyond the run), so that a file's events reproduce the run's detector
#: block exactly; the default counting (forced decays, target precision) has its own tests
#: (tests/generator/test_precision.py, tests/generator/test_detect.py).
FAST_OVERRIDES: tuple[str, ...] = (
    "run.events=3000",
    "run.batch_size=1000",
    "production.precision=0.02",
    "run.variance_reduction=none",
    "run.max_count_events=3000",
)

#: Per-card end-to-end runs: small, but enough events for 4σ regression bands (counting as
#: FAST_OVERRIDES: the events written, physically decayed).
CARD_RUN_OVERRIDES: tuple[str, ...] = (
    "run.events=2000",
    "run.batch_size=1000",
    "production.precision=0.02",
    "run.variance_reduction=none",
    "run.max_count_events=2000",
)


RunFn = Callable[..., tuple[int, Path]]


def _no_skip(report) -> None:
    if (
        os.environ.get("ALPGEN_NO_SKIP") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped, but ALPGEN_NO_SKIP=1 (CI runs every test): {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under ALPGEN_NO_SKIP=1 a skipped test (not an xfail) is reported as a failure."""
    outcome = yield
    _no_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """... and so is a module skipped at import (``pytest.importorskip`` at module level)."""
    outcome = yield
    _no_skip(outcome.get_result())


def _run_alpgen(
    workdir: Path, card: Path = THIN_TARGET_CARD, overrides: Iterable[str] = FAST_OVERRIDES
) -> tuple[int, Path]:
    """``alpgen run CARD --set ... --set output.dir=out --force --quiet`` inside ``workdir``."""
    from alpgen.cli import main

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    args = ["run", str(card)]
    for item in (*overrides, "output.dir=out"):
        args += ["--set", item]
    args += ["--force", "--quiet"]
    old = Path.cwd()
    os.chdir(workdir)
    try:
        rc = main(args)
    finally:
        os.chdir(old)
    return rc, workdir / "out"


@pytest.fixture(scope="session")
def alpgen_run() -> RunFn:
    return _run_alpgen


@pytest.fixture(scope="session")
def thin_target_run(tmp_path_factory) -> Path:
    """Output directory of one small thin-target ``alpgen run`` (lhe, hepmc3, root, summary)."""
    rc, out = _run_alpgen(tmp_path_factory.mktemp("thin_target_run"))
    assert rc == 0
    return out


@pytest.fixture(scope="session")
def thin_target_source():
    """An integrated, ready-to-sample Engine of the thin-target card (FAST_OVERRIDES)."""
    from alpgen.card import load_card
    from alpgen.engine import Engine

    return Engine(load_card(THIN_TARGET_CARD, FAST_OVERRIDES))


@pytest.fixture(scope="session")
def card_run(tmp_path_factory) -> Callable[..., Path]:
    """``card_run(stem, *overrides)``: output directory of one ``alpgen run`` of
    ``cards/<stem>.toml`` with ``CARD_RUN_OVERRIDES`` and ``overrides`` (cached per session)."""
    cache: dict[tuple[str, tuple[str, ...]], Path] = {}

    def get(stem: str, *overrides: str) -> Path:
        key = (stem, overrides)
        if key not in cache:
            work = tmp_path_factory.mktemp(f"card_{stem}")
            rc, out = _run_alpgen(
                work, card=CARDS / f"{stem}.toml", overrides=(*CARD_RUN_OVERRIDES, *overrides)
            )
            assert rc == 0, (stem, overrides)
            cache[key] = out
        return cache[key]

    return get


@pytest.fixture(scope="session")
def official_hepmc3():
    """The official HepMC3 Python bindings (``hepmc3`` on the package index, module
    ``pyHepMC3``), or a skip where they are not installed. Their extension needs
    ``libHepMC3.so`` from the environment's ``lib/``; it is loaded by absolute path here so
    that the tests need no ``LD_LIBRARY_PATH``."""
    import ctypes
    import importlib.util
    import sys
    from pathlib import Path

    if importlib.util.find_spec("pyHepMC3") is None:
        pytest.skip("the official HepMC3 bindings (pip install hepmc3) are not installed")
    for lib in sorted(Path(sys.prefix, "lib").glob("libHepMC3.so*"), key=lambda p: len(p.name)):
        try:
            ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
    try:
        from pyHepMC3 import HepMC3
    except ImportError as exc:  # pragma: no cover - depends on the installation
        pytest.skip(f"pyHepMC3 does not load: {exc}")
    return HepMC3
