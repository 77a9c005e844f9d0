"""Peak memory of cloudpane's backup planner as the number of keys grows (10k, 100k, 1M by default).

    .venv/bin/python bench/plan_memory.py          (from the project root)

This is a planner measurement, not a network benchmark: the two "stores" below are synthetic, in-process
stand-ins written for it (plain Python, no cloud client and no mock of one). Their ``list(prefix,
recursive=True)`` yields pages of ``tui.storage.base.Entry`` generated on the fly in sorted order
(``d0000/f0000000``, ``d0000/f0000001``, ...), never materialized, so the only memory that can grow with the
number of keys is the planner's own. Both sides hold the same keys and sizes, the destination's LastModified
after the source's: a no-change plan.

Modes, each in a fresh subprocess per size (so every peak is its own):
  march    ``tui.sync.march.march`` over ``entries(src)`` and ``entries(dst)``, counting pairs
  backup   ``tui.sync.backup.backup(..., options=BackupOptions(dry_run=True))``: the whole planner, with its
           per-pair tasks, comparer and delete spill (the source looks local, the destination like a bucket,
           so the comparison is decided from the listings, as for a real local-to-S3 backup)
  control  the march, but every pair kept in a list: a deliberately growing planner, to show that the
           measurement would see growth if there were any

Peak RSS is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end; ``base`` is the same high-water mark
taken after imports and store setup, before planning, so ``growth = peak - base`` is what planning added.

env: SIZES (10000,100000,1000000) MODES (march,backup,control) BENCH_RESULTS (bench/results)
Writes bench/results/plan_memory.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS", str(BENCH / "results"))).resolve()
SIZES = [int(x) for x in os.environ.get("SIZES", "10000,100000,1000000").split(",")]
MODES = os.environ.get("MODES", "march,backup,control").split(",")
PAGE = 1000
SIZE = 1024
#: growth above this between the smallest and the largest size counts as "grows with the keys"
GROWTH_LIMIT_MIB = 10.0


def key(i: int) -> str:
    return f"d{i // 1000:04d}/f{i:07d}"


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def make_stores(n: int) -> tuple[Any, Any]:
    from tui.storage.base import Entry, Features

    class SyntheticStore:
        """``n`` keys generated page by page in sorted order; ``local`` makes it look like a directory."""

        def __init__(self, name: str, when: datetime, *, local: bool) -> None:
            self.features = Features(buckets=not local)
            self.name = name
            self.when = when
            self.stats = 0
            self.listing_errors: list[str] = []
            if local:
                self.path = lambda: Path("/synthetic") / name  # what the planner checks to call a store local

        @property
        def url(self) -> str:
            return f"synthetic://{self.name}"

        async def list(
            self, prefix: str = "", *, recursive: bool = False, page_size: int = PAGE
        ) -> AsyncIterator[list[Entry]]:
            assert recursive and prefix == ""
            for start in range(0, n, page_size):
                yield [
                    Entry(key(i), size=SIZE, last_modified=self.when, etag=f"{i:032x}")
                    for i in range(start, min(n, start + page_size))
                ]
                await asyncio.sleep(0)  # a page boundary is an await on a real store too

        async def stat(self, key: str, *, version_id: str | None = None) -> Any:
            self.stats += 1  # a no-change local-to-bucket plan never needs one
            raise AssertionError(f"unexpected stat of {key}")

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return SyntheticStore("src", t0, local=True), SyntheticStore("dst", t0 + timedelta(hours=1), local=False)


async def plan(mode: str, n: int) -> dict[str, Any]:
    from tui.sync.backup import BackupOptions, backup
    from tui.sync.march import entries, march
    from tui.transfer.copy import CopyOptions

    src, dst = make_stores(n)
    base = peak_kib()
    t = time.perf_counter()
    out: dict[str, Any] = {}
    if mode == "march":
        both = 0
        async for pair in march(entries(src, ""), entries(dst, "")):
            both += pair.src is not None and pair.dst is not None
        out["pairs on both sides"] = both
        ok = both == n
    elif mode == "backup":
        report = await backup(
            src, "", dst, "", keep=None, options=BackupOptions(dry_run=True), copy_options=CopyOptions()
        )
        out["report"] = report.line()
        ok = report.same == n and report.new == report.changed == report.failed == 0 and src.stats == dst.stats == 0
    elif mode == "control":
        kept = [pair async for pair in march(entries(src, ""), entries(dst, ""))]
        ok = len(kept) == n
    else:
        raise ValueError(mode)
    out.update(
        {
            "mode": mode,
            "keys": n,
            "seconds": round(time.perf_counter() - t, 2),
            "base_rss_mib": round(base / 1024, 1),
            "peak_rss_mib": round(peak_kib() / 1024, 1),
            "valid": "ok" if ok else "wrong result",
        }
    )
    out["growth_mib"] = round(out["peak_rss_mib"] - out["base_rss_mib"], 1)
    return out


def child(mode: str, n: int) -> None:
    sys.path.insert(0, str(PROJECT))
    print(json.dumps(asyncio.run(plan(mode, n))))


def run_child(mode: str, n: int) -> dict[str, Any]:
    t = time.perf_counter()
    r = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(n)],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(PROJECT),
        timeout=3600,
    )
    if r.returncode != 0:
        return {"mode": mode, "keys": n, "valid": f"rc={r.returncode}", "stderr": r.stderr[-800:]}
    row: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    row["process_wall_s"] = round(time.perf_counter() - t, 2)
    return row


def verdicts(rows: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for mode in MODES:
        rs = sorted((r for r in rows if r["mode"] == mode and r.get("valid") == "ok"), key=lambda r: r["keys"])
        if len(rs) < 2:
            out[mode] = "not enough sizes measured"
            continue
        lo, hi = rs[0], rs[-1]
        d = hi["peak_rss_mib"] - lo["peak_rss_mib"]
        grows = d > GROWTH_LIMIT_MIB
        out[mode] = (
            f"{'GROWS' if grows else 'flat'}: peak RSS {lo['peak_rss_mib']} MiB at {lo['keys']:,} keys, "
            f"{hi['peak_rss_mib']} MiB at {hi['keys']:,} keys ({d:+.1f} MiB for {hi['keys'] // lo['keys']}x the keys)"
        )
    return out


def to_markdown(doc: dict[str, Any]) -> str:
    lines = [
        "| mode | keys | planning s | RSS before planning MiB | peak RSS MiB | growth MiB | valid |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in doc["rows"]:
        lines.append(
            f"| {r['mode']} | {r['keys']:,} | {r.get('seconds', '')} | {r.get('base_rss_mib', '')} | "
            f"{r.get('peak_rss_mib', '')} | {r.get('growth_mib', '')} | {r.get('valid')} |"
        )
    lines.append("")
    for mode, v in doc["verdicts"].items():
        lines.append(f"- {mode}: {v}")
    return "\n".join(lines) + "\n"


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return 0
    rows = []
    for n in SIZES:
        for mode in MODES:
            row = run_child(mode, n)
            rows.append(row)
            print(json.dumps(row), flush=True)
    doc = {
        "date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "python": sys.version.split()[0],
        "method": "fresh subprocess per (mode, size); synthetic in-process stores yielding sorted pages lazily; "
        "peak = ru_maxrss at the end, base = ru_maxrss before planning",
        "growth limit MiB (smallest to largest size)": GROWTH_LIMIT_MIB,
        "rows": rows,
    }
    doc["verdicts"] = verdicts(rows)
    doc["markdown"] = to_markdown(doc)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "plan_memory.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(doc["markdown"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
