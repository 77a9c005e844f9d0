"""bench/RESULTS.md from results/summary.json (``python bench/report.py`` rewrites it without re-running)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
MiB = 1024 * 1024
TARGET_OPS = ["put1g", "get1g", "puttree", "gettree", "copytree", "list"]
RSS_TARGET_MIB = 150


def _opname(op: str, meta: dict[str, Any]) -> str:
    return {
        "put1g": f"upload one {meta['big file MiB']} MiB file",
        "get1g": f"download one {meta['big file MiB']} MiB file",
        "puttree": f"upload {meta['tree files (16 KiB each)']} x 16 KiB files",
        "gettree": f"download {meta['tree files (16 KiB each)']} x 16 KiB files",
        "copytree": f"copy {meta['tree files (16 KiB each)']} x 16 KiB objects to another bucket (S3 -> S3)",
        "list": f"list {meta['list keys']} keys",
        "noop": "start, connect, list a prefix of one key (target: within 2x s5cmd)",
    }[op]


def _rate(op: str, wall: float, meta: dict[str, Any]) -> str:
    if op in ("put1g", "get1g"):
        return f"{meta['big file MiB'] * MiB / wall / 1e6:.0f} MB/s"
    if op in ("puttree", "gettree", "copytree"):
        return f"{meta['tree files (16 KiB each)'] / wall:.0f} files/s"
    if op == "list":
        return f"{meta['list keys'] / wall:.0f} keys/s"
    return "-"


def _ratio(r: dict[str, Any], m: str) -> str:
    v = r.get("ratio", {}).get(m)
    return "-" if v is None else f"{v:.2f}"


def _pct(a: dict[str, Any], n: int) -> str:
    parts = [f"{c['name']} {c['share'] * 100:.0f} %" for c in a["categories"][:n] if c["share"] >= 0.02]
    return "; ".join(parts)


def render(s: dict[str, Any], analysis: str | None, results: Path = BENCH / "results") -> str:
    meta, vers, rows = s["meta"], s["versions"], s["summary"]
    ops = [op for op in [*TARGET_OPS, "noop"] if any(r["op"] == op for r in rows)]
    out = [
        "# cloudpane against s5cmd, the aws cli and rclone",
        "",
        f"Measured {meta['date (UTC)']} UTC by `bench/run.py` on this project's machine: "
        f"{meta.get('cpu', '?')}, {meta.get('cores (os.cpu_count)', '?')} cores, {meta.get('memory', '?')}, "
        f"{meta.get('kernel', '?')}. One local `rclone serve s3` on 127.0.0.1 served every client; its storage "
        "and the test data were on tmpfs. The machine is shared and noisy: compare the ratios within one run, "
        "not absolute seconds across runs.",
        "",
        "Each number is the median of the runs (REPS = "
        f"{meta['reps']}, the client order rotated each rep; min-max in parentheses). Wall time is measured around "
        "the process; CPU (user+sys) and peak RSS come from GNU time `%U %S %M` (children included). Server CPU is "
        "rclone's. Ratios are to the best **peer** (s5cmd, aws cli v1, rclone) in the same column: wall to the "
        "fastest peer, CPU to the leanest, RSS to the smallest. Every client runs with its defaults; cloudpane as "
        "it is (8 MiB parts x 8 in flight, 16 files in flight, MD5 of the whole local file before a multipart "
        "upload). Each client downloads what it uploaded itself.",
        "",
        "**Targets** (issue 9): wall ratio <= 1.00 to the best peer on every row and <= 0.80 on the small-file, "
        f"copy and listing rows; peak RSS <= {RSS_TARGET_MIB} MiB and CPU-seconds <= 1.2x the leanest peer's on "
        "both 1 GiB rows; start-up (`noop`) within 2x s5cmd's time.",
        "",
        "## cloudpane against the targets",
        "",
        "| operation | cloudpane wall s | best peer | its wall s | wall ratio | cloudpane CPU s | cloudpane peak RSS "
        "MiB | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    misses = s.get("misses", {})
    for op in [*TARGET_OPS, "noop"]:
        r = next((x for x in rows if x["client"] == "cloudpane" and x["op"] == op), None)
        if r is None:
            continue
        if "wall_s" not in r:
            out.append(f"| {_opname(op, meta)} | FAILED | | | | | | miss |")
            continue
        if "best_peer" not in r:
            out.append(f"| {_opname(op, meta)} | {r['wall_s']['median']:.2f} | (no peer measured) | | | | | |")
            continue
        best = r["best_peer"]["wall_s"]
        peer = next(x for x in rows if x["client"] == best and x["op"] == op)
        verdict = "**miss**: " + "; ".join(misses[op]) if op in misses else "met"
        out.append(
            f"| {_opname(op, meta)} | {r['wall_s']['median']:.2f} | {best} | {peer['wall_s']['median']:.2f} | "
            f"**{r['ratio']['wall_s']:.2f}** | {r['cpu_s']['median']:.2f} | {r['maxrss_mib']['median']:.0f} | "
            f"{verdict} |"
        )
    out.append("")
    if analysis:
        out += [analysis.strip(), ""]
    out += ["## All clients, per operation", ""]
    for op in ops:
        sub = [r for r in rows if r["op"] == op]
        out += [
            f"### {_opname(op, meta)}",
            "",
            "| client | wall s | rate | CPU s (user+sys) | peak RSS MiB | server CPU s | wall ratio | CPU ratio | "
            "RSS ratio | runs ok |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in sub:
            if "wall_s" not in r:
                err = r.get("error", "")[:160].replace("|", "/").replace("\n", " ")
                out.append(f"| {r['client']} | FAILED: {err} | | | | | | | | 0/{r['failed']} |")
                continue
            w, c = r["wall_s"], r["cpu_s"]
            out.append(
                f"| {r['client']} | {w['median']:.2f} ({w['min']:.2f}-{w['max']:.2f}) | {_rate(op, w['median'], meta)} "
                f"| {c['median']:.2f} ({r['user_s']['median']:.2f}+{r['sys_s']['median']:.2f}) | "
                f"{r['maxrss_mib']['median']:.0f} | {r['server_cpu_s']['median']:.2f} | {_ratio(r, 'wall_s')} | "
                f"{_ratio(r, 'cpu_s')} | {_ratio(r, 'maxrss_mib')} | {r['n']}/{r['n'] + r['failed']} |"
            )
        out.append("")
    profiles = s.get("profiles", {})
    if profiles:
        out += [
            "## Profiles of cloudpane (py-spy)",
            "",
            "One extra run per row under `py-spy record --native --threads` (CPU samples only, so the shares are "
            "shares of cloudpane's own CPU time, MD5 worker threads included). Full tables: "
            "`results/profile-<op>.md`; raw collapsed stacks: `results/profile-<op>.txt.gz`.",
            "",
            "| operation | CPU-s sampled | top categories |",
            "|---|---|---|",
        ]
        for op, p in profiles.items():
            a = p["analysis"]
            out.append(f"| {op} | {a['cpu_s_sampled']:.2f} | {_pct(a, 7)} |")
        out.append("")
    out += ["## Setup", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in meta.items()]
    out += ["", "## Versions", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in vers.items()]
    out += [
        "",
        "## How to re-run",
        "",
        "```sh",
        "bash bench/setup.sh            # GNU time; bench/.venv with the peers and py-spy (pinned); the project venv",
        ".venv/bin/python bench/run.py  # 9-11 min here with the full sizes and REPS=3, profiles included",
        "BIG_MIB=256 TREE_FILES=500 LIST_OBJECTS=5000 REPS=1 BENCH_RESULTS=/tmp/quick .venv/bin/python bench/run.py"
        "  # ~1.5 min",
        ".venv/bin/python bench/key_latency.py  # TUI key latency during a copy (~2 min)",
        "```",
        "",
        "Knobs: `REPS`, `BIG_MIB`, `TREE_FILES`, `LIST_OBJECTS`, `CLIENTS`, `OPS`, `PROFILE` (1: profile the rows "
        "cloudpane misses; all; 0), `PROFILE_SVG=1` (flame graphs too), `KEEP_DATA=1`, "
        "`BENCH_RESULTS` (another folder leaves `bench/results` and this file alone), `BENCH_WORK` (default "
        "`/dev/shm/cloudpane-bench`; 1 GiB needs about 3.5 GiB of tmpfs). The server gets a free port on "
        "127.0.0.1 and is stopped by its PID. `python bench/report.py` rewrites this file from "
        "`results/summary.json` and `analysis.md`.",
        "",
        "Exact commands (`EP` = the server; credentials, region and endpoint in the environment; cloudpane gets "
        "`AWS_ENDPOINT_URL` and empty `CLOUDPANE_{CONFIG,STATE,CACHE}_DIR`; rclone gets `RCLONE_CONFIG_BENCH_*`):",
        "",
        "| client | upload file | download file | upload tree | download tree | list |",
        "|---|---|---|---|---|---|",
        "| cloudpane | `cloudpane cp BIG s3://bench/big/X.bin` | `cloudpane cp s3://bench/big/X.bin DL/big.bin` | "
        "`cloudpane cp -r TREE/ s3://bench/tree/X/` | `cloudpane cp -r s3://bench/tree/X/ DL/tree/` | "
        "`cloudpane ls -r s3://bench/list/` |",
        "| awscli v1 | `aws --endpoint-url EP s3 cp BIG s3://bench/big/X.bin --only-show-errors --no-progress` | "
        "`... s3 cp s3://bench/big/X.bin DL/big.bin ...` | `... s3 cp --recursive TREE s3://bench/tree/X/ ...` | "
        "`... s3 cp --recursive s3://bench/tree/X/ DL/tree ...` | `aws --endpoint-url EP s3 ls s3://bench/list/` |",
        "| s5cmd | `s5cmd --endpoint-url EP --log error cp BIG s3://bench/big/X.bin` | `... cp s3://bench/big/X.bin "
        'DL/big.bin` | `... cp "TREE/*" s3://bench/tree/X/` | `... cp "s3://bench/tree/X/*" DL/tree/` | '
        "`s5cmd --endpoint-url EP ls s3://bench/list/` |",
        "| rclone | `rclone -q copyto BIG bench:bench/big/X.bin` | `rclone -q copyto bench:bench/big/X.bin "
        "DL/big.bin` | `rclone -q copy TREE bench:bench/tree/X/` | `rclone -q copy bench:bench/tree/X/ DL/tree` | "
        "`rclone lsf bench:bench/list/` |",
        "",
        "Every run is checked: `cmp` of the downloaded file, object and file counts and sizes, the line count of "
        "the listing. Raw runs: `results/runs.json`; medians and ratios: `results/summary.json`.",
    ]
    for wi in sorted(results.glob("whatif*.json"), key=lambda p: (len(p.name), p.name)):
        w = json.loads(wi.read_text())
        title = f"## What-if: cloudpane with one cost removed (`bench/whatif.py`, `results/{wi.name}`)"
        out += ["", title, "", w.get("markdown", "").strip()]
    kl = results / "key_latency.json"
    if kl.exists():
        k = json.loads(kl.read_text())
        out += ["", "## TUI key latency during a copy (`bench/key_latency.py`)", "", k.get("markdown", "").strip()]
    backup = results / "backup.md"
    if backup.exists():  # written by bench/backup_bench.py
        out += ["", backup.read_text().strip()]
    return "\n".join(out) + "\n"


def write(summary: dict[str, Any], path: Path, results: Path = BENCH / "results") -> None:
    """The hand-written analysis.md goes in only with the default results (it is about that run)."""
    analysis_file = BENCH / "analysis.md"
    default = results.resolve() == (BENCH / "results").resolve()
    analysis = analysis_file.read_text() if analysis_file.exists() and default else None
    path.write_text(render(summary, analysis, results))


if __name__ == "__main__":
    src = BENCH / "results" / "summary.json"
    if not src.exists():
        print("no results/summary.json: run bench/run.py first", file=sys.stderr)
        raise SystemExit(2)
    write(json.loads(src.read_text()), BENCH / "RESULTS.md")
    print("wrote", BENCH / "RESULTS.md")
