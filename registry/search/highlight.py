"""Highlighted fragments of a hit: matched words in <mark>, everything else HTML-escaped."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

from registry.search.query import Atom
from registry.text import canonical

WORD_SPLIT = re.compile(r"([^\W_]+)")
SNIPPET_WORDS = 30
LEAD_WORDS = 6  # words kept before the first match


def _is_match(word: str, atoms: list[Atom]) -> bool:
    return any(atom.matches_word(word) for atom in atoms)


def mark(text: str, atoms: list[Atom]) -> str:
    """The whole text, escaped, with matched words marked."""
    parts = WORD_SPLIT.split(canonical(text))
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1 and atoms and _is_match(part, atoms):
            out.append(Markup("<mark>") + escape(part) + Markup("</mark>"))
        else:
            out.append(escape(part))
    return str(Markup("").join(out))


def snippet(text: str, atoms: list[Atom], words: int = SNIPPET_WORDS) -> str:
    """About `words` words of the text around the first match, escaped and marked."""
    parts = WORD_SPLIT.split(" ".join(canonical(text).split()))
    word_positions = list(range(1, len(parts), 2))
    if not word_positions:
        return ""
    first = next((n for n, i in enumerate(word_positions) if atoms
                  and _is_match(parts[i], atoms)), 0)
    start_word = max(0, first - LEAD_WORDS)
    end_word = min(len(word_positions), start_word + words)
    start = word_positions[start_word]
    end = word_positions[end_word - 1] + 1
    fragment = mark("".join(parts[start:end + 1]).rstrip(), atoms)
    prefix = "… " if start_word > 0 else ""
    suffix = " …" if end_word < len(word_positions) else ""
    return prefix + fragment + suffix
