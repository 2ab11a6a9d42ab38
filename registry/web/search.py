"""The catalogue search page: one GET URL per search state, a fragment for in-place updates."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import make_response, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from registry.extensions import db
from registry.i18n import current_locale
from registry.models.practices import Practice
from registry.search.base import (
    FACET_BY_NAME, FACETS, SORTS, SearchResult, SearchUnavailable,
)
from registry.search.params import SearchArgsError
from registry.search.service import prepare_search, search

# Parameters of the page, not of the search: expanded facets and the interface language.
PAGE_PARAMS = ("more", "lang")
# Sent by static/search.js: answer with the swappable region only.
FRAGMENT_HEADER = "X-Search-Fragment"

# Labels of the orders of SORTS, in the interface language.
SORT_LABELS = {
    "relevance": _l("Liên quan nhất"), "newest": _l("Mới nhất"), "name": _l("Tên (A–Z)"),
    "replicated": _l("Được nhân rộng nhiều nhất"),
}


@dataclass
class FacetPanel:
    """One facet as the page shows it: the values to list and how to see the rest."""

    name: str
    label: str
    values: list
    hidden: int = 0  # values left out until the panel is expanded
    expanded: bool = False
    more_url: str | None = None
    less_url: str | None = None


@dataclass
class Chip:
    """A selected filter with the URL that removes it."""

    label: str
    url: str


@dataclass
class SearchPage:
    """Everything the templates need to draw one search state."""

    args: MultiDict
    locale: str
    more: list[str]
    result: SearchResult | None = None
    cards: list = field(default_factory=list)
    panels: list[FacetPanel] = field(default_factory=list)
    chips: list[Chip] = field(default_factory=list)
    error: str | None = None
    error_fields: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        if not self.result:
            return 1
        return max(1, -(-self.result.total // max(1, self.result.per_page)))

    def value(self, name: str) -> str:
        return self.args.get(name, "")

    def pagination_args(self) -> dict:
        """The current state for url_for (lists for repeated parameters), page excluded."""
        state = {k: v for k, v in self.args.to_dict(flat=False).items() if k != "page"}
        return dict(state, more=self.more) if self.more else state

    @property
    def clear_all_url(self) -> str:
        """The same text search and order without any filter."""
        kept = MultiDict([(k, v) for k, v in self.args.items(multi=True) if k in ("q", "sort")])
        return state_url(kept)

    @property
    def year_bounds(self) -> tuple[str, str] | None:
        """The earliest and latest founding years among the results (input placeholders)."""
        years = [v.value for v in (self.result.facets.get("founded_year", [])
                                   if self.result else []) if v.count]
        return (min(years), max(years)) if years else None


def state_url(args: MultiDict, **changes) -> str:
    """The page URL for `args` with some parameters replaced (None removes them)."""
    pairs = [(k, v) for k, v in args.items(multi=True) if k not in changes and k != "page"]
    for key, value in changes.items():
        if value is None:
            continue
        pairs.extend((key, v) for v in (value if isinstance(value, list) else [value]))
    query = urlencode([(k, v) for k, v in pairs if v != ""])
    return url_for("catalogue.index") + ("?" + query if query else "")


def without_value(args: MultiDict, name: str, value: str) -> str:
    return state_url(args, **{name: [v for v in args.getlist(name) if v != value]})


def build_panels(page: SearchPage, filters: dict) -> list[FacetPanel]:
    """Facet panels in declaration order; communes only within selected provinces."""
    panels = []
    for facet in FACETS:
        if facet.source == "year":
            continue
        if facet.parent and not filters.get(facet.parent):
            continue
        values = list(page.result.facets.get(facet.name, [])) if page.result else []
        expanded = facet.name in page.more
        shown = values if expanded else [
            v for i, v in enumerate(values) if i < facet.top or v.selected]
        if not values:
            continue  # nothing to offer and nothing selected
        panel = FacetPanel(facet.name, facet.label(page.locale), shown, expanded=expanded,
                           hidden=len(values) - len(shown))
        if panel.hidden:
            panel.more_url = state_url(page.args, more=page.more + [facet.name])
        elif expanded and len(values) > facet.top:
            panel.less_url = state_url(page.args, more=[m for m in page.more if m != facet.name])
        panels.append(panel)
    return panels


def build_chips(page: SearchPage, filters: dict) -> list[Chip]:
    """One removable chip per selected value and for the year range."""
    labels = {}
    if page.result:
        for name, values in page.result.facets.items():
            labels.update({(name, v.value): v.label for v in values})
    chips = []
    for facet in FACETS:
        for value in filters.get(facet.name, []):
            label = labels.get((facet.name, value), value)
            chips.append(Chip(f"{facet.label(page.locale)}: {label}",
                              without_value(page.args, facet.name, value)))
    year = FACET_BY_NAME["founded_year"].label(page.locale)
    for name, sign in (("founded_from", "≥"), ("founded_to", "≤")):
        if page.args.get(name):
            chips.append(Chip(f"{year} {sign} {page.args[name]}",
                              state_url(page.args, **{name: None})))
    return chips


def load_cards(result: SearchResult) -> list:
    """Pair each hit with its practice (kind, place, status for the card), in hit order."""
    ids = [hit.practice_id for hit in result.hits]
    practices = db.session.scalars(
        select(Practice).where(Practice.id.in_(ids))
        .options(selectinload(Practice.kind), selectinload(Practice.commune),
                 selectinload(Practice.province))).all() if ids else []
    by_id = {p.id: p for p in practices}
    return [(hit, by_id[hit.practice_id]) for hit in result.hits if hit.practice_id in by_id]


def search_args() -> tuple[MultiDict, list[str]]:
    """The request's search parameters and the expanded facets.

    Empty values and the default order are dropped, so that links built from the state
    (removal, paging, "more") are the one canonical URL of that state.
    """
    args = MultiDict([(k, v) for k, v in request.args.items(multi=True)
                      if v.strip() != "" and k not in PAGE_PARAMS
                      and not (k == "sort" and v == SORTS[0])])
    more = [m for m in dict.fromkeys(request.args.getlist("more")) if m in FACET_BY_NAME]
    return args, more


def search_page():
    """The /practices page: parse, search, render the full page or the fragment."""
    locale = current_locale()
    args, more = search_args()
    page = SearchPage(args=args, locale=locale, more=more)
    status = 200
    filters: dict = {}
    try:
        search_request = prepare_search(args, viewer=current_user, locale=locale)
    except SearchArgsError as exc:
        page.error = _("Không thể tìm kiếm với các tham số này")
        page.error_fields = exc.fields
        status = 400
    else:
        filters = search_request.filters
        try:
            page.result = search(search_request)
        except SearchUnavailable:
            page.error = _("Máy chủ tìm kiếm tạm thời không hoạt động, chưa thể tìm kiếm. "
                           "Vui lòng thử lại sau ít phút.")
            status = 503
        else:
            page.cards = load_cards(page.result)
    if page.result:
        page.panels = build_panels(page, filters)
    page.chips = build_chips(page, filters)
    template = ("search/_region.html" if request.headers.get(FRAGMENT_HEADER)
                else "search/index.html")
    response = make_response(render_template(template, page=page, sorts=SORTS,
                                             sort_labels=SORT_LABELS), status)
    response.vary.add(FRAGMENT_HEADER)
    return response


# --- the search result as a download ----------------------------------------------------------

EXPORT_FORMATS = ("csv", "xlsx")


def export_headers() -> dict:
    """Column titles of a search export in the interface language."""
    return {
        "id": _("Mã"), "name": _("Tên mô hình"), "kind": _("Loại mô hình"),
        "province": _("Tỉnh, thành phố"), "commune": _("Xã, phường, đặc khu"),
        "hamlet": _("Thôn, xóm, tổ dân phố"), "status": _("Trạng thái"),
        "recognition": _("Cấp công nhận"), "founded_on": _("Ngày thành lập"),
        "forms": _("Hình thức"), "domains": _("Lĩnh vực"),
        "target_groups": _("Đối tượng tham gia"), "participants": _("Số người tham gia"),
        "households": _("Số hộ tham gia"), "summary": _("Tóm tắt"),
        "core_members": _("Lực lượng nòng cốt"),
    }


def download_response(body: bytes, fmt: str, filename: str):
    from registry.services.tabular import CSV_TYPE, XLSX_TYPE
    response = make_response(body)
    response.headers["Content-Type"] = CSV_TYPE if fmt == "csv" else XLSX_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def export_page(fmt: str):
    """/practices/export.csv|xlsx: the page's search (same parameters), every hit."""
    from registry.services.search_export import ExportTooLarge, export_table
    from registry.services.tabular import csv_bytes, xlsx_bytes
    locale = current_locale()
    args, _more = search_args()
    try:
        search_request = prepare_search(args, viewer=current_user, locale=locale)
        headers, rows = export_table(search_request, export_headers())
    except SearchArgsError as exc:
        message = _("Không thể tìm kiếm với các tham số này") + ": " + ", ".join(sorted(exc.fields))
        return make_response(render_template("search/export_error.html", message=message), 400)
    except ExportTooLarge as exc:
        message = _("Kết quả có %(total)s mô hình, vượt quá giới hạn tải về %(limit)s dòng. "
                    "Vui lòng thu hẹp tìm kiếm bằng các bộ lọc.", total=exc.total,
                    limit=exc.limit)
        return make_response(render_template("search/export_error.html", message=message), 400)
    except SearchUnavailable:
        message = _("Máy chủ tìm kiếm tạm thời không hoạt động, chưa thể tìm kiếm. "
                    "Vui lòng thử lại sau ít phút.")
        return make_response(render_template("search/export_error.html", message=message), 503)
    body = (csv_bytes(headers, rows) if fmt == "csv"
            else xlsx_bytes(_("Mô hình"), headers, rows))
    return download_response(body, fmt, "mo-hinh")
