"""Ray, imported only for ``--engine ray``: connect to a cluster or start a local one."""

from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from aisec.core.errors import InputError, MissingExtraError

__all__ = ["map_tasks", "one_thread_per_task", "ray_session"]


class _NoShared:
    """No shared argument: a class, so it keeps its identity through pickling to a worker."""


_NO_SHARED: Any = _NoShared


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise MissingExtraError("--engine ray", "ray") from exc
    return ray


class _DropAuthEnabledNotice(logging.Filter):
    """Ray tells stderr that the local cluster it starts has token authentication on (the
    safe default; stderr carries aisec's own progress and summaries). Its warning that
    authentication is off still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Token authentication is enabled for this")


def _quiet_auth_notice() -> None:
    log = logging.getLogger("ray._private.authentication.authentication_token_setup")
    if not any(isinstance(f, _DropAuthEnabledNotice) for f in log.filters):
        log.addFilter(_DropAuthEnabledNotice())


@contextlib.contextmanager
def ray_session(address: str | None, workers: int | None) -> Iterator[Any]:
    """Ray, connected to ``address`` (``ray://…``, ``host:port`` or ``auto``; KubeRay's head
    service) or to a local cluster of ``workers`` CPUs started here and stopped after."""
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: no usage report
    _quiet_auth_notice()
    try:
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise InputError(f"cannot reach the Ray cluster at {address or 'local'}: {exc}") from exc
    try:
        yield ray
    finally:
        ray.shutdown()


def map_tasks(
    ray: Any,
    fn: Callable[..., Any],
    items: Sequence[tuple[Any, ...]],
    *,
    shared: Any = _NO_SHARED,
    memory: int | None = None,
    retries: int = 3,
) -> Iterator[tuple[int, Any]]:
    """``fn(*item, shared)`` (``fn(*item)`` without ``shared``) for every item, one Ray
    task each (one CPU, retried when a worker is lost); yields ``(index of the item,
    result)`` as tasks finish.

    ``shared`` (the plan, the catalogue) is put in the object store once, not sent with
    every task. At most twice the CPUs plus two tasks are in flight: every worker has the next one
    queued and the driver holds few results at once. Plain tasks rather than a Ray Data job:
    each item is one unit the worker reads itself and the results are merged on the driver,
    so Ray Data's blocks added only their cost (measured in bench/bench_scale.py: 1.35x from
    1 to 2 workers and +14 % on one, against 1.98x and +7 % for these tasks)."""
    options: dict[str, Any] = {"num_cpus": 1, "max_retries": retries}
    if memory is not None:
        options["memory"] = memory
    task = ray.remote(**options)(_call)
    shared_ref = ray.put(shared)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    limit = 2 * cpus + 2
    queue = deque(enumerate(items))
    in_flight: dict[Any, int] = {}
    while queue or in_flight:
        while queue and len(in_flight) < limit:
            i, item = queue.popleft()
            in_flight[task.remote(fn, item, shared_ref)] = i
        done, _ = ray.wait(list(in_flight), num_returns=1)
        if len(in_flight) > 1:  # whatever else is ready, in one call
            done, _ = ray.wait(list(in_flight), num_returns=len(in_flight), timeout=0)
        for ref in done:
            yield in_flight.pop(ref), ray.get(ref)


def _call(fn: Callable[..., Any], item: tuple[Any, ...], shared: Any) -> Any:
    one_thread_per_task()
    return fn(*item) if shared is _NO_SHARED else fn(*item, shared)


def one_thread_per_task() -> None:
    """A Ray task asks for one CPU; Polars and BLAS would start a thread per core of the
    node on every task and tasks sharing a node would fight over its cores. Effective where
    the worker has not imported them yet (a runtime_env would start fresh workers for every
    job, seconds each)."""
    for var in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, "1")
