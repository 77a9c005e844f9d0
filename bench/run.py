"""cloudpane against s5cmd, the aws cli (v1) and rclone on one local ``rclone serve s3``, in one run.

    bash bench/setup.sh && .venv/bin/python bench/run.py          (from the project root)

Workloads (each client, REPS times, the client order rotated each rep):
  put1g    upload one BIG_MIB file (default 1024 MiB of random bytes)
  get1g    download it back (compared byte for byte with cmp, untimed)
  puttree  upload TREE_FILES files of 16 KiB in a 3-level tree (default 2000)
  gettree  download that tree
  list     list a flat prefix of LIST_OBJECTS keys (default 20000), output to a file (lines counted)
  noop     (not a target row) start, connect and list a prefix of one key: the fixed cost of an invocation

Each command runs as a child of ``/usr/bin/time -f "%e %U %S %M"``: wall seconds from perf_counter around it,
user+sys CPU and peak RSS from GNU time (descendants included), server CPU from /proc/<rclone pid>/stat. Server
storage and data live on tmpfs (BENCH_WORK, default /dev/shm/cloudpane-bench), deleted at the end.

Then cloudpane is profiled with py-spy on every row it misses (PROFILE=0 to skip; PROFILE=all for every row).

env: REPS (3) BIG_MIB (1024) TREE_FILES (2000) LIST_OBJECTS (20000) CLIENTS (cloudpane,s5cmd,awscli,rclone)
     OPS (put1g,get1g,puttree,gettree,list,noop) PROFILE (1) PROFILE_SVG (0) KEEP_DATA (0) BENCH_WORK
     BENCH_RESULTS (bench/results; elsewhere, RESULTS.md goes there too and bench/RESULTS.md is left alone)
Writes bench/results/runs.json, bench/results/summary.json, bench/results/profile-*.{txt.gz,md} and bench/RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as B
import profiles
import report

REPS = int(os.environ.get("REPS", "3"))
BIG_MIB = int(os.environ.get("BIG_MIB", "1024"))
TREE_FILES = int(os.environ.get("TREE_FILES", "2000"))
LIST_OBJECTS = int(os.environ.get("LIST_OBJECTS", "20000"))
PROFILE = os.environ.get("PROFILE", "1")
PROFILE_SVG = os.environ.get("PROFILE_SVG", "0") == "1"

ALL_CLIENTS = ["cloudpane", "s5cmd", "awscli", "rclone"]
PEERS = ["s5cmd", "awscli", "rclone"]
ALL_OPS = ["put1g", "get1g", "puttree", "gettree", "copytree", "list", "noop"]
TARGET_OPS = ["put1g", "get1g", "puttree", "gettree", "copytree", "list"]
#: wall ratio to the best peer, per row (issue 9): 0.8 on small-file and listing rows, 1.0 on the rest; start-up
#: (``noop``) within 2x s5cmd's time (its ratio to the best peer is checked against 2.0)
WALL_TARGET = {"puttree": 0.8, "gettree": 0.8, "copytree": 0.8, "list": 0.8, "noop": 2.0}
#: CPU-seconds on the 1 GiB rows: at most this times the leanest peer's
CPU_TARGET = 1.2
#: the cross-store row copies each client's uploaded tree into this second bucket on the same server
BUCKET2 = "bench2"
#: the memory target of the issue: peak RSS for the big file
RSS_TARGET_MIB = 150
METRICS = ("wall_s", "cpu_s", "user_s", "sys_s", "maxrss_mib", "server_cpu_s")

DATA = B.WORK / "data"
BIG = DATA / "big.bin"
TREE = DATA / "tree"
LISTSRC = DATA / "list-src"
DL = B.WORK / "dl"
LIST_PREFIX = "list/"
#: a prefix with one key, for the fixed cost of an invocation
ONE_PREFIX = "one/"


# ---------------------------------------------------------------- data
def make_data() -> dict[str, Any]:
    info: dict[str, Any] = {}
    DATA.mkdir(parents=True, exist_ok=True)
    if not BIG.exists() or BIG.stat().st_size != BIG_MIB * B.MiB:
        t = time.perf_counter()
        with open(BIG, "wb") as f:
            for _ in range(BIG_MIB):
                f.write(os.urandom(B.MiB))
        info["generate big file s"] = round(time.perf_counter() - t, 2)
    if not TREE.exists() or sum(len(f) for _, _, f in os.walk(TREE)) != TREE_FILES:
        shutil.rmtree(TREE, ignore_errors=True)
        for i in range(TREE_FILES):
            d = TREE / f"d{i // 200:02d}" / f"e{(i // 20) % 10:02d}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"f{i:05d}.bin").write_bytes(os.urandom(16 * 1024))
    if not LISTSRC.exists() or len(os.listdir(LISTSRC)) != LIST_OBJECTS:
        shutil.rmtree(LISTSRC, ignore_errors=True)
        LISTSRC.mkdir(parents=True)
        for i in range(LIST_OBJECTS):
            (LISTSRC / f"obj-{i:06d}.txt").write_bytes(b"x" * 100)
    (B.WORK / "aws-config").write_text(f"[default]\nregion = {B.REGION}\n")
    return info


# ---------------------------------------------------------------- clients
def cloudpane_env(ep: str) -> dict[str, str]:
    for d in ("state", "config", "cache"):
        (B.WORK / "cloudpane" / d).mkdir(parents=True, exist_ok=True)
    return B.clean_env(
        {
            "AWS_ENDPOINT_URL": ep,
            "CLOUDPANE_STATE_DIR": str(B.WORK / "cloudpane" / "state"),
            "CLOUDPANE_CONFIG_DIR": str(B.WORK / "cloudpane" / "config"),
            "CLOUDPANE_CACHE_DIR": str(B.WORK / "cloudpane" / "cache"),
        }
    )


def rclone_env(ep: str) -> dict[str, str]:
    return B.clean_env(
        {
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Rclone",
            "RCLONE_CONFIG_BENCH_ENDPOINT": ep,
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": B.ACCESS_KEY,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": B.SECRET_KEY,
            "RCLONE_CONFIG_BENCH_REGION": B.REGION,
        }
    )


def client_cmd(client: str, op: str, ep: str, dl: Path) -> tuple[list[str], dict[str, str]]:
    """The command line of one client for one operation, and its environment (each client with its defaults)."""
    key = f"big/{client}.bin"
    prefix = f"tree/{client}/"
    big, tree = str(BIG), str(TREE)
    if client in ("cloudpane", "cloudpane-base"):
        cp = [str(B.PROJECT_BIN / "cloudpane")]
        env = cloudpane_env(ep)
        if client == "cloudpane-base":
            # an older cloudpane for before/after rows (not a peer): CLOUDPANE_BASE holds its `tui/` package, e.g.
            # `git archive COMMIT tui | tar -x -C DIR`; it runs on the project venv
            cp = [str(B.PROJECT_BIN / "python"), "-P", "-m", "tui"]
            env["PYTHONPATH"] = os.environ["CLOUDPANE_BASE"]
        return {
            "put1g": [*cp, "cp", big, f"s3://{B.BUCKET}/{key}"],
            "get1g": [*cp, "cp", f"s3://{B.BUCKET}/{key}", str(dl / "big.bin")],
            "puttree": [*cp, "cp", "-r", f"{tree}/", f"s3://{B.BUCKET}/{prefix}"],
            "gettree": [*cp, "cp", "-r", f"s3://{B.BUCKET}/{prefix}", f"{dl / 'tree'}/"],
            "copytree": [*cp, "cp", "-r", f"s3://{B.BUCKET}/{prefix}", f"s3://{BUCKET2}/{prefix}"],
            "list": [*cp, "ls", "-r", f"s3://{B.BUCKET}/{LIST_PREFIX}"],
            "noop": [*cp, "ls", f"s3://{B.BUCKET}/{ONE_PREFIX}"],
        }[op], env
    if client == "awscli":
        aws = [str(B.BENCH_BIN / "aws"), "--endpoint-url", ep]
        q = ["--only-show-errors", "--no-progress"]
        return {
            "put1g": [*aws, "s3", "cp", big, f"s3://{B.BUCKET}/{key}", *q],
            "get1g": [*aws, "s3", "cp", f"s3://{B.BUCKET}/{key}", str(dl / "big.bin"), *q],
            "puttree": [*aws, "s3", "cp", "--recursive", tree, f"s3://{B.BUCKET}/{prefix}", *q],
            "gettree": [*aws, "s3", "cp", "--recursive", f"s3://{B.BUCKET}/{prefix}", str(dl / "tree"), *q],
            "copytree": [*aws, "s3", "cp", "--recursive", f"s3://{B.BUCKET}/{prefix}", f"s3://{BUCKET2}/{prefix}", *q],
            "list": [*aws, "s3", "ls", f"s3://{B.BUCKET}/{LIST_PREFIX}"],
            "noop": [*aws, "s3", "ls", f"s3://{B.BUCKET}/{ONE_PREFIX}"],
        }[op], B.clean_env()
    if client == "s5cmd":
        s5 = [str(B.BENCH_BIN / "s5cmd"), "--endpoint-url", ep]
        q = ["--log", "error"]  # hides the per-file lines; `ls` output is info-level, so not for ls
        return {
            "put1g": [*s5, *q, "cp", big, f"s3://{B.BUCKET}/{key}"],
            "get1g": [*s5, *q, "cp", f"s3://{B.BUCKET}/{key}", str(dl / "big.bin")],
            "puttree": [*s5, *q, "cp", f"{tree}/*", f"s3://{B.BUCKET}/{prefix}"],
            "gettree": [*s5, *q, "cp", f"s3://{B.BUCKET}/{prefix}*", f"{dl / 'tree'}/"],
            "copytree": [*s5, *q, "cp", f"s3://{B.BUCKET}/{prefix}*", f"s3://{BUCKET2}/{prefix}"],
            "list": [*s5, "ls", f"s3://{B.BUCKET}/{LIST_PREFIX}"],
            "noop": [*s5, "ls", f"s3://{B.BUCKET}/{ONE_PREFIX}"],
        }[op], B.clean_env()
    if client == "rclone":
        rc = [str(B.BENCH_BIN / "rclone"), "-q"]
        return {
            "put1g": [*rc, "copyto", big, f"bench:{B.BUCKET}/{key}"],
            "get1g": [*rc, "copyto", f"bench:{B.BUCKET}/{key}", str(dl / "big.bin")],
            "puttree": [*rc, "copy", tree, f"bench:{B.BUCKET}/{prefix}"],
            "gettree": [*rc, "copy", f"bench:{B.BUCKET}/{prefix}", str(dl / "tree")],
            "copytree": [*rc, "copy", f"bench:{B.BUCKET}/{prefix}", f"bench:{BUCKET2}/{prefix}"],
            "list": [*rc, "lsf", f"bench:{B.BUCKET}/{LIST_PREFIX}"],
            "noop": [*rc, "lsf", f"bench:{B.BUCKET}/{ONE_PREFIX}"],
        }[op], rclone_env(ep)
    raise ValueError(client)


# ---------------------------------------------------------------- the server, through boto3 (untimed)
def s3_client(ep: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = Config(
        region_name=B.REGION,
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3", endpoint_url=ep, aws_access_key_id=B.ACCESS_KEY, aws_secret_access_key=B.SECRET_KEY, config=cfg
    )


def delete_prefix(s3: Any, prefix: str, bucket: str = B.BUCKET) -> None:
    for _ in range(10_000):
        r = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1000)
        keys = [{"Key": o["Key"]} for o in r.get("Contents", [])]
        if not keys:
            return
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def count_prefix(s3: Any, prefix: str, bucket: str = B.BUCKET) -> int:
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        n += len(page.get("Contents", []))
    return n


def validate(client: str, op: str, s3: Any, dl: Path, out: Path) -> str:
    if op == "put1g":
        size = s3.head_object(Bucket=B.BUCKET, Key=f"big/{client}.bin")["ContentLength"]
        return "ok" if size == BIG_MIB * B.MiB else f"remote size {size}"
    if op == "get1g":
        f = dl / "big.bin"
        if not f.exists():
            return "no file"
        r = subprocess.run(["cmp", "-s", str(BIG), str(f)], check=False)
        return "ok" if r.returncode == 0 else "content differs"
    if op == "puttree":
        n = count_prefix(s3, f"tree/{client}/")
        return "ok" if n == TREE_FILES else f"{n} objects"
    if op == "copytree":
        n = count_prefix(s3, f"tree/{client}/", BUCKET2)
        return "ok" if n == TREE_FILES else f"{n} objects copied"
    if op == "gettree":
        files = [os.path.join(r, x) for r, _, fs in os.walk(dl / "tree") for x in fs]
        size = sum(os.path.getsize(x) for x in files)
        ok = len(files) == TREE_FILES and size == TREE_FILES * 16384
        return "ok" if ok else f"{len(files)} files, {size} B"
    if op in ("list", "noop"):
        n = sum(1 for x in out.read_text(errors="replace").splitlines() if x.strip() and not x.startswith("py-spy>"))
        want = LIST_OBJECTS if op == "list" else 1
        return "ok" if n == want else f"{n} listed"
    return "ok"


def prepare(client: str, op: str, s3: Any) -> Path:
    dl = DL / client
    if op in ("get1g", "gettree"):
        shutil.rmtree(dl, ignore_errors=True)
    dl.mkdir(parents=True, exist_ok=True)
    if op == "put1g":
        delete_prefix(s3, f"big/{client}.bin")
    if op == "puttree":
        delete_prefix(s3, f"tree/{client}/")
    if op == "copytree":
        delete_prefix(s3, f"tree/{client}/", BUCKET2)
    return dl


def cleanup(client: str, op: str, s3: Any, dl: Path) -> None:
    if op in ("get1g", "gettree"):
        shutil.rmtree(dl, ignore_errors=True)  # keep tmpfs small


def run_one(client: str, op: str, rep: int, srv: B.RcloneServer, s3: Any, runs: list[dict[str, Any]]) -> None:
    dl = prepare(client, op, s3)
    argv, env = client_cmd(client, op, srv.endpoint, dl)
    out = B.WORK / "logs" / f"{client}-{op}.out"
    r = B.measure(argv, env, srv, out)
    r.update({"client": client, "op": op, "rep": rep})
    r["valid"] = validate(client, op, s3, dl, out) if r["rc"] == 0 else f"rc={r['rc']}"
    if r["valid"] == "ok":
        r.pop("stderr", None)
    runs.append(r)
    print(
        f"  rep{rep} {client:10s} {op:8s} wall={r['wall_s']:7.2f}s cpu={r['cpu_s']:6.2f}s "
        f"rss={r['maxrss_mib']:7.1f}MiB server_cpu={r['server_cpu_s']:5.2f}s {r['valid']}",
        flush=True,
    )
    cleanup(client, op, s3, dl)


# ---------------------------------------------------------------- summary
def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pairs: list[tuple[str, str]] = []
    for r in runs:
        if (r["client"], r["op"]) not in pairs:
            pairs.append((r["client"], r["op"]))
    for client, op in pairs:
        rs = [r for r in runs if r["client"] == client and r["op"] == op]
        good = [r for r in rs if r["valid"] == "ok"]
        row: dict[str, Any] = {"client": client, "op": op, "n": len(good), "failed": len(rs) - len(good)}
        if not good:
            row["error"] = f"{rs[-1]['valid']} {rs[-1].get('stderr', '')[-300:]}"
        else:
            for m in METRICS:
                vals = [float(r[m]) for r in good]
                row[m] = {"median": round(statistics.median(vals), 3), "min": min(vals), "max": max(vals)}
        rows.append(row)
    # ratios to the best peer, per metric (lower is better for all three)
    for op in {r["op"] for r in rows}:
        peers = [r for r in rows if r["op"] == op and r["client"] in PEERS and "wall_s" in r]
        if not peers:
            continue
        best = {m: min(peers, key=lambda r, m=m: r[m]["median"]) for m in ("wall_s", "cpu_s", "maxrss_mib")}
        for r in rows:
            if r["op"] != op or "wall_s" not in r:
                continue
            r["best_peer"] = {m: best[m]["client"] for m in best}
            r["ratio"] = {
                m: round(r[m]["median"] / best[m][m]["median"], 3) if best[m][m]["median"] else None for m in best
            }
    return rows


def misses(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """cloudpane's rows that miss a target, with the reasons."""
    out: dict[str, list[str]] = {}
    for r in rows:
        if r["client"] != "cloudpane" or r["op"] not in [*TARGET_OPS, "noop"]:
            continue
        why = []
        if "ratio" not in r:
            why.append("failed")
        else:
            limit = WALL_TARGET.get(r["op"], 1.0)
            if r["ratio"]["wall_s"] > limit:
                why.append(
                    f"wall {r['ratio']['wall_s']:.2f}x the best peer ({r['best_peer']['wall_s']}), target {limit}"
                )
            if r["op"] in ("put1g", "get1g") and r["maxrss_mib"]["median"] > RSS_TARGET_MIB:
                why.append(f"peak RSS {r['maxrss_mib']['median']:.0f} MiB > {RSS_TARGET_MIB} MiB")
            if r["op"] in ("put1g", "get1g") and r["ratio"]["cpu_s"] > CPU_TARGET:
                why.append(
                    f"CPU {r['ratio']['cpu_s']:.2f}x the leanest peer ({r['best_peer']['cpu_s']}) > {CPU_TARGET}"
                )
        if why:
            out[r["op"]] = why
    return out


def versions() -> dict[str, str]:
    import importlib.metadata as md

    v = {"python (project venv)": sys.version.split()[0]}
    v["cloudpane"] = B.first_line([str(B.PROJECT_BIN / "cloudpane"), "--version"])
    for p in ("aiobotocore", "botocore", "aiohttp", "boto3"):
        try:
            v[f"{p} (project venv)"] = md.version(p)
        except md.PackageNotFoundError:
            v[f"{p} (project venv)"] = "n/a"
    git = subprocess.run(
        ["git", "-C", str(B.PROJECT), "log", "-1", "--format=%h %s"], capture_output=True, text=True, check=False
    )
    v["cloudpane commit"] = git.stdout.strip()[:100] or "n/a"
    dirty = subprocess.run(
        ["git", "-C", str(B.PROJECT), "status", "--porcelain", "--", "tui"], capture_output=True, text=True, check=False
    )
    v["tui/ changed since that commit"] = "yes" if dirty.stdout.strip() else "no"
    v["aws cli"] = B.first_line([str(B.BENCH_BIN / "aws"), "--version"])
    v["s5cmd"] = B.first_line([str(B.BENCH_BIN / "s5cmd"), "version"])
    v["rclone (client and server)"] = B.first_line([str(B.BENCH_BIN / "rclone"), "version"])
    v["py-spy"] = B.first_line([str(B.BENCH_BIN / "py-spy"), "--version"])
    return v


# ---------------------------------------------------------------- main
def main() -> int:
    for tool in (B.BENCH_BIN / "aws", B.BENCH_BIN / "s5cmd", B.BENCH_BIN / "rclone", B.PROJECT_BIN / "cloudpane"):
        if not tool.exists():
            print(f"missing {tool}: run bench/setup.sh first", file=sys.stderr)
            return 2
    if not Path("/usr/bin/time").exists():
        print("missing /usr/bin/time: run bench/setup.sh first", file=sys.stderr)
        return 2
    clients = os.environ.get("CLIENTS", ",".join(ALL_CLIENTS)).split(",")
    ops = [o for o in ALL_OPS if o in os.environ.get("OPS", ",".join(ALL_OPS)).split(",")]
    started = dt.datetime.now(dt.UTC)
    t_start = time.perf_counter()
    B.WORK.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "date (UTC)": started.strftime("%Y-%m-%d %H:%M"),
        "reps": REPS,
        "big file MiB": BIG_MIB,
        "tree files (16 KiB each)": TREE_FILES,
        "list keys": LIST_OBJECTS,
        "work dir (tmpfs)": str(B.WORK),
    }
    meta.update(B.machine_info())
    meta.update(make_data())
    vers = versions()
    srv = B.RcloneServer(B.BENCH_BIN / "rclone", B.WORK / "storage")
    runs: list[dict[str, Any]] = []
    profiled: dict[str, Any] = {}
    try:
        srv.start()
        meta["server"] = f"rclone serve s3 on {srv.endpoint}, storage on tmpfs (ready in {srv.ready_s:.2f} s)"
        s3 = s3_client(srv.endpoint)
        s3.create_bucket(Bucket=B.BUCKET)
        s3.create_bucket(Bucket=BUCKET2)
        s3.put_object(Bucket=B.BUCKET, Key=f"{ONE_PREFIX}only.txt", Body=b"x" * 100)
        if "list" in ops:
            argv = [
                str(B.BENCH_BIN / "s5cmd"),
                "--endpoint-url",
                srv.endpoint,
                "--log",
                "error",
                "cp",
                f"{LISTSRC}/*",
                f"s3://{B.BUCKET}/{LIST_PREFIX}",
            ]
            r = B.measure(argv, B.clean_env(), srv, B.WORK / "logs" / "seed-list.out", timeout=900)
            n = count_prefix(s3, LIST_PREFIX)
            meta["seed list prefix (s5cmd cp)"] = f"{n} objects in {r['wall_s']:.1f} s"
            print(f"seeded {LIST_PREFIX}: {n} objects in {r['wall_s']:.1f} s", flush=True)
        for rep in range(1, REPS + 1):
            k = (rep - 1) % len(clients)
            order = clients[k:] + clients[:k]
            print(f"rep {rep}: {', '.join(order)}", flush=True)
            for client in order:
                for op in ops:
                    run_one(client, op, rep, srv, s3, runs)
                if "put1g" in ops:
                    delete_prefix(s3, f"big/{client}.bin")
        meta["server peak RSS MiB"] = round(B.proc_hwm_kib(srv.pid) / 1024, 1)
        meta["benchmark wall s"] = round(time.perf_counter() - t_start, 1)
        rows = summarize(runs)
        missed = misses(rows)
        if PROFILE != "0" and "cloudpane" in clients:
            todo = [o for o in ops if o in TARGET_OPS] if PROFILE == "all" else list(missed)
            for op in todo:
                profiled[op] = profile_op(op, srv, s3)
    finally:
        srv.stop()
        if os.environ.get("KEEP_DATA", "0") != "1":
            shutil.rmtree(B.WORK, ignore_errors=True)
    meta["total wall s (with profiles)"] = round(time.perf_counter() - t_start, 1)
    loads = [float(r["loadavg_1m_before"]) for r in runs]
    if loads:
        meta["1-min load average before each run (median / max)"] = (
            f"{statistics.median(loads):.1f} / {max(loads):.1f} (2 cores; other sessions' test suites were running)"
        )
    if os.environ.get("BACKUP", "1") != "0":
        # the no-change backup row (10,000 files, its own server and counting proxy): bench/backup_bench.py
        t_backup = time.perf_counter()
        env = dict(os.environ, BENCH_RESULTS=str(B.RESULTS))
        env.setdefault("REPS", str(REPS))
        done = subprocess.run([sys.executable, str(B.BENCH / "backup_bench.py")], env=env, check=False)
        meta["backup bench"] = f"bench/backup_bench.py rc={done.returncode} in {time.perf_counter() - t_backup:.0f} s"
    rows = summarize(runs)
    B.write_json(B.RESULTS / "runs.json", {"meta": meta, "versions": vers, "runs": runs})
    summary = {"meta": meta, "versions": vers, "summary": rows, "misses": misses(rows), "profiles": profiled}
    B.write_json(B.RESULTS / "summary.json", summary)
    out = B.BENCH / "RESULTS.md" if B.DEFAULT_RESULTS.resolve() == B.RESULTS else B.RESULTS / "RESULTS.md"
    report.write(summary, out, B.RESULTS)
    print(f"done in {meta['total wall s (with profiles)']} s: {out}, {B.RESULTS}/")
    return 0


def profile_op(op: str, srv: B.RcloneServer, s3: Any) -> dict[str, Any]:
    """One more cloudpane run of ``op`` under py-spy (CPU samples, native frames, per thread)."""
    # what the operation reads must be there: cloudpane's own upload, as in the timed runs
    if op == "get1g":
        argv, env = client_cmd("cloudpane", "put1g", srv.endpoint, DL / "cloudpane")
        B.measure(argv, env, srv, B.WORK / "logs" / "profile-prep.out")
    if op == "gettree" and count_prefix(s3, "tree/cloudpane/") != TREE_FILES:
        delete_prefix(s3, "tree/cloudpane/")
        argv, env = client_cmd("cloudpane", "puttree", srv.endpoint, DL / "cloudpane")
        B.measure(argv, env, srv, B.WORK / "logs" / "profile-prep.out")
    dl = prepare("cloudpane", op, s3)
    argv, env = client_cmd("cloudpane", op, srv.endpoint, dl)
    raw = B.RESULTS / f"profile-{op}.txt"
    r = profiles.record(argv, env, raw, srv, svg=B.RESULTS / f"profile-{op}.svg" if PROFILE_SVG else None)
    r["valid"] = validate("cloudpane", op, s3, dl, B.WORK / "logs" / "profile.out") if r["rc"] == 0 else "failed"
    cleanup("cloudpane", op, s3, dl)
    if op in ("put1g", "get1g"):
        delete_prefix(s3, "big/cloudpane.bin")
    analysis = profiles.analyze(raw)
    if raw.exists():
        profiles.compress(raw)
    (B.RESULTS / f"profile-{op}.md").write_text(profiles.to_markdown(op, analysis, r))
    print(f"  profiled {op}: {analysis['samples']} samples, wall {r['wall_s']:.2f} s ({r['valid']})", flush=True)
    return {"run": r, "analysis": analysis}


if __name__ == "__main__":
    raise SystemExit(main())
