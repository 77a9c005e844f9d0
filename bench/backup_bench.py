"""A no-change backup of FILES small files: ``cloudpane backup`` against ``aws s3 sync`` and ``rclone sync``.

    bash bench/setup.sh && .venv/bin/python bench/backup_bench.py          (from the project root)

One ``rclone serve s3`` on 127.0.0.1 (benchlib's ``RcloneServer``, storage on tmpfs). Between every client and
it sits a small counting HTTP/1.1 proxy (asyncio streams, in a thread of this process, on 127.0.0.1): it parses
each request's head to count it by kind, forwards the body (Content-Length or chunked) and pipes responses back
unparsed. Kinds (path-style addressing):
  LIST   GET on a bucket without a key (ListObjects v1/v2), other than a ``?location``-style subresource
  PUT    PUT of an object (PutObject, UploadPart, CopyObject)
  HEAD   any HEAD (HeadObject, HeadBucket)
  GET    GET of an object
  other  anything else (ListBuckets, CreateBucket, POST multipart/delete, DELETE, GET ?location)

FILES files of FILE_BYTES random bytes in a 3-level tree on tmpfs. Each client first uploads the tree to its own
prefix (one run, measured and counted, reported apart), then runs the same command again REPS times with nothing
changed: the measured no-change run (medians). Every run is a child of ``/usr/bin/time -f "%e %U %S %M"`` as in
benchlib.measure: wall from perf_counter, user+sys CPU and peak RSS from GNU time. Each client runs with its
defaults (rclone reads the ``mtime`` metadata of each object by HEAD: that is its default; ``rclone --fast-list``
is an extra row, not a target peer). One more extra row: ``cloudpane backup SRC s3://bench/aws/``, a no-change
run against the objects aws uploaded, whose LastModified is the upload time (as on AWS S3) rather than the file's
mtime that ``rclone serve s3`` lists for objects carrying rclone's ``mtime`` metadata. With DIRECT=1 (default)
the no-change runs are repeated straight to the server, without the proxy, for times free of the proxy's
per-request cost.

  cloudpane  cloudpane backup SRC s3://bench/cp/
  awscli     aws s3 sync SRC s3://bench/aws/ --endpoint-url EP --only-show-errors --no-progress
  rclone     rclone -q sync SRC x:bench/rc --config /dev/null   (RCLONE_CONFIG_X_*: s3, provider Other)

Target (the issue): cloudpane faster than both peers, with 0 PUTs.

env: FILES (10000) FILE_BYTES (1024) REPS (3) DIRECT (1) KEEP_DATA (0) BACKUP_BENCH_WORK
     (/dev/shm/cloudpane-backup-bench) BENCH_RESULTS (bench/results)
Writes bench/results/backup.json and bench/results/backup.md (with plan_memory.json's table when it exists).
``--report`` only rewrites backup.md from the two JSON files.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

# a work directory of its own: bench/run.py owns (and deletes) benchlib's default one
os.environ["BENCH_WORK"] = os.environ.get("BACKUP_BENCH_WORK", "/dev/shm/cloudpane-backup-bench")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as B

FILES = int(os.environ.get("FILES", "10000"))
FILE_BYTES = int(os.environ.get("FILE_BYTES", "1024"))
REPS = int(os.environ.get("REPS", "3"))
DIRECT = os.environ.get("DIRECT", "1") == "1"
CLIENTS = ["cloudpane", "awscli", "rclone"]
#: measured too, not a target peer
EXTRA = ["rclone-fast-list", "cloudpane-on-aws-prefix"]
PEERS = ["awscli", "rclone"]
NAMES = {
    "rclone-fast-list": "rclone --fast-list (not a target peer)",
    "cloudpane-on-aws-prefix": "cloudpane on the prefix aws uploaded (LastModified = upload time; not a target row)",
}
KINDS = ("LIST", "PUT", "HEAD", "GET", "other")
SRC = B.WORK / "src"
PREFIX = {
    "cloudpane": "cp/",
    "awscli": "aws/",
    "rclone": "rc/",
    "rclone-fast-list": "rc/",
    "cloudpane-on-aws-prefix": "aws/",
}


# ---------------------------------------------------------------- the counting proxy
def classify(method: str, target: str, host: str) -> tuple[str, str]:
    """(kind, detail) of one S3 request."""
    url = urllib.parse.urlsplit(target)
    path = urllib.parse.unquote(url.path).lstrip("/")
    hostname = host.rsplit(":", 1)[0]
    if hostname not in (B.HOST, "localhost") and "." in hostname:  # virtual-hosted style
        path = f"{hostname.split('.', 1)[0]}/{path}"
    bucket, _, key = path.partition("/")
    query = sorted(urllib.parse.parse_qs(url.query, keep_blank_values=True))
    detail = f"{method} {'object' if key else 'bucket' if bucket else 'service'}"
    if query:
        detail += " ?" + "&".join(query)
    subresources = {"location", "versioning", "acl", "policy", "tagging", "uploads", "lifecycle"}
    if method == "GET" and bucket and not key and not subresources & set(query):
        return "LIST", detail
    if method == "PUT" and key:
        return "PUT", detail
    if method == "HEAD":
        return "HEAD", detail
    if method == "GET" and key:
        return "GET", detail
    return "other", detail


class CountingProxy:
    """HTTP/1.1 proxy to ``upstream`` on 127.0.0.1 that counts requests by kind; runs its own loop in a thread."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.kinds: collections.Counter[str] = collections.Counter()
        self.details: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="counting-proxy", daemon=True)
        self.server: asyncio.Server | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{B.HOST}:{self.port}"

    def start(self) -> CountingProxy:
        self.thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._serve(), self.loop)
        fut.result(10)
        return self

    async def _serve(self) -> None:
        self.server = await asyncio.start_server(self._handle, B.HOST, 0, limit=1 << 20)
        self.port = self.server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()  # the clients have exited: their connections are closed already

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def reset(self) -> None:
        with self.lock:
            self.kinds.clear()
            self.details.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            counts = {k: self.kinds.get(k, 0) for k in KINDS}
            counts["total"] = sum(self.kinds.values())
            return {"requests": counts, "detail": dict(sorted(self.details.items()))}

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        try:
            sreader, swriter = await asyncio.open_connection(B.HOST, self.upstream_port, limit=1 << 20)
        except OSError:
            cwriter.close()
            return
        back = asyncio.create_task(self._pipe(sreader, cwriter))
        try:
            while True:
                head = await creader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                kind, detail = classify(method, target, headers.get("host", ""))
                with self.lock:
                    self.kinds[kind] += 1
                    self.details[detail] += 1
                swriter.write(head)
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    while True:
                        size_line = await creader.readline()
                        swriter.write(size_line)
                        size = int(size_line.split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while (trailer := await creader.readline()) not in (b"\r\n", b""):
                                swriter.write(trailer)
                            swriter.write(b"\r\n")
                            break
                        swriter.write(await creader.readexactly(size + 2))
                        await swriter.drain()
                else:
                    left = int(headers.get("content-length", "0") or "0")
                    while left > 0:
                        data = await creader.read(min(left, 1 << 16))
                        if not data:
                            raise asyncio.IncompleteReadError(b"", left)
                        swriter.write(data)
                        left -= len(data)
                        await swriter.drain()
                await swriter.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass  # the client closed its connection (or sent something that is not HTTP/1.1)
        finally:
            swriter.close()
            back.cancel()
            cwriter.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(1 << 16):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def __enter__(self) -> CountingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------- data, clients, server side
def make_tree() -> dict[str, Any]:
    """FILES files in d00/e00/f00000.bin .. (100 files a folder); their mtimes are older than any upload."""
    shutil.rmtree(SRC, ignore_errors=True)
    t = time.perf_counter()
    for i in range(FILES):
        d = SRC / f"d{i // 1000:02d}" / f"e{(i // 100) % 10:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.bin").write_bytes(os.urandom(FILE_BYTES))
    (B.WORK / "aws-config").write_text(f"[default]\nregion = {B.REGION}\n")
    time.sleep(1.1)  # whole seconds apart from the uploads: S3's LastModified has a resolution of 1 s
    return {"generate tree s": round(time.perf_counter() - t, 2)}


def client_cmd(client: str, ep: str) -> tuple[list[str], dict[str, str]]:
    src = str(SRC)
    if client in ("cloudpane", "cloudpane-on-aws-prefix"):
        for d in ("state", "config", "cache"):
            (B.WORK / "cloudpane" / d).mkdir(parents=True, exist_ok=True)
        env = B.clean_env(
            {
                "AWS_ENDPOINT_URL": ep,
                "CLOUDPANE_STATE_DIR": str(B.WORK / "cloudpane" / "state"),
                "CLOUDPANE_CONFIG_DIR": str(B.WORK / "cloudpane" / "config"),
                "CLOUDPANE_CACHE_DIR": str(B.WORK / "cloudpane" / "cache"),
            }
        )
        return [str(B.PROJECT_BIN / "cloudpane"), "backup", src, f"s3://{B.BUCKET}/{PREFIX[client]}"], env
    if client == "awscli":
        aws = [str(B.BENCH_BIN / "aws"), "s3", "sync", src, f"s3://{B.BUCKET}/{PREFIX[client]}"]
        return [*aws, "--endpoint-url", ep, "--only-show-errors", "--no-progress"], B.clean_env()
    if client in ("rclone", "rclone-fast-list"):
        env = B.clean_env(
            {
                "RCLONE_CONFIG_X_TYPE": "s3",
                "RCLONE_CONFIG_X_PROVIDER": "Other",
                "RCLONE_CONFIG_X_ENDPOINT": ep,
                "RCLONE_CONFIG_X_ACCESS_KEY_ID": B.ACCESS_KEY,
                "RCLONE_CONFIG_X_SECRET_ACCESS_KEY": B.SECRET_KEY,
                "RCLONE_CONFIG_X_REGION": B.REGION,
            }
        )
        argv = [str(B.BENCH_BIN / "rclone"), "-q", "sync", src, f"x:{B.BUCKET}/{PREFIX[client].rstrip('/')}"]
        argv += ["--config", "/dev/null"]
        if client == "rclone-fast-list":
            argv.append("--fast-list")
        return argv, env
    raise ValueError(client)


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


def count_prefix(s3: Any, prefix: str) -> tuple[int, int]:
    n = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=B.BUCKET, Prefix=prefix):
        for o in page.get("Contents", []):
            n += 1
            size += o["Size"]
    return n, size


def run(
    client: str, phase: str, rep: int, ep: str, srv: B.RcloneServer, proxy: CountingProxy | None, s3: Any
) -> dict[str, Any]:
    argv, env = client_cmd(client, ep)
    out = B.WORK / "logs" / f"{client}-{phase}-{rep}.out"
    if proxy is not None:
        proxy.reset()
    r = B.measure(argv, env, srv, out, timeout=1200)
    if proxy is not None:
        time.sleep(0.05)  # the last requests are counted when their head arrives: long before the exit
        r.update(proxy.snapshot())
    n, size = count_prefix(s3, PREFIX[client])
    ok = r["rc"] == 0 and n == FILES and size == FILES * FILE_BYTES
    r.update({"client": client, "phase": phase, "rep": rep, "via": "proxy" if proxy else "direct"})
    r["valid"] = "ok" if ok else f"rc={r['rc']}, {n} objects, {size} B"
    r["stdout_tail"] = out.read_text(errors="replace")[-300:]
    if ok:
        r.pop("stderr", None)
    req = r.get("requests", {})
    print(
        f"  {phase:9s} {r['via']:6s} rep{rep} {client:16s} wall={r['wall_s']:7.2f}s cpu={r['cpu_s']:6.2f}s "
        f"rss={r['maxrss_mib']:6.1f}MiB " + " ".join(f"{k}={req[k]}" for k in KINDS if k in req) + f" {r['valid']}",
        flush=True,
    )
    return r


# ---------------------------------------------------------------- summary and report
def summarize(runs: list[dict[str, Any]], phase: str, via: str) -> list[dict[str, Any]]:
    rows = []
    for client in [*CLIENTS, *EXTRA]:
        rs = [r for r in runs if r["client"] == client and r["phase"] == phase and r["via"] == via]
        if not rs:
            continue
        good = [r for r in rs if r["valid"] == "ok"]
        row: dict[str, Any] = {"client": client, "n": len(good), "failed": len(rs) - len(good)}
        if not good:
            row["error"] = f"{rs[-1]['valid']} {rs[-1].get('stderr', '')[-300:]}"
            rows.append(row)
            continue
        for m in ("wall_s", "cpu_s", "maxrss_mib", "server_cpu_s"):
            vals = [float(r[m]) for r in good]
            row[m] = {"median": round(statistics.median(vals), 3), "min": min(vals), "max": max(vals)}
        if "requests" in good[0]:
            row["requests"] = {k: int(statistics.median(r["requests"][k] for r in good)) for k in (*KINDS, "total")}
            row["requests_max"] = {k: max(r["requests"][k] for r in good) for k in (*KINDS, "total")}
            row["detail"] = good[0]["detail"]
        rows.append(row)
    return rows


def verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by = {r["client"]: r for r in rows if "wall_s" in r}
    if "cloudpane" not in by or not all(p in by for p in PEERS):
        return {"met": False, "why": "a client failed: " + ", ".join(r["client"] for r in rows if "wall_s" not in r)}
    cp = by["cloudpane"]["wall_s"]["median"]
    best = min(PEERS, key=lambda p: by[p]["wall_s"]["median"])
    faster = all(cp < by[p]["wall_s"]["median"] for p in PEERS)
    out: dict[str, Any] = {
        "cloudpane wall s": cp,
        "best peer": best,
        "best peer wall s": by[best]["wall_s"]["median"],
        "ratio to best peer": round(cp / by[best]["wall_s"]["median"], 3),
        "faster than both peers": faster,
    }
    if "requests_max" in by["cloudpane"]:
        out["cloudpane PUTs (max over reps)"] = by["cloudpane"]["requests_max"]["PUT"]
        out["met"] = faster and out["cloudpane PUTs (max over reps)"] == 0
    else:
        out["met"] = faster
    return out


def table(rows: list[dict[str, Any]], counts: bool) -> list[str]:
    head = "| client | wall s | CPU s | peak RSS MiB | server CPU s |"
    sep = "|---|---:|---:|---:|---:|"
    if counts:
        head += " LIST | PUT | HEAD | GET | other |"
        sep += "---:|---:|---:|---:|---:|"
    lines = [head, sep]
    for r in rows:
        name = NAMES.get(r["client"], r["client"])
        if "wall_s" not in r:
            lines.append(f"| {name} | failed: {r.get('error', '')[:80]} |")
            continue
        cells = [
            f"{r['wall_s']['median']:.2f}",
            f"{r['cpu_s']['median']:.2f}",
            f"{r['maxrss_mib']['median']:.0f}",
            f"{r['server_cpu_s']['median']:.2f}",
        ]
        if counts:
            cells += [str(r["requests"][k]) for k in KINDS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def to_markdown(doc: dict[str, Any], plan: dict[str, Any] | None) -> str:
    m = doc["meta"]
    v = doc["verdict"]
    lines = [
        "## Incremental backup: no-change run and planning memory",
        "",
        f"`bench/backup_bench.py`, {m['date (UTC)']} UTC: {m['files']:,} files of {m['file bytes']} B in a 3-level "
        f"tree on tmpfs, one `rclone serve s3` on 127.0.0.1 (storage on tmpfs), a counting HTTP proxy (Python "
        f"asyncio, in the benchmark process) between each client and the server. Medians of {m['reps']} "
        "no-change runs after an initial upload by the same client to its own prefix; each client with its "
        "defaults. Wall from perf_counter, CPU (user+sys) and peak RSS from GNU time; request counts from the "
        f"proxy (median per run). Machine: {m.get('cpu', '?')}, {m.get('cores (os.cpu_count)', '?')} cores; "
        f"1-min load average before the runs (median / max): {m.get('load', '?')}.",
        "",
        "### No-change backup (through the counting proxy)",
        "",
        *table(doc["no_change"], counts=True),
        "",
        f"**Target (faster than both peers, 0 PUTs): {'met' if v.get('met') else 'NOT met'}.** "
        + (
            f"cloudpane {v['cloudpane wall s']:.2f} s vs best peer {v['best peer']} {v['best peer wall s']:.2f} s "
            f"(ratio {v['ratio to best peer']}); cloudpane PUTs: {v.get('cloudpane PUTs (max over reps)')}."
            if "cloudpane wall s" in v
            else v.get("why", "")
        ),
        "",
    ]
    cp_row = next((r for r in doc["no_change"] if r["client"] == "cloudpane" and "requests" in r), None)
    if cp_row and cp_row["requests"]["HEAD"] >= m["files"] // 2:
        lines += [
            "Why cloudpane sends a HEAD per object here: it uploads with rclone's `mtime` metadata, and "
            "`rclone serve s3` (local backend) then stores that as the file's modification time and lists it as "
            "LastModified, truncated to milliseconds. The local file's mtime (nanoseconds) is then a fraction of a "
            "millisecond *newer* than LastModified for almost every file, so the listing-only shortcut "
            "(`local mtime <= LastModified`) "
            "does not apply and the comparer reads the `mtime` metadata by HEAD (checked by hand on 5 files: local "
            "mtime 1795311328.381262112, listed LastModified 1795311328.381, metadata Mtime 1795311328.381262112). "
            "On AWS S3 LastModified is the upload time and the shortcut would apply: the row `cloudpane on the prefix "
            "aws uploaded` measures that case on this server.",
            "",
        ]
    if doc.get("no_change_direct"):
        vd = doc["verdict_direct"]
        lines += [
            "### No-change backup, straight to the server (no proxy; times only)",
            "",
            *table(doc["no_change_direct"], counts=False),
            "",
            f"Faster than both peers without the proxy: {vd.get('faster than both peers')}"
            + (f" (ratio to best peer {vd['ratio to best peer']})" if "ratio to best peer" in vd else "")
            + ".",
            "",
        ]
    lines += [
        "### Initial upload (one run each, through the proxy; not a target)",
        "",
        *table(doc["initial"], counts=True),
        "",
        "Requests by detail in one no-change run:",
        "",
    ]
    for r in doc["no_change"]:
        if "detail" in r:
            lines.append(f"- {r['client']}: " + ", ".join(f"{k} x{n}" for k, n in r["detail"].items()))
    lines.append("")
    if plan:
        lines += [
            "### Planning memory (`bench/plan_memory.py`)",
            "",
            "Peak RSS of the planner in a fresh process per size, over synthetic in-process stores that yield "
            "sorted pages of entries lazily (both sides identical: a no-change plan). `march`: the lock-step merge "
            "alone; `backup`: `backup(..., dry_run=True)`, the whole planner; `control`: the merge with every pair "
            "kept in a list, to show that the method sees growth when there is some.",
            "",
            plan["markdown"].rstrip(),
            "",
        ]
    return "\n".join(lines) + "\n"


def write_report() -> Path:
    doc = json.loads((B.RESULTS / "backup.json").read_text())
    pm = B.RESULTS / "plan_memory.json"
    plan = json.loads(pm.read_text()) if pm.exists() else None
    out = B.RESULTS / "backup.md"
    out.write_text(to_markdown(doc, plan))
    return out


# ---------------------------------------------------------------- main
def main() -> int:
    if "--report" in sys.argv[1:]:
        print(write_report())
        return 0
    for tool in (B.BENCH_BIN / "aws", B.BENCH_BIN / "rclone", B.PROJECT_BIN / "cloudpane", Path("/usr/bin/time")):
        if not tool.exists():
            print(f"missing {tool}: run bench/setup.sh first", file=sys.stderr)
            return 2
    started = dt.datetime.now(dt.UTC)
    t_start = time.perf_counter()
    B.WORK.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "date (UTC)": started.strftime("%Y-%m-%d %H:%M"),
        "files": FILES,
        "file bytes": FILE_BYTES,
        "reps": REPS,
        "work dir (tmpfs)": str(B.WORK),
        "rclone remote": "type s3, provider Other, default flags",
        "versions": {
            "cloudpane": B.first_line([str(B.PROJECT_BIN / "cloudpane"), "--version"]),
            "aws cli": B.first_line([str(B.BENCH_BIN / "aws"), "--version"]),
            "rclone (client and server)": B.first_line([str(B.BENCH_BIN / "rclone"), "version"]),
        },
    }
    meta.update(B.machine_info())
    meta.update(make_tree())
    runs: list[dict[str, Any]] = []
    srv = B.RcloneServer(B.BENCH_BIN / "rclone", B.WORK / "storage")
    try:
        srv.start()
        meta["server"] = f"rclone serve s3 on {srv.endpoint}, storage on tmpfs (ready in {srv.ready_s:.2f} s)"
        s3 = s3_client(srv.endpoint)
        s3.create_bucket(Bucket=B.BUCKET)
        with CountingProxy(srv.port) as proxy:
            meta["proxy"] = proxy.endpoint
            print("initial upload", flush=True)
            for client in CLIENTS:
                runs.append(run(client, "initial", 1, proxy.endpoint, srv, proxy, s3))
            time.sleep(1.1)
            for rep in range(1, REPS + 1):
                order = [*CLIENTS[rep - 1 :], *CLIENTS[: rep - 1], *EXTRA]
                print(f"no-change rep {rep}: {', '.join(order)}", flush=True)
                for client in order:
                    runs.append(run(client, "no-change", rep, proxy.endpoint, srv, proxy, s3))
        if DIRECT:
            for rep in range(1, REPS + 1):
                order = [*CLIENTS[rep - 1 :], *CLIENTS[: rep - 1], *EXTRA]
                print(f"no-change rep {rep}, direct: {', '.join(order)}", flush=True)
                for client in order:
                    runs.append(run(client, "no-change", rep, srv.endpoint, srv, None, s3))
        meta["server peak RSS MiB"] = round(B.proc_hwm_kib(srv.pid) / 1024, 1)
    finally:
        srv.stop()
        if os.environ.get("KEEP_DATA", "0") != "1":
            shutil.rmtree(B.WORK, ignore_errors=True)
    meta["benchmark wall s"] = round(time.perf_counter() - t_start, 1)
    loads = [float(r["loadavg_1m_before"]) for r in runs if r["phase"] == "no-change"]
    meta["load"] = f"{statistics.median(loads):.1f} / {max(loads):.1f}" if loads else "n/a"
    no_change = summarize(runs, "no-change", "proxy")
    doc: dict[str, Any] = {
        "meta": meta,
        "no_change": no_change,
        "verdict": verdict(no_change),
        "initial": summarize(runs, "initial", "proxy"),
    }
    if DIRECT:
        doc["no_change_direct"] = summarize(runs, "no-change", "direct")
        doc["verdict_direct"] = verdict(doc["no_change_direct"])
    doc["runs"] = runs
    B.write_json(B.RESULTS / "backup.json", doc)
    out = write_report()
    print(out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
