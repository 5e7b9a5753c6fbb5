"""The machine a benchmark runs on, for the lines of benchmarks/RESULTS.md (shared by the benchmarks)."""

import contextlib
import platform
from pathlib import Path


def cpu_name():
    """The processor's model name, from /proc/cpuinfo where there is one."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_total():
    """Physical memory in GB, from /proc/meminfo where there is one."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) * 1024 / 1e9:.0f} GB"
    return "? GB"
