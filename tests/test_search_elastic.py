"""The Elasticsearch backend: its index and query bodies, sync failures, and a live server.

The first tests check our own pure functions (index settings, mapping, query bodies) and the
behaviour when the server is unreachable; they need no Elasticsearch. The class at the end
runs against a real server when REGISTRY_ELASTICSEARCH_URL is set, and is skipped otherwise.
"""
from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import date

import pytest

from registry import permissions
from registry.extensions import db
from registry.models.accounts import Grant, User
from registry.search import elastic, get_backend
from registry.search.base import FACETS, SearchRequest
from registry.search.elastic_mapping import (
    build_search, document, hit_from_source, index_mappings, index_settings, text_query,
    scope_filter, visibility_filter,
)
from registry.search.query import parse_query

ES_URL = os.environ.get("REGISTRY_ELASTICSEARCH_URL")
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

def test_folded_analyzer_strips_marks_and_maps_d():
    analysis = index_settings()["analysis"]
    folded = analysis["analyzer"]["folded"]
    assert folded["tokenizer"] == "words"
    assert folded["filter"] == ["lowercase", "asciifolding"]
    assert folded["char_filter"] == ["vi_d"]
    assert set(analysis["char_filter"]["vi_d"]["mappings"]) == {"đ => d", "Đ => D"}
    exact = analysis["analyzer"]["exact"]
    assert exact["filter"] == ["lowercase"] and "char_filter" not in exact
    assert exact["tokenizer"] == "words"


def test_words_split_where_the_sql_backend_splits_them():
    # The SQL backend's words are runs of letters and digits (documents.TOKEN).
    from registry.search.documents import TOKEN
    assert TOKEN.pattern == r"[^\W_]+"
    tokenizer = index_settings()["analysis"]["tokenizer"]["words"]
    assert tokenizer == {"type": "pattern", "pattern": r"[^\p{L}\p{N}]+"}


def test_one_shard_so_term_counts_are_exact():
    assert index_settings()["number_of_shards"] == 1


def test_mapping_has_a_code_field_per_facet_and_two_analyses_per_text():
    properties = index_mappings()["properties"]
    for facet in FACETS:
        expected = "integer" if facet.source == "year" else "keyword"
        assert properties[facet.name]["type"] == expected, facet.name
    for name in ("name", "body"):
        assert properties[name]["analyzer"] == "exact"
        assert properties[name]["fields"]["folded"]["analyzer"] == "folded"
    assert properties["name_sort"]["type"] == "keyword"
    assert properties["created_at"]["type"] == "date_nanos"
    assert properties["replication_count"]["type"] == "integer"
    assert index_mappings()["dynamic"] == "strict"  # no field slips in unannounced


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
    assert _fields_of(query["bool"]["filter"]) == {"name", "body"}


def test_words_without_marks_search_folded_fields():
    query = _text("tu quan ")
    assert _fields_of(query["bool"]["filter"]) == {"name.folded", "body.folded"}
    assert [c["multi_match"]["query"] for c in query["bool"]["filter"]] == ["tu", "quan"]


def test_every_term_must_match():
    query = _text("xom dao binh yen ")
    assert len(query["bool"]["filter"]) == 4  # filters: each one required


def test_name_matches_then_neighbouring_words_then_exact_spellings_rank_first():
    in_name, spelled, pair_in_name, pair = _text("tu quan ")["bool"]["should"]
    assert in_name["constant_score"]["boost"] > spelled["constant_score"]["boost"] > 0
    assert _fields_of(in_name) == {"name.folded"}
    assert _fields_of(spelled) == {"name", "body"}  # the spelling as typed, "tu" not "tự"
    assert len(in_name["constant_score"]["filter"]["bool"]["filter"]) == 2
    # "tu quan" side by side: a phrase over the folded words, in the name and anywhere.
    assert (in_name["constant_score"]["boost"] > pair_in_name["constant_score"]["boost"]
            > pair["constant_score"]["boost"] > spelled["constant_score"]["boost"])
    assert pair["constant_score"]["filter"]["multi_match"] == {
        "query": "tu quan", "fields": ["name.folded", "body.folded"], "type": "phrase"}
    assert _fields_of(pair_in_name) == {"name.folded"}


def test_last_word_is_a_prefix():
    last = _text("xom dao bin")["bool"]["filter"][-1]["bool"]["should"]
    assert last == [{"prefix": {"name.folded": {"value": "bin"}}},
                    {"prefix": {"body.folded": {"value": "bin"}}}]
    marked = _text("bình yê")["bool"]["filter"][-1]["bool"]["should"]
    assert marked[0] == {"prefix": {"name": {"value": "yê"}}}
    assert _text("binh yen ")["bool"]["filter"][-1]["multi_match"]["query"] == "yen"


def test_old_tone_placement_and_nfd_read_as_the_new_spelling():
    assert _text("hoà giải ") == _text("hòa giải ") == _text("ho\u0300a gia\u0309i ")


def test_quoted_phrase_is_a_phrase_query():
    clause = _text('"xóm đạo" ')["bool"]["filter"][0]["multi_match"]
    assert clause == {"query": "xóm đạo", "fields": ["name", "body"], "type": "phrase"}
    clause = _text('"xom dao" ')["bool"]["filter"][0]["multi_match"]
    assert clause == {"query": "xom dao", "fields": ["name.folded", "body.folded"],
                      "type": "phrase"}


def test_abbreviation_is_expanded_to_its_phrase():
    options = _text("antt ", {"antt": "an ninh, trật tự"})["bool"]["filter"][0]["bool"]["should"]
    assert {"multi_match": {"query": "an ninh trật tự", "fields": ["name", "body"],
                            "type": "phrase"}} in options
    assert {"multi_match": {"query": "antt", "fields": ["name.folded", "body.folded"],
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


def test_paging_sorting_and_highlight():
    request = SearchRequest(q="xom", sort="name", page=3, per_page=10)
    body = build_search(request, abbreviations={}, commune_scope=[])
    assert body["from"] == 20 and body["size"] == 10 and body["track_total_hits"] is True
    assert body["sort"] == [{"name_sort": "asc"}, {"practice_id": "asc"}]
    assert body["highlight"]["encoder"] == "html"
    assert body["highlight"]["pre_tags"] == ["<mark>"]
    assert set(body["highlight"]["fields"]) == {"name", "name.folded", "body", "body.folded"}


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


def test_hits_without_highlight_are_escaped():
    hit = hit_from_source({"_source": {"practice_id": 7, "name": "<b>Xóm</b> & co",
                                       "summary": "<script>x</script>"}})
    assert hit.practice_id == 7
    assert hit.name_html == "&lt;b&gt;Xóm&lt;/b&gt; &amp; co"
    assert "<script>" not in hit.snippet_html
    marked = hit_from_source({"_source": {"practice_id": 7, "name": "Xóm", "summary": ""},
                              "highlight": {"name.folded": ["<mark>Xóm</mark>"]}})
    assert marked.name_html == "<mark>Xóm</mark>"


# --- with the database, no server -------------------------------------------------------

def test_document_holds_codes_and_text_but_no_core_member(app, make_practice):
    pid = make_practice(name="Xóm đạo bình yên", domains=["pc-toi-pham"], forms=["tu-quan"],
                        summary="Giữ gìn an ninh", founded_on=date(2015, 3, 1),
                        core_members=[{"name": "Nguyễn Văn Riêngtư", "phone": "0912345678"}],
                        outcomes=[{"period": "2024", "narrative": "Hòa giải thành 5 vụ"}])
    with app.app_context():
        from registry.models.practices import Practice
        practice = elastic.load_practices(db.session, [pid])[0]
        doc = document(practice, replications=2)
        assert db.session.get(Practice, pid).core_members  # the member exists...
    text = json.dumps(doc, ensure_ascii=False)
    assert "Riêngtư" not in text and "0912345678" not in text  # ...but is not indexed
    assert set(doc) <= set(index_mappings()["properties"])
    assert doc["name"] == "Xóm đạo bình yên" and doc["domain"] == ["pc-toi-pham"]
    assert doc["form"] == ["tu-quan"] and doc["commune"] == "00070"
    assert doc["founded_year"] == 2015 and doc["has_replications"] == "yes"
    assert "Hòa giải thành 5 vụ" in doc["body"] and "Giữ gìn an ninh" in doc["body"]


def _actions(app, ids, indexed_parents=()):
    with app.app_context():
        actions = elastic.index_actions(db.session, "idx", set(ids), set(indexed_parents))
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
    facets = elastic.facet_values({"form": {"tu-phong": 3}}, request)
    forms = {v.value: (v.label, v.count, v.selected) for v in facets["form"]}
    assert forms == {"tu-phong": ("tự phòng", 3, False), "tu-quan": ("tự quản", 0, True)}
    assert [(v.value, v.count, v.selected) for v in facets["status"]] == [
        ("approved", 0, True)]


def test_selected_years_stay_listed_when_some_model_has_them(app_ctx):
    counts = {"founded_year": {"2021": 2, "2015": 1},
              "all_years": {"2015": 1, "2019": 1, "2021": 3, "2030": 1}}
    years = elastic.facet_values(counts, SearchRequest(founded_from=2019, founded_to=2025))
    assert [(v.value, v.count, v.selected) for v in years["founded_year"]] == [
        ("2021", 2, True), ("2019", 0, True), ("2015", 1, False)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def unreachable_app(request, tmp_path_factory):
    from conftest import ENGINES, build_app
    if request.param not in ENGINES:
        pytest.skip(f"{request.param} not in REGISTRY_TEST_ENGINES")
    app, teardown = build_app(request.param, tmp_path_factory,
                              {"REGISTRY_ELASTICSEARCH_URL": UNREACHABLE})
    yield app
    from conftest import reset_database
    reset_database(app)
    teardown()


def test_unreachable_index_never_loses_the_database_write(unreachable_app, monkeypatch,
                                                          caplog):
    from registry.models.practices import Practice
    from conftest import term
    monkeypatch.setattr(elastic, "SYNC_BACKOFF", 0.01)
    with unreachable_app.app_context():
        practice = Practice(name="Tổ hòa giải", kind=term("kind", "tu-phong-tu-quan-tu-bao-ve"),
                            commune_code="00070", province_code="01")
        db.session.add(practice)
        with caplog.at_level(logging.ERROR, logger="registry.search.elastic"):
            db.session.commit()  # the index update fails after its retries; no exception
        pid = practice.id
        db.session.remove()
        assert db.session.get(Practice, pid).name == "Tổ hòa giải"
    assert any("registry reindex" in r.getMessage() for r in caplog.records)


def test_unreachable_index_searches_as_no_results(unreachable_app):
    with unreachable_app.test_request_context():
        assert isinstance(get_backend(), elastic.ElasticsearchBackend)
        result = get_backend().search(
            SearchRequest(q="xom", filters={"form": ["tu-quan"]}))
    assert result.total == 0 and result.hits == []
    assert [(v.value, v.count) for v in result.facets["form"]] == [("tu-quan", 0)]


# --- against a live server --------------------------------------------------------------

@pytest.mark.elasticsearch
@pytest.mark.skipif(not ES_URL, reason="REGISTRY_ELASTICSEARCH_URL not set")
class TestLiveServer:
    """The backend end to end, on a throw-away index of the server."""

    @pytest.fixture(scope="class", params=["sqlite", "postgresql"])
    def app(self, request, tmp_path_factory):
        from conftest import ENGINES, build_app
        if request.param not in ENGINES:
            pytest.skip(f"{request.param} not in REGISTRY_TEST_ENGINES")
        index = f"registry-test-{uuid.uuid4().hex[:10]}"
        app, teardown = build_app(request.param, tmp_path_factory,
                                  {"REGISTRY_ELASTICSEARCH_URL": ES_URL,
                                   "REGISTRY_ELASTICSEARCH_INDEX": index})
        yield app
        with app.app_context():
            get_backend().delete_index()
        teardown()

    @staticmethod
    def search(app, **fields):
        with app.test_request_context():
            return get_backend().search(SearchRequest(**fields))

    def ids(self, app, **fields):
        return [h.practice_id for h in self.search(app, **fields).hits]

    def test_created_updated_archived_follow_each_commit(self, app, make_practice):
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

    def test_marks_typed_are_precise_folded_text_is_not(self, app, make_practice):
        exact = make_practice(name="Tổ tự quản an ninh")
        other = make_practice(name="Tổ tư quân an ninh")
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

    def test_name_matches_rank_first(self, app, make_practice):
        in_body = make_practice(name="Mô hình A", summary="Camera an ninh khu phố")
        in_name = make_practice(name="Camera an ninh", summary="Lắp đặt ở thôn")
        assert self.ids(app, q="camera ") == [in_name, in_body]

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
        # Years in the range are selected, and stay listed at 0; 2012 is outside it.
        assert years == {"2020": (1, True), "2018": (0, True)}
        communes = self.search(app, filters={"province": ["01"]}).facets["commune"]
        assert {v.value: v.count for v in communes} == {"00070": 3}

    def test_reindex_repairs_drift_and_indexes_no_personal_data(self, app, make_practice):
        from registry.models.practices import Practice
        pid = make_practice(name="Tổ công nhân tự quản",
                            core_members=[{"name": "Trần Thị Bímật", "phone": "0987654321"}])
        with app.app_context():
            backend = get_backend()
            # Drift: a change neither the listener nor the change log saw.
            db.session.info["suspend_change_log"] = True
            db.session.get(Practice, pid).name = "Tổ công nhân an toàn"
            db.session.commit()
            db.session.info["suspend_change_log"] = False
        assert self.ids(app, q="an toan ") == []
        with app.app_context():
            assert backend.reindex_all() == 1
        assert self.ids(app, q="an toan ") == [pid]
        source = backend.client.get(index=backend.alias, id=str(pid))["_source"]
        assert "Bímật" not in json.dumps(source, ensure_ascii=False)
        assert "0987654321" not in json.dumps(source)
        assert self.ids(app, q="bimat ") == []

    def test_a_write_another_process_logged_shows_in_the_next_answer(self, app,
                                                                       make_practice):
        from sqlalchemy import update

        from registry.models.practices import Practice
        from registry.search.changes import record_changes
        pid = make_practice(name="Tổ an ninh Hoa Sen")
        assert self.ids(app, q="hoa sen ") == [pid]
        with app.app_context():  # only the database and the change log, no listener here
            db.session.execute(update(Practice).values(name="Tổ an ninh Bình Minh"))
            record_changes(db.session, [pid])
            db.session.info.pop("changed_practices")
            db.session.commit()
        assert self.ids(app, q="binh minh ") == [pid]

    def test_unknown_viewer_sees_public_only_officer_sees_own_drafts(self, app, make_practice):
        public = make_practice(name="Tổ an ninh A")
        draft = make_practice(name="Tổ an ninh B", status="draft")
        assert self.ids(app, q="to an ninh ") == [public]
        officer = _user(("officer", "00070"))
        assert sorted(self.ids(app, q="to an ninh ", viewer=officer)) == sorted([public, draft])
