"""Renderers of results: rich text for terminals (plain when piped) and JSON."""

from harness.report.text import make_console, render_catalogue, render_list, render_result

__all__ = ["make_console", "render_catalogue", "render_list", "render_result"]
