"""Lineage of a cell type, from its name: a schema fact the store records on CellType nodes
and the views colour by (so loading needs no view code).

The name is split into lower-case words and the first rule of :data:`LINEAGE_RULES` with a
matching word wins:

- myeloid — a word starting with ``mono`` (Mono, Monocyte) or ``macro``, or ``dc``/``cdc``/``pdc``:
  "MX1+ Mono", "CD14 Mono", "LGALS2+ Mono"
- NK — a word starting with ``nk``: "NK", "CD56bright NK", "NKT"
- T — ``t``, ``treg``/``tregs``, ``mait`` or ``gdt``: "CD4 Naive T", "Treg", "T cells"
- B — ``b`` or a word starting with ``plasma``: "Naive B", "B 'naive'", "Plasmablast"
- other — anything else: "Platelet"
"""

from __future__ import annotations

import re

MYELOID, NK, T, B, OTHER = "myeloid", "NK", "T", "B", "other"
LINEAGES: tuple[str, ...] = (MYELOID, T, B, NK, OTHER)  # order around the circle

#: (lineage, regular expression on one lower-cased word of the name); first match wins.
LINEAGE_RULES: tuple[tuple[str, str], ...] = (
    (MYELOID, r"mono.*|macro.*|c?dcs?|pdcs?"),
    (NK, r"nk.*"),
    (T, r"t|tregs?|mait|gdt"),
    (B, r"b|plasma.*"),
)

_WORD = re.compile(r"[a-z0-9]+")
_RULES = tuple((lineage, re.compile(rf"(?:{rx})")) for lineage, rx in LINEAGE_RULES)


def lineage_of(cell_type: str) -> str:
    """The lineage of a cell type by :data:`LINEAGE_RULES` (``"other"`` when no rule matches).

    >>> lineage_of("MX1+ Mono"), lineage_of("Treg"), lineage_of("Naive B"), lineage_of("NK")
    ('myeloid', 'T', 'B', 'NK')
    >>> lineage_of("Platelet")
    'other'
    """
    words = _WORD.findall(str(cell_type).lower())
    for lineage, rx in _RULES:
        if any(rx.fullmatch(w) for w in words):
            return lineage
    return OTHER
