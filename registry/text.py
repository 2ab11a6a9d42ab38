"""Vietnamese text normalisation: one spelling per word, diacritic folding, collation keys."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Combining tone marks (NFD): grave, acute, hook above, tilde, dot below.
TONE_MARKS = "\u0300\u0301\u0309\u0303\u0323"
_TONE_ORDER = {"": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
# Old-style placement puts the tone on the second vowel of a final "oa", "oe", "uy"
# ("hoà", "khoẻ", "thuý"); the new style (used by the registry) puts it on the first.
# "qu" is a consonant, so "quý" and "quà" are the same in both styles and left alone.
_OLD_TONE = re.compile(
    r"(?<![qQ])([oO])([aAeE])([" + TONE_MARKS + r"])(?![\w\u0300-\u036f])"
    r"|(?<![qQ])([uU])([yY])([" + TONE_MARKS + r"])(?![\w\u0300-\u036f])"
)
_WORD = re.compile(r"\w+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Vietnamese alphabet order; letters outside it sort after, by code point.
ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_BASE_OF = {"ă": "ă", "â": "â", "đ": "đ", "ê": "ê", "ô": "ô", "ơ": "ơ", "ư": "ư"}


def _move_tone(match: re.Match) -> str:
    if match.group(1):
        return match.group(1) + match.group(3) + match.group(2)
    return match.group(4) + match.group(6) + match.group(5)


def canonical(text: str | None) -> str:
    """NFC text with new-style tone placement and no control characters."""
    if not text:
        return ""
    if len(text) <= 200:  # names, labels, places and words repeat: convert each once
        return _canonical_short(text)
    return _canonical(text)


@lru_cache(maxsize=100_000)
def _canonical_short(text: str) -> str:
    return _canonical(text)


# In NFC text, where old-style tone placement could be: o/u before a toned a, e or y that
# ends the word ("hoà"; "hoạt" is new style already).
_OLD_TONE_NFC = re.compile(r"[oOuU][àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸỳýỷỹỵỲÝỶỸỴ](?![\w\u0300-\u036f])")


def _canonical(text: str) -> str:
    if unicodedata.is_normalized("NFC", text) and not _OLD_TONE_NFC.search(text) \
            and not _CONTROL.search(text):
        return text  # already canonical (most long texts): no NFD/NFC round trip
    decomposed = unicodedata.normalize("NFD", _CONTROL.sub(" ", text))
    return unicodedata.normalize("NFC", _OLD_TONE.sub(_move_tone, decomposed))


def exact_key(text: str | None) -> str:
    """Lower-cased canonical text: the form compared for exact spellings."""
    return canonical(text).lower()


def fold(text: str | None) -> str:
    """Lower-cased text without diacritics, "đ" as "d": what people type on a phone."""
    decomposed = unicodedata.normalize("NFD", exact_key(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese mark or the letter đ."""
    return fold(text) != exact_key(text)


def words(text: str | None) -> list[str]:
    """Word tokens of the canonical lower-cased text."""
    return _WORD.findall(exact_key(text))


def match_key(text: str | None) -> str:
    """Key for matching labels typed any way: folded, punctuation and spacing collapsed."""
    return " ".join(_WORD.findall(fold(text)))


@lru_cache(maxsize=4096)
def _letter_parts(ch: str) -> tuple[str, int]:
    """Split a lower-case letter into its base letter (with vowel shape) and tone rank."""
    decomposed = unicodedata.normalize("NFD", ch)
    tone = ""
    kept = []
    for c in decomposed:
        if c in _TONE_ORDER and c:
            tone = c
        else:
            kept.append(c)
    base = unicodedata.normalize("NFC", "".join(kept))
    return base, _TONE_ORDER[tone]


def collation_key(text: str | None) -> str:
    """A string whose binary order is Vietnamese alphabetical order (tones after letters).

    Primary level: letters in the order a ă â b c d đ e ê ...; secondary level: tones in the
    order none, grave, hook, tilde, acute, dot below. Store it and sort with a binary collation.
    """
    primary = []
    tones = []
    for ch in exact_key(text):
        base, tone = _letter_parts(ch)
        position = ALPHABET.find(base) if len(base) == 1 else -1
        if position >= 0:
            primary.append(chr(0x100 + position))
        elif base.isdigit():
            primary.append(chr(0x30 + int(base)) if base.isascii() else chr(0x2000 + ord(base)))
        elif base.isspace() or not base.isalnum():
            primary.append(" ")
            continue
        else:
            primary.append(chr(0x1000 + ord(base[0])))
        tones.append(str(tone))
    return " ".join("".join(primary).split()) + "\x01" + "".join(tones)


def clean_line(text: str | None) -> str:
    """Canonical text on one line, with runs of white space collapsed."""
    return " ".join(canonical(text).split())
