"""Loading the seeded vocabularies and resolving values typed as a code or a label."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from registry.extensions import db
from registry.models.vocab import OPEN_VOCABULARIES, VOCABULARIES, Abbreviation, Term
from registry.text import clean_line, match_key

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"

VOCABULARY_LABELS = {
    "kind": "loại mô hình", "form": "hình thức", "domain": "lĩnh vực",
    "setting": "loại địa bàn", "target_group": "đối tượng tham gia",
    "lead_organisation": "cơ quan chủ trì", "member_role": "vai trò", "indicator": "chỉ tiêu",
}


def load_seed_vocabularies(seed_dir: Path = SEED_DIR) -> dict[str, int]:
    """Insert or refresh every seeded term and abbreviation; returns terms added per vocabulary.

    Idempotent: labels of existing codes are refreshed, terms added by people are kept.
    """
    data = json.loads((seed_dir / "vocabularies.json").read_text(encoding="utf-8"))
    added: dict[str, int] = {}
    for vocabulary, entries in data.items():
        if vocabulary not in VOCABULARIES:
            raise ValueError(f"unknown vocabulary {vocabulary!r} in seed file")
        existing = {t.code: t for t in db.session.scalars(
            select(Term).where(Term.vocabulary == vocabulary))}
        added[vocabulary] = 0
        for position, entry in enumerate(entries):
            term = existing.get(entry["code"])
            if term is None:
                term = Term(vocabulary=vocabulary, code=entry["code"], origin="seed")
                db.session.add(term)
                added[vocabulary] += 1
            term.label_vi = clean_line(entry["vi"])
            term.label_en = entry.get("en", "")
            term.match_key = match_key(entry["vi"])
            term.position = position
    abbreviations = json.loads((seed_dir / "abbreviations.json").read_text(encoding="utf-8"))
    known = {a.short: a for a in db.session.scalars(select(Abbreviation))}
    for entry in abbreviations:
        abbreviation = known.get(entry["short"]) or Abbreviation(short=entry["short"])
        abbreviation.expansion = entry["expansion"]
        db.session.add(abbreviation)
    db.session.flush()
    return added


class VocabularyIndex:
    """Terms of every vocabulary, looked up by code or by label typed any way."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], Term] = {}
        self.by_id: dict[int, Term] = {}
        self._resolved: dict[tuple[str, str], Term | None] = {}  # values as typed → term
        for term in db.session.scalars(select(Term)):
            self._remember(term)

    def _remember(self, term: Term) -> None:
        target = term
        self._resolved.clear()
        self.by_id[term.id] = term
        self.by_key.setdefault((term.vocabulary, term.code.lower()), target)
        self.by_key.setdefault((term.vocabulary, term.match_key), target)

    def resolve(self, vocabulary: str, value: str) -> Term | None:
        """The term whose code or label matches `value`, ignoring case and diacritics."""
        if value is None:
            return None
        key = (vocabulary, value if isinstance(value, str) else str(value))
        if key in self._resolved:  # imports repeat the same few values: match each once
            return self._resolved[key]
        text = key[1].strip()
        term = self.by_key.get((vocabulary, text.lower())) or self.by_key.get(
            (vocabulary, match_key(text)))
        while term is not None and term.merged_into_id:
            term = self.by_id.get(term.merged_into_id)
        if len(self._resolved) < 100_000:
            self._resolved[key] = term
        return term

    def add_open_term(self, vocabulary: str, label: str, origin: str = "import") -> Term:
        """Add a value to an open vocabulary (kinds), flagged for an administrator to review."""
        if vocabulary not in OPEN_VOCABULARIES:
            raise ValueError(f"{vocabulary} is a closed vocabulary")
        label = clean_line(label)
        code = _free_code(vocabulary, match_key(label).replace(" ", "-")[:70] or "moi")
        position = db.session.scalar(
            select(func.coalesce(func.max(Term.position), 0)).where(
                Term.vocabulary == vocabulary)) + 1
        term = Term(vocabulary=vocabulary, code=code, label_vi=label, label_en="",
                    match_key=match_key(label), position=position, origin=origin,
                    needs_review=True)
        db.session.add(term)
        db.session.flush()
        self._remember(term)
        return term


def _free_code(vocabulary: str, base: str) -> str:
    code, n = base, 1
    while db.session.scalar(select(Term.id).where(Term.vocabulary == vocabulary,
                                                  Term.code == code)):
        n += 1
        code = f"{base}-{n}"
    return code


def terms_of(vocabulary: str) -> list[Term]:
    """Every live term of a vocabulary in its display order."""
    return list(db.session.scalars(
        select(Term).where(Term.vocabulary == vocabulary, Term.merged_into_id.is_(None))
        .order_by(Term.position, Term.id)))
