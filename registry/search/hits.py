"""The hits of a result page with their highlights, drawn from the database for every backend,
so that each shows the same marked name and snippet."""
from __future__ import annotations

from sqlalchemy import select

from registry.models.practices import Practice
from registry.search import documents
from registry.search.base import Hit
from registry.search.highlight import Matcher, mark, snippet
from registry.search.query import ParsedQuery

SNIPPET_SOURCE = 4_000  # characters of the description looked at for a snippet


def page_hits(conn, page_ids: list[int], parsed: ParsedQuery) -> list[Hit]:
    """Hits in the order of `page_ids` (ids gone from the database are left out)."""
    if not page_ids:
        return []
    matcher = Matcher(parsed.atoms())  # shared by the page's hits: words repeat
    rows = {pid: (name, summary, description) for pid, name, summary, description in
            conn.execute(select(Practice.id, Practice.name, Practice.summary,
                                Practice.description).where(Practice.id.in_(page_ids)))}
    hits = []
    for pid in page_ids:
        if pid not in rows:
            continue
        name, summary, description = rows[pid]
        body = summary or ""
        if matcher.atoms or not body:  # the first match may be in the description
            body += " " + documents.light_plain_text(description[:SNIPPET_SOURCE])
        hits.append(Hit(pid, name_html=mark(name, matcher),
                        snippet_html=snippet(body, matcher)))
    return hits
