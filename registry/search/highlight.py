"""Highlighted fragments of a hit: matched words in <mark>, everything else HTML-escaped."""
from __future__ import annotations

import re

from html import escape

from registry.search.query import Atom
from registry.text import canonical

WORD_SPLIT = re.compile(r"([^\W_]+)")
SNIPPET_WORDS = 30
LEAD_WORDS = 6  # words kept before the first match


class Matcher:
    """Remembers, per distinct word, whether it matches one of the atoms."""

    def __init__(self, atoms: list[Atom]):
        self.atoms = atoms
        self.known: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        answer = self.known.get(word)
        if answer is None:
            answer = self.known[word] = any(a.matches_word(word) for a in self.atoms)
        return answer


def mark(text: str, atoms, _canonical: bool = False) -> str:
    """The whole text, escaped, with matched words marked (atoms: a list or a Matcher)."""
    matcher = atoms if isinstance(atoms, Matcher) else Matcher(atoms)
    parts = WORD_SPLIT.split(text if _canonical else canonical(text))
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1 and matcher.atoms and matcher(part):
            out.append("<mark>" + escape(part) + "</mark>")
        else:
            out.append(escape(part))
    return "".join(out)


def snippet(text: str, atoms, words: int = SNIPPET_WORDS) -> str:
    """About `words` words of the text around the first match, escaped and marked."""
    matcher = atoms if isinstance(atoms, Matcher) else Matcher(atoms)
    parts = WORD_SPLIT.split(" ".join(canonical(text).split()))
    word_positions = list(range(1, len(parts), 2))
    if not word_positions:
        return ""
    first = next((n for n, i in enumerate(word_positions) if matcher.atoms
                  and matcher(parts[i])), 0)
    start_word = max(0, first - LEAD_WORDS)
    end_word = min(len(word_positions), start_word + words)
    start = word_positions[start_word]
    end = word_positions[end_word - 1] + 1
    fragment = mark("".join(parts[start:end + 1]).rstrip(), matcher, _canonical=True)
    prefix = "… " if start_word > 0 else ""
    suffix = " …" if end_word < len(word_positions) else ""
    return prefix + fragment + suffix
