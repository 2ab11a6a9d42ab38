"""F6: security headers on every response (pages, API, errors, redirects, static files), and
pages that keep to the policy: no inline script or style, no event-handler attributes."""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from registry.security_headers import CONTENT_SECURITY_POLICY

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
       b"\x8e\x81\xb8\x00\x00\x00\x00IEND\xaeB`\x82")


def assert_security_headers(response, what: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], (what, policy)
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what


def test_policy_allows_nothing_inline_and_nothing_foreign():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    for name in ("default-src", "script-src", "style-src"):
        assert directives[name] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


@pytest.fixture
def officer(app, client, make_user, login, make_practice):
    login(client, make_user("officer", "00070"))
    practice_id = make_practice(commune_code="00070",
                                description="**Đậm** và [liên kết](https://example.vn)\n\n"
                                            "| a | b |\n|:--|--:|\n| 1 | 2 |",
                                core_members=[{"name": "Nguyễn Văn A", "phone": "0912345678"}])
    return client, practice_id


def test_pages_answers_and_errors_carry_the_headers(officer):
    client, pid = officer
    for method, path in [
        ("GET", "/"), ("GET", "/practices"), ("GET", "/practices?q=xom&page=2"),
        ("GET", f"/practices/{pid}"), ("GET", f"/practices/{pid}/edit"),
        ("GET", f"/practices/{pid}/members"), ("GET", f"/practices/{pid}/outcomes/new"),
        ("GET", "/practices/new"), ("GET", "/account"), ("GET", "/account/password"),
        ("GET", "/login"), ("GET", "/healthz"), ("GET", "/static/app.css"),
        ("GET", "/static/search.js"), ("GET", "/practices/999999"), ("GET", "/khong-co"),
        ("GET", "/users"),  # 403 for an officer
        ("POST", "/logout"),  # a redirect
        ("GET", "/api/v1/practices"), ("GET", f"/api/v1/practices/{pid}"),
        ("GET", "/api/v1/practices/999999"), ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/khong-co"), ("DELETE", "/api/v1/practices"),
        ("POST", "/api/v1/practices"),  # 401 without a token
    ]:
        response = client.open(path, method=method)
        assert_security_headers(response, f"{method} {path} ({response.status_code})")


def test_evidence_download_keeps_its_own_stricter_policy(officer):
    client, pid = officer
    assert client.post(f"/practices/{pid}/evidence/new", data={
        "title": "Ảnh", "category": "photo", "file": (io.BytesIO(PNG), "anh.png", "image/png")},
        content_type="multipart/form-data").status_code == 302
    detail = client.get(f"/practices/{pid}").get_data(as_text=True)
    evidence_id = re.search(rf'href="/practices/{pid}/evidence/(\d+)"', detail).group(1)
    response = client.get(f"/practices/{pid}/evidence/{evidence_id}")
    assert response.status_code == 200 and response.data == PNG
    assert_security_headers(response, "evidence")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_every_argument_free_get_route_carries_the_headers(app, officer):
    client, _pid = officer
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            response = client.get(rule.rule)
            assert_security_headers(response, f"{rule.rule} ({response.status_code})")


class InlineFinder(HTMLParser):
    """Collects what the policy would block: inline scripts and styles, handlers, js: URLs."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"javascript: URL on <{tag}>")


def inline_content(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def test_rendered_pages_have_nothing_inline(officer):
    client, pid = officer
    for path in ("/practices", "/practices?q=an+ninh", f"/practices/{pid}",
                 f"/practices/{pid}/edit", f"/practices/{pid}/members",
                 f"/practices/{pid}/outcomes/new", f"/practices/{pid}/evidence/new",
                 f"/practices/{pid}/archive", "/practices/new", "/account",
                 "/account/password", "/practices?lang=en", "/khong-co"):
        response = client.get(path)
        assert response.mimetype == "text/html", path
        assert inline_content(response.get_data(as_text=True)) == [], path
    fragment = client.get("/practices?q=an+ninh", headers={"X-Search-Fragment": "1"})
    assert inline_content(fragment.get_data(as_text=True)) == []


def test_templates_have_nothing_inline():
    for template in sorted(TEMPLATES.rglob("*.html")):
        found = inline_content(template.read_text(encoding="utf-8"))
        assert found == [], f"{template.relative_to(TEMPLATES)}: {found}"
