"""The search interface every backend implements, and the facets declared as data."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Facet:
    """A facet: its URL/API parameter name, labels, and where its values come from.

    source: "province", "commune", "vocabulary:<name>", "state", "recognition",
    "year" (a range, founded_from/founded_to), or "boolean".
    """

    name: str
    label_vi: str
    label_en: str
    source: str
    parent: str | None = None  # commune values are offered within the selected provinces
    top: int = 8  # values shown before "more"

    def label(self, locale: str = "vi") -> str:
        return self.label_en if locale == "en" else self.label_vi


FACETS: tuple[Facet, ...] = (
    Facet("province", "Tỉnh, thành phố", "Province", "province", top=10),
    Facet("commune", "Xã, phường", "Commune", "commune", parent="province", top=10),
    Facet("kind", "Loại mô hình", "Kind of model", "vocabulary:kind"),
    Facet("domain", "Lĩnh vực", "Domain", "vocabulary:domain"),
    Facet("form", "Hình thức", "Form", "vocabulary:form"),
    Facet("target_group", "Đối tượng tham gia", "Target group", "vocabulary:target_group"),
    Facet("setting", "Loại địa bàn", "Setting", "vocabulary:setting"),
    Facet("lead_organisation", "Cơ quan chủ trì", "Lead organisation",
          "vocabulary:lead_organisation"),
    Facet("status", "Trạng thái", "Status", "state"),
    Facet("recognition", "Cấp công nhận", "Recognition level", "recognition"),
    Facet("founded_year", "Năm thành lập", "Year founded", "year", top=30),
    Facet("has_replications", "Đã được nhân rộng", "Replicated elsewhere", "boolean"),
)
FACET_BY_NAME = {f.name: f for f in FACETS}
# Facets filtered through repeatable parameters (the year facet uses founded_from/_to).
LIST_FACETS = tuple(f.name for f in FACETS if f.source != "year")
SORTS = ("relevance", "newest", "name", "replicated")
MAX_PER_PAGE = 100


@dataclass
class SearchRequest:
    """What the user asked: text, selected facet values (codes), year range, order, page."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    founded_from: int | None = None
    founded_to: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    locale: str = "vi"
    viewer: object = None  # the signed-in user (or None): decides which models are visible


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Hit:
    """One result: the practice id and highlighted fragments (safe HTML with <mark>)."""

    practice_id: int
    name_html: str = ""
    snippet_html: str = ""


@dataclass
class SearchResult:
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]


class SearchBackend(Protocol):
    """What the views, the API and the CLI need from a search backend."""

    def search(self, request: SearchRequest) -> SearchResult: ...

    def index(self, practice_ids) -> None:
        """Bring these practices up to date in the index (removing those gone or hidden)."""

    def reindex_all(self, progress=None) -> int:
        """Rebuild the whole index from the database; returns the number of documents.
        `progress(done, total)`, if given, is called as it goes."""


class SearchUnavailable(Exception):
    """The search backend cannot answer now (e.g. the search engine is down); pages say so
    and the API answers 503. Writes are not affected: the database stays the reference."""
