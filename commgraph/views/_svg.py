"""Plain inline SVG plots for the report: heatmap, line plot, grouped bars.

No plotting library: a few hundred bytes of SVG per figure, crisp at any zoom, offline, and
the text stays selectable. Every label is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import pandas as pd

from ._layout import DOWN, UP

#: Series colours (Paul Tol's "muted", colour-blind safe); groups take them in order.
SERIES = ("#332288", "#CC6677", "#117733", "#DDCC77", "#88CCEE", "#AA4499", "#44AA99", "#999933", "#882255")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
# sequential (light yellow → dark purple, viridis-like stops) and diverging (blue – white – vermillion)
_SEQ = ((0.0, (253, 231, 37)), (0.25, (94, 201, 98)), (0.5, (33, 145, 140)), (0.75, (59, 82, 139)), (1.0, (68, 1, 84)))


def _hex(c) -> str:
    return "#%02x%02x%02x" % tuple(int(round(v)) for v in c)


def _rgb(h: str) -> tuple[int, int, int]:
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


def _mix(a, b, t: float):
    return tuple(x + (y - x) * t for x, y in zip(a, b))


def seq_colour(t: float) -> str:
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(_SEQ, _SEQ[1:]):
        if t <= t1:
            return _hex(_mix(c0, c1, (t - t0) / (t1 - t0) if t1 > t0 else 0))
    return _hex(_SEQ[-1][1])


def div_colour(t: float) -> str:
    """t in [-1, 1]: blue (decrease) – white – vermillion (increase)."""
    t = min(1.0, max(-1.0, t))
    return _hex(_mix((255, 255, 255), _rgb(UP if t > 0 else DOWN), abs(t) ** 0.8))


def text_on(fill: str) -> str:
    r, g, b = _rgb(fill)
    return "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"


def fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def short(v: float) -> str:
    """At most four characters, for heatmap cells: 123, 12, 1.2, 0.12, .012 → 0.01."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 9999.5:
        text = f"{v / 1000:.0f}k"
    elif a >= 9.95:
        text = f"{v:.0f}"
    elif a >= 0.995:
        text = f"{v:.1f}"
    elif a >= 0.0095:
        text = f"{v:.2f}".replace("0.", ".", 1)
    else:
        text = "<.01" if v > 0 else "~0"
    return text


def _svg(w: float, h: float, body: str, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}" '
            f'role="img" aria-label="{escape(title)}" font-family="{FONT}" font-size="12">'
            f"<title>{escape(title)}</title>{body}</svg>")


def _text_width(s: str, size: float = 12, *, bold: bool = False) -> float:
    """A generous estimate of rendered text width (no font metrics offline)."""
    wide = sum(1 for ch in s if ch.isupper() or ch.isdigit() or ch in "MWmw@%")
    return (0.7 * wide + 0.56 * (len(s) - wide)) * size * (1.08 if bold else 1.0)


def heatmap(matrix: pd.DataFrame, *, title: str, value: str, diverging: bool = False, cell: int = 34) -> str:
    """Rows × columns of numbers (NaN: no value), annotated, with a colour scale."""
    rows, cols = [str(r) for r in matrix.index], [str(c) for c in matrix.columns]
    vals = matrix.to_numpy(dtype=float)
    finite = [v for v in vals.ravel() if not math.isnan(v)]
    vmax = max((abs(v) for v in finite), default=1.0) if diverging else max(finite, default=1.0)
    vmin = -vmax if diverging else min(0.0, min(finite, default=0.0))
    span = (vmax - vmin) or 1.0
    left = 10 + max((_text_width(r) for r in rows), default=20)
    top, cw, ch = 40, max(cell, 10 + max((_text_width(c) for c in cols), default=20)), 22
    width = left + cw * len(cols) + 110
    height = top + ch * len(rows) + 30
    out = [f'<text x="0" y="14" font-weight="600" font-size="13">{escape(title)}</text>']
    for j, c in enumerate(cols):
        out.append(f'<text x="{left + cw * j + cw / 2:.1f}" y="{top - 6}" text-anchor="middle">{escape(c)}</text>')
    for i, r in enumerate(rows):
        y = top + ch * i
        out.append(f'<text x="{left - 6:.1f}" y="{y + ch / 2 + 4:.1f}" text-anchor="end">{escape(r)}</text>')
        for j in range(len(cols)):
            v = vals[i, j]
            x = left + cw * j
            if math.isnan(v):
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{cw - 1}" height="{ch - 1}" fill="#f3f3f3"/>'
                           f'<text x="{x + cw / 2:.1f}" y="{y + ch / 2 + 4:.1f}" text-anchor="middle" fill="#aaa">–</text>')
                continue
            fill = div_colour(v / vmax) if diverging else seq_colour((v - vmin) / span)
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{cw - 1}" height="{ch - 1}" fill="{fill}">'
                       f"<title>{escape(r)}, {escape(cols[j])}: {fmt(v)}</title></rect>"
                       f'<text x="{x + cw / 2:.1f}" y="{y + ch / 2 + 4:.1f}" text-anchor="middle" font-size="11" '
                       f'fill="{text_on(fill)}">{short(v)}</text>')
    # colour scale
    sx, sy, sh = left + cw * len(cols) + 18, top, max(60, min(ch * len(rows), 160))
    steps = 24
    for k in range(steps):
        t = 1 - k / (steps - 1)
        fill = div_colour(2 * t - 1) if diverging else seq_colour(t)
        out.append(f'<rect x="{sx}" y="{sy + sh * k / steps:.1f}" width="12" height="{sh / steps + 0.6:.1f}" fill="{fill}"/>')
    out.append(f'<text x="{sx + 16}" y="{sy + 9}">{fmt(vmax)}</text>'
               f'<text x="{sx + 16}" y="{sy + sh}">{fmt(vmin)}</text>'
               f'<text x="{sx}" y="{sy + sh + 16}" font-size="11" fill="#555">{escape(value)}</text>')
    return _svg(max(width, _text_width(title, 13, bold=True) + 10), max(height, sy + sh + 24), "".join(out), title)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _axes(xs: Sequence[float], lo: float, hi: float, *, left: float, top: float, w: float, h: float,
          xlabel: str, ylabel: str, xcat: Sequence[str] | None = None):
    """Draw y grid, ticks and labels; return (y, ticks) mapping."""
    ticks = _ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])

    def y(v):
        return top + h - (v - lo) / ((hi - lo) or 1) * h

    parts = []
    for t in ticks:
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#e6e6e6"/>'
                     f'<text x="{left - 5}" y="{y(t) + 4:.1f}" text-anchor="end" fill="#444">{fmt(t)}</text>')
    if lo < 0 < hi:
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#888"/>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + h}" stroke="#888"/>'
                 f'<text x="{left + w / 2:.1f}" y="{top + h + 32}" text-anchor="middle" fill="#444">{escape(xlabel)}</text>'
                 f'<text transform="translate(13 {top + h / 2:.1f}) rotate(-90)" text-anchor="middle" fill="#444">'
                 f"{escape(ylabel)}</text>")
    return y, "".join(parts)


def line_plot(series: Sequence[dict], *, title: str, xlabel: str, ylabel: str, width: int = 360,
              height: int = 230) -> str:
    """``series``: [{"name", "x": [...], "y": [...], "filled": [bool...] (optional), "color"}]."""
    xs = sorted({float(x) for s in series for x in s["x"]})
    ys = [float(v) for s in series for v in s["y"] if v is not None and not math.isnan(float(v))]
    left, top, right = 52, 26, 12
    legend_h = 16 * math.ceil(len(series) / 3)
    pw, ph = width - left - right, height - top - 44 - legend_h
    if not xs or not ys:
        return _svg(width, 60, f'<text x="0" y="14" font-weight="600" font-size="13">{escape(title)}</text>'
                    f'<text x="0" y="40" fill="#777">nothing to plot</text>', title)
    lo, hi = min(0.0, min(ys)), max(ys)
    y, axes = _axes(xs, lo, hi, left=left, top=top, w=pw, h=ph, xlabel=xlabel, ylabel=ylabel)
    x0, x1 = xs[0], xs[-1]

    def x(v):
        return left + (pw / 2 if x1 == x0 else (float(v) - x0) / (x1 - x0) * pw)

    parts = [f'<text x="0" y="14" font-weight="600" font-size="13">{escape(title)}</text>', axes]
    for v in xs:
        parts.append(f'<text x="{x(v):.1f}" y="{top + ph + 15}" text-anchor="middle" fill="#444">{fmt(v)}</text>'
                     f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top + ph}" y2="{top + ph + 4}" stroke="#888"/>')
    for k, s in enumerate(series):
        col = s.get("color") or SERIES[k % len(SERIES)]
        pts = [(x(a), y(float(b))) for a, b in zip(s["x"], s["y"]) if b is not None and not math.isnan(float(b))]
        if len(pts) > 1:
            parts.append(f'<polyline fill="none" stroke="{col}" stroke-width="2.2" '
                         f'points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}"/>')
        filled = s.get("filled") or [True] * len(s["x"])
        for (a, b), xv, yv, f in zip(pts, s["x"], s["y"], filled):
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{col if f else "#fff"}" stroke="{col}" '
                         f'stroke-width="1.8"><title>{escape(str(s["name"]))}, {escape(xlabel)} {fmt(xv)}: '
                         f"{fmt(float(yv))}</title></circle>")
        lx, ly = left + (k % 3) * (pw / 3), height - legend_h + 16 * (k // 3) + 2
        parts.append(f'<line x1="{lx:.1f}" x2="{lx + 16:.1f}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="{col}" stroke-width="2.5"/>'
                     f'<text x="{lx + 20:.1f}" y="{ly + 4:.1f}">{escape(str(s["name"]))}</text>')
    return _svg(width, height, "".join(parts), title)


def bar_plot(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str, colors: dict[str, str] | None = None,
             width: int = 420, height: int = 240) -> str:
    """Grouped bars: ``table`` index = categories on x (e.g. days), columns = series (e.g. groups)."""
    colors = colors or {}
    cats, names = [str(c) for c in table.index], [str(c) for c in table.columns]
    vals = table.to_numpy(dtype=float)
    finite = [v for v in vals.ravel() if not math.isnan(v)]
    left, top, right = 52, 26, 12
    legend_h = 16 * math.ceil(max(len(names), 1) / 3)
    pw, ph = width - left - right, height - top - 44 - legend_h
    if not finite:
        return _svg(width, 60, f'<text x="0" y="14" font-weight="600" font-size="13">{escape(title)}</text>'
                    f'<text x="0" y="40" fill="#777">nothing to plot</text>', title)
    y, axes = _axes(range(len(cats)), min(0.0, min(finite)), max(0.0, max(finite)), left=left, top=top, w=pw, h=ph,
                    xlabel=xlabel, ylabel=ylabel)
    parts = [f'<text x="0" y="14" font-weight="600" font-size="13">{escape(title)}</text>', axes]
    slot = pw / max(len(cats), 1)
    bw = min(28.0, slot * 0.8 / max(len(names), 1))
    for i, c in enumerate(cats):
        cx = left + slot * (i + 0.5)
        parts.append(f'<text x="{cx:.1f}" y="{top + ph + 15}" text-anchor="middle" fill="#444">{escape(c)}</text>')
        for k, n in enumerate(names):
            v = vals[i, k]
            if math.isnan(v):
                continue
            bx = cx - bw * len(names) / 2 + bw * k
            y0, y1 = sorted((y(0.0), y(v)))
            col = colors.get(n, SERIES[k % len(SERIES)])
            parts.append(f'<rect x="{bx:.1f}" y="{y0:.1f}" width="{bw - 1.5:.1f}" height="{max(y1 - y0, 0.8):.1f}" '
                         f'fill="{col}"><title>{escape(n)}, {escape(xlabel)} {escape(c)}: {fmt(v)}</title></rect>')
    for k, n in enumerate(names):
        lx, ly = left + (k % 3) * (pw / 3), height - legend_h + 16 * (k // 3) + 2
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 5:.1f}" width="12" height="10" fill="{colors.get(n, SERIES[k % len(SERIES)])}"/>'
                     f'<text x="{lx + 17:.1f}" y="{ly + 4:.1f}">{escape(n)}</text>')
    return _svg(width, height, "".join(parts), title)
