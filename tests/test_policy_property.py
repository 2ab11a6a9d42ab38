"""One rule, every door: for random users and models, what registry.permissions allows is
exactly what search, the API, the pages and exports show.

may view ⇔ in the search results (page and API) ⇔ API GET 200 ⇔ page 200 (else 404), and
may see personal data ⇔ the member's phone in the page, the API answer and an export made for
that user, on every search backend (SQL, Elasticsearch, OpenSearch). Users are random sets
of grants (any role on the nation, a province or a commune), active or not, or nobody signed
in; models cover every state in three places.
"""
from __future__ import annotations

import itertools
import json
import os

import pytest
from flask_login import AnonymousUserMixin
from hypothesis import HealthCheck, given, settings, strategies as st

from registry import permissions
from registry.accounts.tokens import create_token
from registry.domain.workflow import STATES
from registry.extensions import db
from registry.interchange.exporter import export_file
from registry.models.accounts import ROLES, Grant, User
from registry.models.practices import Practice
from tests.search_backends import BACKENDS

# Two communes of Hà Nội and one of TP Hồ Chí Minh.
PLACES = ("00070", "00004", "26506")
UNITS = ("national", "01", "79") + PLACES
EXAMPLES = int(os.environ.get("REGISTRY_PROPERTY_EXAMPLES", "500"))

@pytest.fixture(params=BACKENDS, ids=[name for name, _factory, _skip in BACKENDS])
def search_backend_installed(request, app):
    """The test runs once per search backend: SQL, and each engine that runs here."""
    name, factory, skip = request.param
    if skip:
        pytest.skip(skip)
    saved = app.extensions.get("search")
    app.extensions["search"] = factory(app)
    yield name
    app.extensions["search"] = saved


grants_strategy = st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(UNITS)),
                           max_size=3, unique=True)
_emails = itertools.count()


@pytest.fixture
def catalogue(app, make_practice):
    """One model per state and place, each with a core member whose phone names it."""
    phones = {}
    for i, (state, commune) in enumerate(itertools.product([s.code for s in STATES], PLACES)):
        phone = f"09{i:08d}"
        pid = make_practice(name=f"Mô hình thử quyền {i}", commune_code=commune, status=state,
                            core_members=[{"name": f"Thành viên {i}", "phone": phone}])
        phones[pid] = phone
    return phones


def _user(app, grants, active: bool):
    """A user with these grants (no password: signed in through the session), and a token."""
    with app.app_context():
        user = User(email=f"policy{next(_emails)}@example.vn", name="Người thử quyền",
                    active=active)
        user.grants = [Grant(role=role, unit=unit) for role, unit in grants]
        db.session.add(user)
        db.session.flush()
        _, token = create_token(user, "policy")
        db.session.commit()
        return user.id, token


def _signed_in_client(app, user_id):
    client = app.test_client()
    if user_id is not None:
        from registry.accounts.sessions import SESSION_KEY
        with app.app_context():
            stamp = db.session.get(User, user_id).session_stamp
        with client.session_transaction() as session:  # as the sign-in leaves it
            session["_user_id"] = str(user_id)
            session["_fresh"] = True
            session[SESSION_KEY] = stamp
    return client


def _expected(app, user_id, ids):
    """What the policy says, asked of registry.permissions on the loaded rows."""
    with app.app_context():
        viewer = db.session.get(User, user_id) if user_id else AnonymousUserMixin()
        practices = [db.session.get(Practice, pid) for pid in ids]
        view = {p.id for p in practices if permissions.can_view_practice(viewer, p)}
        personal = {p.id for p in practices if permissions.can_view_personal_data(viewer, p)}
        db.session.rollback()
    return view, personal


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(grants=grants_strategy, active=st.booleans(), signed_in=st.booleans(),
       pick=st.integers(min_value=0, max_value=len(STATES) * len(PLACES) - 1))
def test_every_door_follows_the_one_rule(app, search_backend_installed, catalogue, tmp_path,
                                         grants, active, signed_in, pick):
    ids = sorted(catalogue)
    user_id, token = _user(app, grants, active) if signed_in else (None, None)
    may_view, may_see_personal = _expected(app, user_id, ids)
    client = _signed_in_client(app, user_id)
    auth = {"Authorization": f"Bearer {token}"} if token and active else {}

    # Search, through the API and the page (the same service).
    found = client.get("/api/v1/practices?per_page=100", headers=auth).get_json()
    assert {hit["id"] for hit in found["hits"]} == may_view
    assert found["total"] == len(may_view)
    page = client.get("/practices?per_page=100").get_data(as_text=True)
    assert {pid for pid in ids if f'href="/practices/{pid}"' in page} == may_view

    # One model through the API and its page.
    pid = ids[pick]
    phone = catalogue[pid]
    api = client.get(f"/api/v1/practices/{pid}", headers=auth)
    html = client.get(f"/practices/{pid}")
    assert (api.status_code == 200) == (pid in may_view)
    assert (html.status_code == 200) == (pid in may_view)
    if pid not in may_view:
        assert api.status_code == 404 and html.status_code == 404
    assert (phone in api.get_data(as_text=True)) == (pid in may_see_personal)
    assert (phone in html.get_data(as_text=True)) == (pid in may_see_personal)

    # An export made for this user (the rule as an SQL clause).
    path = tmp_path / f"export-{user_id}.jsonl"
    with app.app_context():
        viewer = db.session.get(User, user_id) if user_id else AnonymousUserMixin()
        export_file(path, "jsonl", viewer=viewer)
        db.session.rollback()
    exported = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    names = {r["name"] for r in exported}
    with app.app_context():
        by_name = {db.session.get(Practice, i).name: i for i in ids}
    assert {by_name[n] for n in names} == may_view
    with_phones = {by_name[r["name"]] for r in exported
                   if any(m["phone"] == catalogue[by_name[r["name"]]]
                          for m in r.get("core_members", []))}
    assert with_phones == may_see_personal
