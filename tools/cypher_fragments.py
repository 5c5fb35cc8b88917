"""Write the shared significance predicate into every cypher/*.cypher file.

    python tools/cypher_fragments.py          # rewrite the files
    python tools/cypher_fragments.py --check  # exit 1 when a file says it another way

The query files can't include one another (each must run unchanged in Neo4j Browser), so the
one definition lives in ``commgraph/_queries.py`` (``SIGNIFICANT``, ``SIGNIFICANT_FILTER``) and
this script puts it in the files; older spellings of the same predicate are replaced.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from commgraph._queries import SIGNIFICANT, SIGNIFICANT_FILTER  # noqa: E402

# the spellings the files used before the predicate was said once
_OLD_SIG = r"r\.significant AND \(r\.pvalue <= \$pvalue OR \$pvalue IS NULL OR r\.pvalue IS NULL\)"
_OLD_FILTER = re.compile(
    r"\(\(" + _OLD_SIG + r"\)\s*OR \$significant_only = false OR \$significant_only IS NULL\)"
)


def rewrite(text: str) -> str:
    text = _OLD_FILTER.sub(lambda m: SIGNIFICANT_FILTER, text)
    return re.sub(_OLD_SIG, lambda m: SIGNIFICANT, text)


def main(argv: list[str]) -> int:
    stale = []
    for path in sorted((REPO / "cypher").glob("*.cypher")):
        text = path.read_text()
        new = rewrite(text)
        if new != text:
            stale.append(path.name)
            if "--check" not in argv:
                path.write_text(new)
    if stale and "--check" in argv:
        print(f"significance predicate not in its one form in: {', '.join(stale)}; "
              "run python tools/cypher_fragments.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
