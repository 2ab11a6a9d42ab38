"""Server-side SVG charts (pygal): no script, no external file, readable without colour alone.

Pages show a chart as `<img src="….svg" alt="…">` next to the table of the same numbers (the
table is the accessible form and the CSV/XLSX download's source); PDFs embed it as a data URI.
An SVG response gets its own Content-Security-Policy (`svg_headers`): pygal's inline <style>
is allowed inside the image and nothing else is.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence

import pygal
from pygal.style import Style

# Our palette (registry/static/app.css) with enough contrast on white; dashes and dots tell
# series apart in print and for colour-blind readers.
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#52606d",
    colors=("#1d4ed8", "#b45309", "#047857", "#9d174d", "#4b5563", "#6d28d9"),
    font_family="DejaVu Sans, Arial, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    title_font_size=14,
    value_font_size=11,
)

_COMMON = dict(
    style=STYLE,
    js=(),                      # no tooltips script: nothing is fetched from anywhere
    disable_xml_declaration=False,
    show_legend=True,
    legend_at_bottom=True,
    truncate_legend=-1,
    truncate_label=-1,
    print_values=False,
    explicit_size=True,
    width=720,
    height=360,
    margin=16,
)

# pygal writes its config as an inline <script> even with js=(): dropped, the SVG is static.
_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)


def _render(chart) -> bytes:
    return _SCRIPT.sub(b"", chart.render())


SVG_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def line_chart(title: str, x_labels: Sequence[str],
               series: Mapping[str, Sequence[float | None]], *, y_title: str = "") -> bytes:
    """A line per series over the periods in `x_labels`; None leaves a gap."""
    chart = pygal.Line(title=title, y_title=y_title or None, x_label_rotation=30 if len(x_labels) > 6 else 0,
                       dots_size=4, stroke_style={"width": 2.5}, allow_interruptions=True,
                       **_COMMON)
    chart.x_labels = list(x_labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _render(chart)


def bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
              *, horizontal: bool = False, stacked: bool = False, y_title: str = "") -> bytes:
    """Bars per label (one colour per series); horizontal for long Vietnamese labels."""
    kind = {(False, False): pygal.Bar, (True, False): pygal.HorizontalBar,
            (False, True): pygal.StackedBar, (True, True): pygal.HorizontalStackedBar}[
        (horizontal, stacked)]
    options = dict(_COMMON)
    if horizontal:
        options["height"] = max(240, 60 + 28 * len(labels))
    chart = kind(title=title, y_title=y_title or None, print_values=len(series) == 1, **{
        k: v for k, v in options.items() if k != "print_values"})
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _render(chart)


def svg_headers() -> dict[str, str]:
    """Headers for an SVG chart response (its own CSP; private, short cache)."""
    return {
        "Content-Type": "image/svg+xml; charset=utf-8",
        "Content-Security-Policy": SVG_CONTENT_SECURITY_POLICY,
        "Cache-Control": "private, max-age=300",
    }


def data_uri(svg: bytes) -> str:
    """The chart as a data: URI, for documents rendered without a request (PDF)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
