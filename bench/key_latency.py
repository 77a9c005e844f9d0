"""TUI key latency while a large copy runs through the app's own transfer worker (target: <= 100 ms).

    .venv/bin/python bench/key_latency.py          (from the project root, after bench/setup.sh)

The real ``CloudpaneApp`` runs headless (``app.run_test()``) against a local ``rclone serve s3`` (tmpfs). Left pane:
a local folder with a KL_MIB file (default 1024) and 60 small files; right pane: ``s3://bench/kl/``. Phases:

  idle      no transfer (the baseline)
  upload    the big file to s3://bench/kl/ through ``app.run_transfer`` (the worker F5 starts)
  download  it back to a local folder, through the same worker

In each phase the script presses ``down`` SAMPLES times (default 150; back to the top, unmeasured, at the
bottom) at random gaps of 20-60 ms. A sample's latency is the time from ``pilot.press`` until the left
DataTable's cursor moved (a watcher on ``cursor_coordinate`` stamps it); ``paint_s`` is until the next screen
update after that (``App._display``, which a real terminal's driver would then write out). The parts in flight
(from the start of a part's read until its ``write_part`` returned) are counted at each press by wrapping those
functions in this process only. A copy that ends before enough samples is started again
(at most MAX_COPIES times per phase). Writes bench/results/key_latency.json (and its markdown table).

env: KL_MIB (1024) SAMPLES (150) MAX_COPIES (6) BENCH_WORK
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib as B

KL_MIB = int(os.environ.get("KL_MIB", "1024"))
SAMPLES = int(os.environ.get("SAMPLES", "150"))
MAX_COPIES = int(os.environ.get("MAX_COPIES", "6"))
TARGET_MS = 100.0
WORK = B.WORK / "key-latency"
SRC = WORK / "src"
DST = WORK / "dst"

IN_FLIGHT = {"n": 0}


def instrument() -> None:
    """Count the engine's parts in flight: from the start of a part's read (``_read_range``) until its writer's
    ``write_part`` returned, whichever way the copy goes. Patched in this process only; nothing in tui/ changes."""
    from tui.storage import local, s3
    from tui.transfer import copy

    read_range = copy._read_range

    async def counted_read_range(*args: Any, **kwargs: Any) -> Any:
        IN_FLIGHT["n"] += 1
        try:
            return await read_range(*args, **kwargs)
        except BaseException:
            IN_FLIGHT["n"] -= 1
            raise

    def counted(write_part: Any) -> Any:
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await write_part(self, *args, **kwargs)
            finally:
                IN_FLIGHT["n"] -= 1

        return wrapper

    copy._read_range = counted_read_range  # type: ignore[assignment]
    s3.S3Writer.write_part = counted(s3.S3Writer.write_part)  # type: ignore[method-assign]
    local.LocalWriter.write_part = counted(local.LocalWriter.write_part)  # type: ignore[method-assign]


def make_data() -> None:
    SRC.mkdir(parents=True, exist_ok=True)
    big = SRC / "big.bin"
    if not big.exists() or big.stat().st_size != KL_MIB * B.MiB:
        with open(big, "wb") as f:
            for _ in range(KL_MIB):
                f.write(os.urandom(B.MiB))
    for i in range(60):
        (SRC / f"small-{i:02d}.txt").write_bytes(b"x" * 100)


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ms[-1], 1),
        "over_target": sum(1 for v in ms if v > TARGET_MS),
    }


async def measure(endpoint: str) -> dict[str, Any]:
    from tui.config import load_settings
    from tui.locations import parse_location
    from tui.ui.app import CloudpaneApp

    settings = load_settings()
    app = CloudpaneApp(parse_location(f"{SRC}/"), parse_location(f"s3://{B.BUCKET}/kl/"), settings=settings)
    phases: dict[str, Any] = {}
    rng = random.Random(7)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(400):  # up to 20 s for the first listings
            if app.left.table.row_count > 10 and app.left.loading_done:
                break
            await asyncio.sleep(0.05)
        table = app.left.table
        table.focus()
        await pilot.pause()
        moved: dict[str, float] = {}
        painted: dict[str, float] = {}
        app.watch(table, "cursor_coordinate", lambda *_: moved.setdefault("t", time.perf_counter()), init=False)
        display = app._display

        def stamped_display(screen: Any, renderable: Any) -> None:
            if renderable is not None and "t" in moved:
                painted.setdefault("t", time.perf_counter())
            display(screen, renderable)

        app._display = stamped_display  # type: ignore[method-assign]
        presses: list[asyncio.Task[None]] = []

        async def sample() -> dict[str, Any]:
            if table.cursor_row >= table.row_count - 2:  # back to the top in one go (not measured)
                table.move_cursor(row=0, animate=False)
                await pilot.pause()
            before = table.cursor_row
            inflight = IN_FLIGHT["n"]
            moved.clear()
            painted.clear()
            t0 = time.perf_counter()
            # pilot.press also waits until the process looks idle (never, during a copy): run it as a task and
            # stop the clock on the cursor watcher and on the next screen update instead
            presses.append(asyncio.create_task(pilot.press("down")))
            for _ in range(5000):  # at most ~5 s
                if "t" in painted:
                    break
                await asyncio.sleep(0.001)
            ok = table.cursor_row != before and "t" in moved
            return {
                "latency_s": (moved["t"] - t0) if ok else None,
                "paint_s": (painted["t"] - t0) if ok and "t" in painted else None,
                "in_flight": inflight,
            }

        async def phase(name: str, start: Any) -> None:
            samples: list[dict[str, Any]] = []
            copies = 0
            worker = None
            t_phase = time.perf_counter()
            deadline = t_phase + 300
            while len(samples) < SAMPLES and time.perf_counter() < deadline:
                if start is not None and (worker is None or worker.is_finished):
                    if copies >= MAX_COPIES:
                        break
                    worker = start()
                    copies += 1
                    await asyncio.sleep(0.2)
                s = await sample()
                if start is None or s["in_flight"] > 0:
                    samples.append(s)
                await asyncio.sleep(rng.uniform(0.02, 0.06))
            if worker is not None:
                await worker.wait()
            await asyncio.gather(*presses)
            presses.clear()
            lat = [s["latency_s"] for s in samples if s["latency_s"] is not None]
            full = [s["latency_s"] for s in samples if s["latency_s"] is not None and s["in_flight"] >= 8]
            phases[name] = {
                "copies": copies,
                "seconds": round(time.perf_counter() - t_phase, 1),
                "cursor_moved": stats(lat),
                "cursor_moved_with_8_in_flight": stats(full),
                "repainted": stats([s["paint_s"] for s in samples if s["paint_s"] is not None]),
                "transfers": [(t.state, t.error) for t in app.queue.items[-copies:]] if copies else [],
                "missed_moves": sum(1 for s in samples if s["latency_s"] is None),
                "in_flight_median": statistics.median([s["in_flight"] for s in samples]) if samples else 0,
                "samples": samples,
            }
            p = phases[name]
            print(f"{name}: {p['cursor_moved']}  (8 in flight: {p['cursor_moved_with_8_in_flight']})", flush=True)

        big = parse_location(str(SRC / "big.bin"))
        remote = parse_location(f"s3://{B.BUCKET}/kl/")
        await phase("idle", None)
        await phase("upload", lambda: app.run_transfer([big], remote, move=False, conflict="overwrite"))
        DST.mkdir(parents=True, exist_ok=True)
        back = parse_location(f"s3://{B.BUCKET}/kl/big.bin")
        local = parse_location(f"{DST}/")
        await phase("download", lambda: app.run_transfer([back], local, move=False, conflict="overwrite"))
        await pilot.pause()
    return phases


def to_markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Measured {result['date (UTC)']} UTC: the real app headless (`run_test`, 120x40), a {KL_MIB} MiB file "
        f"copied by the app's transfer worker (8 MiB parts x 8 in flight) to and from `rclone serve s3` on "
        f"127.0.0.1, `down` pressed at random 20-60 ms gaps. Latency = `pilot.press` until the DataTable cursor "
        f"moved; 'until repainted' = until the next screen update after it (what a terminal would then get). "
        f"Target: <= {TARGET_MS:.0f} ms.",
        "",
        "| phase | copies | samples | median ms | p95 ms | max ms | over 100 ms | with 8 parts in flight: n / "
        "median / p95 / max ms | until repainted: median / p95 / max ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, p in result["phases"].items():
        c, f, r = p["cursor_moved"], p["cursor_moved_with_8_in_flight"], p["repainted"]
        full = f"{f['n']} / {f['median_ms']} / {f['p95_ms']} / {f['max_ms']}" if f["n"] else "0"
        lines.append(
            f"| {name} | {p['copies']} | {c.get('n', 0)} | {c.get('median_ms', '-')} | {c.get('p95_ms', '-')} | "
            f"{c.get('max_ms', '-')} | {c.get('over_target', '-')} | {full} | "
            f"{r.get('median_ms', '-')} / {r.get('p95_ms', '-')} / {r.get('max_ms', '-')} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    import datetime as dt

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    make_data()
    srv = B.RcloneServer(B.BENCH_BIN / "rclone", WORK / "storage")
    try:
        srv.start()
        env = B.clean_env({"AWS_ENDPOINT_URL": srv.endpoint})
        for d in ("state", "config", "cache"):
            (WORK / d).mkdir(exist_ok=True)
            env[f"CLOUDPANE_{d.upper()}_DIR"] = str(WORK / d)
        (B.WORK / "aws-config").parent.mkdir(parents=True, exist_ok=True)
        (B.WORK / "aws-config").write_text(f"[default]\nregion = {B.REGION}\n")
        os.environ.clear()
        os.environ.update(env)
        import boto3

        boto3.client(
            "s3", endpoint_url=srv.endpoint, aws_access_key_id=B.ACCESS_KEY, aws_secret_access_key=B.SECRET_KEY
        ).create_bucket(Bucket=B.BUCKET)
        instrument()
        started = dt.datetime.now(dt.UTC)
        phases = asyncio.run(measure(srv.endpoint))
    finally:
        srv.stop()
        if os.environ.get("KEEP_DATA", "0") != "1":
            shutil.rmtree(WORK, ignore_errors=True)
    result: dict[str, Any] = {
        "date (UTC)": started.strftime("%Y-%m-%d %H:%M"),
        "file MiB": KL_MIB,
        "samples per phase": SAMPLES,
        "target_ms": TARGET_MS,
        "machine": B.machine_info(),
        "phases": phases,
    }
    result["markdown"] = to_markdown(result)
    B.write_json(B.RESULTS / "key_latency.json", result)
    print(result["markdown"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
