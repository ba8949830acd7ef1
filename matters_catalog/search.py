"""Resident-facing matter search: Chinese substring, full pinyin and pinyin initials.

Everything searchable is precomputed once per matter when the index is built, so a query is a
handful of C-level `str` operations per matter (well under 1 ms for 179 matters; see
scripts/bench/catalog_search_bench.py). The query is never turned into a regex or SQL, so
metacharacters are just characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from pypinyin import Style, lazy_pinyin

from matters_catalog.schema import Matter

# No matter name comes near this; longer input cannot match, so it is not even normalized.
MAX_QUERY_CHARS: Final[int] = 200
# Separates precomputed alternatives so a match can never straddle two of them.
_SEP: Final[str] = "\x00"
# Marks syllable boundaries for homophone matching, which must align at both ends.
_SYL: Final[str] = "\x01"
# One wrong character in a two-character query is a typo; in a one-character query it is noise.
_MIN_HOMOPHONE_HAN: Final[int] = 2

# Rank tiers: lower is better; ties keep catalog order.
_EXACT, _PREFIX, _SUBSTRING, _HOMOPHONE, _CONTEXT = range(5)

_MODE_FILTERS: Final[dict[str, frozenset[str]]] = {
    "handle": frozenset({"handle", "both"}),
    "consult": frozenset({"consult", "both"}),
    "both": frozenset({"both"}),
}


def normalize(text: str) -> str:
    """Fold width and case, drop whitespace and control characters: `ＪＬ K` equals `jlk`.

    Dropping control characters also keeps the internal separator out of queries.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isprintable() and not ch.isspace())


def _syllables(text: str, style: Style) -> list[str]:
    # lazy_pinyin passes non-Chinese runs through unchanged; keep only their letters and digits.
    parts = (normalize(part) for part in lazy_pinyin(text, style=style))
    return [clean for part in parts if (clean := "".join(ch for ch in part if ch.isascii() and ch.isalnum()))]


@lru_cache(maxsize=8192)
def _catalog_syllables(text: str, style: Style) -> tuple[str, ...]:
    """`_syllables` of a catalog name, category or department, kept for the process: each start and
    each catalog edit indexes the same texts again, and pinyin is most of an index's cost."""
    return tuple(_syllables(text, style))


def _han_count(text: str) -> int:
    return sum("\u3400" <= ch <= "\u9fff" for ch in text)


@dataclass(frozen=True, slots=True)
class _Entry:
    matter: Matter
    name: str  # normalized Chinese name
    pinyin: str  # full pinyin, no separators: "jinglaokashenlingfafang"
    initials: str  # "jlkslff"
    # "\0" + every syllable-aligned suffix of the pinyin, so "laoka" matches but "aok" does not.
    pinyin_suffixes: str
    syllables: str  # "\1jing\1lao\1ka\1..." for whole-syllable homophone matches
    # Category and department, for the lowest tier: Chinese + initials, and pinyin suffixes.
    context: str
    context_pinyin_suffixes: str
    # Everything above joined: a query absent from it cannot match (except as a homophone),
    # so most matters are rejected with one substring test.
    haystack: str


def _suffixes(syllables: list[str]) -> str:
    return _SEP + _SEP.join("".join(syllables[i:]) for i in range(len(syllables)))


def _syllable_string(syllables: list[str]) -> str:
    return _SYL + _SYL.join(syllables) + _SYL


def _entry(matter: Matter) -> _Entry:
    syllables = list(_catalog_syllables(matter.name, Style.NORMAL))
    context_text = matter.category + matter.department
    name = normalize(matter.name)
    initials = "".join(_catalog_syllables(matter.name, Style.FIRST_LETTER))
    pinyin_suffixes = _suffixes(syllables)
    context = normalize(context_text) + _SEP + "".join(_catalog_syllables(context_text, Style.FIRST_LETTER))
    context_pinyin_suffixes = _suffixes(list(_catalog_syllables(context_text, Style.NORMAL)))
    return _Entry(
        matter=matter,
        name=name,
        pinyin="".join(syllables),
        initials=initials,
        pinyin_suffixes=pinyin_suffixes,
        syllables=_syllable_string(syllables),
        context=context,
        context_pinyin_suffixes=context_pinyin_suffixes,
        haystack=_SEP.join((name, initials, pinyin_suffixes, context, context_pinyin_suffixes)),
    )


def _homophone_key(query: str) -> str | None:
    """The query's syllables for homophone matching, or None when it has too few Chinese characters."""
    return _syllable_string(_syllables(query, Style.NORMAL)) if _han_count(query) >= _MIN_HOMOPHONE_HAN else None


def _rank(entry: _Entry, query: str, query_pinyin: str | None) -> int | None:
    """Best tier at which `query` matches `entry`, or None."""
    if query not in entry.haystack:
        if query_pinyin and query_pinyin in entry.syllables:
            return _HOMOPHONE
        return None
    if query in (entry.name, entry.pinyin, entry.initials):
        return _EXACT
    if entry.name.startswith(query) or entry.pinyin.startswith(query) or entry.initials.startswith(query):
        return _PREFIX
    if query in entry.name or query in entry.initials or (_SEP + query) in entry.pinyin_suffixes:
        return _SUBSTRING
    # A Chinese query with a wrong but same-sounding character (静老卡 for 敬老卡).
    if query_pinyin and query_pinyin in entry.syllables:
        return _HOMOPHONE
    if query in entry.context or (_SEP + query) in entry.context_pinyin_suffixes:
        return _CONTEXT
    return None


class MatterSearchIndex:
    """Precomputed search over a fixed list of matters, keeping their order for ties."""

    def __init__(self, matters: Sequence[Matter]) -> None:
        self._entries = [_entry(matter) for matter in matters]

    def search(self, q: str = "", department: str | None = None, mode: str | None = None) -> list[Matter]:
        """Matters matching `q`, best first; empty `q` lists all in catalog order.

        `department` keeps one department; `mode` "handle"/"consult" also keeps "both" matters.
        Unknown filters and hopeless queries return an empty list rather than raising.
        """
        allowed_modes = None if mode is None else _MODE_FILTERS.get(mode, frozenset())
        entries = [
            entry
            for entry in self._entries
            if (department is None or entry.matter.department == department)
            and (allowed_modes is None or entry.matter.mode in allowed_modes)
        ]
        if len(q) > MAX_QUERY_CHARS:
            return []
        query = normalize(q)
        if not query:
            return [entry.matter for entry in entries]
        query_pinyin = _homophone_key(query)
        ranked: list[tuple[int, int, Matter]] = []
        for position, entry in enumerate(entries):
            tier = _rank(entry, query, query_pinyin)
            if tier is not None:
                ranked.append((tier, position, entry.matter))
        if not ranked:
            ranked = _every_word(entries, q)
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [matter for _, _, matter in ranked]


def _every_word(entries: Sequence[_Entry], q: str) -> list[tuple[int, int, Matter]]:
    """Where the whole query matches nothing and it has several words, the matters that every word
    matches, at the tier of the weakest: "挂失 敬老卡" finds 敬老卡挂失补领, as the words come to mind
    in any order."""
    words = [word for part in q.split() if (word := normalize(part))]
    if len(words) < 2:
        return []
    wanted = [(word, _homophone_key(word)) for word in words]
    found: list[tuple[int, int, Matter]] = []
    for position, entry in enumerate(entries):
        tiers = [_rank(entry, word, pinyin) for word, pinyin in wanted]
        if all(tier is not None for tier in tiers):
            found.append((max(t for t in tiers if t is not None), position, entry.matter))
    return found
