"""What the search engine sees (Elasticsearch 9 and OpenSearch alike): index settings and
mapping, documents, and search bodies.

Pure functions, no client and no database: the backend (registry.search.engine) feeds them.

The engines' integration-test distributions carry only the server's own analysers (no
`analysis-common`: no pattern tokenizer, asciifolding or mapping char filter). So the text is
tokenised and folded in Python, exactly as for the SQL backend (registry.search.documents:
`text_row`), and indexed already split, one space between words, with the built-in
`whitespace` analyser: both backends see the very same words.
"""
from __future__ import annotations

from datetime import date

from registry import permissions
from registry.domain.workflow import PUBLIC_STATES, last_activity, months_before
from registry.search.base import FACETS, SearchRequest
from registry.search.query import Atom, ParsedQuery, Term, parse_query

# Keyword fields holding codes, one per facet of registry.search.base.FACETS except the year,
# which is an integer so that founded_from/founded_to become a range query.
KEYWORD_FACETS = ("province", "commune", "kind", "domain", "form", "target_group", "setting",
                  "lead_organisation", "status", "recognition", "has_replications")
YEAR_FIELD = "founded_year"
# The activity facet is computed at query time (it changes with the date, not the data): the
# day (ordinal) a model's last results period ended, or it was created, compared with the
# cutoff of REGISTRY_INACTIVE_MONTHS.
ACTIVITY_FIELD = "last_activity"
# Pages as deep as the API allows (registry.search.params: 10,000 pages of up to 100).
MAX_RESULT_WINDOW = 1_000_000
# Text fields, as the columns of practice_text: the name and the body, each in its exact
# spelling (marks kept) and folded.
TEXT_FIELDS = ("name_exact", "name_folded", "body_exact", "body_folded")
TEXT_ANALYZER = "whitespace"  # built into the server of both engines


def index_settings() -> dict:
    """One shard so that terms aggregations count exactly; no replica (a single node)."""
    return {"number_of_shards": 1, "number_of_replicas": 0,
            "max_result_window": MAX_RESULT_WINDOW}


def index_mappings() -> dict:
    """Fields of a practice document; core members are never part of it. The words are
    indexed, not stored in _source (the hits are drawn from the database)."""
    properties: dict = {
        "practice_id": {"type": "integer"},
        "name_sort": {"type": "keyword"},
        "replicated_from": {"type": "integer"},
        "replication_count": {"type": "integer"},
        "created_at": {"type": "date_nanos"},  # microseconds, as the database keeps them
        YEAR_FIELD: {"type": "integer"},
        ACTIVITY_FIELD: {"type": "integer"},
    }
    for name in TEXT_FIELDS:
        properties[name] = {"type": "text", "analyzer": TEXT_ANALYZER, "norms": False}
    for name in KEYWORD_FACETS:
        properties[name] = {"type": "keyword"}
    return {"dynamic": "strict", "_source": {"excludes": list(TEXT_FIELDS)},
            "properties": properties}


def _code(term) -> str | None:
    return term.code if term is not None else None


def document(practice, replications: int = 0, text: dict[str, str] | None = None) -> dict:
    """The indexed form of a practice: codes for facets, and its words as the SQL backend
    has them (`text`: a row of registry.search.documents.build_rows; core members are never
    part of it)."""
    text = text or {name: "" for name in TEXT_FIELDS}
    return {
        "practice_id": practice.id,
        **{name: text[name] for name in TEXT_FIELDS},
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
        ACTIVITY_FIELD: last_activity_ordinal(practice),
    }


def last_activity_ordinal(practice) -> int | None:
    """registry.domain.workflow.last_activity as an ordinal day."""
    day = last_activity([o.period for o in practice.outcomes],
                        practice.created_at.date() if practice.created_at else None)
    return day.toordinal() if day else None


def activity_filters(cutoff: int) -> dict[str, dict]:
    """The two values of the activity facet (registry.search.base.FIXED_VALUES) as filters:
    public models active since the cutoff day, and those before it."""
    public = {"terms": {"status": sorted(PUBLIC_STATES)}}
    return {"active": {"bool": {"filter": [public, {"range": {ACTIVITY_FIELD: {
                "gte": cutoff}}}]}},
            "possibly_inactive": {"bool": {"filter": [public, {"range": {ACTIVITY_FIELD: {
                "lt": cutoff}}}]}}}


# --- search bodies ---------------------------------------------------------------------

# Relevance scores, the same as the SQL backend's (registry/search/sql.py): constant-score
# clauses add up, so both backends order a result identically (ties by id).
IN_NAME_SCORE = 1000  # every term found in the name
PAIR_IN_NAME_SCORE = 50  # each pair of neighbouring typed words side by side in the name
PAIR_SCORE = 20  # ... side by side anywhere
EXACT_SCORE = 1  # every term found spelt exactly as typed (marks included)
BUCKETS = 10_000  # terms aggregation size: above any vocabulary, province or year list
# Words a prefix at the end of a phrase may stand for (phrase_prefix stops at 50 by default;
# the SQL backend expands every one).
MAX_EXPANSIONS = 10_000
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
    fields = [f"name_{atom.field}"] if name_only else [f"name_{atom.field}",
                                                        f"body_{atom.field}"]
    words = " ".join(atom.tokens)
    if atom.prefix and len(atom.tokens) == 1:
        # A prefix query expands to every matching word.
        return _any([{"prefix": {field: {"value": atom.tokens[0]}}} for field in fields])
    if atom.prefix:
        return {"multi_match": {"query": words, "fields": fields, "type": "phrase_prefix",
                                "max_expansions": MAX_EXPANSIONS}}
    kind = "phrase" if len(atom.tokens) > 1 else "best_fields"
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


def selection_filters(request: SearchRequest, cutoff: int | None = None) -> dict[str, dict]:
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
        elif facet.source == "activity" and request.filters.get(facet.name):
            values = activity_filters(cutoff or 0)
            filters[facet.name] = _any([values[v] for v in request.filters[facet.name]
                                        if v in values] or [{"match_none": {}}])
        elif request.filters.get(facet.name):
            filters[facet.name] = {"terms": {facet.name: list(request.filters[facet.name])}}
    return filters


def facet_aggregations(request: SearchRequest, commune_scope: list[str],
                       cutoff: int | None = None) -> dict:
    """For each facet, a filter aggregation applying every OTHER facet's selection, with the
    value counts inside; commune values are counted only within `commune_scope` (the
    communes of the selected provinces, plus those selected)."""
    selections = selection_filters(request, cutoff)
    aggregations = {}
    for facet in FACETS:
        others = [f for name, f in selections.items() if name != facet.name]
        if facet.source == "activity":
            aggregations[facet.name] = {"filter": {"bool": {"filter": others}},
                                        "aggs": {"values": {"filters": {
                                            "filters": activity_filters(cutoff or 0)}}}}
            continue
        terms: dict = {"field": facet.name, "size": BUCKETS}
        if facet.name == "commune":
            if not commune_scope:
                continue
            terms.update(include=sorted(commune_scope), size=len(commune_scope))
        aggregations[facet.name] = {"filter": {"bool": {"filter": others}},
                                    "aggs": {"values": {"terms": terms}}}
    return aggregations


def build_search(request: SearchRequest, *, abbreviations: dict[str, str],
                 commune_scope: list[str], inactive_months: int = 18) -> dict:
    """The search body: text and visibility in the query (so aggregations see them), every
    selection in the post filter (so only the hits see them all).

    `abbreviations` maps folded short forms ("antt") to their expansions."""
    parsed = parse_query(request.q, abbreviations)
    cutoff = months_before(date.today(), inactive_months).toordinal()
    visibility = visibility_filter(request.viewer)
    text = text_query(parsed)
    query = {"bool": {"filter": [visibility] if visibility else []}}
    if text:
        query["bool"]["must"] = [text]
    body = {
        "query": query,
        "post_filter": {"bool": {"filter": list(selection_filters(request, cutoff).values())}},
        "aggs": facet_aggregations(request, commune_scope, cutoff),
        "sort": SORT_ORDERS.get(request.sort, SORT_ORDERS["relevance"]),
        "from": (request.page - 1) * request.per_page,
        "size": request.per_page,
        "track_total_hits": True,
        "_source": ["practice_id"],
    }
    return body


def counts_from_response(response: dict) -> dict[str, dict[str, int]]:
    """facet name -> value -> count, from the aggregations of a search response."""
    counts = {}
    for name, aggregation in (response.get("aggregations") or {}).items():
        buckets = aggregation["values"]["buckets"]
        if isinstance(buckets, dict):  # a filters aggregation: named buckets
            counts[name] = {key: b["doc_count"] for key, b in buckets.items()}
            continue
        counts[name] = {str(b.get("key_as_string", b["key"])): b["doc_count"]
                        for b in buckets}
    return counts
