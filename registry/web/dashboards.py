"""Committee dashboards: coverage, results trends, follow-up; charts as SVG, tables as CSV/XLSX."""
from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry import charts
from registry.domain.workflow import nomination_state_label
from registry.i18n import current_locale
from registry.services import dashboards
from registry.services.tabular import csv_bytes, xlsx_bytes
from registry.vocabularies import terms_of
from registry.web.search import download_response

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")

TABLES = ("provinces", "uncovered", "trends", "overdue", "nominations")
CHARTS = ("coverage", "trends", "nominations")
FORMATS = ("csv", "xlsx")


def labels() -> dict:
    return {
        "province": _("Tỉnh, thành phố"), "province_code": _("Mã tỉnh"),
        "commune": _("Xã, phường, đặc khu"), "commune_code": _("Mã xã"),
        "communes": _("Số xã"), "covered": _("Có mô hình hoạt động"), "percent": _("Tỷ lệ (phần trăm)"),
        "provinces": _("Độ phủ theo tỉnh, thành phố"),
        "uncovered": _("Xã, phường chưa có mô hình hoạt động"),
        "overdue": _("Mô hình quá hạn báo cáo kết quả"), "id": _("Mã"),
        "name": _("Tên mô hình"), "last_report": _("Kỳ báo cáo gần nhất"),
        "nominations": _("Đề cử theo trạng thái"), "state": _("Trạng thái"),
        "count": _("Số đề cử"),
    }


def indicator_labels() -> dict:
    return {
        "tips_reported": _("Tin báo"), "valuable_tips": _("Tin có giá trị"),
        "disputes_mediated": _("Hòa giải thành"), "offenders_reintegrated": _("Cảm hóa"),
        "wanted_caught": _("Truy nã bị bắt"), "surrenders": _("Ra đầu thú"),
        "crimes_on_area": _("Phạm pháp hình sự"), "traffic_accidents": _("Tai nạn giao thông"),
    }


def _area() -> dashboards.DashboardArea:
    area = dashboards.area_of(current_user)
    if area is None:
        abort(403)
    return area


def _domain() -> str | None:
    """The domain filter (a term code of the "domain" vocabulary); unknown codes are 400."""
    code = request.args.get("domain", "").strip()
    if code and code not in {t.code for t in terms_of("domain")}:
        abort(400)
    return code or None


def _coverage(area):
    return dashboards.coverage(area, domain=_domain(), labels=labels())


def _table(area, name: str) -> dashboards.Table:
    if name in ("provinces", "uncovered"):
        coverage = _coverage(area)
        return coverage.provinces if name == "provinces" else coverage.uncovered
    if name == "trends":
        return dashboards.results_trends(area, indicator_labels=indicator_labels(),
                                         title=_("Kết quả theo kỳ báo cáo"), period_label=_("Kỳ"))
    if name == "overdue":
        return dashboards.overdue_reports(area, labels=labels())
    locale = current_locale()
    return dashboards.nominations_by_state(
        area, labels=labels(), state_label=lambda code: nomination_state_label(code, locale))


def _downloads(name: str, **args) -> dict:
    return {fmt: url_for("dashboards.download", table=name, fmt=fmt, **args) for fmt in FORMATS}


@bp.get("/")
@login_required
def index():
    _area()
    return redirect(url_for("dashboards.coverage_page"))


@bp.get("/coverage")
@login_required
def coverage_page():
    area = _area()
    domain = _domain()
    coverage = dashboards.coverage(area, domain=domain, labels=labels())
    args = {"domain": domain} if domain else {}
    return render_template(
        "dashboards/coverage.html", coverage=coverage, domains=terms_of("domain"),
        domain=domain, locale=current_locale(), args=args,
        downloads={n: _downloads(n, **args) for n in ("provinces", "uncovered")})


def _indicator() -> str | None:
    """The one indicator the results chart draws (None: all of them); unknown is 400."""
    code = request.args.get("indicator", "").strip()
    if code and code not in indicator_labels():
        abort(400)
    return code or None


@bp.get("/results")
@login_required
def results_page():
    area = _area()
    indicator = _indicator()
    return render_template("dashboards/results.html", table=_table(area, "trends"),
                           downloads=_downloads("trends"), indicators=indicator_labels(),
                           indicator=indicator,
                           chart_args={"indicator": indicator} if indicator else {})


@bp.get("/follow-up")
@login_required
def follow_up_page():
    area = _area()
    return render_template("dashboards/follow_up.html", overdue=_table(area, "overdue"),
                           nominations=_table(area, "nominations"),
                           downloads={n: _downloads(n) for n in ("overdue", "nominations")})


@bp.get("/<table>.<fmt>")
@login_required
def download(table: str, fmt: str):
    if fmt == "svg" and table in CHARTS:
        return chart(table)
    if table not in TABLES or fmt not in FORMATS:
        abort(404)
    data = _table(_area(), table)
    body = csv_bytes(data.headers, data.rows) if fmt == "csv" else xlsx_bytes(
        data.title, data.headers, data.rows)
    domain = _domain() if table in ("provinces", "uncovered") else None
    return download_response(body, fmt, table + (f"-{domain}" if domain else ""))


def chart(name: str):
    """A chart as a static SVG image (registry.charts), the same numbers as its table."""
    area = _area()
    if name == "coverage":
        table = _coverage(area).provinces
        svg = charts.bar_chart(table.title, [r[1] for r in table.rows],
                               {_("Tỷ lệ xã có mô hình (phần trăm)"): [r[4] for r in table.rows]},
                               horizontal=True)
    elif name == "trends":
        table = _table(area, "trends")
        indicator = _indicator()
        chosen = indicator_labels()[indicator] if indicator else None
        series = {header: [row[i + 1] for row in table.rows]
                  for i, header in enumerate(table.headers[1:])
                  if chosen is None or header == chosen}
        svg = charts.line_chart(table.title, [row[0] for row in table.rows], series)
    else:
        table = _table(area, "nominations")
        svg = charts.bar_chart(table.title, [r[0] for r in table.rows],
                               {table.headers[1]: [r[1] for r in table.rows]}, horizontal=True)
    response = make_response(svg)
    response.headers.update(charts.svg_headers())
    return response
