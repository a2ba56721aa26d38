"""Server-rendered SVG charts: bar (histogram), horizontal bars, lines over time, ranges.

Each builder returns one `<svg>` element as a string, ready to be put inline in a page:
no script, no CDN, no `style` attribute (the Content-Security-Policy forbids inline
styles), colours as presentation attributes that CSS classes (`chart-*` in app.css) may
override. Every text that comes from data is escaped here, so callers may mark the
result safe. Each chart has a `<title>` and `role="img"` with an aria-label, and draws a
"no data" note instead of failing on empty input. Labels may be Chinese: widths are
estimated with wide characters counted double.
"""
from __future__ import annotations

import unicodedata
from html import escape
from typing import Sequence

PALETTE = ("#1f6fb2", "#d9822b", "#2e8b57", "#9b59b6", "#c0392b", "#7f8c8d")
FONT = 12  # px; text metrics below assume it


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def text_width(text: str, size: int = FONT) -> float:
    """Rough rendered width: East Asian wide/full-width characters count as one em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in str(text))


def clip(text: str, max_width: float, size: int = FONT) -> str:
    """The text cut with an ellipsis to fit `max_width` (the full text goes in a <title>)."""
    text = str(text)
    if text_width(text, size) <= max_width:
        return text
    while text and text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text + "…"


def _svg(width: int, height: int, title: str, body: list[str], kind: str) -> str:
    t = esc(title)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{t}" font-size="{FONT}">'
            f"<title>{t}</title>" + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "chart-label", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}" fill="#333"{extra}>'
            f"{esc(text)}</text>")


def _empty(width: int, height: int, title: str, note: str, kind: str) -> str:
    return _svg(width, height, title, [_text(width / 2, height / 2, note, "middle", "chart-empty")], kind)


def _nice_max(v: float) -> float:
    """A round axis maximum at or above v (1, 2, 2.5, 5 × 10^k)."""
    if v <= 0:
        return 1.0
    mag = 10 ** len(str(int(v))) / 10 if v >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if step * mag >= v:
            return step * mag
    return 10 * mag


def _y_axis(x0: float, y0: float, y1: float, top: float, x_end: float, label: str, ticks: int = 4) -> list[str]:
    """Left axis with gridlines from value 0 (at y0) to `top` (at y1)."""
    out = [f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" class="chart-axis" stroke="#666"/>']
    for i in range(ticks + 1):
        v = top * i / ticks
        y = y0 - (y0 - y1) * i / ticks
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x_end}" y2="{y:.1f}" class="chart-grid" stroke="#ddd"/>')
        out.append(_text(x0 - 4, y + 4, _fmt(v), "end", "chart-tick"))
    if label:
        mid = (y0 + y1) / 2
        out.append(_text(12, mid, label, "middle", "chart-axis-label", f' transform="rotate(-90 12 {mid:.1f})"'))
    return out


def bar_chart(bars: Sequence[tuple[str, float]], title: str, x_label: str = "", y_label: str = "",
              empty: str = "No data", width: int = 420, height: int = 220) -> str:
    """Vertical bars (a histogram when the labels are bins), value written above each bar.

    The title is drawn as a visible heading (clipped to the width; whole in the tooltip),
    because five of these side by side are otherwise told apart by nothing. Bar labels are
    never cut: when one is wider than its bar they are all slanted, and the chart grows
    downwards to hold them."""
    if not bars or all(v == 0 for _, v in bars):
        return _empty(width, height, title, empty, "bar")
    left, right, top = 54, 10, 16 + FONT + 8
    plot_w = width - left - right
    slot = plot_w / len(bars)
    label_w = max(text_width(label, 11) for label, _ in bars)
    slant = label_w > slot * 0.95
    # a label slanted by 45 degrees needs its width over sqrt(2) below the axis
    tick_h = label_w * 0.71 + 12 if slant else 18
    bottom = tick_h + (22 if x_label else 4)
    height = max(height, int(top + 120 + bottom))
    x0, y0, y1 = left, height - bottom, top
    ymax = _nice_max(max(v for _, v in bars))
    # Counts read as whole numbers: a 0-5 axis in four steps read "1.2, 2.5, 3.8" drills.
    whole = all(v == int(v) for _, v in bars) and ymax == int(ymax)
    ticks = next((t for t in (4, 5, 2, 1) if (ymax / t) == int(ymax / t)), 4) if whole else 4
    body = [_text(width / 2, FONT + 6, clip(title, width - 8), "middle", "chart-heading", ' font-weight="bold"')]
    body += _y_axis(x0, y0, y1, ymax, width - right, y_label, ticks)
    for i, (label, value) in enumerate(bars):
        h = (y0 - y1) * value / ymax
        x = x0 + i * slot + slot * 0.1
        body.append(f'<g class="chart-item"><title>{esc(label)}: {_fmt(value)}</title>'
                    f'<rect x="{x:.1f}" y="{y0 - h:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}" '
                    f'class="chart-bar" fill="{PALETTE[0]}"/></g>')
        if value:
            body.append(_text(x + slot * 0.4, y0 - h - 3, _fmt(value), "middle", "chart-value"))
        cx = x + slot * 0.4
        if slant:
            body.append(_text(cx + 4, y0 + 12, label, "end", "chart-tick", f' transform="rotate(-45 {cx + 4:.1f} {y0 + 12:.1f})"'))
        else:
            body.append(_text(cx, y0 + 14, label, "middle", "chart-tick"))
    body.append(f'<line x1="{x0}" y1="{y0}" x2="{width - right}" y2="{y0}" class="chart-axis" stroke="#666"/>')
    if x_label:
        body.append(_text(x0 + plot_w / 2, height - 6, x_label, "middle", "chart-axis-label"))
    return _svg(width, height, title, body, "bar")


def hbar_chart(bars: Sequence[tuple[str, float]], title: str, max_value: float | None = None,
               x_label: str = "", empty: str = "No data", width: int = 520, unit: str = "") -> str:
    """Horizontal bars, one labelled row each (labels left, clipped; full text in a tooltip)."""
    if not bars:
        return _empty(width, 60, title, empty, "hbar")
    row, top, bottom = 22, 8, 30 if x_label else 10
    height = top + row * len(bars) + bottom
    label_w = min(max(text_width(lbl) for lbl, _ in bars) + 8, width * 0.45)
    x0, x1 = label_w, width - 48
    vmax = max_value or _nice_max(max(v for _, v in bars)) or 1
    body = []
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        w = max(0.0, (x1 - x0) * min(value, vmax) / vmax)
        body.append(f'<g class="chart-item"><title>{esc(label)}: {_fmt(value)}{esc(unit)}</title>'
                    + _text(x0 - 6, y + row * 0.65, clip(label, label_w - 8), "end")
                    + f'<rect x="{x0:.1f}" y="{y + 3:.1f}" width="{w:.1f}" height="{row - 6}" '
                      f'class="chart-bar" fill="{PALETTE[1]}"/></g>')
        body.append(_text(x0 + w + 4, y + row * 0.65, f"{_fmt(value)}{unit}", "start", "chart-value"))
    body.append(f'<line x1="{x0:.1f}" y1="{top}" x2="{x0:.1f}" y2="{top + row * len(bars)}" class="chart-axis" stroke="#666"/>')
    if x_label:
        body.append(_text((x0 + x1) / 2, height - 8, x_label, "middle", "chart-axis-label"))
    return _svg(width, int(height), title, body, "hbar")


def line_chart(x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str,
               y_max: float | None = None, x_label: str = "", y_label: str = "", empty: str = "No data",
               width: int = 560, height: int = 260) -> str:
    """One polyline per series over shared x labels (None = no value: the line breaks),
    a dot per value and a legend below."""
    points = [v for _, vals in series for v in vals if v is not None]
    if not x_labels or not points:
        return _empty(width, height, title, empty, "line")
    legend_rows = (len(series) + 2) // 3
    left, right, top, bottom = 54, 44, 14, 44 + 16 * legend_rows
    x0, y0, y1, x_end = left, height - bottom, top, width - right
    top_v = y_max or _nice_max(max(points))
    body = _y_axis(x0, y0, y1, top_v, x_end, y_label)
    n = len(x_labels)
    step = (x_end - x0) / max(n - 1, 1)
    xs = [x0 + (i * step if n > 1 else (x_end - x0) / 2) for i in range(n)]
    every = max(1, -(-n // max(1, int((x_end - x0) // 90))))  # keep tick labels from overlapping
    for i, lbl in enumerate(x_labels):
        if i % every == 0:
            body.append(_text(xs[i], y0 + 14, clip(lbl, 84), "middle", "chart-tick"))
    for s, (name, vals) in enumerate(series):
        colour, cls = PALETTE[s % len(PALETTE)], f"chart-series chart-s{s % len(PALETTE)}"
        run: list[str] = []
        runs = [run]
        for i, v in enumerate(vals[:n]):
            if v is None:
                run = []
                runs.append(run)
                continue
            y = y0 - (y0 - y1) * min(v, top_v) / top_v
            run.append(f"{xs[i]:.1f},{y:.1f}")
            body.append(f'<circle cx="{xs[i]:.1f}" cy="{y:.1f}" r="3" class="{cls}" fill="{colour}">'
                        f"<title>{esc(name)} · {esc(x_labels[i])}: {_fmt(v)}</title></circle>")
        for r in runs:
            if len(r) > 1:
                body.append(f'<polyline points="{" ".join(r)}" class="{cls}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lx = x0 + (s % 3) * ((x_end - x0) / 3)
        ly = height - 16 * legend_rows + 16 * (s // 3) - 4
        body.append(f'<rect x="{lx:.1f}" y="{ly - 9:.1f}" width="10" height="10" class="{cls}" fill="{colour}"/>')
        body.append(_text(lx + 14, ly, clip(name, (x_end - x0) / 3 - 18)))
    body.append(f'<line x1="{x0}" y1="{y0}" x2="{x_end}" y2="{y0}" class="chart-axis" stroke="#666"/>')
    if x_label:
        body.append(_text((x0 + x_end) / 2, y0 + 30, x_label, "middle", "chart-axis-label"))
    return _svg(width, height, title, body, "line")


def range_chart(rows: Sequence[tuple[str, float, float | None, int]], title: str, lo: float = 0,
                hi: float = 100, x_label: str = "", empty: str = "No data", width: int = 520) -> str:
    """Per row (label, mean, spread, n): a dot at the mean and a bar over mean ± spread,
    clamped to [lo, hi] — per-scenario difficulty at a glance."""
    if not rows:
        return _empty(width, 60, title, empty, "range")
    row, top, bottom = 24, 8, 40
    height = top + row * len(rows) + bottom
    label_w = min(max(text_width(r[0]) for r in rows) + 8, width * 0.4)
    x0, x1 = label_w, width - 16
    span = (hi - lo) or 1

    def x(v: float) -> float:
        return x0 + (x1 - x0) * (min(max(v, lo), hi) - lo) / span

    body = []
    for i in range(5):  # gridlines at quarters of the scale
        v = lo + span * i / 4
        body.append(f'<line x1="{x(v):.1f}" y1="{top}" x2="{x(v):.1f}" y2="{top + row * len(rows)}" class="chart-grid" stroke="#ddd"/>')
        body.append(_text(x(v), top + row * len(rows) + 14, _fmt(v), "middle", "chart-tick"))
    for i, (label, m, spread, n) in enumerate(rows):
        y = top + i * row + row / 2
        tip = f"{label}: {_fmt(m)}" + (f" ± {_fmt(spread)}" if spread is not None else "") + f" (n={n})"
        parts = [f'<g class="chart-item"><title>{esc(tip)}</title>', _text(x0 - 6, y + 4, clip(label, label_w - 8), "end")]
        if spread is not None:
            parts.append(f'<line x1="{x(m - spread):.1f}" y1="{y:.1f}" x2="{x(m + spread):.1f}" y2="{y:.1f}" '
                         f'class="chart-range" stroke="{PALETTE[0]}" stroke-width="6" stroke-opacity="0.35"/>')
        parts.append(f'<circle cx="{x(m):.1f}" cy="{y:.1f}" r="4" class="chart-mean" fill="{PALETTE[0]}"/></g>')
        body.append("".join(parts))
    if x_label:
        body.append(_text((x0 + x1) / 2, height - 6, x_label, "middle", "chart-axis-label"))
    return _svg(width, int(height), title, body, "range")
