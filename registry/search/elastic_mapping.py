"""What Elasticsearch sees: index settings and mapping, documents, and search bodies.

Pure functions, no client and no database: the backend (registry.search.elastic) feeds them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import escape

from registry.markdown import plain_text
from registry.models.accounts import NATIONAL
from registry.permissions import JURISDICTION_ROLES, is_admin
from registry.search.base import FACETS, Hit, SearchRequest
from registry.text import canonical, exact_key, fold, has_diacritics
from registry.workflow import PUBLIC_STATES

# Keyword fields holding codes, one per facet of registry.search.base.FACETS except the year,
# which is an integer so that founded_from/founded_to become a range query.
KEYWORD_FACETS = ("province", "commune", "kind", "domain", "form", "target_group", "setting",
                  "lead_organisation", "status", "recognition", "has_replications")
YEAR_FIELD = "founded_year"
# Text fields: each indexed twice, "exact" (the spelling as typed, marks kept) and "folded".
TEXT_FIELDS = ("name", "body")


def index_settings() -> dict:
    """Analysis settings: one shard so that terms aggregations count exactly.

    Text is stored already canonical (registry.text.canonical: NFC, new-style tone placement,
    no control characters), so the exact analyzer only lower-cases; the folded analyzer also
    strips every mark (asciifolding covers the Vietnamese vowels) and maps đ to d.
    """
    return {
        "number_of_shards": 1,
        "analysis": {
            "char_filter": {
                "vi_d": {"type": "mapping", "mappings": ["đ => d", "Đ => D"]},
            },
            "analyzer": {
                "exact": {"type": "custom", "tokenizer": "standard",
                          "filter": ["lowercase"]},
                "folded": {"type": "custom", "tokenizer": "standard", "char_filter": ["vi_d"],
                           "filter": ["lowercase", "asciifolding"]},
            },
        },
    }


def index_mappings() -> dict:
    """Fields of a practice document; core members are never part of it."""
    properties: dict = {
        "practice_id": {"type": "integer"},
        "summary": {"type": "text", "index": False},
        "name_sort": {"type": "keyword"},
        "replicated_from": {"type": "integer"},
        "replication_count": {"type": "integer"},
        "created_at": {"type": "date"},
        YEAR_FIELD: {"type": "integer"},
    }
    for name in TEXT_FIELDS:
        properties[name] = {"type": "text", "analyzer": "exact",
                            "fields": {"folded": {"type": "text", "analyzer": "folded"}}}
    for name in KEYWORD_FACETS:
        properties[name] = {"type": "keyword"}
    return {"dynamic": "strict", "properties": properties}


def _code(term) -> str | None:
    return term.code if term is not None else None


def document(practice, replications: int = 0) -> dict:
    """The indexed form of a practice: codes for facets, canonical text for search.

    The body gathers what people search besides the name: kind, summary, description, place,
    lead organisation and results narratives. Core members (personal data) stay out.
    """
    parts = [practice.kind.label_vi if practice.kind else "", practice.summary,
             plain_text(practice.description), practice.hamlet,
             practice.commune.name if practice.commune else "",
             practice.province.name if practice.province else "",
             practice.lead_organisation.label_vi if practice.lead_organisation else ""]
    parts += [report.narrative for report in practice.outcomes]
    return {
        "practice_id": practice.id,
        "name": canonical(practice.name),
        "body": canonical(" \n".join(p for p in parts if p)),
        "summary": canonical(practice.summary),
        "name_sort": practice.name_sort_key,
        "province": practice.province_code,
        "commune": practice.commune_code,
        "kind": _code(practice.kind),
        "domain": [t.code for t in practice.domains],
        "form": [t.code for t in practice.forms],
        "target_group": [t.code for t in practice.target_groups],
        "setting": _code(practice.setting),
        "lead_organisation": _code(practice.lead_organisation),
        "status": practice.status,
        "recognition": practice.recognition_level,
        YEAR_FIELD: practice.founded_on.year if practice.founded_on else None,
        "has_replications": "yes" if replications else "no",
        "replication_count": replications,
        "replicated_from": practice.replicated_from_id,
        "created_at": practice.created_at.isoformat() if practice.created_at else None,
    }


# --- search bodies ---------------------------------------------------------------------

NAME_BOOST = 3  # a match in the name counts three times a match in the body
EXACT_BOOST = 2  # the spelling as typed, marks included, ranks above a folded match
BUCKETS = 10_000  # terms aggregation size: above any vocabulary, province or year list
SNIPPET_CHARS = 160
SORT_ORDERS = {
    "relevance": ["_score", {"name_sort": "asc"}, {"practice_id": "asc"}],
    "newest": [{"created_at": "desc"}, {"practice_id": "desc"}],
    "name": [{"name_sort": "asc"}, {"practice_id": "asc"}],
    "replicated": [{"replication_count": "desc"}, {"name_sort": "asc"},
                   {"practice_id": "asc"}],
}
MAX_QUERY_CHARS = 500
MAX_QUERY_PARTS = 24
_WORD = r"[^\W_]+"  # as registry.search.documents.TOKEN
_PART = re.compile(r'"([^"]*)"|(' + _WORD + ')')


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool = False  # the last word while typing: matches words it begins


@dataclass(frozen=True)
class Phrase:
    text: str


def parse_text(q: str | None) -> list:
    """Words and quoted phrases of a query, in canonical spelling; operators, control
    characters and an unbalanced quote are ignored, very long input is cut."""
    text = canonical(q)[:MAX_QUERY_CHARS]
    if text.count('"') % 2:
        text = text[::-1].replace('"', " ", 1)[::-1]
    parts: list = []
    for match in _PART.finditer(text):
        if match.group(1) is not None:
            words = re.findall(_WORD, match.group(1))
            if len(words) > 1:
                parts.append(Phrase(" ".join(words)))
            elif words:
                parts.append(Word(words[0]))
        else:
            parts.append(Word(match.group(2)))
    parts = parts[:MAX_QUERY_PARTS]
    if parts and isinstance(parts[-1], Word) and re.search(_WORD + "$", text):
        parts[-1] = Word(parts[-1].text, prefix=True)
    return parts


def _fields(exact: bool) -> list[str]:
    suffix = "" if exact else ".folded"
    return [f"name{suffix}^{NAME_BOOST}", f"body{suffix}"]


def _match(text: str, exact: bool, phrase: bool = False, boost: float = 1) -> dict:
    return {"multi_match": {"query": text, "fields": _fields(exact),
                            "type": "phrase" if phrase else "best_fields", "boost": boost}}


def _prefix(token: str, exact: bool, boost: float = 1) -> dict:
    suffix = "" if exact else ".folded"
    return {"bool": {"should": [
        {"prefix": {f"name{suffix}": {"value": token, "boost": NAME_BOOST * boost}}},
        {"prefix": {f"body{suffix}": {"value": token, "boost": boost}}},
    ]}}


def _word_clause(word: Word, abbreviations: dict[str, str]) -> dict:
    """A word typed with marks must match them exactly; without marks it matches folded
    text, and text spelt exactly as typed ranks higher."""
    text = word.text
    exact = has_diacritics(text)
    if word.prefix:
        if exact:
            options = [_prefix(exact_key(text), True)]
        else:
            options = [_prefix(fold(text), False),
                       _prefix(exact_key(text), True, boost=EXACT_BOOST)]
    elif exact:
        options = [_match(text, True)]
    else:
        options = [_match(text, False), _match(text, True, boost=EXACT_BOOST)]
    expansion = abbreviations.get(fold(text))
    if expansion:
        options.append(_match(expansion, has_diacritics(expansion), phrase=True))
    if len(options) == 1:
        return options[0]
    return {"bool": {"should": options, "minimum_should_match": 1}}


def _phrase_clause(phrase: Phrase) -> dict:
    if has_diacritics(phrase.text):
        return _match(phrase.text, True, phrase=True)
    return {"bool": {"should": [_match(phrase.text, False, phrase=True),
                                _match(phrase.text, True, phrase=True, boost=EXACT_BOOST)],
                     "minimum_should_match": 1}}


def text_query(q: str, abbreviations: dict[str, str]) -> dict | None:
    """Every word and phrase of `q` must match; None when `q` has nothing to search for.

    `abbreviations` maps a folded abbreviation ("antt") to its expansion.
    """
    clauses = []
    for part in parse_text(q):
        if isinstance(part, Phrase):
            clauses.append(_phrase_clause(part))
        else:
            clauses.append(_word_clause(part, abbreviations))
    if not clauses:
        return None
    return {"bool": {"must": clauses}}


# --- visibility and facets ------------------------------------------------------------

def visibility_filter(user) -> dict | None:
    """Which documents the viewer may see, as registry.permissions.can_view_practice says:
    the public states, plus every state in the units where the viewer holds a jurisdiction
    role; None when the viewer may see everything."""
    if is_admin(user):
        return None
    communes, provinces = [], []
    grants = getattr(user, "grants", ()) if getattr(user, "is_authenticated", False) else ()
    for grant in grants:
        if grant.role not in JURISDICTION_ROLES:
            continue
        if grant.unit == NATIONAL:
            return None
        (communes if len(grant.unit) == 5 else provinces).append(grant.unit)
    should: list[dict] = [{"terms": {"status": list(PUBLIC_STATES)}}]
    if communes:
        should.append({"terms": {"commune": sorted(set(communes))}})
    if provinces:
        should.append({"terms": {"province": sorted(set(provinces))}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def selection_filters(request: SearchRequest) -> dict[str, dict]:
    """One filter per facet with a selection: values of a facet OR-ed, the year as a range."""
    filters = {}
    for facet in FACETS:
        if facet.source == "year":
            bounds = {}
            if request.founded_from is not None:
                bounds["gte"] = request.founded_from
            if request.founded_to is not None:
                bounds["lte"] = request.founded_to
            if bounds:
                filters[facet.name] = {"range": {YEAR_FIELD: bounds}}
        elif request.filters.get(facet.name):
            filters[facet.name] = {"terms": {facet.name: list(request.filters[facet.name])}}
    return filters


def facet_aggregations(request: SearchRequest, commune_scope: list[str]) -> dict:
    """For each facet, a filter aggregation applying every OTHER facet's selection, with the
    value counts inside; commune values are counted only within `commune_scope` (the
    communes of the selected provinces, plus those selected)."""
    selections = selection_filters(request)
    aggregations = {}
    for facet in FACETS:
        others = [f for name, f in selections.items() if name != facet.name]
        terms: dict = {"field": facet.name, "size": BUCKETS}
        if facet.name == "commune":
            if not commune_scope:
                continue
            terms.update(include=sorted(commune_scope), size=len(commune_scope))
        aggregations[facet.name] = {"filter": {"bool": {"filter": others}},
                                    "aggs": {"values": {"terms": terms}}}
    return aggregations


def build_search(request: SearchRequest, *, abbreviations: dict[str, str],
                 visibility: dict | None, commune_scope: list[str]) -> dict:
    """The search body: text and visibility in the query (so aggregations see them), every
    selection in the post filter (so only the hits see them all)."""
    query_filters = [visibility] if visibility else []
    text = text_query(request.q, abbreviations)
    query = {"bool": {"filter": query_filters}}
    if text:
        query["bool"]["must"] = [text]
    selections = list(selection_filters(request).values())
    body = {
        "query": query,
        "post_filter": {"bool": {"filter": selections}},
        "aggs": facet_aggregations(request, commune_scope),
        "sort": SORT_ORDERS.get(request.sort, SORT_ORDERS["relevance"]),
        "from": (request.page - 1) * request.per_page,
        "size": request.per_page,
        "track_total_hits": True,
        "_source": ["practice_id", "name", "summary"],
    }
    if text:
        highlighted = {"number_of_fragments": 0}
        snippet = {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1}
        body["highlight"] = {
            "pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
            "require_field_match": True,
            "fields": {"name": highlighted, "name.folded": highlighted,
                       "body": snippet, "body.folded": snippet},
        }
    return body


def counts_from_response(response: dict) -> dict[str, dict[str, int]]:
    """facet name -> value -> count, from the aggregations of a search response."""
    counts = {}
    for name, aggregation in (response.get("aggregations") or {}).items():
        counts[name] = {str(b.get("key_as_string", b["key"])): b["doc_count"]
                        for b in aggregation["values"]["buckets"]}
    return counts


def hit_from_source(hit: dict) -> Hit:
    """A Hit with <mark> fragments from the highlighter (already HTML-escaped by it)."""
    source, marks = hit["_source"], hit.get("highlight", {})
    name = (marks.get("name") or marks.get("name.folded") or [None])[0]
    snippet = (marks.get("body") or marks.get("body.folded") or [None])[0]
    if name is None:
        name = str(escape(source.get("name", "")))
    if snippet is None:
        summary = source.get("summary", "")
        cut = summary[:SNIPPET_CHARS].rsplit(" ", 1)[0] if len(summary) > SNIPPET_CHARS \
            else summary
        snippet = str(escape(cut + ("…" if cut != summary else "")))
    return Hit(practice_id=int(source["practice_id"]), name_html=name, snippet_html=snippet)
