"""Parsing what users type, and highlighting: pure functions, no database."""
from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.search.documents import TOKEN, text_row
from registry.search.highlight import mark, snippet
from registry.search.query import MAX_TERMS, Atom, parse_query

ABBREVIATIONS = {"antt": "an ninh, trật tự", "bcd": "Ban Chỉ đạo"}


def atoms(q: str) -> list[list[Atom]]:
    return [list(t.alternatives) for t in parse_query(q, ABBREVIATIONS).terms]


def test_words_with_marks_are_exact_without_marks_folded():
    assert atoms("tự quản ") == [[Atom("exact", ("tự",))], [Atom("exact", ("quản",))]]
    assert atoms("tu quan ") == [[Atom("folded", ("tu",))], [Atom("folded", ("quan",))]]
    assert atoms("Đạo ") == [[Atom("exact", ("đạo",))]]  # đ is a mark of its own


def test_tone_placement_and_nfd_give_one_spelling():
    assert atoms("hoà ") == atoms("hòa ") == atoms(unicodedata.normalize("NFD", "hòa "))


def test_last_word_is_a_prefix_unless_followed_by_a_space():
    assert atoms("camer") == [[Atom("folded", ("camer",), prefix=True)]]
    assert atoms("camer ") == [[Atom("folded", ("camer",))]]
    assert atoms("c") == [[Atom("folded", ("c",))]]  # too short to be a useful prefix


def test_quotes_make_a_phrase_and_unbalanced_quotes_are_words():
    assert atoms('"xom dao binh yen"') == [[Atom("folded", ("xom", "dao", "binh", "yen"))]]
    assert atoms('"xóm đạo"') == [[Atom("exact", ("xóm", "đạo"))]]
    # Mixed: order through the folded words, the marked word exactly.
    assert atoms('"xóm dao"') == [[Atom("folded", ("xom", "dao"))], [Atom("exact", ("xóm",))]]
    assert atoms('xom "dao binh') == [[Atom("folded", ("xom",))], [Atom("folded", ("dao",))],
                                      [Atom("folded", ("binh",), prefix=True)]]


def test_operators_are_plain_words_or_ignored():
    assert atoms("a AND b OR NOT -c* ") == [[Atom("folded", (w,))]
                                            for w in ("a", "and", "b", "or", "not", "c")]


def test_abbreviations_also_match_their_expansion():
    assert atoms("ANTT ") == [[Atom("folded", ("antt",)),
                               Atom("exact", ("an", "ninh", "trật", "tự"))]]
    assert atoms("BCĐ ")[0][1] == Atom("exact", ("ban", "chỉ", "đạo"))


def test_length_and_terms_are_capped():
    assert len(parse_query(" ".join(f"w{i}" for i in range(50))).terms) == MAX_TERMS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_parses_into_safe_tokens(q):
    parsed = parse_query(q, ABBREVIATIONS)
    assert len(parsed.terms) <= MAX_TERMS
    for atom in parsed.atoms():
        assert atom.tokens and all(TOKEN.fullmatch(t) for t in atom.tokens)
        assert '"' not in atom.fts5("name_exact") or atom.fts5("name_exact").count('"') == 2
        assert "'" not in "".join(atom.tokens)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=30))
def test_highlighting_escapes_everything_but_marks(text, q):
    html = mark(text, parse_query(q).atoms()) + snippet(text, parse_query(q).atoms())
    assert re.sub(r"</?mark>", "", html).count("<") == 0


def test_python_matching_agrees_with_the_stored_words():
    row = text_row("Xóm đạo bình yên", ["Tổ hoà giải"])
    words = row["name_folded"].split()
    assert Atom("folded", ("dao", "binh")).matches(words)
    assert not Atom("folded", ("binh", "dao")).matches(words)
    assert Atom("folded", ("bi",), prefix=True).matches(words)
    assert Atom("exact", ("hòa",)).matches(row["body_exact"].split())
