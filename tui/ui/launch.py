"""How the TUI starts (``cloudpane [LEFT [RIGHT]]`` and ``cloudpane --demo``): the one entry the CLI calls."""

from __future__ import annotations

import os

from tui.locations import parse_location
from tui.ui.app import CloudpaneApp


def run_app(*, demo: bool = False, left: str | None = None, right: str | None = None) -> int:
    """Run the TUI; returns the exit code. ``demo``: on the demo server, which runs in a child process (never in
    the TUI's interpreter) and ends with this one; raises CloudpaneError (one line) when it does not start."""
    if demo:
        from tui.demo import demo_environment
        from tui.ui.demo_app import DemoApp

        with demo_environment() as session:
            app: CloudpaneApp = DemoApp(
                parse_location(left) if left else parse_location(str(session.sample) + "/"),
                parse_location(right) if right else parse_location("s3://"),
                sample=session.sample,
                endpoint=session.server.endpoint_url,
            )
            app.run()
            return app.return_code or 0
    app = CloudpaneApp(parse_location(left or os.getcwd() + "/"), parse_location(right or "s3://"))
    app.run()
    return app.return_code or 0
