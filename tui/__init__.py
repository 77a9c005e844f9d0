"""cloudpane: a dual-pane terminal commander and headless CLI for object storage."""

__version__ = "0.1.0"
