"""Where the bundled cypher/ and loaders/ folders are, installed or in a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_dir(name: str) -> Path:
    """``cypher`` or ``loaders``: inside the installed package, else the repository top."""
    packaged = Path(str(resources.files("commgraph"))) / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"commgraph is missing its {name}/ folder (looked in {packaged} and {checkout})")
