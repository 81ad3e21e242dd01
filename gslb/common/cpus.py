"""How many CPUs this process may actually use, for `dns.workers: auto`.

`os.cpu_count()` is the machine's count. A process pinned to some CPUs (taskset, systemd's
CPUAffinity=, a container's cpuset) may run only on those, and a CPU quota (systemd's CPUQuota=,
`docker run --cpus`, a Kubernetes limit: the cgroup's `cpu.max`, or `cpu.cfs_quota_us` under cgroup
v1) lets it use only so much CPU time, whatever the number of CPUs. The usable count is the
smallest of the two, a quota rounded up (1.5 CPUs of time still let two processes run at once).
"""

from __future__ import annotations

import math
import os
from pathlib import Path


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _quota(quota: str | None, period: str | None) -> int | None:
    """CPUs worth of time from a quota and a period in microseconds; None for no limit."""
    try:
        quota_us, period_us = int(quota or ""), int(period or "")
    except ValueError:
        return None
    if quota_us <= 0 or period_us <= 0:
        return None
    return max(1, math.ceil(quota_us / period_us))


def _v2_limit(cgroup_root: Path, group: str) -> int | None:
    """The tightest `cpu.max` from this process's cgroup up to the root (cgroup v2)."""
    limits = []
    folder = cgroup_root / group.lstrip("/")
    while True:
        found = _read(folder / "cpu.max")
        if found:
            quota, _, period = found.partition(" ")
            limit = _quota(None if quota == "max" else quota, period)
            if limit is not None:
                limits.append(limit)
        if folder == cgroup_root or cgroup_root not in folder.parents:
            break
        folder = folder.parent
    return min(limits) if limits else None


def _v1_limit(cgroup_root: Path, controllers: str, group: str) -> int | None:
    """`cpu.cfs_quota_us` / `cpu.cfs_period_us` of this process's cpu cgroup (cgroup v1)."""
    for mount in (cgroup_root / controllers, cgroup_root / "cpu", cgroup_root / "cpu,cpuacct"):
        for folder in (mount / group.lstrip("/"), mount):  # in a container the group is often its root
            limit = _quota(_read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us"))
            if limit is not None:
                return limit
    return None


def cgroup_cpu_limit(proc_cgroup: Path = Path("/proc/self/cgroup"),
                     cgroup_root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The CPUs worth of time this process's cgroup allows, None without a quota (or without cgroups)."""
    text = _read(proc_cgroup)
    if not text:
        return None
    for line in text.splitlines():
        _, controllers, group = [*line.split(":", 2), "", ""][:3]
        if controllers == "" and (cgroup_root / "cgroup.controllers").exists():
            return _v2_limit(cgroup_root, group)
        if "cpu" in controllers.split(","):
            return _v1_limit(cgroup_root, controllers, group)
    return None


def usable_cpus() -> int:
    """The CPUs this process may run on, capped by its cgroup's CPU quota; at least 1."""
    limit = cgroup_cpu_limit()
    count = _affinity()
    return max(1, min(count, limit) if limit is not None else count)
