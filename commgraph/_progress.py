"""Progress bars on long work (rich), quiet when not wanted.

The bar goes to stderr, and only when stderr is a terminal: rich's progress on a console that is
not a terminal draws nothing but still ends with a blank line (``Progress.stop`` prints one for
non-interactive consoles), which landed on stdout, before a command's own output — `commgraph push`
piped or logged began with blank lines, and `export`'s printed command with one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def track(items: Iterable[T], *, description: str, show: bool = True, total: int | None = None) -> Iterator[T]:
    if show:
        from rich.console import Console

        console = Console(stderr=True)
        show = console.is_terminal
    if not show:
        yield from items
        return
    from rich.progress import track as rich_track

    yield from rich_track(items, description=description, total=total, transient=True, console=console)
