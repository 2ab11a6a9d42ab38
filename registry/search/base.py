"""The search interface every backend implements, and the facets declared as data."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from registry.domain.workflow import RECOGNITION_LEVELS, STATES


@dataclass(frozen=True)
class Facet:
    """A facet: its URL/API parameter name, labels, and where its values come from.

    source: "province", "commune", "vocabulary:<name>" (values from the database), "year" (a
    range, founded_from/founded_to), or a source of FIXED_VALUES ("state", "recognition",
    "boolean", "activity"), whose codes and labels are declared here once.
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
    Facet("activity", "Hoạt động", "Activity", "activity"),
)
FACET_BY_NAME = {f.name: f for f in FACETS}
# Facet values not read from the database, in their display order: (code, vi, en).
FIXED_VALUES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "state": tuple((s.code, s.label_vi, s.label_en) for s in STATES),
    "recognition": tuple(RECOGNITION_LEVELS),
    "boolean": (("yes", "Có", "Yes"), ("no", "Không", "No")),
    # Public models with a results report (or, with none, registered) within
    # REGISTRY_INACTIVE_MONTHS, and those without (docs/workflow.md).
    "activity": (("active", "Đang hoạt động", "Active"),
                 ("possibly_inactive", "Có thể ngừng hoạt động", "Possibly inactive")),
}


def fixed_values(source: str, locale: str = "vi") -> list[tuple[str, str]] | None:
    """(code, label) of a fixed source in display order, or None for database sources."""
    values = FIXED_VALUES.get(source)
    if values is None:
        return None
    return [(code, en if locale == "en" else vi) for code, vi, en in values]
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
