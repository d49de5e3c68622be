"""Small measuring helpers shared by the benchmarks (no heavy imports: the benchmark drivers use
them too)."""
from __future__ import annotations

import statistics
from pathlib import Path


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (1–99); the value itself when there is only one."""
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def peak_rss_mb(pid: int) -> float:
    """A running process's peak resident memory in MB (Linux: VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
