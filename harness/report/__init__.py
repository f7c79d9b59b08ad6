"""Renderers of results, for people: rich text for terminals (plain when piped,
:mod:`.text`), lanes of an interleaving (:mod:`.lanes`), lessons (:mod:`.lesson`),
HTML pages with SVG charts (:mod:`.html`, :mod:`.svg`) and progress bars
(:mod:`.progress`); :mod:`.browser` screenshots the HTML (a developer tool). JSON
is ``Result.to_dict()``, written by the CLI.
"""

from harness.report.text import make_console, render_catalogue, render_list, render_result

__all__ = ["make_console", "render_catalogue", "render_list", "render_result"]
