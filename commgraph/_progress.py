"""Progress bars on long work (rich), quiet when not wanted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def track(items: Iterable[T], *, description: str, show: bool = True, total: int | None = None) -> Iterator[T]:
    if not show:
        yield from items
        return
    from rich.progress import track as rich_track

    yield from rich_track(items, description=description, total=total, transient=True)
