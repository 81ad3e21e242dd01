"""`dns.workers: auto` counts the CPUs this process may use: its affinity and its cgroup's CPU quota."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gslb.common.cpus import cgroup_cpu_limit


def tree(tmp_path: Path, proc_cgroup: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A fake /proc/self/cgroup and /sys/fs/cgroup with `files` (relative path -> content)."""
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(proc_cgroup)
    root = tmp_path / "sys-fs-cgroup"
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return proc, root


@pytest.mark.parametrize(("proc_cgroup", "files", "expected"), [
    # cgroup v2: the tightest cpu.max from the process's group up to the root, rounded up
    ("0::/system.slice/gslb.service\n", {"cgroup.controllers": "cpu", "system.slice/gslb.service/cpu.max":
                                        "150000 100000\n", "system.slice/cpu.max": "max 100000\n"}, 2),
    ("0::/system.slice/gslb.service\n", {"cgroup.controllers": "cpu", "system.slice/gslb.service/cpu.max":
                                        "max 100000\n", "system.slice/cpu.max": "100000 100000\n"}, 1),
    ("0::/system.slice/gslb.service\n", {"cgroup.controllers": "cpu", "system.slice/gslb.service/cpu.max":
                                        "max 100000\n"}, None),
    ("0::/\n", {"cgroup.controllers": "cpu"}, None),
    # cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us of the cpu controller's group (-1: no quota)
    ("4:memory:/x\n2:cpu,cpuacct:/docker/abc\n0::/\n", {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "300000\n",
                                                       "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"}, 3),
    ("2:cpu,cpuacct:/docker/abc\n", {"cpu,cpuacct/cpu.cfs_quota_us": "50000\n",  # a container sees its own root
                                     "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 1),
    ("1:cpu:/\n", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ("", {}, None),
])
def test_cgroup_cpu_limit(tmp_path: Path, proc_cgroup: str, files: dict[str, str], expected: int | None) -> None:
    proc, root = tree(tmp_path, proc_cgroup, files)
    assert cgroup_cpu_limit(proc, root) == expected


def test_workers_auto_counts_the_cpus_the_server_may_run_on(tmp_path: Path) -> None:
    """The real `gslb serve` under `taskset -c 0` on a machine with more CPUs runs one DNS process."""
    if shutil.which("taskset") is None:
        pytest.skip("taskset (util-linux) is not installed")
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "example.org.yaml").write_text("zone: example.org\nns: [ns1.example.net.]\n")
    config = tmp_path / "gslb.yaml"
    config.write_text(f"dns: {{listen: ['127.0.0.1:0'], workers: auto}}\nhttp: {{listen: '127.0.0.1:0'}}\n"
                      f"zones: {zones}\nstate_dir: {tmp_path / 'state'}\ngeodb: none\n")
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "gslb", "serve", "-c", str(config)],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not (ready := re.search(r"http (127\.0\.0\.1:\d+)", log.read_text())) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready, log.read_text()
        with urllib.request.urlopen(f"http://{ready.group(1)}/status", timeout=5) as response:
            processes = json.load(response)["dns_processes"]
        assert len(processes) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
