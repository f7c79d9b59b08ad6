"""pyparsing 3.2.3: ``reset_cache()`` clears the packrat cache outside its lock.

With packrat enabled, a parse stores results in a FIFO cache under
``ParserElement.packrat_cache_lock``; when the cache is over its size it evicts
``next(iter(cache))``. ``ParserElement.reset_cache()`` (which every
``parse_string`` also calls first) clears that cache without the lock, so a
clear between the size test and the eviction makes the parse raise
(``StopIteration`` from ``next`` on the empty cache) - pyparsing issue #604,
"Concurrency issue on Cache when packrat is enabled", fixed in 3.2.4, which
takes the lock in ``reset_cache``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

PACKAGE = "pyparsing"
BUGGY = "3.2.3"
FIXED = "3.2.4"
ISSUE = "https://github.com/pyparsing/pyparsing/issues/604"
KIND = "exception"
BUG = "reset_cache() in one thread while another parses with packrat: the parse raises"
THREADS = 2
TEXT = "ab 12 cd"


def setup() -> Any:
    import pyparsing as pp

    pp.ParserElement.enable_packrat(cache_size_limit=2, force=True)
    grammar = pp.OneOrMore(pp.Word(pp.alphas) | pp.Word(pp.nums))
    return SimpleNamespace(pp=pp, grammar=grammar, parsed=None)


def actors(state: Any) -> list[Any]:
    def parse() -> None:
        state.parsed = state.grammar.parse_string(TEXT, parse_all=True).as_list()

    def reset() -> None:
        state.pp.ParserElement.reset_cache()

    return [parse, reset]


def check(state: Any) -> None:
    assert state.parsed == TEXT.split(), f"parsed {state.parsed}"
