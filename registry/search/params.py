"""Search parameters of a URL (page or API) checked and turned into a SearchRequest."""
from __future__ import annotations

from sqlalchemy import select

from registry.extensions import db
from registry.search.base import (
    FACET_BY_NAME, LIST_FACETS, MAX_PER_PAGE, SORTS, SearchRequest, fixed_values,
)

SCALAR_PARAMS = ("q", "founded_from", "founded_to", "sort", "page", "per_page")
MAX_PAGE = 10_000
MAX_VALUES = 200  # selected values per facet
YEAR_RANGE = (1900, 2100)


class SearchArgsError(ValueError):
    """Bad search parameters; `fields` maps each parameter to a Vietnamese message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("Tham số tìm kiếm không hợp lệ: " + ", ".join(sorted(fields)))
        self.fields = fields


def _known_values(facet_name: str, values: list[str]) -> set[str]:
    """Which of `values` are codes the facet knows (one small query for database values)."""
    source = FACET_BY_NAME[facet_name].source
    fixed = fixed_values(source)
    if fixed is not None:
        return {v for v in values if v in dict(fixed)}
    from registry.models.places import Commune, Province
    from registry.models.vocab import Term
    if source == "province":
        query = select(Province.code).where(Province.code.in_(values))
    elif source == "commune":
        query = select(Commune.code).where(Commune.code.in_(values))
    else:
        vocabulary = source.split(":", 1)[1]
        query = select(Term.code).where(Term.vocabulary == vocabulary,
                                        Term.code.in_(values),
                                        Term.merged_into_id.is_(None))
    return set(db.session.scalars(query))


def _integer(args, name: str, low: int, high: int, errors: dict, message: str) -> int | None:
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        errors[name] = message
        return None
    if not low <= value <= high:
        errors[name] = message
        return None
    return value


def parse_search_args(args, *, ignore=()) -> SearchRequest:
    """A SearchRequest from a MultiDict of query parameters; raises SearchArgsError.

    Unknown parameters, unknown facet values and malformed numbers are reported per
    parameter; empty values are ignored. `ignore` names parameters the caller handles
    itself (e.g. the page's "lang"). Viewer and locale are for the caller to set.
    """
    errors: dict[str, str] = {}
    request = SearchRequest()
    for name in args.keys():
        if name in ignore or name in SCALAR_PARAMS or name in LIST_FACETS:
            continue
        errors[name] = "Tham số không được hỗ trợ."
    q_values = [v for v in args.getlist("q") if v is not None]
    request.q = q_values[0] if q_values else ""
    for name in LIST_FACETS:
        sent = [v.strip() for v in args.getlist(name) if v and v.strip()]
        values = list(dict.fromkeys(sent))
        if not values:
            continue
        if len(sent) > MAX_VALUES:  # as the document's maxItems counts: repeats included
            errors[name] = f"Chọn tối đa {MAX_VALUES} giá trị."
            continue
        unknown = [v for v in values if v not in _known_values(name, values)]
        if unknown:
            shown = ", ".join(unknown[:5]) + ("…" if len(unknown) > 5 else "")
            errors[name] = f"Giá trị không hợp lệ: {shown}."
            continue
        request.filters[name] = values
    year_message = f"Năm phải là số nguyên từ {YEAR_RANGE[0]} đến {YEAR_RANGE[1]}."
    request.founded_from = _integer(args, "founded_from", *YEAR_RANGE, errors, year_message)
    request.founded_to = _integer(args, "founded_to", *YEAR_RANGE, errors, year_message)
    if (request.founded_from is not None and request.founded_to is not None
            and request.founded_from > request.founded_to):
        errors["founded_to"] = "Năm kết thúc phải lớn hơn hoặc bằng năm bắt đầu."
    sort = (args.get("sort") or "").strip()
    if sort:
        if sort in SORTS:
            request.sort = sort
        else:
            errors["sort"] = "Cách sắp xếp phải là một trong: " + ", ".join(SORTS) + "."
    page = _integer(args, "page", 1, MAX_PAGE, errors,
                    f"Số trang phải là số nguyên từ 1 đến {MAX_PAGE}.")
    if page is not None:
        request.page = page
    per_page = _integer(args, "per_page", 1, MAX_PER_PAGE, errors,
                        f"Số kết quả mỗi trang phải là số nguyên từ 1 đến {MAX_PER_PAGE}.")
    if per_page is not None:
        request.per_page = per_page
    if errors:
        raise SearchArgsError(errors)
    return request
