"""How the differential tests run a real loader: a child process without network (``unshare
-n`` where the kernel allows it), with CPU and memory limits, never in the test process."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable


@functools.cache
def prefix() -> tuple[str, ...]:
    """``unshare -n`` when it works here (a network namespace of the child's own), else none."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], check=False).returncode == 0:
        return (unshare, "-n")
    return ()


def limits(cpu_seconds: int, memory_bytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps the child's CPU time and address space before exec."""

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return apply
