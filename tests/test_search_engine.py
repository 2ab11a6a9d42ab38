"""The search-engine backend (Elasticsearch 9 and OpenSearch): index and query bodies, an
unreachable engine, and the live servers.

The first tests check our own pure functions (index settings, mapping, query bodies) and the
behaviour when the engine is unreachable (a closed port); they need no server. The class at
the end runs against each real engine whose URL is set (scripts/test starts both).
"""
from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from registry import permissions
from registry.extensions import db
from registry.models.accounts import Grant, User
from registry.search import engine, get_backend
from registry.search.base import FACETS, SearchRequest, SearchUnavailable
from registry.search.elastic_mapping import (
    TEXT_FIELDS, build_search, index_mappings, index_settings, scope_filter, text_query,
    visibility_filter,
)
from registry.search.query import parse_query

ENGINE_URLS = {"elasticsearch": os.environ.get("REGISTRY_ELASTICSEARCH_URL"),
               "opensearch": os.environ.get("REGISTRY_OPENSEARCH_URL")}
URL_SETTINGS = {"elasticsearch": "REGISTRY_ELASTICSEARCH_URL",
                "opensearch": "REGISTRY_OPENSEARCH_URL"}
INDEX_SETTINGS = {"elasticsearch": "REGISTRY_ELASTICSEARCH_INDEX",
                  "opensearch": "REGISTRY_OPENSEARCH_INDEX"}
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there


def _fields_of(query) -> set[str]:
    """Every field a query body names (multi_match fields without boosts, prefix keys)."""
    found = set()
    if isinstance(query, dict):
        for key, value in query.items():
            if key == "multi_match":
                found.update(f.split("^")[0] for f in value["fields"])
            elif key == "prefix":
                found.update(value)
            else:
                found |= _fields_of(value)
    elif isinstance(query, list):
        for item in query:
            found |= _fields_of(item)
    return found


def _user(*grants) -> User:
    user = User(email="x@example.org", name="X", active=True)
    user.grants = [Grant(role=role, unit=unit) for role, unit in grants]
    return user


# --- index settings and mapping -----------------------------------------------------------

def test_only_built_in_analysis_is_used():
    # The integration-test distributions have no analysis-common module: no custom
    # tokenizer, char filter or token filter; the words come tokenised and folded.
    settings = index_settings()
    assert "analysis" not in settings
    properties = index_mappings()["properties"]
    for name in TEXT_FIELDS:
        assert properties[name]["analyzer"] == "whitespace"


def test_one_shard_so_term_counts_are_exact():
    assert index_settings()["number_of_shards"] == 1
    assert index_settings()["number_of_replicas"] == 0


def test_mapping_has_a_code_field_per_facet_and_the_sql_backends_words():
    properties = index_mappings()["properties"]
    for facet in FACETS:
        if facet.source == "activity":  # computed at query time from the last activity day
            assert properties["last_activity"]["type"] == "integer"
            continue
        expected = "integer" if facet.source == "year" else "keyword"
        assert properties[facet.name]["type"] == expected, facet.name
    assert set(TEXT_FIELDS) == {"name_exact", "name_folded", "body_exact", "body_folded"}
    assert properties["name_sort"]["type"] == "keyword"
    assert properties["created_at"]["type"] == "date_nanos"
    assert properties["replication_count"]["type"] == "integer"
    assert index_mappings()["dynamic"] == "strict"  # no field slips in unannounced
    assert set(index_mappings()["_source"]["excludes"]) == set(TEXT_FIELDS)


def test_mapping_has_no_place_for_personal_data():
    names = " ".join(index_mappings()["properties"]).lower()
    for word in ("member", "phone", "person", "email"):
        assert word not in names


# --- text -------------------------------------------------------------------------------

def _text(q, abbreviations=None):
    return text_query(parse_query(q, abbreviations or {}))


@pytest.mark.parametrize("hostile", ['"', '"xom dao', 'a" OR b AND (c', "\x00\x1f\x7f",
                                     "x" * 100_000, "* ? ~ ^ : { } [ ] / \\", "'; DROP",
                                     '""""""', "-", "\u202e\u200b"])
def test_hostile_input_gives_a_valid_body(hostile):
    body = build_search(SearchRequest(q=hostile), abbreviations={}, commune_scope=[])
    json.dumps(body)  # a plain JSON body, whatever came in
    assert len(json.dumps(body)) < 20_000


def test_words_with_marks_search_exact_fields_only():
    query = _text("tự quản ")
    assert _fields_of(query["bool"]["filter"]) == {"name_exact", "body_exact"}


def test_words_without_marks_search_folded_fields():
    query = _text("tu quan ")
    assert _fields_of(query["bool"]["filter"]) == {"name_folded", "body_folded"}
    assert [c["multi_match"]["query"] for c in query["bool"]["filter"]] == ["tu", "quan"]


def test_every_term_must_match():
    query = _text("xom dao binh yen ")
    assert len(query["bool"]["filter"]) == 4  # filters: each one required


def test_name_matches_then_neighbouring_words_then_exact_spellings_rank_first():
    in_name, spelled, pair_in_name, pair = _text("tu quan ")["bool"]["should"]
    assert in_name["constant_score"]["boost"] > spelled["constant_score"]["boost"] > 0
    assert _fields_of(in_name) == {"name_folded"}
    assert _fields_of(spelled) == {"name_exact", "body_exact"}  # the spelling as typed, "tu" not "tự"
    assert len(in_name["constant_score"]["filter"]["bool"]["filter"]) == 2
    # "tu quan" side by side: a phrase over the folded words, in the name and anywhere.
    assert (in_name["constant_score"]["boost"] > pair_in_name["constant_score"]["boost"]
            > pair["constant_score"]["boost"] > spelled["constant_score"]["boost"])
    assert pair["constant_score"]["filter"]["multi_match"] == {
        "query": "tu quan", "fields": ["name_folded", "body_folded"], "type": "phrase"}
    assert _fields_of(pair_in_name) == {"name_folded"}


def test_last_word_is_a_prefix():
    last = _text("xom dao bin")["bool"]["filter"][-1]["bool"]["should"]
    assert last == [{"prefix": {"name_folded": {"value": "bin"}}},
                    {"prefix": {"body_folded": {"value": "bin"}}}]
    marked = _text("bình yê")["bool"]["filter"][-1]["bool"]["should"]
    assert marked[0] == {"prefix": {"name_exact": {"value": "yê"}}}
    assert _text("binh yen ")["bool"]["filter"][-1]["multi_match"]["query"] == "yen"


def test_old_tone_placement_and_nfd_read_as_the_new_spelling():
    assert _text("hoà giải ") == _text("hòa giải ") == _text("ho\u0300a gia\u0309i ")


def test_quoted_phrase_is_a_phrase_query():
    clause = _text('"xóm đạo" ')["bool"]["filter"][0]["multi_match"]
    assert clause == {"query": "xóm đạo", "fields": ["name_exact", "body_exact"], "type": "phrase"}
    clause = _text('"xom dao" ')["bool"]["filter"][0]["multi_match"]
    assert clause == {"query": "xom dao", "fields": ["name_folded", "body_folded"],
                      "type": "phrase"}


def test_abbreviation_is_expanded_to_its_phrase():
    options = _text("antt ", {"antt": "an ninh, trật tự"})["bool"]["filter"][0]["bool"]["should"]
    assert {"multi_match": {"query": "an ninh trật tự", "fields": ["name_exact", "body_exact"],
                            "type": "phrase"}} in options
    assert {"multi_match": {"query": "antt", "fields": ["name_folded", "body_folded"],
                            "type": "best_fields"}} in options


# --- facets, post filter, visibility ----------------------------------------------------

def test_each_facet_counts_with_every_other_selection_and_hits_with_all():
    request = SearchRequest(q="", filters={"province": ["01"], "kind": ["a", "b"],
                                           "domain": ["d"], "has_replications": ["yes"]},
                            founded_from=2010, founded_to=2020)
    body = build_search(request, abbreviations={}, commune_scope=["00004", "00008"])
    selections = {
        "province": {"terms": {"province": ["01"]}},
        "kind": {"terms": {"kind": ["a", "b"]}},
        "domain": {"terms": {"domain": ["d"]}},
        "has_replications": {"terms": {"has_replications": ["yes"]}},
        "founded_year": {"range": {"founded_year": {"gte": 2010, "lte": 2020}}},
    }
    post = body["post_filter"]["bool"]["filter"]
    assert sorted(map(json.dumps, post)) == sorted(map(json.dumps, selections.values()))
    for facet in FACETS:
        aggregation = body["aggs"][facet.name]
        applied = aggregation["filter"]["bool"]["filter"]
        expected = [f for name, f in selections.items() if name != facet.name]
        assert sorted(map(json.dumps, applied)) == sorted(map(json.dumps, expected)), facet
        if facet.source == "activity":  # two named filters, not a terms aggregation
            named = aggregation["aggs"]["values"]["filters"]["filters"]
            assert set(named) == {"active", "possibly_inactive"}
            continue
        terms = aggregation["aggs"]["values"]["terms"]
        assert terms["field"] == facet.name
        assert terms["size"] >= (2 if facet.name == "commune" else 100)
    communes = body["aggs"]["commune"]["aggs"]["values"]["terms"]
    assert communes["include"] == ["00004", "00008"] and communes["size"] == 2
    # Selections stay out of the main query, which the aggregations see.
    assert "post_filter" not in json.dumps(body["query"])
    assert json.dumps(selections["kind"]) not in json.dumps(body["query"])


def test_no_commune_counts_without_a_province_or_commune_selected():
    body = build_search(SearchRequest(), abbreviations={}, commune_scope=[])
    assert "commune" not in body["aggs"]
    assert "highlight" not in body


def test_paging_and_sorting():
    request = SearchRequest(q="xom", sort="name", page=3, per_page=10)
    body = build_search(request, abbreviations={}, commune_scope=[])
    assert body["from"] == 20 and body["size"] == 10 and body["track_total_hits"] is True
    assert body["sort"] == [{"name_sort": "asc"}, {"practice_id": "asc"}]
    assert "highlight" not in body  # highlights come from the database, as for SQL
    assert body["_source"] == ["practice_id"]


def test_visibility_follows_the_permissions():
    public = {"terms": {"status": ["approved", "nominated", "registered"]}}
    assert visibility_filter(None) == public
    assert visibility_filter(_user(("trainer", "national"))) == public
    assert visibility_filter(_user(("admin", "national"))) is None
    assert visibility_filter(_user(("committee", "national"))) is None
    officer = visibility_filter(_user(("officer", "00070"), ("reviewer", "01")))
    assert officer["bool"]["should"] == [public, {"bool": {"should": [
        {"terms": {"commune": ["00070"]}}, {"terms": {"province": ["01"]}}],
        "minimum_should_match": 1}}]
    # Officers edit their commune's models unless archived: both conditions of one area.
    edit = scope_filter(permissions.scope(_user(("officer", "00070")), "edit"))
    assert edit["bool"]["filter"][1] == {"terms": {"commune": ["00070"]}}
    assert "archived" not in edit["bool"]["filter"][0]["terms"]["status"]


def test_visibility_is_applied_in_the_query_so_counts_respect_it():
    body = build_search(SearchRequest(viewer=_user(("officer", "00070"))), abbreviations={},
                        commune_scope=[])
    assert body["query"]["bool"]["filter"] == [visibility_filter(_user(("officer", "00070")))]
    assert "status" in json.dumps(body["query"])


# --- with the database, no server -------------------------------------------------------

def test_document_holds_codes_and_the_sql_words_but_no_core_member(app, make_practice):
    from registry.search import documents
    pid = make_practice(name="Xóm đạo bình yên", domains=["pc-toi-pham"], forms=["tu-quan"],
                        summary="Giữ gìn an ninh", founded_on=date(2015, 3, 1),
                        core_members=[{"name": "Nguyễn Văn Riêngtư", "phone": "0912345678"}],
                        outcomes=[{"period": "2024", "narrative": "Hòa giải thành 5 vụ"}])
    with app.app_context():
        from registry.models.practices import Practice
        practices = engine.load_practices(db.session, [pid])
        [(_, doc)] = engine.documents_of(db.session, practices, {pid: 2})
        stored = documents.read_rows(db.session.connection(), [pid])[pid]
        assert db.session.get(Practice, pid).core_members  # the member exists...
        db.session.rollback()
    text = json.dumps(doc, ensure_ascii=False)
    assert "riêngtư" not in text.lower() and "0912345678" not in text  # ...not indexed
    assert set(doc) <= set(index_mappings()["properties"])
    assert {name: doc[name] for name in TEXT_FIELDS} == stored  # the SQL backend's words
    assert doc["name_exact"] == "xóm đạo bình yên" and doc["name_folded"] == "xom dao binh yen"
    assert doc["domain"] == ["pc-toi-pham"]
    assert doc["form"] == ["tu-quan"] and doc["commune"] == "00070"
    assert doc["founded_year"] == 2015 and doc["has_replications"] == "yes"
    assert "hòa giải thành 5 vụ" in doc["body_exact"]
    assert "giu gin an ninh" in doc["body_folded"]


def _actions(app, ids, indexed_parents=()):
    with app.app_context():
        actions = engine.index_actions(db.session, "idx", set(ids), set(indexed_parents))
        db.session.rollback()
    return {(a["_op_type"], int(a["_id"])): a.get("_source") for a in actions}


def test_index_updates_follow_replication_counts_and_deletions(app, make_practice):
    from registry.models.practices import Practice
    source = make_practice(name="Gốc")
    copy = make_practice(name="Bản sao", replicated_from_id=source)
    make_practice(name="Bản nháp", replicated_from_id=source, status="draft")
    actions = _actions(app, [copy])
    assert set(actions) == {("index", copy), ("index", source)}  # the source's count moved
    assert actions[("index", source)]["replication_count"] == 1  # the draft does not count
    assert actions[("index", source)]["has_replications"] == "yes"
    assert actions[("index", copy)]["replicated_from"] == source
    with app.app_context():
        db.session.delete(db.session.get(Practice, copy))
        db.session.commit()
    # The index still names the source as the deleted copy's; the database no longer can.
    actions = _actions(app, [copy], indexed_parents=[source])
    assert set(actions) == {("delete", copy), ("index", source)}
    assert actions[("index", source)]["has_replications"] == "no"
    assert _actions(app, [12345678]) == {("delete", 12345678): None}


def test_selected_values_stay_listed_with_zero(app_ctx):
    request = SearchRequest(filters={"form": ["tu-quan"], "status": ["approved"]})
    facets = engine.facet_values({"form": {"tu-phong": 3}}, request)
    forms = {v.value: (v.label, v.count, v.selected) for v in facets["form"]}
    assert forms == {"tu-phong": ("tự phòng", 3, False), "tu-quan": ("tự quản", 0, True)}
    assert [(v.value, v.count, v.selected) for v in facets["status"]] == [
        ("approved", 0, True)]


def test_years_in_the_range_are_selected_and_listed_only_with_results(app_ctx):
    counts = {"founded_year": {"2021": 2, "2015": 1}}
    years = engine.facet_values(counts, SearchRequest(founded_from=2019, founded_to=2025))
    assert [(v.value, v.count, v.selected) for v in years["founded_year"]] == [
        ("2021", 2, True), ("2015", 1, False)]


# --- an unreachable engine (a closed port) --------------------------------------------------

@pytest.fixture(scope="module", params=["sqlite-elasticsearch", "sqlite-opensearch",
                                        "postgresql-elasticsearch", "postgresql-opensearch"])
def unreachable_app(request, tmp_path_factory):
    from conftest import ENGINES, build_app, reset_database
    database, name = request.param.split("-")
    if database not in ENGINES:
        pytest.skip(f"{database} not in REGISTRY_TEST_ENGINES")
    app, teardown = build_app(database, tmp_path_factory, {URL_SETTINGS[name]: UNREACHABLE})
    yield app
    reset_database(app)
    teardown()


def test_unreachable_engine_never_loses_the_database_write(unreachable_app, monkeypatch,
                                                           caplog):
    from conftest import term

    from registry.models.practices import Practice
    from registry.models.search_log import SearchChange
    monkeypatch.setattr(engine, "SYNC_BACKOFF", 0.01)
    with unreachable_app.app_context():
        practice = Practice(name="Tổ hòa giải", kind=term("kind", "tu-phong-tu-quan-tu-bao-ve"),
                            commune_code="00070", province_code="01")
        db.session.add(practice)
        with caplog.at_level(logging.ERROR, logger="registry.search.engine"):
            db.session.commit()  # the index update fails after its retries; no exception
        pid = practice.id
        db.session.remove()
        assert db.session.get(Practice, pid).name == "Tổ hòa giải"
        # ...and the change log keeps it for `registry search-sync`.
        assert pid in set(db.session.scalars(select(SearchChange.practice_id)))
    assert any("registry search-sync" in r.getMessage() for r in caplog.records)


def test_unreachable_engine_is_reported_not_hidden(unreachable_app):
    with unreachable_app.test_request_context():
        backend = get_backend()
        assert isinstance(backend, engine.EngineBackend)
        with pytest.raises(SearchUnavailable):
            backend.search(SearchRequest(q="xom", filters={"form": ["tu-quan"]}))


def test_search_page_says_the_engine_is_unavailable(unreachable_app):
    response = unreachable_app.test_client().get("/practices?q=xom")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Máy chủ tìm kiếm tạm thời không hoạt động" in page
    # The rest of the site answers.
    assert unreachable_app.test_client().get("/login").status_code == 200


def test_api_answers_503_in_the_error_format(unreachable_app):
    response = unreachable_app.test_client().get("/api/v1/practices?q=xom")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    error = response.get_json()["error"]
    assert error["code"] == "search_unavailable" and error["fields"] == {}
    assert "tìm kiếm" in error["message"]


def test_commands_report_an_unreachable_engine(unreachable_app):
    runner = unreachable_app.test_cli_runner()
    for command in (["search-sync"], ["reindex"]):
        result = runner.invoke(args=command)
        assert result.exit_code != 0, command
        assert "Máy chủ tìm kiếm không phản hồi" in result.output, result.output


# --- against the live engines ---------------------------------------------------------------

@pytest.fixture(scope="class", params=[f"{d}-{e}" for d in ("sqlite", "postgresql")
                                       for e in ("elasticsearch", "opensearch")])
def live_app(request, tmp_path_factory):
    """An application searching through a throw-away index of a live engine."""
    from conftest import ENGINES, build_app
    database, name = request.param.split("-")
    if not ENGINE_URLS[name]:
        pytest.skip(f"{URL_SETTINGS[name]} not set (scripts/test starts the engine)")
    if database not in ENGINES:
        pytest.skip(f"{database} not in REGISTRY_TEST_ENGINES")
    index = f"registry-test-{uuid.uuid4().hex[:10]}"
    app, teardown = build_app(database, tmp_path_factory,
                              {URL_SETTINGS[name]: ENGINE_URLS[name],
                               INDEX_SETTINGS[name]: index})
    yield app
    with app.app_context():
        get_backend().delete_index()
    teardown()


@pytest.mark.elasticsearch
class TestLiveServer:
    """The backend end to end, on a throw-away index of each engine."""

    @pytest.fixture(scope="class")
    def app(self, live_app):
        return live_app  # reset after each test by conftest's autouse fixture

    @staticmethod
    def search(app, **fields):
        with app.test_request_context():
            return get_backend().search(SearchRequest(**fields))

    def ids(self, app, **fields):
        return [h.practice_id for h in self.search(app, **fields).hits]

    def test_created_updated_archived_deleted_follow_each_commit(self, app, make_practice):
        from registry.models.practices import Practice
        pid = make_practice(name="Xóm đạo bình yên")
        assert self.ids(app, q="xom dao") == [pid]
        with app.app_context():
            db.session.get(Practice, pid).name = "Dòng tộc không có tội phạm"
            db.session.commit()
        assert self.ids(app, q="xom dao") == []
        assert self.ids(app, q="dong toc") == [pid]
        with app.app_context():
            db.session.get(Practice, pid).status = "archived"
            db.session.commit()
        assert self.ids(app, q="dong toc") == []
        with app.app_context():
            db.session.get(Practice, pid).status = "registered"
            db.session.commit()
        assert self.ids(app, q="dong toc") == [pid]
        with app.app_context():
            db.session.delete(db.session.get(Practice, pid))
            db.session.commit()
        assert self.ids(app, q="dong toc") == [] and self.search(app).total == 0

    def test_the_page_and_the_api_answer_through_the_engine(self, app, make_practice):
        pid = make_practice(name="Xóm đạo bình yên", summary="Tổ <b>hoà giải</b> giáo xứ")
        client = app.test_client()
        page = client.get("/practices?q=xom+dao")
        assert page.status_code == 200 and "<mark>Xóm</mark>" in page.get_data(as_text=True)
        body = client.get("/api/v1/practices?q=hoa+giai").get_json()
        assert body["total"] == 1 and body["hits"][0]["id"] == pid
        assert "<mark>hòa</mark>" in body["hits"][0]["highlight"]["snippet"]  # canonical
        assert "&lt;b&gt;" in body["hits"][0]["highlight"]["snippet"]

    def test_reindex_swaps_the_alias_and_repairs_drift(self, app, make_practice):
        from registry.models.practices import Practice
        pid = make_practice(name="Tổ công nhân tự quản",
                            core_members=[{"name": "Trần Thị Bímật", "phone": "0987654321"}])
        assert self.ids(app, q="cong nhan ") == [pid]  # the creation is applied
        with app.app_context():
            backend = get_backend()
            before = backend._indices_behind_alias()
            # Drift: a change neither the listener nor the change log saw.
            db.session.info["suspend_change_log"] = True
            db.session.get(Practice, pid).name = "Tổ công nhân an toàn"
            db.session.commit()
            db.session.info["suspend_change_log"] = False
        assert self.ids(app, q="an toan ") == []
        result = app.test_cli_runner().invoke(args=["reindex"])
        assert result.exit_code == 0, result.output
        assert "1 mô hình" in result.output and "mô hình/giây" in result.output
        assert "Lập chỉ mục: 1/1" in result.output  # plain counts when not on a terminal
        assert self.ids(app, q="an toan ") == [pid]
        with app.app_context():
            after = backend._indices_behind_alias()
            assert len(after) == 1 and after != before  # a new index behind the alias
            source = backend.client.request("GET", f"/{backend.alias}/_doc/{pid}")["_source"]
        assert "Bímật" not in json.dumps(source, ensure_ascii=False)
        assert "0987654321" not in json.dumps(source)
        assert self.ids(app, q="bimat ") == []

    def test_searches_never_see_an_empty_index_while_reindexing(self, app, make_practice):
        ids = sorted(make_practice(name=f"Tổ tự quản số {i}") for i in range(12))
        seen = []
        with app.app_context():
            backend = get_backend()

            def progress(done, total):  # called between bulk requests of the new index
                with app.test_request_context():
                    seen.append(backend.search(SearchRequest(q="tu quan")).total)
            monkeypatch_batch = engine.BATCH
            engine.BATCH = 5
            try:
                assert backend.reindex_all(progress=progress) == 12
            finally:
                engine.BATCH = monkeypatch_batch
        assert seen and set(seen) == {12}, seen
        assert sorted(self.ids(app, q="tu quan", per_page=100)) == ids

    def test_changes_missed_while_the_engine_was_down_are_sent_later(self, app, make_practice,
                                                                    monkeypatch):
        from registry.models.practices import Practice
        monkeypatch.setattr(engine, "SYNC_BACKOFF", 0.01)
        kept = make_practice(name="Tổ an ninh Hoa Sen")
        changed = make_practice(name="Tổ an ninh Bình Minh")
        assert sorted(self.ids(app, q="to an ninh ")) == sorted([kept, changed])
        live = app.extensions["search"]
        down = type(live)(app, url=UNREACHABLE, index=live.alias)
        app.extensions["search"] = down  # the engine goes away
        try:
            with app.app_context():
                db.session.get(Practice, changed).status = "archived"
                db.session.commit()  # saved; the update fails after its retries
            added = make_practice(name="Tổ an ninh Ánh Dương")
            assert app.test_client().get("/practices?q=to+an+ninh").status_code == 503
            assert app.test_client().get("/api/v1/practices?q=an").status_code == 503
        finally:
            app.extensions["search"] = live
        with app.app_context():  # the database has every write
            assert db.session.get(Practice, changed).status == "archived"
            assert db.session.get(Practice, added) is not None
        # The engine is back. A process started meanwhile replays from the index's record,
        # as does `registry search-sync`.
        result = app.test_cli_runner().invoke(args=["search-sync"])
        assert result.exit_code == 0, result.output
        assert "Đã gửi 2 mô hình" in result.output
        assert sorted(self.ids(app, q="to an ninh ")) == sorted([kept, added])
        result = app.test_cli_runner().invoke(args=["search-sync"])
        assert "Đã gửi 0 mô hình" in result.output

    def test_a_new_process_replays_what_the_index_missed(self, app, make_practice,
                                                         monkeypatch):
        from registry.models.practices import Practice
        monkeypatch.setattr(engine, "SYNC_BACKOFF", 0.01)
        pid = make_practice(name="Tổ an ninh Hoa Sen")
        assert self.ids(app, q="hoa sen ") == [pid]
        live = app.extensions["search"]
        app.extensions["search"] = type(live)(app, url=UNREACHABLE, index=live.alias)
        try:
            with app.app_context():
                db.session.get(Practice, pid).name = "Tổ an ninh Bình Minh"
                db.session.commit()
        finally:
            app.extensions["search"] = type(live)(app)  # a fresh process: no memory
        assert self.ids(app, q="binh minh ") == [pid]
        assert self.ids(app, q="hoa sen ") == []

    def test_marks_typed_are_precise_folded_text_is_not(self, app, make_practice):
        # A kind whose label ("Nông dân với pháp luật") has none of the words searched.
        exact = make_practice(name="Tổ tự quản an ninh", kind="nong-dan-voi-phap-luat")
        other = make_practice(name="Tổ tư quân an ninh", kind="nong-dan-voi-phap-luat")
        assert sorted(self.ids(app, q="tu quan ")) == sorted([exact, other])
        assert self.ids(app, q="tự quản ") == [exact]
        assert self.ids(app, q="tự quản") == [exact]  # and as a prefix
        assert self.ids(app, q="TỰ QUẢN ") == [exact]

    def test_d_old_tones_nfd_abbreviations_phrases(self, app, make_practice):
        dao = make_practice(name="Xóm đạo bình yên", summary="Tổ hoà giải của giáo xứ")
        antt = make_practice(name="Khu dân cư an ninh, trật tự tốt")
        assert self.ids(app, q="xom dao ") == [dao]
        assert self.ids(app, q="hòa giải ") == [dao]
        assert self.ids(app, q="ho\u0300a gia\u0309i ") == [dao]
        assert self.ids(app, q="ANTT ") == [antt]
        assert self.ids(app, q='"binh yen" ') == [dao]
        assert self.ids(app, q='"yen binh" ') == []
        assert self.ids(app, q="xom da") == [dao]
        hit = self.search(app, q="xom dao").hits[0]
        assert "<mark>" in hit.name_html

    def test_vietnamese_alphabetical_order(self, app, make_practice):
        names = ["Đội tự quản", "Dân phòng", "Ấp an toàn", "An ninh thôn", "Ẩn danh"]
        ids = {make_practice(name=n): n for n in names}
        ordered = [ids[i] for i in self.ids(app, sort="name")]
        assert ordered == ["An ninh thôn", "Ẩn danh", "Ấp an toàn", "Dân phòng", "Đội tự quản"]

    def test_facet_counts_apply_the_other_selections(self, app, make_practice):
        make_practice(forms=["tu-quan"], domains=["pc-toi-pham"], founded_on=date(2012, 1, 1))
        make_practice(forms=["tu-phong"], domains=["pc-toi-pham"], founded_on=date(2018, 1, 1))
        make_practice(forms=["tu-quan", "tu-phong"], domains=["pc-ma-tuy"])
        make_practice(forms=["tu-quan"], status="draft")  # not visible to the public
        result = self.search(app, filters={"form": ["tu-quan"], "domain": ["pc-toi-pham"]})
        assert result.total == 1
        forms = {v.value: v.count for v in result.facets["form"]}
        assert forms == {"tu-quan": 1, "tu-phong": 1}  # domain applied, form not
        domains = {v.value: (v.count, v.selected) for v in result.facets["domain"]}
        assert domains == {"pc-toi-pham": (1, True), "pc-ma-tuy": (1, False)}
        result = self.search(app, filters={"domain": ["pc-ma-tuy"]}, founded_from=2015)
        assert result.total == 1  # the third (founded 2020, the default)
        domains = {v.value: (v.count, v.selected) for v in result.facets["domain"]}
        assert domains == {"pc-toi-pham": (1, False), "pc-ma-tuy": (1, True)}
        years = {v.value: (v.count, v.selected) for v in result.facets["founded_year"]}
        assert years == {"2020": (1, True)}  # only years with results, as the SQL backend
        communes = self.search(app, filters={"province": ["01"]}).facets["commune"]
        assert {v.value: v.count for v in communes} == {"00070": 3}

    def test_unknown_viewer_sees_public_only_officer_sees_own_drafts(self, app, make_practice):
        public = make_practice(name="Tổ an ninh A")
        draft = make_practice(name="Tổ an ninh B", status="draft")
        assert self.ids(app, q="to an ninh ") == [public]
        officer = _user(("officer", "00070"))
        assert sorted(self.ids(app, q="to an ninh ", viewer=officer)) == sorted([public, draft])
