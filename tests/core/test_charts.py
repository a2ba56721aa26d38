"""SVG chart builders: well-formed XML, accessible, escaped, no inline style, empty data."""
import xml.etree.ElementTree as ET

import pytest

from app.core import charts

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & 王女士'


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img" and root.get("aria-label")
    assert root.find(f"{NS}title") is not None
    assert "style=" not in svg and "<script" not in svg
    return root


def texts(root) -> list[str]:
    return [t.text for t in root.iter(f"{NS}text")]


BUILDERS = {
    "bar": lambda title, data: charts.bar_chart(data, title, x_label="分数 %", y_label="次数"),
    "hbar": lambda title, data: charts.hbar_chart(data, title, x_label="%"),
    "line": lambda title, data: charts.line_chart([l for l, _ in data], [(EVIL, [v for _, v in data]), ("总分", [None, 50, 60])], title),
    "range": lambda title, data: charts.range_chart([(l, v, 5.0, 3) for l, v in data], title, x_label="总分"),
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_charts_parse_and_escape(kind):
    data = [(EVIL, 40.0), ("话费账单投诉 — 一个很长很长很长很长很长很长很长很长的名字", 70.0), ("c", 55.5)]
    svg = BUILDERS[kind](f"{EVIL} title", data)
    root = parse(svg)
    assert root.find(f"{NS}title").text == f"{EVIL} title"
    assert root.get("aria-label") == f"{EVIL} title"
    everything = "".join(root.itertext())
    assert EVIL[:10] in everything  # escaped in the markup, intact once parsed


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_charts_empty_data(kind):
    root = parse(BUILDERS[kind]("Empty", []) if kind != "line" else charts.line_chart([], [], "Empty", empty="暂无数据"))
    assert any(t in ("No data", "暂无数据") for t in texts(root))


def test_bar_chart_draws_one_bar_per_value():
    root = parse(charts.bar_chart([("0–10", 1), ("10–20", 3), ("20–30", 0)], "Hist"))
    bars = [r for r in root.iter(f"{NS}rect") if r.get("class") == "chart-bar"]
    assert len(bars) == 3 and float(bars[1].get("height")) > float(bars[0].get("height")) > float(bars[2].get("height"))


def test_line_chart_breaks_at_missing_values_and_has_legend():
    root = parse(charts.line_chart(["w1", "w2", "w3", "w4"], [("总分", [10, None, 30, 40]), ("沟通", [5, 6, 7, 8])], "Progress", y_max=100))
    lines = list(root.iter(f"{NS}polyline"))
    assert len(lines) == 2  # 总分: only w3-w4 joins; w1 stands alone; 沟通: one line
    assert {"总分", "沟通"} <= set(texts(root))


def test_clip_counts_wide_characters():
    assert charts.text_width("中文") == 2 * charts.FONT
    assert charts.clip("中文中文中文中文", 3 * charts.FONT).endswith("…")
    assert charts.clip("short", 500) == "short"


def test_bar_chart_shows_its_title_and_whole_bin_labels():
    """Issue 15: the five analytics histograms had no visible title and cut "10–20" to
    "10…" (a 36 px bar for a 36 px label). The title is a drawn text now, and every bin
    label is drawn whole (slanted when it is wider than its bar)."""
    bins = [(f"{lo}–{lo + 10}", lo % 3) for lo in range(0, 100, 10)]
    root = parse(charts.bar_chart(bins, "得分分布：总分", x_label="占满分的 %", y_label="次数"))
    drawn = texts(root)
    assert "得分分布：总分" in drawn
    assert all(label in drawn for label, _ in bins)
    assert not any(t.endswith("…") for t in drawn)
    slanted = [t for t in root.iter(f"{NS}text") if t.text == "90–100"][0]
    assert "rotate(-45" in slanted.get("transform")
    # the slanted labels sit between the axis and the axis title, inside the picture
    axis_title_y = float([t for t in root.iter(f"{NS}text") if t.text == "占满分的 %"][0].get("y"))
    assert float(slanted.get("y")) + 0.71 * charts.text_width("90–100", 11) < axis_title_y <= float(root.get("height"))


def test_bar_chart_keeps_short_labels_level():
    root = parse(charts.bar_chart([("a", 1), ("b", 2)], "Hist"))
    assert all(t.get("transform") is None for t in root.iter(f"{NS}text") if t.text in ("a", "b"))


@pytest.mark.parametrize("top, ticks", [(3, ["0", "1", "2", "3", "4", "5"]), (2, ["0", "1", "2"]), (8, ["0", "2", "4", "6", "8", "10"])])
def test_bar_chart_counts_axis_has_whole_ticks(top, ticks):
    root = parse(charts.bar_chart([("0–10", 1), ("10–20", top)], "Hist"))
    assert [t.text for t in root.iter(f"{NS}text") if t.get("class") == "chart-tick" and t.get("text-anchor") == "end"] == ticks
