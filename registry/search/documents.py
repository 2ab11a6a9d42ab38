"""The searchable words of each practice, kept in the practice_text table (never personal data).

Name and body are stored twice, as exact-spelling tokens (registry.text.exact_key) and as
folded tokens (registry.text.fold), one space between tokens, so that SQLite FTS5, PostgreSQL
tsvector and the Python matcher of registry.search.query all see the same words.
"""
from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy import bindparam, select, text

from registry.markdown import plain_text
from registry.models.places import Commune, Province
from registry.models.practices import OutcomeReport, Practice
from registry.models.vocab import Term
from registry.text import exact_key, fold

TOKEN = re.compile(r"[^\W_]+")
CHUNK = 500
# Words indexed per field: PostgreSQL keeps positions up to 16,383 and a tsvector under 1 MB;
# a longer text is searchable by its first words rather than failing the write.
MAX_TOKENS = 16_000
_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|<[^>]*>|[#*_`>|~]+|^\s*[-+]\s+|^\s*\d+\.\s+",
                     re.MULTILINE)


def tokens(value: str | None) -> list[str]:
    """Exact-spelling tokens of a text (lower case, NFC, new-style tones)."""
    return TOKEN.findall(exact_key(value))


def light_plain_text(markdown_text: str | None) -> str:
    """Markdown without its markup, cheaply (for snippets): link texts kept, URLs dropped."""
    return " ".join(_MARKUP.sub(lambda m: " " + (m.group(1) or "") + " ",
                                markdown_text or "").split())


# Markdown that can change which words a text has: HTML and entities, links, code, emphasis
# (which joins "*a*b" into one word), tables (cells join), backslash escapes, ordered-list
# numbers (dropped). Anything else (headings, "- " lists, paragraphs) only adds non-word
# marks around the same words.
_WORD_CHANGING_MARKUP = re.compile(r"[<>&\[\]`*_|\\]|^[\s>+#-]*\d+[.)]", re.MULTILINE)


def search_text(markdown_text: str | None) -> str:
    """A Markdown text with the same words as registry.markdown.plain_text, cheaply.

    Only the words count here (text_row keeps tokens), so text without word-changing markup
    is its own search text; other texts go through the full renderer. The two paths give
    the same tokens (tested in tests/test_text.py)."""
    if not markdown_text:
        return ""
    if _WORD_CHANGING_MARKUP.search(markdown_text):
        return plain_text(markdown_text)
    return markdown_text


@lru_cache(maxsize=200_000)
def _folded(token: str) -> str:
    """fold() of one token; texts repeat a small vocabulary, so each word is folded once."""
    return fold(token)


def text_row(name: str, body_parts) -> dict[str, str]:
    name_tokens = tokens(name)[:MAX_TOKENS]
    body_tokens = [t for part in body_parts for t in tokens(part)][:MAX_TOKENS]
    return {"name_exact": " ".join(name_tokens),
            "name_folded": " ".join(map(_folded, name_tokens)),
            "body_exact": " ".join(body_tokens),
            "body_folded": " ".join(map(_folded, body_tokens))}


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def build_rows(conn, practice_ids) -> dict[int, dict[str, str]]:
    """Text rows of the given practices that exist (others are absent from the result)."""
    terms = {tid: label for tid, label in conn.execute(select(Term.id, Term.label_vi))}
    rows: dict[int, dict[str, str]] = {}
    for chunk in _chunks(sorted(set(practice_ids))):
        narratives: dict[int, list[str]] = {}
        for pid, narrative in conn.execute(
                select(OutcomeReport.practice_id, OutcomeReport.narrative)
                .where(OutcomeReport.practice_id.in_(chunk))
                .order_by(OutcomeReport.practice_id, OutcomeReport.period)):
            narratives.setdefault(pid, []).append(narrative or "")
        query = (select(Practice.id, Practice.name, Practice.summary, Practice.description,
                        Practice.hamlet, Practice.kind_id, Practice.lead_organisation_id,
                        Commune.name, Province.name)
                 .join(Commune, Commune.code == Practice.commune_code)
                 .join(Province, Province.code == Practice.province_code)
                 .where(Practice.id.in_(chunk)))
        for (pid, name, summary, description, hamlet, kind_id, lead_id, commune,
             province) in conn.execute(query):
            body = [terms.get(kind_id, ""), summary, search_text(description), hamlet,
                    commune, province, terms.get(lead_id, ""), *narratives.get(pid, [])]
            rows[pid] = text_row(name, body)
    return rows


def _key_column(conn) -> str:
    return "rowid" if conn.dialect.name == "sqlite" else "practice_id"


def write_rows(conn, practice_ids, rows: dict[int, dict[str, str]]) -> None:
    """Replace the practice_text rows of these practices by `rows` (absent ids: deleted)."""
    key = _key_column(conn)
    delete = text(f"DELETE FROM practice_text WHERE {key} IN :ids").bindparams(
        bindparam("ids", expanding=True))
    for chunk in _chunks(sorted(set(practice_ids))):
        conn.execute(delete, {"ids": chunk})
    if rows:
        insert = text(f"INSERT INTO practice_text ({key}, name_exact, name_folded, body_exact, "
                      "body_folded) VALUES (:id, :name_exact, :name_folded, :body_exact, "
                      ":body_folded)")
        conn.execute(insert, [{"id": pid, **row} for pid, row in sorted(rows.items())])


def refresh_text(conn, practice_ids) -> None:
    """Bring the practice_text rows of these practices in line with the database."""
    ids = sorted(set(practice_ids))
    if ids:
        write_rows(conn, ids, build_rows(conn, ids))


def read_rows(conn, practice_ids) -> dict[int, dict[str, str]]:
    """The stored text rows of these practices."""
    key = _key_column(conn)
    query = text(f"SELECT {key}, name_exact, name_folded, body_exact, body_folded "
                 f"FROM practice_text WHERE {key} IN :ids").bindparams(
        bindparam("ids", expanding=True))
    rows = {}
    for chunk in _chunks(sorted(set(practice_ids))):
        for pid, ne, nf, be, bf in conn.execute(query, {"ids": chunk}):
            rows[pid] = {"name_exact": ne, "name_folded": nf, "body_exact": be,
                         "body_folded": bf}
    return rows


def rebuild_all(conn, batch: int = 2000, progress=None) -> int:
    """Rewrite every practice_text row from the practices; returns the number of rows.
    `progress(done, total)` is called after each batch."""
    conn.execute(text("DELETE FROM practice_text"))
    ids = list(conn.execute(select(Practice.id).order_by(Practice.id)).scalars())
    if progress:
        progress(0, len(ids))
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        write_rows(conn, [], build_rows(conn, chunk))
        if progress:
            progress(min(start + batch, len(ids)), len(ids))
    if conn.dialect.name == "sqlite":
        conn.execute(text("INSERT INTO practice_text(practice_text) VALUES ('optimize')"))
    return len(ids)
