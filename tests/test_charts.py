"""Server-side SVG charts: static (no script, nothing fetched), valid XML, Vietnamese labels kept."""
from __future__ import annotations

import re
import xml.dom.minidom

from registry import charts


def _external_references(svg: bytes) -> list[bytes]:
    return [url for url in re.findall(rb'(?:href|src)="([^"]+)"', svg) if not url.startswith(b"#")]


def test_line_chart_is_static_svg_with_vietnamese_labels():
    svg = charts.line_chart("Kết quả theo kỳ", ["6 tháng đầu 2024", "Năm 2024"],
                            {"Số vụ việc được hòa giải": [3, None]})
    xml.dom.minidom.parseString(svg)
    assert b"<script" not in svg
    assert _external_references(svg) == []
    assert "Số vụ việc được hòa giải".encode() in svg
    assert "6 tháng đầu 2024".encode() in svg


def test_bar_chart_horizontal_grows_with_its_labels():
    few = charts.bar_chart("Mô hình", ["Phòng, chống ma túy"], {"Mô hình": [2]}, horizontal=True)
    many = charts.bar_chart("Mô hình", [f"Tỉnh {n}" for n in range(30)],
                            {"Mô hình": list(range(30))}, horizontal=True)
    height = lambda svg: int(re.search(rb'height="(\d+)"', svg).group(1))  # noqa: E731
    assert height(many) > height(few)
    assert b"<script" not in many


def test_svg_headers_allow_the_chart_style_only():
    headers = charts.svg_headers()
    assert headers["Content-Type"].startswith("image/svg+xml")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "script-src" not in headers["Content-Security-Policy"]
    assert charts.data_uri(b"<svg/>").startswith("data:image/svg+xml;base64,")
