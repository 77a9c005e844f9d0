"""The TUI: the only package that imports Textual."""
