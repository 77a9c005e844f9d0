"""Helpers for the benchmark: one local ``rclone serve s3`` on 127.0.0.1, data on tmpfs, clients under GNU time.

Adapted from the harness in ``../shared/bench/`` (same measuring method, so the figures compare). Every server is
a child process stopped by its own PID; every client runs as a child of ``/usr/bin/time`` (forking this Python
process would carry its RSS into the child's ``ru_maxrss``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
BENCH_BIN = BENCH / ".venv" / "bin"
PROJECT_BIN = PROJECT / ".venv" / "bin"
WORK = Path(os.environ.get("BENCH_WORK", "/dev/shm/cloudpane-bench"))
DEFAULT_RESULTS = BENCH / "results"
#: where results go; a quick run can write elsewhere (BENCH_RESULTS=/tmp/quick) and leave bench/results alone
RESULTS = Path(os.environ.get("BENCH_RESULTS", str(DEFAULT_RESULTS))).resolve()

ACCESS_KEY = "benchaccess"
SECRET_KEY = "benchsecret"
REGION = "us-east-1"
HOST = "127.0.0.1"
BUCKET = "bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((HOST, port)) == 0


def http_answers(url: str) -> bool:
    """True once anything answers HTTP at ``url`` (any status)."""
    try:
        urllib.request.urlopen(url, timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for every client: credentials and endpoint from env, no user config, no IMDS, no proxy."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "RCLONE_", "CLOUDPANE_")) and k.lower() not in {"http_proxy", "https_proxy"}
    }
    env.pop("ALL_PROXY", None)
    env.pop("all_proxy", None)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",  # never try 169.254.169.254
            "AWS_CONFIG_FILE": str(WORK / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_PAGER": "",
            "RCLONE_CONFIG": "/dev/null",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    if extra:
        env.update(extra)
    return env


def proc_cpu_seconds(pid: int) -> float:
    """user+sys CPU seconds of a live process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class RcloneServer:
    """``rclone serve s3`` on 127.0.0.1, storage on tmpfs. Started and stopped by PID (a context manager)."""

    def __init__(self, rclone: Path, storage: Path, port: int | None = None) -> None:
        self.rclone = rclone
        self.storage = storage
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready_s = 0.0

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> RcloneServer:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is already in use")
        shutil.rmtree(self.storage, ignore_errors=True)
        self.storage.mkdir(parents=True)
        (WORK / "logs").mkdir(parents=True, exist_ok=True)
        log = open(WORK / "logs" / "rclone-server.log", "wb")  # noqa: SIM115 - lives as long as the server
        cmd = [
            str(self.rclone),
            "serve",
            "s3",
            "--addr",
            f"{HOST}:{self.port}",
            "--auth-key",
            f"{ACCESS_KEY},{SECRET_KEY}",
            "--config",
            "/dev/null",
            str(self.storage),
        ]
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rclone serve s3 exited with {self.proc.returncode}; see {log.name}")
            if http_answers(self.endpoint + "/"):
                self.ready_s = time.perf_counter() - t0
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"rclone serve s3 not ready after {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # our own child, by PID
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def cpu(self) -> float:
        return proc_cpu_seconds(self.pid)

    def __enter__(self) -> RcloneServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kill_tree(pid: int) -> None:
    """SIGKILL a process this harness started and its descendants, each by PID."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        kids = []
    for k in kids:
        kill_tree(int(k))
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def measure(
    argv: list[str], env: dict[str, str], server: RcloneServer, out: Path, *, timeout: float = 600
) -> dict[str, Any]:
    """Run ``argv`` under GNU time: wall from perf_counter, user/sys/peak RSS from its rusage (descendants
    included), server CPU from /proc. stdout goes to ``out``, stderr to ``out.err``."""
    timef = Path(f"{out}.time")
    timef.unlink(missing_ok=True)
    load = loadavg()
    s0 = server.cpu()
    t0 = time.perf_counter()
    with open(out, "wb") as so, open(f"{out}.err", "wb") as se:
        p = subprocess.Popen(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(timef), *argv],
            env=env,
            stdout=so,
            stderr=se,
            stdin=subprocess.DEVNULL,
            cwd=str(WORK),
        )
        killer = threading.Timer(timeout, kill_tree, (p.pid,))
        killer.start()
        try:
            rc = p.wait()
        finally:
            killer.cancel()
    wall = time.perf_counter() - t0
    srv = server.cpu() - s0
    user = sys_ = float("nan")
    rss_kib = 0
    if timef.exists():
        lines = timef.read_text().strip().splitlines()
        fields = lines[-1].split() if lines else []
        with contextlib.suppress(IndexError, ValueError):
            user, sys_, rss_kib = float(fields[1]), float(fields[2]), int(fields[3])
    return {
        "wall_s": round(wall, 3),
        "user_s": round(user, 3),
        "sys_s": round(sys_, 3),
        "cpu_s": round(user + sys_, 3),
        "maxrss_mib": round(rss_kib / 1024, 1),
        "server_cpu_s": round(srv, 3),
        "rc": rc,
        "loadavg_1m_before": load,
        "stderr": Path(f"{out}.err").read_text(errors="replace")[-600:],
    }


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=str) + "\n")


def first_line(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env or clean_env(), check=False)
    except OSError as exc:
        return f"n/a ({exc.__class__.__name__})"
    text = (r.stdout or r.stderr).strip()
    return text.splitlines()[0] if text else "n/a"


def machine_info() -> dict[str, str]:
    info: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    info["cores (os.cpu_count)"] = str(os.cpu_count())
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    u = os.uname()
    info["kernel"] = f"{u.sysname} {u.release} {u.machine}"
    with contextlib.suppress(OSError):
        info["load average at start"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return info
