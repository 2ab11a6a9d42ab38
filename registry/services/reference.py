"""Reference data for validation read from the database, and the check every input passes."""
from __future__ import annotations

from functools import lru_cache

from flask import current_app
from sqlalchemy import select

from registry.domain.records import NEW_KIND, kind_value, validate_record
from registry.extensions import db
from registry.models.places import Commune
from registry.units import resolve_address
from registry.vocabularies import VocabularyIndex


def commune_provinces() -> dict[str, str]:
    """Commune code -> province code, read once per application (reference data)."""
    cache = current_app.extensions.get("reference.communes")
    if not cache:
        cache = dict(db.session.execute(select(Commune.code, Commune.province_code)).all())
        current_app.extensions["reference.communes"] = cache
    return cache


@lru_cache(maxsize=4096)
def _resolve_cached(address: str):
    return resolve_address(address)


class DatabaseReference:
    """registry.domain.records.Reference over the database's vocabularies and units."""

    def __init__(self, vocab: VocabularyIndex | None = None):
        self.vocab = vocab or VocabularyIndex()
        self._communes = commune_provinces()

    def resolve(self, vocabulary: str, value: str):
        return self.vocab.resolve(vocabulary, value)

    def province_of(self, commune_code: str) -> str | None:
        return self._communes.get(commune_code)

    def resolve_address(self, address: str):
        return _resolve_cached(address)


def check_record(raw, *, vocab: VocabularyIndex | None = None, allow_new_kinds: bool = True,
                 allow_workflow: bool = False) -> dict:
    """A clean record (registry.domain.records.validate_record) or Invalid; an unknown kind,
    where allowed, is added to the vocabulary for review (flushed, not committed)."""
    reference = DatabaseReference(vocab)
    record = validate_record(raw, reference, allow_new_kinds=allow_new_kinds,
                             allow_workflow=allow_workflow)
    if NEW_KIND in record:
        record["kind"] = kind_value(reference.vocab.add_open_term("kind", record.pop(NEW_KIND)))
    return record
