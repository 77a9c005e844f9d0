"""cloudpane against rclone into Azure Blob: local -> Azure and S3 -> Azure, on the same servers (Azurite for Azure,
``rclone serve s3`` for S3), one run.

    .venv/bin/python bench/azure_bench.py          (from the project root, after `make install-test`)

Workloads (each client REPS times, the client order rotated each rep; every copy goes to a fresh name):
  local_big    cp one BIG_MIB file (default 1024 MiB of random bytes) to az://
  local_tree   cp -r TREE_FILES files of 16 KiB (default 2000, a 3-level tree) to az://
  s3_big       cp s3://src/big.bin to az:// (Azurite cannot pull: cloudpane says so and streams, as rclone does)
  s3_tree      cp -r s3://src/tree/ to az://

Each command runs under ``/usr/bin/time -f "%e %U %S %M"``: wall seconds (perf_counter around it), user+sys CPU and
peak RSS of the client; the CPU the servers spent meanwhile from /proc/<pid>/stat (Azurite: node; rclone serve s3).
Clients as users run them: cloudpane with its defaults (8 MiB blocks, 8 at once, 16 files in flight); rclone
with its defaults (4 transfers; azureblob: 4 MiB chunks, 16 at once). Data and the servers' storage on tmpfs
(BENCH_WORK, default /dev/shm/cloudpane-azbench), deleted at the end. The figure kept is the ratio of medians,
cloudpane / rclone (below 1: cloudpane is faster or smaller).

env: REPS (3) BIG_MIB (1024) TREE_FILES (2000) OPS (local_big,local_tree,s3_big,s3_tree) CLIENTS (cloudpane,rclone)
     BENCH_WORK  BENCH_RESULTS (bench/results)
Writes BENCH_RESULTS/azure.json and replaces the "Azure Blob" section at the end of bench/RESULTS.md (between its
markers; the rest of the file is left as it is).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
REPS = int(os.environ.get("REPS", "3"))
BIG_MIB = int(os.environ.get("BIG_MIB", "1024"))
TREE_FILES = int(os.environ.get("TREE_FILES", "2000"))
OPS = os.environ.get("OPS", "local_big,local_tree,s3_big,s3_tree").split(",")
CLIENTS = os.environ.get("CLIENTS", "cloudpane,rclone").split(",")
WORK = Path(os.environ.get("BENCH_WORK", "/dev/shm/cloudpane-azbench"))
RESULTS = Path(os.environ.get("BENCH_RESULTS", str(ROOT / "bench" / "results")))
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
BEGIN = "<!-- azure-bench:begin -->"
END = "<!-- azure-bench:end -->"
RSS_TARGET_MIB = 150
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_of(pid: int) -> float:
    """user + sys seconds of ``pid`` and its reaped children (/proc/<pid>/stat fields 14-17)."""
    raw = Path(f"/proc/{pid}/stat").read_bytes()
    fields = raw[raw.rfind(b")") + 2 :].split()
    return sum(int(f) for f in fields[11:15]) / TICK


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not listen on {port}")


class Servers:
    def __init__(self) -> None:
        self.az_port, self.s3_port = free_port(), free_port()
        (WORK / "azurite").mkdir(parents=True)
        (WORK / "s3" / "src").mkdir(parents=True)
        self.azurite = subprocess.Popen(
            [
                str(ROOT / "node_modules" / ".bin" / "azurite-blob"),
                *("--blobHost", "127.0.0.1", "--blobPort", str(self.az_port)),
                *("--location", str(WORK / "azurite")),
                *("--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.s3 = subprocess.Popen(
            [
                str(VENV / "rclone"),
                *("serve", "s3", "--auth-key", "test,test", "--addr", f"127.0.0.1:{self.s3_port}"),
                str(WORK / "s3"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.az_port, self.azurite, "azurite")
        wait_port(self.s3_port, self.s3, "rclone serve s3")

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.az_port}/{ACCOUNT}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AZURE_", "RCLONE_"))}
        env.update(
            AZURE_STORAGE_CONNECTION_STRING=(
                f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint={self.blob_endpoint};"
            ),
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{self.s3_port}",
            AWS_REGION="us-east-1",
            AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
            CLOUDPANE_STATE_DIR=str(WORK / "state"),
            CLOUDPANE_CACHE_DIR=str(WORK / "cache"),
            CLOUDPANE_CONFIG_DIR=str(WORK / "config"),
            RCLONE_AZUREBLOB_ACCOUNT=ACCOUNT,
            RCLONE_AZUREBLOB_KEY=KEY,
            RCLONE_AZUREBLOB_ENDPOINT=self.blob_endpoint,
            RCLONE_S3_PROVIDER="Other",
            RCLONE_S3_ACCESS_KEY_ID="test",
            RCLONE_S3_SECRET_ACCESS_KEY="test",
            RCLONE_S3_ENDPOINT=f"http://127.0.0.1:{self.s3_port}",
            RCLONE_S3_REGION="us-east-1",
        )
        return env

    def stop(self) -> None:
        for proc in (self.azurite, self.s3):
            proc.send_signal(signal.SIGTERM)
        for proc in (self.azurite, self.s3):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def prepare() -> tuple[Path, Path]:
    data = WORK / "data"
    tree = data / "tree"
    big = data / "big.bin"
    data.mkdir(parents=True)
    with big.open("wb") as f:
        for _ in range(BIG_MIB):
            f.write(os.urandom(1024 * 1024))
    for i in range(TREE_FILES):
        path = tree / f"d{i % 10}" / f"e{i % 7}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(16 * 1024))
    # rclone serve s3 serves a directory: bucket "src" holds the same big file and tree
    shutil.copyfile(big, WORK / "s3" / "src" / "big.bin")
    shutil.copytree(tree, WORK / "s3" / "src" / "tree")
    return big, tree


def command(client: str, op: str, big: Path, tree: Path, name: str) -> list[str]:
    if client == "cloudpane":
        exe = str(VENV / "cloudpane")
        return {
            "local_big": [exe, "cp", str(big), f"az://bench/{name}"],
            "local_tree": [exe, "cp", "-r", f"{tree}/", f"az://bench/{name}/"],
            "s3_big": [exe, "cp", "s3://src/big.bin", f"az://bench/{name}"],
            "s3_tree": [exe, "cp", "-r", "s3://src/tree/", f"az://bench/{name}/"],
        }[op]
    exe = str(VENV / "rclone")
    return {
        "local_big": [exe, "--config", "/dev/null", "copyto", str(big), f":azureblob:bench/{name}"],
        "local_tree": [exe, "--config", "/dev/null", "copy", str(tree), f":azureblob:bench/{name}"],
        "s3_big": [exe, "--config", "/dev/null", "copyto", ":s3:src/big.bin", f":azureblob:bench/{name}"],
        "s3_tree": [exe, "--config", "/dev/null", "copy", ":s3:src/tree", f":azureblob:bench/{name}"],
    }[op]


def measure(servers: Servers, env: dict[str, str], argv: list[str]) -> dict[str, Any]:
    az0, s30 = cpu_of(servers.azurite.pid), cpu_of(servers.s3.pid)
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %U %S %M", *argv], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    az1, s31 = cpu_of(servers.azurite.pid), cpu_of(servers.s3.pid)
    line = [x for x in proc.stderr.splitlines() if x.startswith("TIME ")][-1].split()
    user, sys_, rss_kb = float(line[2]), float(line[3]), int(line[4])
    notes = [x for x in proc.stderr.splitlines() if x.startswith("cloudpane: note:")]
    return {
        "ok": proc.returncode == 0,
        "rc": proc.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(user + sys_, 2),
        "maxrss_mib": round(rss_kb / 1024, 1),
        "azurite_cpu_s": round(az1 - az0, 2),
        "s3_server_cpu_s": round(s31 - s30, 2),
        "notes": notes,
        "stderr_tail": proc.stderr.splitlines()[-3:] if proc.returncode else [],
    }


def median(rows: list[dict[str, Any]], metric: str) -> float:
    return float(statistics.median(r[metric] for r in rows))


def report(runs: list[dict[str, Any]]) -> str:
    metrics = ("wall_s", "cpu_s", "maxrss_mib", "azurite_cpu_s", "s3_server_cpu_s")
    out = [
        BEGIN,
        "",
        "## Azure Blob: cloudpane vs rclone into Azurite (`bench/azure_bench.py`)",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; REPS={REPS}, BIG_MIB={BIG_MIB}, TREE_FILES={TREE_FILES} "
        "(16 KiB each). Same servers for both clients: Azurite (on tmpfs) as Azure, `rclone serve s3` as S3; "
        "both clients with their default settings. Medians; ratio = cloudpane / rclone (below 1: cloudpane "
        "is faster / smaller). Azurite cannot pull (Put Block From URL answers 501), so S3 -> Azure streams "
        "through the client for both: cloudpane tries once and says so (the note below).",
        "",
        "| op | client | ok | wall s | CPU s | peak RSS MiB | Azurite CPU s | S3 server CPU s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    ratios: list[str] = []
    for op in OPS:
        per: dict[str, list[dict[str, Any]]] = {}
        for client in CLIENTS:
            rows = [r for r in runs if r["op"] == op and r["client"] == client]
            if not rows:
                continue
            per[client] = rows
            ok = all(r["ok"] for r in rows)
            vals = [median(rows, m) for m in metrics]
            out.append(
                f"| {op} | {client} | {'yes' if ok else 'NO'} | {vals[0]:.2f} | {vals[1]:.2f} | {vals[2]:.1f} | "
                f"{vals[3]:.2f} | {vals[4]:.2f} |"
            )
        if "cloudpane" in per and "rclone" in per:
            parts = []
            for m, label in (
                ("wall_s", "wall"),
                ("cpu_s", "CPU"),
                ("maxrss_mib", "RSS"),
                ("azurite_cpu_s", "Azurite CPU"),
            ):
                theirs = median(per["rclone"], m)
                parts.append(f"{label} {median(per['cloudpane'], m) / theirs:.2f}" if theirs else f"{label} n/a")
            ratios.append(f"- {op}: " + ", ".join(parts))
    out += ["", "Ratios (cloudpane / rclone, medians):", "", *ratios, ""]
    big_rss = [r["maxrss_mib"] for r in runs if r["client"] == "cloudpane" and r["op"] in ("local_big", "s3_big")]
    if big_rss:
        verdict = "meets" if max(big_rss) <= RSS_TARGET_MIB else "MISSES"
        out.append(
            f"- cloudpane's peak RSS for the {BIG_MIB} MiB copies: at most {max(big_rss):.1f} MiB "
            f"({verdict} the {RSS_TARGET_MIB} MiB target)"
        )
    notes = sorted({n for r in runs for n in r["notes"]})
    for note in notes:
        out.append(f"- note printed by cloudpane: `{note}`")
    failed = [r for r in runs if not r["ok"]]
    for r in failed:
        out.append(f"- FAILED: {r['client']} {r['op']} rep {r['rep']}: exit {r['rc']}: {' / '.join(r['stderr_tail'])}")
    out += ["", END, ""]
    return "\n".join(out)


def write_results(text: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    current = path.read_text() if path.exists() else ""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        new = head + text.strip() + "\n" + tail.lstrip("\n")
    else:
        new = current.rstrip("\n") + "\n\n" + text
    path.write_text(new)


def main() -> None:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    servers = Servers()
    runs: list[dict[str, Any]] = []
    try:
        big, tree = prepare()
        env = servers.env()
        subprocess.run([str(VENV / "cloudpane"), "mb", "az://bench"], env=env, check=True, capture_output=True)
        for rep in range(REPS):
            for op in OPS:
                order = CLIENTS[rep % len(CLIENTS) :] + CLIENTS[: rep % len(CLIENTS)]
                for client in order:
                    name = f"{op}-{client}-{rep}"
                    row = measure(servers, env, command(client, op, big, tree, name))
                    row.update(client=client, op=op, rep=rep)
                    runs.append(row)
                    print(json.dumps(row), flush=True)
    finally:
        servers.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "azure.json").write_text(json.dumps(runs, indent=1))
    text = report(runs)
    write_results(text)
    print(text)
    sys.exit(0 if all(r["ok"] for r in runs) else 1)


if __name__ == "__main__":
    main()
