"""Execution backends for independent tasks (one per scan point).

Three interchangeable backends run ``fn(task)`` for every task of a list and yield
``(index, result)`` pairs in completion order:

* :class:`SerialBackend` — in this process (tests, debugging, a single point);
* :class:`ProcessPoolBackend` — :class:`concurrent.futures.ProcessPoolExecutor` (the default,
  needs nothing beyond the standard library);
* :class:`DaskBackend` — ``dask.distributed``: a local ``LocalCluster(n_workers=N,
  threads_per_worker=1, processes=True)`` or an existing cluster given by its scheduler address.

Tasks and results must be picklable plain data (a card's raw TOML dictionary, numbers, tuples);
jitted functions and integrator objects are built inside the worker. Each task carries its own
random seed, so results do not depend on the backend, the number of workers or the order in
which tasks finish.

Worker processes share the machine's cores: each worker's numba thread pool is limited to
``cpu_count // n_workers`` threads so that N workers do not oversubscribe the CPU (the generator's
results do not depend on the number of numba threads).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

__all__ = [
    "Backend",
    "DaskBackend",
    "ProcessPoolBackend",
    "SerialBackend",
    "cap_workers",
    "checksum_task",
    "dask_available",
    "make_backend",
]


def dask_available() -> bool:
    """True if ``dask.distributed`` can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


#: ``--workers`` is capped at this many workers per core (with a warning).
MAX_WORKERS_PER_CPU = 2
#: Seconds to wait for a dask scheduler before giving up (an unreachable one is a user error).
SCHEDULER_TIMEOUT_S = 5


def cap_workers(workers: int | None) -> int | None:
    """``workers`` limited to :data:`MAX_WORKERS_PER_CPU` × the CPU count, with a warning."""
    import logging

    cap = MAX_WORKERS_PER_CPU * _cpu_count()
    if workers is not None and workers > cap:
        logging.getLogger("alpgen").warning(
            "--workers %d capped at %d (twice the %d CPUs of this machine)",
            workers,
            cap,
            _cpu_count(),
        )
        return cap
    return workers


def _watch_parent(parent_pid: int) -> None:
    """In a worker: exit as soon as the alpgen process that started it is gone (whatever
    killed it), so that no worker outlives its command."""
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(0.25)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # pragma: no cover - the pid now belongs to someone else
                os._exit(1)

    threading.Thread(target=watch, name="alpgen-parent-watch", daemon=True).start()


def worker_init(n_threads: int, parent_pid: int) -> None:
    """Initializer of pool workers: numba threads and the parent watch."""
    _watch_parent(parent_pid)
    set_worker_threads(n_threads)


def set_worker_threads(n_threads: int) -> int:
    """Limit numba's thread pool in this process to ``n_threads`` (≥ 1); returns the value set."""
    import numba

    n = max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    return n


class Backend:
    """Base class: ``map_unordered(fn, tasks)`` yields ``(index, fn(tasks[index]))``."""

    name = "backend"
    n_workers = 1

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (idempotent)."""

    def describe(self) -> dict[str, Any]:
        """A JSON-serialisable description (recorded in scan metadata)."""
        return {"backend": self.name, "workers": self.n_workers}

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:  # an error or an interrupt: stop the workers now, do not wait for them
            self.terminate()

    def terminate(self) -> None:
        """Stop the workers at once (idempotent); the default is :meth:`close`."""
        self.close()


class SerialBackend(Backend):
    """Run the tasks one after the other in this process."""

    name = "serial"

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        for i, task in enumerate(tasks):
            yield i, fn(task)


class ProcessPoolBackend(Backend):
    """A :class:`ProcessPoolExecutor` with ``n_workers`` processes.

    Workers are started with ``forkserver`` (``spawn`` where unavailable), not ``fork``: the
    parent may hold numba/OpenMP thread pools, which do not survive a fork.
    """

    name = "process_pool"

    def __init__(self, n_workers: int | None = None) -> None:
        n = _cpu_count() if n_workers is None else int(n_workers)
        if n < 1:
            raise ValueError(f"the number of workers must be ≥ 1, got {n_workers!r}")
        self.n_workers = n
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        threads = max(1, _cpu_count() // n)
        self._pool = ProcessPoolExecutor(
            max_workers=n,
            mp_context=ctx,
            initializer=worker_init,
            initargs=(threads, os.getpid()),
        )

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        futures = {self._pool.submit(fn, task): i for i, task in enumerate(tasks)}
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        processes = list(getattr(self._pool, "_processes", {}).values())
        for p in processes:
            with contextlib.suppress(Exception):
                p.terminate()
        for p in processes:
            with contextlib.suppress(Exception):
                p.join(2.0)
                if p.is_alive():
                    p.kill()
        with contextlib.suppress(Exception):
            self._pool.shutdown(wait=False, cancel_futures=True)


class DaskBackend(Backend):
    """``dask.distributed``: a new local cluster of ``n_workers`` single-threaded worker
    processes, or the existing cluster at ``scheduler`` (e.g. ``tcp://10.0.0.1:8786``)."""

    name = "dask"

    def __init__(self, n_workers: int | None = None, scheduler: str | None = None) -> None:
        import logging

        from distributed import Client, LocalCluster

        self._cluster: Any = None
        self._client: Any = None
        if scheduler is not None:
            if n_workers is not None:
                raise ValueError("give either the number of local workers or a scheduler address")
            try:
                self._client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                raise RuntimeError(
                    f"cannot reach the dask scheduler at {scheduler!r} within "
                    f"{SCHEDULER_TIMEOUT_S} s ({type(exc).__name__}: {exc})"
                ) from None
            self.scheduler = scheduler
            self.n_workers = len(self._client.scheduler_info().get("workers", {})) or 1
        else:
            n = _cpu_count() if n_workers is None else int(n_workers)
            if n < 1:
                raise ValueError(f"the number of workers must be ≥ 1, got {n_workers!r}")
            self._cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)
            self.scheduler = self._cluster.scheduler_address
            self.n_workers = n
            self._client.run(worker_init, max(1, _cpu_count() // n), os.getpid())

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed as dask_as_completed

        tag = uuid.uuid4().hex[:12]
        keys = [f"alpgen-{tag}-{i}" for i in range(len(tasks))]
        futures = self._client.map(fn, list(tasks), key=keys, pure=False)
        index = {f.key: i for f, i in zip(futures, range(len(tasks)), strict=True)}
        try:
            for fut in dask_as_completed(futures):
                yield index[fut.key], fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "workers": self.n_workers, "scheduler": self.scheduler}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def terminate(self) -> None:
        if self._cluster is not None:  # our own workers: kill their processes first
            for worker in list(getattr(self._cluster, "workers", {}).values()):
                process = getattr(getattr(worker, "process", None), "process", None)
                pid = getattr(process, "pid", None)
                if pid is not None:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            if self._client is not None:
                self._client.close(timeout=2)
        self._client = None
        with contextlib.suppress(Exception):
            if self._cluster is not None:
                self._cluster.close(timeout=2)
        self._cluster = None


def make_backend(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    n_tasks: int | None = None,
) -> Backend:
    """The backend for the ``alpgen scan`` options.

    * ``scheduler``: connect to that dask cluster (``workers`` must be ``None``);
    * ``workers``: a local dask cluster with that many workers (a process pool when dask is
      not installed);
    * neither: a process pool with one worker per core, at most ``n_tasks``; a single task
      runs in this process.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be ≥ 1, got {workers}")
    if scheduler is not None:
        if workers is not None:
            raise ValueError("--workers and --scheduler exclude each other")
        if not dask_available():
            raise RuntimeError("--scheduler needs dask.distributed: pip install 'alpgen[dask]'")
        return DaskBackend(scheduler=scheduler)
    if workers is not None:
        if dask_available():
            return DaskBackend(n_workers=workers)
        return ProcessPoolBackend(workers)
    n = _cpu_count() if n_tasks is None else max(1, min(_cpu_count(), n_tasks))
    if n_tasks is not None and n_tasks <= 1:
        return SerialBackend()
    return ProcessPoolBackend(n)


def checksum_task(task: tuple[int, int]) -> float:
    """A cheap deterministic stand-in task ``(seed, index) → float`` (sum of 1000 uniforms of the
    stream ``SeedSequence(seed, spawn_key=(3, index))``), used to check that every backend
    returns identical results and to measure backend overhead."""
    import numpy as np

    seed, index = task
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(3, index))))
    return float(rng.uniform(size=1000).sum())
