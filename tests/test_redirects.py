"""F4, F5: after sign-in `next` leads only to a path of this site, and never breaks the answer."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings, strategies as st

from registry.accounts.redirects import local_path

HOSTILE = [
    "/%09/evil.example",        # tab: browsers drop it, leaving //evil.example
    "/%0a/evil.example", "/%0d%0a/evil.example", "/%0d%0aSet-Cookie:%20x=1",
    "//evil.example", "///evil.example", "https://evil.example/", "http:evil.example",
    "javascript:alert(1)", "/%5Cevil.example", "%5C%5Cevil.example", "/%5C/evil.example",
    "%20//evil.example", "%09//evil.example", "evil.example", "/%00/evil.example",
    "/%7F/evil.example",
]


def _browser_view(location: str) -> tuple[str, str]:
    """(scheme, host) a browser would take from a Location header: tabs and line breaks are
    removed, leading spaces and controls stripped, backslashes read as slashes."""
    cleaned = "".join(c for c in location if c not in "\t\r\n").lstrip("\x00\x01\x02 ")
    parts = urlsplit(cleaned.replace("\\", "/"))
    return parts.scheme, parts.netloc


def _location(response) -> str:
    return response.headers["Location"]


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_redirects_off_site(client, make_user, target):
    make_user(email="ra@example.vn")
    from conftest import TEST_PASSWORD
    response = client.post(f"/login?next={target}",
                           data={"email": "ra@example.vn", "password": TEST_PASSWORD})
    assert response.status_code == 302
    location = _location(response)
    assert _browser_view(location) in (("", ""), ("http", "localhost")), location
    assert location in ("/practices", "http://localhost/practices"), location


@pytest.mark.parametrize("target", HOSTILE)
def test_signed_in_user_with_hostile_next_is_sent_home(client, make_user, login, target):
    login(client, make_user())
    response = client.get(f"/login?next={target}")
    assert response.status_code == 302
    assert _location(response) in ("/practices", "http://localhost/practices")


@pytest.mark.parametrize("target, expected", [
    ("/account", "/account"),
    ("/practices?q=x%C3%B3m&page=2", "/practices?q=x%C3%B3m&page=2"),
    ("/practices?q=xóm đạo", "/practices?q=x%C3%B3m%20%C4%91%E1%BA%A1o"),
])
def test_local_next_is_followed(client, make_user, login, target, expected):
    login(client, make_user())
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302
    assert _location(response) == expected


def test_login_form_keeps_next_through_the_post(client, make_user):
    from conftest import TEST_PASSWORD
    make_user(email="next@example.vn")
    response = client.post("/login", query_string={"next": "/account"},
                           data={"email": "next@example.vn", "password": TEST_PASSWORD})
    assert _location(response) == "/account"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
       | st.from_regex(r"\A[/\\\t\r\n ]{0,4}[a-z.:]{0,12}[/\\]{0,3}.{0,8}\Z"))
def test_local_path_is_always_a_path_of_this_site(target):
    path = local_path(target)
    if path is None:
        return
    assert path.isascii() and path.isprintable(), path
    assert path.startswith("/") and not path.startswith("//")
    assert _browser_view(path) == ("", ""), (target, path)
