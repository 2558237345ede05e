"""Ray, imported only for ``--engine ray``: connect to a cluster or start a local one."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from aisec.core.errors import InputError, MissingExtraError

__all__ = ["one_thread_per_task", "quiet_data_context", "ray_session"]


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise MissingExtraError("--engine ray", "ray") from exc
    return ray


@contextlib.contextmanager
def ray_session(address: str | None, workers: int | None) -> Iterator[Any]:
    """Ray, connected to ``address`` (``ray://…``, ``host:port`` or ``auto``; KubeRay's head
    service) or to a local cluster of ``workers`` CPUs started here and stopped after."""
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: no usage report
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


def quiet_data_context(ray: Any, *, preserve_order: bool = True) -> Any:
    """Ray Data's context with progress bars off (stderr is ours) and ordered output."""
    import warnings

    import ray.data

    with warnings.catch_warnings():
        # Ray Data's context warns about its own deprecated defaults when first built
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.execution_options.preserve_order = preserve_order
    return ctx


def one_thread_per_task() -> None:
    """A Ray Data task asks for one CPU; Polars and BLAS would start a thread per core of
    the node on every task and tasks sharing a node would fight over its cores. Effective
    where the worker has not imported them yet (a runtime_env would start fresh workers
    for every job, seconds each)."""
    for var in ("POLARS_MAX_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, "1")
