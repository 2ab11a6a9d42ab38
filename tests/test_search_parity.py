"""Parity: the SQL backend, Elasticsearch and OpenSearch give the same answers.

A deterministic data set (seeded generator below) is written through the ORM once per
database; every backend of tests/search_backends.py then answers the benchmark's query mix
(`../shared/bench/queries.json`, or the copy in tests/data when the shared folder is absent)
and more (orders, pages, a viewer with drafts, abbreviations, prefixes, phrases). Totals,
hits in order, highlights and every facet's values and counts must be identical.
"""
from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from registry.extensions import db
from registry.models.accounts import Grant, User
from registry.models.places import Province
from registry.search.base import SearchRequest
from registry.text import match_key
from tests.search_backends import BACKENDS

REPO = Path(__file__).resolve().parent.parent
SHARED_QUERIES = REPO.parent / "shared" / "bench" / "queries.json"
QUERIES_FILE = SHARED_QUERIES if SHARED_QUERIES.exists() else \
    Path(__file__).parent / "data" / "bench_queries.json"
MODELS = 240
SEED = 2025

NAMES = ["Xóm đạo bình yên", "Camera an ninh", "Tổ tự quản", "Tổ hòa giải", "Tổ hoà giải",
         "Dòng tộc không có tội phạm", "Tổ công nhân tự quản", "Đội tư quân",
         "Khu dân cư an toàn", "Chi đoàn thanh niên không có tội phạm",
         "Bình yên xóm đạo", "Tổ bảo đảm trật tự, an toàn giao thông", "Nhóm ANTT"]
PLACES = ["Thôn Đông", "Xóm 3", "Giáo xứ Phú Nhai", "Bản Pác Ngòi", "Tổ dân phố 5", "Ấp Bắc"]
SUMMARIES = ["Lắp camera giám sát ở ngã ba", "Tự quản về an ninh, trật tự",
             "Hòa giải mâu thuẫn trong cộng đồng", "Tuyên truyền trật tự, an toàn giao thông",
             "Phòng, chống ma túy trong thanh niên", ""]
KINDS = ["tu-phong-tu-quan-tu-bao-ve", "xom-dao-binh-yen", "nong-dan-voi-phap-luat",
         "dong-toc-khong-co-toi-pham-va-te-nan-xa-hoi"]
DOMAINS = ["pc-ma-tuy", "pc-toi-pham", "trat-tu-atgt"]
FORMS = ["tu-phong", "tu-quan", "tu-bao-ve", "tu-hoa-giai"]
SETTINGS = [None, "nong-thon", "do-thi"]
LEADS = [None, "hoi-ccb", "cong-an-xa"]
STATUSES = ["registered"] * 6 + ["approved", "nominated", "draft", "submitted"]
# Provinces of the query mix (Sơn La, Huế, Thái Nguyên) and Hà Nội, with some communes each.
PROVINCES = ["Sơn La", "Thành phố Huế", "Thái Nguyên", "Thành phố Hà Nội"]

EXTRA = [
    {"q": "tu quan", "sort": "newest"}, {"q": "tu quan", "sort": "name", "page": 2},
    {"q": "", "sort": "replicated"}, {"q": "hòa giải"}, {"q": "hoà giải"}, {"q": "camer"},
    {"q": '"binh yen"'}, {"q": "ANTT"}, {"q": "ttatgt"}, {"q": "an toan giao thong"},
    {"q": "xom dao", "per_page": 7, "page": 3}, {"q": "tự quản"}, {"q": "pac ngoi"},
    {"q": "tu quan", "viewer": "officer"}, {"q": "", "viewer": "committee"},
    {"q": "", "filters_by_code": {"has_replications": ["yes"]}},
    {"q": "", "founded_from": 2016, "founded_to": 2021},
]


def _existing(vocabulary: str, codes):
    from registry.models.vocab import Term
    known = set(db.session.scalars(select(Term.code).where(Term.vocabulary == vocabulary)))
    return [c for c in codes if c is None or c in known]


def build_data_set(app, make_practice) -> None:
    """MODELS practices from a seeded generator; replications among them; two users."""
    rng = random.Random(SEED)
    with app.app_context():
        from registry.models.places import Commune
        from registry.models.vocab import Term
        provinces = {match_key(p.name): p.code for p in db.session.scalars(select(Province))}
        communes = []
        for name in PROVINCES:
            code = provinces[match_key(name)]
            communes += list(db.session.scalars(select(Commune.code).where(
                Commune.province_code == code).order_by(Commune.code).limit(3)))
        kinds, settings = _existing("kind", KINDS), _existing("setting", SETTINGS)
        leads = _existing("lead_organisation", LEADS)
        groups = list(db.session.scalars(select(Term.code).where(
            Term.vocabulary == "target_group").order_by(Term.code)))
        db.session.rollback()
    ids = []
    for i in range(MODELS):
        name = f"{rng.choice(NAMES)} {rng.choice(PLACES)}"
        ids.append(make_practice(
            name=name if rng.random() < 0.9 else name.lower(),
            kind=rng.choice(kinds), summary=rng.choice(SUMMARIES),
            description=rng.choice(["", "### Hoạt động\n\n- Lắp **camera** ở ngã ba",
                                    "Tổ tự quản họp hằng tháng; hoà giải 3 vụ."]),
            commune_code=rng.choice(communes), hamlet=rng.choice(PLACES),
            setting=rng.choice(settings), lead_organisation=rng.choice(leads),
            founded_on=rng.choice([date(2012, 5, 1), date(2016, 1, 1), date(2020, 3, 1),
                                   date(2021, 9, 1), date(2023, 6, 1), None]),
            status=rng.choice(STATUSES),
            recognition_level=rng.choice(["none", "none", "commune", "province"]),
            forms=rng.sample(FORMS, rng.randint(1, 2)),
            domains=rng.sample(DOMAINS, rng.randint(0, 2)),
            target_groups=rng.sample(groups, rng.randint(0, 2)),
            replicated_from_id=rng.choice(ids) if ids and rng.random() < 0.15 else None,
            outcomes=[{"period": "2024-H1", "narrative": rng.choice(
                ["Hòa giải thành công 2 vụ việc", "Không có tội phạm", "Lắp thêm camera"])}]
            if rng.random() < 0.3 else []))
    with app.app_context():
        for email, role, unit in (("officer@parity.vn", "officer", communes[0]),
                                  ("committee@parity.vn", "committee", "01")):
            user = User(email=email, name=email)
            user.grants = [Grant(role=role, unit=unit)]
            db.session.add(user)
        db.session.commit()


def query_requests(app) -> list[tuple[str, dict]]:
    """(label, SearchRequest fields) for the query mix (labels mapped to codes) and EXTRA."""
    from registry.vocabularies import VocabularyIndex
    queries = json.loads(QUERIES_FILE.read_text(encoding="utf-8"))["queries"]
    requests = []
    with app.app_context():
        provinces = {}
        for code, name, short in db.session.execute(
                select(Province.code, Province.name, Province.short_name)):
            provinces[match_key(name)] = provinces[match_key(short)] = code
        vocab = VocabularyIndex()
        for query in queries:
            filters = {}
            for facet, labels in query.get("filters", {}).items():
                if facet == "province":
                    filters[facet] = [provinces[match_key(label)] for label in labels]
                else:  # a label unknown here (a kind only the benchmark data has) stays
                    filters[facet] = [getattr(vocab.resolve(facet, label), "code",
                                              match_key(label)) for label in labels]
            requests.append((query["id"], {"q": query.get("q") or "", "filters": filters,
                                           "founded_from": query.get("founded_from"),
                                           "founded_to": query.get("founded_to")}))
        db.session.rollback()
    for i, extra in enumerate(EXTRA):
        fields = {k: v for k, v in extra.items() if k != "filters_by_code"}
        fields["filters"] = extra.get("filters_by_code", {})
        requests.append((f"extra{i}", fields))
    return requests


def answer(app, backend, fields: dict) -> dict:
    fields = dict(fields)
    viewer = fields.pop("viewer", None)
    with app.app_context():
        if viewer:
            fields["viewer"] = db.session.scalar(
                select(User).where(User.email == f"{viewer}@parity.vn"))
        result = backend.search(SearchRequest(**fields))
        db.session.rollback()
    return {"total": result.total,
            "hits": [(h.practice_id, h.name_html, h.snippet_html) for h in result.hits],
            "facets": {name: [(v.value, v.label, v.count, v.selected) for v in values]
                       for name, values in result.facets.items()}}


ENGINE_BACKENDS = [b for b in BACKENDS if b[0] != "sql"]


@pytest.mark.parametrize("engine", [b[0] for b in ENGINE_BACKENDS])
def test_engine_answers_exactly_as_the_sql_backend(app, make_practice, engine):
    name, factory, skip_reason = next(b for b in ENGINE_BACKENDS if b[0] == engine)
    if skip_reason:
        pytest.skip(skip_reason)
    sql = next(b for b in BACKENDS if b[0] == "sql")[1](app)
    other = factory(app)
    build_data_set(app, make_practice)
    requests = query_requests(app)
    assert len(requests) >= 12 + len(EXTRA)
    differences = []
    nonempty = 0
    for label, fields in requests:
        expected, got = answer(app, sql, fields), answer(app, other, fields)
        nonempty += expected["total"] > 0
        for part in ("total", "hits", "facets"):
            if expected[part] != got[part]:
                differences.append((label, part, expected[part], got[part]))
    assert not differences, differences[:3]
    assert nonempty >= len(requests) - 3  # the data set exercises the mix
