"""Write the shared fragments into every cypher/*.cypher file: the significance predicate, the
parameter guard that opens each branch, the line that keeps a branch to its path (the summary
layer or the detail edges), and the gate that repeats that path and the branch's direction on the
node its first MATCH starts from.

    python tools/cypher_fragments.py          # rewrite the files
    python tools/cypher_fragments.py --check  # exit 1 when a file says it another way

The query files can't include one another (each must run unchanged in Neo4j Browser), so the
one definition lives in ``commgraph/_queries.py`` (``SIGNIFICANT``, ``SIGNIFICANT_FILTER``,
``guard_lines``) and this script puts it in the files; older spellings of the same predicate are
replaced, and a guard is rewritten from the file's header (its parameters, types and defaults).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from commgraph._queries import (_FIRST_MATCH, GUARD_CARRY, LIVE, PATH_START, SIGNIFICANT,  # noqa: E402
                                SIGNIFICANT_FILTER, branch_direction, branch_path, gate_lines, guard_lines,
                                is_gate, parse, path_line)

# the spellings the files used before the predicate was said once
_OLD_SIG = r"r\.significant AND \(r\.pvalue <= \$pvalue OR \$pvalue IS NULL OR r\.pvalue IS NULL\)"
_OLD_FILTER = re.compile(
    r"\(\(" + _OLD_SIG + r"\)\s*OR \$significant_only = false OR \$significant_only IS NULL\)"
)
_GUARD_START = tuple(f"WITH {c} WHERE " for c in GUARD_CARRY)


def with_guards(text: str) -> str:
    """``text`` with each branch's guard (re)written from its header, after the live-run line or
    first in a branch without one."""
    spec = parse(text)
    out, lines, i = [], text.splitlines(), 0
    first_branch = True
    gate = None  # after a path line: the gate lines its branch's first MATCH takes (after its WHERE line)
    by_pathway = ":SUMMARY]" in text and ":PATHWAY_SUMMARY]" in text
    plain_gate = lambda m, w: gate_lines(spec.params, None, m, w, by_pathway=by_pathway)  # noqa: E731
    while i < len(lines):
        line = lines[i]
        if is_gate(line):  # an old gate: written anew below
            i += 1
            continue
        if _FIRST_MATCH.match(line) and (gate is not None or branch_direction(lines[i + 1])):
            # the branch's first MATCH after its path line, or one that reads a single direction
            out += [line, lines[i + 1], *(gate or plain_gate)(line, lines[i + 1])]
            gate = None
            i += 2
            continue
        if line.startswith(_GUARD_START):  # an old guard: dropped, written anew below
            i += 1
            while i < len(lines) and lines[i].startswith("  AND "):
                i += 1
            continue
        if line.startswith(PATH_START):  # the branch's path (summary layer or detail edges), from its header
            path = branch_path("\n".join(text_branch(lines, i)))
            out.append(path_line(spec.params, path, by_pathway=by_pathway))
            gate = lambda m, w, path=path: gate_lines(spec.params, path, m, w, by_pathway=by_pathway)  # noqa: E731
        elif line == LIVE:
            out += [line, *guard_lines(spec.params, GUARD_CARRY[0])]
        elif line.startswith("//") and first_branch:
            out.append(line)
        elif (first_branch or out[-1] in ("UNION ALL", "UNION")) and not line.startswith(("MATCH (run:Run)", "//")):
            # the first clause of a branch that reads no SIGNALS edge (no live-run line)
            branch = text_branch(lines, i)
            if LIVE in branch:
                out.append(line)
            else:
                out += [*guard_lines(spec.params, GUARD_CARRY[1]), line]
        else:
            out.append(line)
        if not line.startswith("//"):
            first_branch = False
        i += 1
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def text_branch(lines: list[str], i: int) -> list[str]:
    """The lines of the branch that holds line ``i`` (from ``i`` on)."""
    end = next((j for j in range(i, len(lines)) if lines[j] in ("UNION ALL", "UNION")), len(lines))
    return lines[i:end]


def rewrite(text: str) -> str:
    text = _OLD_FILTER.sub(lambda m: SIGNIFICANT_FILTER, text)
    return with_guards(re.sub(_OLD_SIG, lambda m: SIGNIFICANT, text))


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
        print(f"significance predicate or parameter guard not in its one form in: {', '.join(stale)}; "
              "run python tools/cypher_fragments.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
