"""Self-contained pages: vis-network (from the pyvis package) and our script inlined, data as JSON.

Nothing on a page is fetched: no CDN, no fonts, no images from elsewhere. pyvis's own page
template can't be used for that (even with ``cdn_resources="in_line"`` it links Bootstrap from a
CDN), so we take its bundled vis-network build and write the page ourselves.
"""

from __future__ import annotations

import functools
import html
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

VIS_VERSION = "9.1.2"
INSTALL_HINT = "the HTML views need pyvis (its bundled vis-network): pip install 'commgraph[views]'"


@functools.cache
def vis_network_js() -> str:
    """vis-network's standalone build as bundled with pyvis."""
    try:
        import pyvis
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    path = Path(pyvis.__file__).parent / "lib" / f"vis-{VIS_VERSION}" / "vis-network.min.js"
    if not path.is_file():
        raise ImportError(f"pyvis {getattr(pyvis, '__version__', '?')} lacks {path.name} {VIS_VERSION}; {INSTALL_HINT}")
    # an inline script ends at the first "</script": keep the library from ever containing one
    return path.read_text(encoding="utf-8").replace("</script", "<\\/script")


@functools.cache
def asset(name: str) -> str:
    return (resources.files("commgraph.views") / "assets" / name).read_text(encoding="utf-8")


def _plain(x: Any) -> Any:
    """JSON-safe: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    return x


def script_json(data: Any) -> str:
    """JSON that is safe inside <script>: no '<' (so no '</script>' or '<!--')."""
    text = json.dumps(_plain(data), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def view_block(spec: dict, view_id: str) -> str:
    """The element a view draws into and its data."""
    vid = html.escape(view_id, quote=True)
    return (f'<section id="{vid}" class="cg-view"><p class="cg-sub">Drawing the network… (needs JavaScript)</p></section>\n'
            f'<script type="application/json" data-commgraph-view="{vid}">{script_json(spec)}</script>\n')


def page(title: str, body: str, *, with_views: bool = True, charts: bool = False, extra_head: str = "") -> str:
    """A whole HTML document; ``body`` is trusted HTML (escape data before it gets here).
    ``with_views``: inline vis-network and the network script; ``charts``: Vega and vega-embed."""
    head_js = f"<script>{vis_network_js()}</script>\n" if with_views else ""
    tail_js = f"<script>{asset('commgraph-view.js')}</script>\n" if with_views else ""
    if charts:
        from ._charts import chart_scripts

        tail_js += chart_scripts()
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"commgraph (vis-network {VIS_VERSION} via pyvis)\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{asset('commgraph-view.css')}</style>\n{extra_head}"
        f"{head_js}</head>\n<body>\n{body}{tail_js}</body>\n</html>\n"
    )
