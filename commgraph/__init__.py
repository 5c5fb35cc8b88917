"""commgraph: a cell–cell communication graph database.

Load per-run ligand–receptor inference (CellPhoneDB v5, LIANA+, CellChat, CSV) into a graph
keyed by cell type × day × group, in an embedded LadybugDB store or a Neo4j server, and ask
how signaling changes with time and dose.

>>> import commgraph as cg
>>> store = cg.connect("study.lbug")                                          # doctest: +SKIP
>>> cg.load(store, "cellphonedb", "out/day7_high", day=7, group="high")       # doctest: +SKIP
>>> store.query("signaling_change", cell_type="MX1+ Mono", day=7, group="high")  # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._differential import Differential, contrast_id, differential, model_matrices, per_sample_scores
from ._load import RunSpec, load, load_manifest, read_cell_counts, read_manifest
from ._queries import browser_favorites, list_queries
from ._samples import read_sample_sheet, sample_measurements
from ._schema import COLUMNS, describe_columns, validate
from ._transfer import copy_store, export_neo4j_import, push_bulk, study_table
from .associations import associate, co_variation, responders  # scipy/statsmodels load on first call
from .errors import CommgraphError, HintWarning, InputError, QueryError, StoreError
from .stores import Store, connect
from . import clinical  # the clinical questions asked of a store


def read(format: str, source, **kwargs):
    """Parse one run's native output into a validated canonical table (see ``commgraph.formats``)."""
    from .formats import read as _read

    return _read(format, source, **kwargs)


# the views and the report load on first use: loading and querying never import them
_LAZY = {"view": "views", "write_views": "views", "write_report": "report", "views": None, "report": None}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'commgraph' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
    return module if _LAZY[name] is None else getattr(module, name)


try:
    __version__ = version("commgraph")
except PackageNotFoundError:  # a bare checkout on sys.path
    __version__ = "0+unknown"

__all__ = [
    "clinical",
    "COLUMNS",
    "CommgraphError",
    "HintWarning",
    "InputError",
    "QueryError",
    "RunSpec",
    "Store",
    "StoreError",
    "associate",
    "co_variation",
    "connect",
    "copy_store",
    "export_neo4j_import",
    "push_bulk",
    "study_table",
    "describe_columns",
    "Differential",
    "contrast_id",
    "differential",
    "per_sample_scores",
    "model_matrices",
    "browser_favorites",
    "list_queries",
    "load",
    "load_manifest",
    "read",
    "read_cell_counts",
    "read_manifest",
    "read_sample_sheet",
    "responders",
    "sample_measurements",
    "validate",
    "view",
    "write_report",
    "write_views",
]
