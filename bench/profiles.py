"""py-spy profiles of cloudpane runs: record (CPU samples with native frames, per thread) and summarise.

With ``--native`` py-spy samples waiting threads too; samples whose innermost frames wait (a lock, a queue, epoll,
the GIL) are counted apart, so the shares below are shares of the CPU the cloudpane process used, the MD5 worker
threads included. A sample goes to "imports" when an import is anywhere on its stack; otherwise the frame nearest
the leaf that matches a category decides (the order below breaks ties), so the shares add up to 100 %.
"""

from __future__ import annotations

import collections
import gzip
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import benchlib as B

RATE = 100  # samples per second per running thread; native unwinding is not free on 2 cores

#: (category, regex on one frame), first match wins; frames are "function (file:line)" or "function (lib.so)"
CATEGORIES: list[tuple[str, re.Pattern[str]]] = [
    ("imports and start-up", re.compile(r"_find_and_load|<frozen importlib|_call_with_frames_removed")),
    ("MD5 (Content-MD5, md5chksum, verification)", re.compile(r"md5|MD5")),
    ("SHA-256 (SigV4 payload hash, signing)", re.compile(r"sha256|SHA256|sha2_|hmac|HMAC", re.I)),
    ("CRC32 checksums", re.compile(r"crc32|CRC32|crc_", re.I)),
    ("XML parsing of responses", re.compile(r"botocore/parsers\.py|xml/etree|expat|XMLParser|pyexpat", re.I)),
    (
        "local file reads/writes",
        re.compile(r"_io_FileIO|_Py_read|_Py_write|os_pwrite|os_write|_io__Buffered|^(read|write|pwrite64) \(libc"),
    ),
    (
        "socket send/recv (syscalls)",
        re.compile(r"sock_recv|sock_send|sock_sendall|socket_send|sendmsg|recv_into|_SelectorSocketTransport"),
    ),
    ("garbage collection", re.compile(r"gc_collect|collect_generations|visit_decref|subtract_refs")),
    ("aiohttp (HTTP client)", re.compile(r"aiohttp/|multidict|yarl/")),
    ("botocore/aiobotocore (request build, sign, hooks, retries)", re.compile(r"botocore/|s3transfer/")),
    ("output (click.echo, humanize)", re.compile(r"click/(utils|termui|_compat)|humanize/")),
    ("cloudpane (tui/)", re.compile(r"tui/")),
    ("asyncio event loop", re.compile(r"asyncio/|selectors\.py|epoll")),
]


#: frames of a thread that waits (py-spy's idle detection does not work with --native): not CPU, left out
WAITING: list[tuple[str, re.Pattern[str]]] = [
    ("waiting for the GIL", re.compile(r"take_gil|drop_gil")),
    (
        "waiting (locks, queues, epoll, join)",
        re.compile(
            r"pthread_cond_(timed)?wait|PyThread_acquire_lock|sem_(timed|clock)?wait|epoll_wait|"
            r"EpollSelector\.select|_queue_SimpleQueue_get|_shutdown \(threading|futex|nanosleep|time_sleep"
        ),
    ),
]


def record(argv: list[str], env: dict[str, str], raw: Path, srv: B.RcloneServer, svg: Path | None) -> dict[str, Any]:
    """Run ``argv`` once under ``py-spy record`` (raw collapsed stacks to ``raw``); optionally once more for an SVG
    flame graph. Wall and server CPU are of the profiled run (py-spy slows it down a little)."""
    raw.parent.mkdir(parents=True, exist_ok=True)
    out = B.WORK / "logs" / "profile.out"
    spy = [str(B.BENCH_BIN / "py-spy"), "record", "--native", "--threads", "-r", str(RATE)]
    s0 = srv.cpu()
    t0 = time.perf_counter()
    with open(out, "wb") as so, open(f"{out}.err", "wb") as se:
        rc = subprocess.run(
            [*spy, "--format", "raw", "-o", str(raw), "--", *argv],
            env=env,
            stdout=so,
            stderr=se,
            cwd=str(B.WORK),
            timeout=900,
            check=False,
        ).returncode
    result = {"wall_s": round(time.perf_counter() - t0, 3), "server_cpu_s": round(srv.cpu() - s0, 3), "rc": rc}
    if svg is not None:
        subprocess.run(
            [*spy, "--format", "flamegraph", "-o", str(svg), "--", *argv],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=str(B.WORK),
            timeout=900,
            check=False,
        )
    return result


def compress(raw: Path) -> Path:
    """``profile-x.txt`` -> ``profile-x.txt.gz`` (collapsed stacks shrink ~20x)."""
    gz = raw.with_name(raw.name + ".gz")
    with open(raw, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    raw.unlink()
    return gz


def _read(raw: Path) -> str:
    if raw.suffix == ".gz":
        with gzip.open(raw, "rt", errors="replace") as f:
            return f.read()
    return raw.read_text(errors="replace")


def _parse(raw: Path) -> list[tuple[str, list[str], int]]:
    """(thread, frames root first, count) per collapsed line."""
    rows = []
    for line in _read(raw).splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        thread = frames[0]
        m = re.match(r"thread \((?:0x)?[0-9a-fA-F]+\): ?(.*)", thread)
        name = (m.group(1) if m else thread).strip() or "unnamed"
        # asyncio_0, asyncio_1 ... -> one row for the pool
        name = re.sub(r"_\d+$", "_N", name)
        if name.startswith("thread ("):
            name = "unnamed (the main thread before `threading` is imported, or a native thread)"
        rows.append((name, frames[1:], int(count)))
    return rows


def _waiting(frames: list[str]) -> str | None:
    tail = frames[-6:]
    for name, pattern in WAITING:
        if any(pattern.search(f) for f in tail):
            return name
    return None


COPIES = "buffer copies (memcpy/realloc called from Python code)"
_LIBC_LEAF = re.compile(r"^(0x[0-9a-f]+ \(libc\.so\.6\)|realloc|__memmove\w*|__memcpy\w*|memcpy|memmove|brk|sbrk)")


def _is_copy(frames: list[str]) -> bool:
    """libc at the leaf called straight from Python code (``bytes(buf)``, ``buf += chunk``), not a syscall."""
    i = len(frames) - 1
    while i >= 0 and _LIBC_LEAF.match(frames[i]):
        i -= 1
    if i == len(frames) - 1 or i < 0:
        return False
    caller = frames[i]
    return ".py:" in caller or "bytearray" in caller.lower() or "PyBytes" in caller


def _category(frames: list[str]) -> str:
    """Imports win wherever they are on the stack; otherwise the frame nearest the leaf that matches decides."""
    name, pattern = CATEGORIES[0]
    if any(pattern.search(f) for f in frames):
        return name
    if _is_copy(frames):
        return COPIES
    for f in reversed(frames):
        for name, pattern in CATEGORIES[1:]:
            if pattern.search(f):
                return name
    return "other"


def _short(frame: str) -> str:
    """``func (path/to/site-packages/pkg/mod.py:12)`` -> ``func (pkg/mod.py)``."""
    m = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not m:
        return frame
    func, where = m.groups()
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{func} ({where})"


def analyze(raw: Path) -> dict[str, Any]:
    rows = _parse(raw) if raw.exists() else []
    total = sum(c for _, frames, c in rows if _waiting(frames) is None)
    cats: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    waits: collections.Counter[str] = collections.Counter()
    leaf_py: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    callers: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for thread, frames, count in rows:
        wait = _waiting(frames)
        if wait is not None:
            waits[f"{wait} ({thread})"] += count
            continue
        cat = _category(frames)
        cats[cat] += count
        inner = [f for f in frames if ".py:" in f]
        callers[cat][_short(inner[-1]) if inner else "(native only)"] += count
        threads[thread] += count
        py = [f for f in frames if ".py:" in f]
        leaf_py[_short(py[-1]) if py else "(native only)"] += count
        for f in {_short(f) for f in py}:
            inclusive[f] += count

    def share(counter: collections.Counter[str], n: int) -> list[dict[str, Any]]:
        return [
            {"name": k, "samples": v, "share": round(v / total, 4) if total else 0.0, "cpu_s": round(v / RATE, 2)}
            for k, v in counter.most_common(n)
        ]

    return {
        "samples": total,
        "rate_hz": RATE,
        "cpu_s_sampled": round(total / RATE, 2),
        "categories": share(cats, 30),
        "threads": share(threads, 10),
        "self_python": share(leaf_py, 15),
        "inclusive_python": share(inclusive, 25),
        "category_callers": {
            c: [{"name": k, "cpu_s": round(v / RATE, 2)} for k, v in callers[c].most_common(4)] for c in cats
        },
        "waiting": [{"name": k, "samples": v, "s": round(v / RATE, 2)} for k, v in waits.most_common(10)],
    }


def to_markdown(op: str, a: dict[str, Any], run: dict[str, Any]) -> str:
    lines = [
        f"# py-spy profile of cloudpane: {op}",
        "",
        f"One run under `py-spy record --native --threads -r {a['rate_hz']}` (CPU samples only): "
        f"wall {run['wall_s']:.2f} s, {a['samples']} samples = {a['cpu_s_sampled']:.2f} CPU-s sampled, "
        f"server CPU {run['server_cpu_s']:.2f} s, run {run.get('valid', '?')}. Raw stacks: `profile-{op}.txt.gz`.",
        "",
        "## Where the CPU goes (each sample in its first matching category)",
        "",
        "| category | share | CPU s |",
        "|---|---|---|",
    ]
    lines += [f"| {c['name']} | {c['share'] * 100:.1f} % | {c['cpu_s']:.2f} |" for c in a["categories"]]
    lines += ["", "## Innermost Python function of each category's samples", ""]
    for c in a["categories"]:
        tops = ", ".join(f"`{x['name']}` {x['cpu_s']:.2f} s" for x in a.get("category_callers", {}).get(c["name"], []))
        lines.append(f"- **{c['name']}**: {tops}")
    lines += ["", "## Threads", "", "| thread | share | CPU s |", "|---|---|---|"]
    lines += [f"| {c['name']} | {c['share'] * 100:.1f} % | {c['cpu_s']:.2f} |" for c in a["threads"]]
    lines += [
        "",
        "Samples of waiting threads, left out above (thread-seconds; with `--native` py-spy samples them too):",
        "",
        "| waiting | thread-s |",
        "|---|---|",
    ]
    lines += [f"| {w['name']} | {w['s']:.2f} |" for w in a.get("waiting", [])]
    lines += [
        "",
        "## Innermost Python function (native time below it included)",
        "",
        "| function | share | CPU s |",
        "|---|---|---|",
    ]
    lines += [f"| `{c['name']}` | {c['share'] * 100:.1f} % | {c['cpu_s']:.2f} |" for c in a["self_python"]]
    lines += ["", "## Inclusive (on the stack)", "", "| function | share | CPU s |", "|---|---|---|"]
    lines += [f"| `{c['name']}` | {c['share'] * 100:.1f} % | {c['cpu_s']:.2f} |" for c in a["inclusive_python"]]
    return "\n".join(lines) + "\n"
