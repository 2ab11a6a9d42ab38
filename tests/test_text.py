"""Vietnamese text normalisation: tone placement, NFC/NFD, folding, collation."""
import unicodedata

import pytest

from registry.text import canonical, collation_key, exact_key, fold, has_diacritics, match_key


@pytest.mark.parametrize("old, new", [
    ("hoà", "hòa"), ("Hoà giải", "Hòa giải"), ("uỷ ban", "ủy ban"), ("khoá", "khóa"),
    ("thuý", "thúy"), ("khoẻ", "khỏe"), ("tự hoà giải", "tự hòa giải"),
])
def test_old_tone_placement_becomes_new(old, new):
    assert canonical(old) == new


@pytest.mark.parametrize("word", ["quý", "quà", "hoàng", "thuở", "khuya", "hòa"])
def test_words_without_old_placement_are_unchanged(word):
    assert canonical(word) == word


def test_nfd_and_nfc_are_the_same_spelling():
    decomposed = unicodedata.normalize("NFD", "Xóm đạo bình yên, tự hoà giải")
    assert exact_key(decomposed) == exact_key("Xóm đạo bình yên, tự hòa giải")


def test_fold_removes_marks_and_d_stroke():
    assert fold("Đường Tự Quản") == "duong tu quan"
    assert fold("tư quân") == fold("tự quản")
    assert exact_key("tư quân") != exact_key("tự quản")


def test_has_diacritics():
    assert has_diacritics("tự quản") and has_diacritics("đi")
    assert not has_diacritics("tu quan")


def test_match_key_ignores_case_spacing_and_punctuation():
    assert match_key("Phòng, chống  MA TÚY") == match_key("phong chong ma tuy")


def test_vietnamese_alphabetical_order():
    words = ["Đà Nẵng", "Ê", "Em", "Ăn", "Anh", "Dung", "Bạ", "Bá", "Ba", "Bà", "Bả", "Bã"]
    assert sorted(words, key=collation_key) == [
        "Anh", "Ăn", "Ba", "Bà", "Bả", "Bã", "Bá", "Bạ", "Dung", "Đà Nẵng", "Em", "Ê"]


def test_d_stroke_sorts_after_d_not_with_it():
    assert collation_key("Dương") < collation_key("Đa")
    assert collation_key("Dz") < collation_key("Đa")


# -- search text of Markdown: the cheap path has the words of the full renderer -------------

from hypothesis import given, settings, strategies as st  # noqa: E402

_PIECES = st.sampled_from([
    "Tổ chức", "hoà giải", "an ninh", "camera", "2024", "x1", "đ", "\n", "\n\n", " ", "  ",
    "### ", "# ", "- ", "+ ", "* ", "1. ", "2) ", "    ", "> ", "---", "===", "*", "**", "_",
    "`", "[", "]", "(", ")", "<b>", "&amp;", "&", "|", "\\", "!", "#", "~", ".", ",", "“", "”",
    '"', "'", "http://a.vn/b_c", "a@b.vn", "\t", "ﬁ", "Ⅻ", "½",
])


@settings(max_examples=2000, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_search_text_has_the_words_of_the_rendered_markdown(text):
    from registry.markdown import plain_text
    from registry.search.documents import search_text, tokens
    assert tokens(search_text(text)) == tokens(plain_text(text))


def test_generated_descriptions_take_the_cheap_path_with_the_same_words():
    from registry.markdown import plain_text
    from registry.search.documents import _WORD_CHANGING_MARKUP, search_text, tokens
    text = ("### Tổ chức\n\nMỗi tổ phụ trách từ 8 đến 11 hộ.\n\n### Hoạt động\n\n"
            "- Duy trì sinh hoạt định kỳ.\n- Tuần tra ban đêm.\n\n### Kinh phí\n\nĐóng góp "
            "50.000 đồng mỗi hộ.")
    assert not _WORD_CHANGING_MARKUP.search(text)
    assert tokens(search_text(text)) == tokens(plain_text(text))


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="oOuUqQaAeEyY hkàáảãạèéẻẽẹỳýỷỹỵÀÉỲơưôâăêđ.\x01\u0300\u0301\u0309\u0303"
                        "\u0323\u0302\u031b", max_size=12))
def test_canonical_shortcut_for_canonical_text_changes_nothing(text):
    """canonical() returns NFC text without old-style tones as it is: the same as the full
    NFD → move tones → NFC conversion."""
    from registry.text import _CONTROL, _OLD_TONE, _move_tone
    slow = unicodedata.normalize("NFC", _OLD_TONE.sub(_move_tone, unicodedata.normalize(
        "NFD", _CONTROL.sub(" ", text))))
    assert canonical(text) == slow
    assert canonical(text * 30) == unicodedata.normalize("NFC", _OLD_TONE.sub(
        _move_tone, unicodedata.normalize("NFD", _CONTROL.sub(" ", text * 30))))
