"""What Elasticsearch sees: index settings and mapping, documents, and search bodies.

Pure functions, no client and no database: the backend (registry.search.elastic) feeds them.
"""
from __future__ import annotations

from markupsafe import escape

from registry import permissions
from registry.markdown import plain_text
from registry.search.base import FACETS, Hit, SearchRequest
from registry.search.query import Atom, ParsedQuery, Term, parse_query
from registry.text import canonical

# Keyword fields holding codes, one per facet of registry.search.base.FACETS except the year,
# which is an integer so that founded_from/founded_to become a range query.
KEYWORD_FACETS = ("province", "commune", "kind", "domain", "form", "target_group", "setting",
                  "lead_organisation", "status", "recognition", "has_replications")
YEAR_FIELD = "founded_year"
# Pages as deep as the API allows (registry.search.params: 10,000 pages of up to 100).
MAX_RESULT_WINDOW = 1_000_000
# Text fields: each indexed twice, "exact" (the spelling as typed, marks kept) and "folded".
TEXT_FIELDS = ("name", "body")


def index_settings() -> dict:
    """Analysis settings: one shard so that terms aggregations count exactly.

    Text is stored already canonical (registry.text.canonical: NFC, new-style tone placement,
    no control characters), so the exact analyzer only lower-cases; the folded analyzer also
    strips every mark (asciifolding covers the Vietnamese vowels) and maps đ to d. Both split
    words where registry.search.documents.TOKEN does (letters and digits), so a query parsed
    by registry.search.query finds the same words as in the SQL backend; the standard
    tokenizer would keep "2.000" or "e.g" as one word.
    """
    return {
        "number_of_shards": 1,
        "max_result_window": MAX_RESULT_WINDOW,
        "analysis": {
            "char_filter": {
                "vi_d": {"type": "mapping", "mappings": ["đ => d", "Đ => D"]},
            },
            "tokenizer": {
                "words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"},
            },
            "analyzer": {
                "exact": {"type": "custom", "tokenizer": "words", "filter": ["lowercase"]},
                "folded": {"type": "custom", "tokenizer": "words", "char_filter": ["vi_d"],
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
        "created_at": {"type": "date_nanos"},  # microseconds, as the database keeps them
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

# Relevance scores, the same as the SQL backend's (registry/search/sql.py): constant-score
# clauses add up, so both backends order a result identically (ties by id).
IN_NAME_SCORE = 1000  # every term found in the name
PAIR_IN_NAME_SCORE = 50  # each pair of neighbouring typed words side by side in the name
PAIR_SCORE = 20  # ... side by side anywhere
EXACT_SCORE = 1  # every term found spelt exactly as typed (marks included)
BUCKETS = 10_000  # terms aggregation size: above any vocabulary, province or year list
ALL_YEARS = "all_years"
SNIPPET_CHARS = 200
MAX_ANALYZED_OFFSET = 999_999  # below the index default (1,000,000) for highlighting
# Ties are broken by id, as in the SQL backend, so both page through the same order.
SORT_ORDERS = {
    "relevance": ["_score", {"practice_id": "asc"}],
    "newest": [{"created_at": "desc"}, {"practice_id": "asc"}],
    "name": [{"name_sort": "asc"}, {"practice_id": "asc"}],
    "replicated": [{"replication_count": "desc"}, {"practice_id": "asc"}],
}


def _any(queries: list[dict]) -> dict:
    return queries[0] if len(queries) == 1 else {
        "bool": {"should": queries, "minimum_should_match": 1}}


def atom_query(atom: Atom, name_only: bool = False) -> dict:
    """An atom of registry.search.query: its words, in order, in the exact or folded field."""
    suffix = "" if atom.field == "exact" else ".folded"
    fields = [f"name{suffix}"] if name_only else [f"name{suffix}", f"body{suffix}"]
    words = " ".join(atom.tokens)
    if atom.prefix and len(atom.tokens) == 1:
        # A prefix query expands to every matching word (phrase_prefix would stop at 50).
        return _any([{"prefix": {field: {"value": atom.tokens[0]}}} for field in fields])
    kind = ("phrase_prefix" if atom.prefix else "phrase" if len(atom.tokens) > 1
            else "best_fields")
    return {"multi_match": {"query": words, "fields": fields, "type": kind}}


def term_query(term: Term, name_only: bool = False) -> dict:
    return _any([atom_query(a, name_only) for a in term.alternatives])


def text_query(parsed: ParsedQuery) -> dict | None:
    """Every term must match (a filter); the score ranks as the SQL backend does: all terms
    in the name, neighbouring typed words side by side, exact spellings; ties in id order."""
    if parsed.empty:
        return None
    in_name = [term_query(t, name_only=True) for t in parsed.terms]
    spelled = [_any([atom_query(a) for a in t.exact]) for t in parsed.terms]
    should = [
        {"constant_score": {"filter": {"bool": {"filter": in_name}}, "boost": IN_NAME_SCORE}},
        {"constant_score": {"filter": {"bool": {"filter": spelled}}, "boost": EXACT_SCORE}},
    ]
    for pair in parsed.bigrams():
        should.append({"constant_score": {"filter": atom_query(pair, name_only=True),
                                          "boost": PAIR_IN_NAME_SCORE}})
        should.append({"constant_score": {"filter": atom_query(pair), "boost": PAIR_SCORE}})
    return {"bool": {"filter": [term_query(t) for t in parsed.terms], "should": should}}


def visibility_filter(user) -> dict | None:
    """The models a viewer may find (the "view" rule of registry.permissions); None when the
    viewer may see everything."""
    return scope_filter(permissions.scope(user, "view"))


def scope_filter(scope: permissions.Scope) -> dict | None:
    """A permissions.Scope as a filter: any of its areas (states and units); None for all."""
    if scope.everything:
        return None
    areas = []
    for area in scope.areas:
        conditions = []
        if area.states is not None:
            conditions.append({"terms": {"status": sorted(area.states)}})
        if area.units is not None:
            units = [{"terms": {field: sorted(codes)}} for field, codes in
                     (("commune", area.communes), ("province", area.provinces)) if codes]
            conditions.append(_any(units) if units else {"match_none": {}})
        areas.append(conditions[0] if len(conditions) == 1 else
                     {"bool": {"filter": conditions}})
    return _any(areas) if areas else {"match_none": {}}


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
    # The years of every model, whatever the query: a selected year stays listed at 0 if any
    # model has it (as the SQL backend lists them).
    aggregations[ALL_YEARS] = {"global": {}, "aggs": {"values": {"terms": {
        "field": YEAR_FIELD, "size": BUCKETS}}}}
    return aggregations


def build_search(request: SearchRequest, *, abbreviations: dict[str, str],
                 commune_scope: list[str]) -> dict:
    """The search body: text and visibility in the query (so aggregations see them), every
    selection in the post filter (so only the hits see them all).

    `abbreviations` maps folded short forms ("antt") to their expansions."""
    parsed = parse_query(request.q, abbreviations)
    visibility = visibility_filter(request.viewer)
    text = text_query(parsed)
    query = {"bool": {"filter": [visibility] if visibility else []}}
    if text:
        query["bool"]["must"] = [text]
    body = {
        "query": query,
        "post_filter": {"bool": {"filter": list(selection_filters(request).values())}},
        "aggs": facet_aggregations(request, commune_scope),
        "sort": SORT_ORDERS.get(request.sort, SORT_ORDERS["relevance"]),
        "from": (request.page - 1) * request.per_page,
        "size": request.per_page,
        "track_total_hits": True,
        "_source": ["practice_id", "name", "summary"],
    }
    if text:
        whole = {"number_of_fragments": 0}
        snippet = {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1}
        body["highlight"] = {
            "pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
            "require_field_match": True,
            # Very long descriptions are highlighted in their first part instead of failing.
            "max_analyzed_offset": MAX_ANALYZED_OFFSET,
            "highlight_query": _any([atom_query(a) for a in parsed.atoms()]),
            "fields": {"name": whole, "name.folded": whole,
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


def _most_marked(*fragment_lists) -> str | None:
    """Of the exact and the folded highlight of a field, the one with more marks."""
    fragments = [f[0] for f in fragment_lists if f]
    return max(fragments, key=lambda f: f.count("<mark>")) if fragments else None


def hit_from_source(hit: dict) -> Hit:
    """A Hit with <mark> fragments from the highlighter (already HTML-escaped by it)."""
    source, marks = hit["_source"], hit.get("highlight", {})
    name = _most_marked(marks.get("name"), marks.get("name.folded"))
    snippet = _most_marked(marks.get("body"), marks.get("body.folded"))
    if name is None:
        name = str(escape(source.get("name", "")))
    if snippet is None:
        summary = source.get("summary", "")
        cut = summary
        if len(summary) > SNIPPET_CHARS:
            cut = summary[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        snippet = str(escape(cut))
    return Hit(practice_id=int(source["practice_id"]), name_html=name, snippet_html=snippet)
