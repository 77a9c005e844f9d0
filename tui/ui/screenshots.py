"""Regenerate ``screenshots/*.svg`` from the real app on the embedded demo data: ``make screenshots``.

Each scene drives the app with real keys (Textual's pilot) against the demo S3 server, then saves the screen.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from tui.locations import parse_location

Scene = Callable[[Pilot[int]], Awaitable[None]]


async def _settle(pilot: Pilot[int]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.1)


async def _into(pilot: Pilot[int], *names: str) -> None:
    """Open folders (or buckets) in the active pane by name."""
    from tui.ui.app import CloudpaneApp

    app = pilot.app
    assert isinstance(app, CloudpaneApp)
    for name in names:
        await _settle(pilot)
        pane = app.active
        rows = pane._visible()
        index = next(i for i, r in enumerate(rows) if r.name == name)
        pane.table.move_cursor(row=index, animate=False)
        await pilot.press("enter")
    await _settle(pilot)


async def _cursor(pilot: Pilot[int], name: str) -> None:
    from tui.ui.app import CloudpaneApp

    app = pilot.app
    assert isinstance(app, CloudpaneApp)
    await _settle(pilot)
    rows = app.active._visible()
    app.active.table.move_cursor(row=next(i for i, r in enumerate(rows) if r.name == name), animate=False)
    await pilot.pause(0.1)


async def main_screen(pilot: Pilot[int]) -> None:
    await pilot.press("tab")
    await _into(pilot, "demo-photos", "2023")
    await pilot.press("tab")
    await _cursor(pilot, "README.md")


async def copy_dialog(pilot: Pilot[int]) -> None:
    await main_screen(pilot)
    await pilot.press("space")
    await _cursor(pilot, "notes.txt")
    await pilot.press("space")
    await pilot.press("c")
    await _settle(pilot)


async def transfers(pilot: Pilot[int]) -> None:
    await copy_dialog(pilot)
    await pilot.press("enter")
    await _settle(pilot)
    await pilot.press("t")
    await pilot.pause(0.5)


async def versions(pilot: Pilot[int]) -> None:
    await pilot.press("tab")
    await _into(pilot, "demo-photos", "notes")
    await pilot.press("u")
    await _cursor(pilot, "todo.txt")
    await pilot.press("v")
    await _settle(pilot)


async def inspector(pilot: Pilot[int]) -> None:
    await pilot.press("tab")
    await _into(pilot, "demo-photos", "2023", "01")
    await _cursor(pilot, "IMG_0001.jpg")
    await pilot.press("i")
    await _settle(pilot)


async def new_bucket(pilot: Pilot[int]) -> None:
    await pilot.press("tab")
    await _settle(pilot)
    await pilot.press("n")
    await _settle(pilot)
    await pilot.press(*"my-new-bucket")
    await pilot.pause(0.2)


async def compare(pilot: Pilot[int]) -> None:
    await pilot.press("tab")
    await _into(pilot, "demo-photos")
    await pilot.press("tab")
    await pilot.press("equals_sign")
    await _settle(pilot)


async def quit_dialog(pilot: Pilot[int]) -> None:
    """q while a 48 MiB upload runs (the app is slowed by a bandwidth limit for this scene)."""
    from tui.ui.app import CloudpaneApp

    app = pilot.app
    assert isinstance(app, CloudpaneApp) and app.left_location.path is not None
    (app.left_location.path / "video.mp4").write_bytes(os.urandom(48 * 1024 * 1024))
    await pilot.press("tab")
    await _into(pilot, "demo-scratch")
    await pilot.press("tab", "r")
    await _cursor(pilot, "video.mp4")
    await pilot.press("c")
    await _settle(pilot)
    await pilot.press("enter")
    for _ in range(500):
        if app.queue.busy().running:
            break
        await pilot.pause(0.02)
    await pilot.pause(1.0)
    await pilot.press("q")
    await pilot.pause(0.3)


async def help_screen(pilot: Pilot[int]) -> None:
    await _settle(pilot)
    await pilot.press("f1")
    await pilot.pause(0.2)


SCENES: list[tuple[str, tuple[int, int], Scene]] = [
    ("main", (100, 30), main_screen),
    ("main-80x24", (80, 24), main_screen),
    ("copy", (100, 30), copy_dialog),
    ("transfers", (100, 30), transfers),
    ("versions", (100, 30), versions),
    ("inspector", (100, 30), inspector),
    ("new-bucket", (100, 30), new_bucket),
    ("compare", (100, 30), compare),
    ("help", (80, 24), help_screen),
    ("quit", (100, 30), quit_dialog),
]

#: scenes whose transfers must still run when the picture is taken: bytes per second
SLOW = {"quit": 4 * 1024 * 1024}


async def _shoot(out: Path, name: str, size: tuple[int, int], scene: Scene, left: str) -> None:
    from tui.transfer.copy import Bandwidth
    from tui.ui.app import CloudpaneApp

    rate = SLOW.get(name)
    app = CloudpaneApp(parse_location(left), parse_location("s3://"), bandwidth=Bandwidth(rate) if rate else None)
    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        await scene(pilot)
        app.save_screenshot(filename=f"{name}.svg", path=str(out))


def main(argv: list[str]) -> int:
    from tui.demo import DemoServer, make_local_sample

    out = Path(argv[0] if argv else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    with DemoServer() as server, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(server.env())
        for name, size, scene in SCENES:
            server.reset()
            server.seed()
            # a stable path in the pictures: the sample lives in <tmp>/demo
            local = make_local_sample(Path(tmp) / name / "demo")
            # a resume journal per scene: an upload one scene leaves must not greet the next with a resume offer
            os.environ["CLOUDPANE_STATE_DIR"] = str(Path(tmp) / name / "state")
            asyncio.run(_shoot(out, name, size, scene, str(local) + "/"))
            print(f"wrote {out / (name + '.svg')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
