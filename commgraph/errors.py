"""Errors a user can act on: each names the file, column and row at fault."""

from __future__ import annotations


class CommgraphError(Exception):
    """Base of every error commgraph raises on purpose; the CLI prints it as one line."""


class InputError(CommgraphError, ValueError):
    """Bad input data: names the file, and the column and row when there is one.

    Rows count data rows from 1, not counting the header.
    """

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None, row: int | None = None):
        self.message, self.file, self.column, self.row = message, file, column, row
        where = ", ".join(
            part
            for part in (
                str(file) if file else None,
                f"column {column!r}" if column else None,
                f"row {row}" if row is not None else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class StoreError(CommgraphError):
    """The store can't be opened or reached (wrong URI, password, server down, version)."""


class QueryError(CommgraphError, ValueError):
    """Unknown named query, or parameters that don't fit its header."""


class HintWarning(UserWarning):
    """An answer came back empty (or was not given) because a parameter names something the store
    doesn't have; the message is the hint, also in ``df.attrs["hint"]``."""
