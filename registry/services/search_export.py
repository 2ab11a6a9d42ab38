"""A search result as a table to download: the same search as the page and API, every hit."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry import permissions
from registry.domain.workflow import recognition_label, state_label
from registry.extensions import db
from registry.models.practices import CoreMember, Practice
from registry.search.base import SearchRequest
from registry.search.service import search

EXPORT_LIMIT = 10_000
_PAGE = 500  # hits asked of the search service at a time (the page size is not the API's)


class ExportTooLarge(Exception):
    """More results than EXPORT_LIMIT: the user narrows the search first."""

    def __init__(self, total: int, limit: int):
        super().__init__(f"{total} > {limit}")
        self.total = total
        self.limit = limit


def matching_ids(request: SearchRequest, limit: int = EXPORT_LIMIT) -> list[int]:
    """Every hit's id in the search's order, page after page; ExportTooLarge beyond `limit`."""
    ids: list[int] = []
    page = 1
    while True:
        result = search(replace(request, page=page, per_page=_PAGE))
        if result.total > limit:
            raise ExportTooLarge(result.total, limit)
        ids.extend(hit.practice_id for hit in result.hits)
        if len(result.hits) < _PAGE or len(ids) >= result.total:
            return list(dict.fromkeys(ids))
        page += 1


def export_table(request: SearchRequest, headers: dict, limit: int = EXPORT_LIMIT
                 ) -> tuple[list[str], list[list]]:
    """Headers and rows of every model the search finds for its viewer. Core members (name,
    role, phone) only in rows whose model the viewer may see personal data of
    (registry.permissions.can_view_personal_data); the column only for viewers with that right
    somewhere."""
    ids = matching_ids(request, limit)
    viewer, locale = request.viewer, request.locale
    personal_anywhere = not permissions.scope(viewer, "view_personal_data").empty
    columns = ["id", "name", "kind", "province", "commune", "hamlet", "status", "recognition",
               "founded_on", "forms", "domains", "target_groups", "participants",
               "households", "summary"]
    if personal_anywhere:
        columns.append("core_members")
    practices: dict[int, Practice] = {}
    for start in range(0, len(ids), 900):
        query = (select(Practice).where(Practice.id.in_(ids[start:start + 900]))
                 .options(selectinload(Practice.kind), selectinload(Practice.commune),
                          selectinload(Practice.province), selectinload(Practice.forms),
                          selectinload(Practice.domains), selectinload(Practice.target_groups)))
        if personal_anywhere:
            query = query.options(selectinload(Practice.core_members)
                                  .selectinload(CoreMember.role))
        practices.update({p.id: p for p in db.session.scalars(query)})
    rows = []
    for pid in ids:
        p = practices.get(pid)
        if p is None:
            continue
        row = [p.id, p.name, p.kind.label(locale), p.province.name, p.commune.name, p.hamlet,
               state_label(p.status, locale), recognition_label(p.recognition_level, locale),
               p.founded_on.isoformat() if p.founded_on else "",
               "; ".join(t.label(locale) for t in p.forms),
               "; ".join(t.label(locale) for t in p.domains),
               "; ".join(t.label(locale) for t in p.target_groups),
               p.participants, p.households, p.summary]
        if personal_anywhere:
            row.append("; ".join(
                " – ".join(x for x in (m.name, m.role.label(locale) if m.role else "", m.phone)
                           if x)
                for m in p.core_members)
                if permissions.can_view_personal_data(viewer, p) else "")
        rows.append(row)
    return [headers[c] for c in columns], rows
