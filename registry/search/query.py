"""What the user typed, parsed into terms that must all match; hostile input never fails.

A term is one or more alternative atoms (a word, a prefix or a phrase, in the exact-spelling
or the folded words). Words typed with diacritics match exact spellings ("tự quản" never
matches "tư quân"); words typed without match folded words ("tu quan"). Old and new tone
placement and NFC/NFD are one spelling (registry.text.exact_key). The last word matches as a
prefix while the user is still typing it; "quoted words" are a phrase; abbreviations (ANTT)
also match their expansion. Operators (AND, OR, NOT, -, *) are plain words or ignored.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from registry.search.documents import TOKEN
from registry.text import canonical, exact_key, fold, has_diacritics

MAX_CHARS = 200
MAX_TERMS = 12
MIN_PREFIX = 2  # a one-letter prefix would match nearly everything
QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "＂": '"'})


@dataclass(frozen=True)
class Atom:
    """Consecutive tokens in one kind of words ("exact" or "folded"); prefix: last is a prefix."""

    field: str
    tokens: tuple[str, ...]
    prefix: bool = False

    def fts5(self, columns: str) -> str:
        """An FTS5 MATCH expression restricted to `columns` (e.g. "name_exact")."""
        phrase = '"' + " ".join(self.tokens) + '"'
        return f"{{{columns}}} : {phrase}{'*' if self.prefix else ''}"

    def tsquery(self) -> str:
        """A to_tsquery('simple', ...) text."""
        parts = [f"'{t}'" for t in self.tokens]
        if self.prefix:
            parts[-1] += ":*"
        return " <-> ".join(parts)

    def matches(self, words: list[str]) -> bool:
        """Does this atom occur in a token list (the Python twin of the database match)?"""
        n = len(self.tokens)
        for start in range(len(words) - n + 1):
            if all(words[start + i] == self.tokens[i] for i in range(n - 1)):
                last = words[start + n - 1]
                if last == self.tokens[-1] or (self.prefix and last.startswith(self.tokens[-1])):
                    return True
        return False

    def matches_word(self, word: str) -> bool:
        """Does one word of a text deserve a <mark> for this atom?"""
        key = exact_key(word) if self.field == "exact" else fold(word)
        if self.prefix and key.startswith(self.tokens[-1]):
            return True
        return key in self.tokens


@dataclass(frozen=True)
class Term:
    """Matches when any alternative matches; `exact` holds its whole-word exact spellings."""

    alternatives: tuple[Atom, ...]
    exact: tuple[Atom, ...]


@dataclass
class ParsedQuery:
    terms: list[Term] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.terms

    def atoms(self) -> list[Atom]:
        return [a for t in self.terms for a in t.alternatives]

    def bigrams(self) -> list[Atom]:
        """Neighbouring typed words as two-word phrases, for ranking by proximity.

        Vietnamese words are written syllable by syllable ("giao thông", "trật tự"), so
        documents holding the typed syllables side by side are the better answers.
        """
        pairs = []
        for first, second in zip(self.terms, self.terms[1:]):
            a, b = first.alternatives[0], second.alternatives[0]
            if len(a.tokens) != 1 or len(b.tokens) != 1:
                continue
            if a.field == b.field == "exact":
                pairs.append(Atom("exact", a.tokens + b.tokens, b.prefix))
            else:
                pairs.append(Atom("folded", (fold(a.tokens[0]), fold(b.tokens[0])), b.prefix))
        return pairs


def clean(q: str | None) -> str:
    """Canonical text without control or format characters, capped in length."""
    text = canonical(q or "")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")
                   else ch for ch in text)
    return text.translate(QUOTES)[:MAX_CHARS]


def _word_term(token: str, prefix: bool, abbreviations: dict[str, str]) -> Term:
    accented = has_diacritics(token)
    prefix = prefix and len(token) >= MIN_PREFIX
    atom = Atom("exact" if accented else "folded", (token if accented else fold(token),),
                prefix)
    alternatives, exact = [atom], [Atom("exact", (token,))]
    expansion = abbreviations.get(fold(token))
    if expansion:
        words = tuple(TOKEN.findall(exact_key(expansion)))
        if words:
            alternatives.append(Atom("exact", words))
            exact.append(Atom("exact", words))
    return Term(tuple(alternatives), tuple(exact))


def _phrase_terms(tokens: list[str]) -> list[Term]:
    exact = Atom("exact", tuple(tokens))
    if all(has_diacritics(t) for t in tokens):
        return [Term((exact,), (exact,))]
    # Mixed: the order through the folded words, each accented word exactly.
    terms = [Term((Atom("folded", tuple(fold(t) for t in tokens)),), (exact,))]
    terms += [Term((Atom("exact", (t,)),), (exact,)) for t in tokens if has_diacritics(t)]
    return terms


def parse_query(q: str | None, abbreviations: dict[str, str] | None = None) -> ParsedQuery:
    """Parse user text; `abbreviations` maps folded short forms ("antt") to expansions."""
    abbreviations = abbreviations or {}
    text = clean(q)
    parts = text.split('"')
    if len(parts) % 2 == 0:  # an unbalanced quote: what follows it is plain words
        parts = parts[:-2] + [parts[-2] + " " + parts[-1]]
    still_typing = bool(text) and TOKEN.fullmatch(text[-1]) is not None
    segments = []  # (tokens, quoted)
    for index, part in enumerate(parts):
        words = TOKEN.findall(exact_key(part))
        if words:
            segments.append((words, index % 2 == 1))
    terms: list[Term] = []
    for position, (words, quoted) in enumerate(segments):
        last_segment = position == len(segments) - 1
        if quoted and len(words) > 1:
            terms.extend(_phrase_terms(words[:MAX_TERMS]))
            continue
        for i, word in enumerate(words):
            prefix = (not quoted and still_typing and last_segment and i == len(words) - 1)
            terms.append(_word_term(word, prefix, abbreviations))
    return ParsedQuery(_dedupe(terms)[:MAX_TERMS])


def _dedupe(terms: list[Term]) -> list[Term]:
    seen, kept = set(), []
    for term in terms:
        if term.alternatives not in seen:
            seen.add(term.alternatives)
            kept.append(term)
    return kept
