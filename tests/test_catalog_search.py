"""Resident search: Chinese, pinyin, initials, ranking, filters and hostile input."""

from __future__ import annotations

import pytest

from matters_catalog.loader import Catalog, load_catalog
from matters_catalog.schema import Matter
from matters_catalog.search import MatterSearchIndex

JLK = "敬老卡申领、发放"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def index(catalog: Catalog) -> MatterSearchIndex:
    return MatterSearchIndex(catalog.matters)


def names(results: list[Matter]) -> list[str]:
    return [matter.name for matter in results]


@pytest.mark.parametrize("query", ["敬老卡", "jlk", "jinglaoka", "JLK", " jing lao ka ", "ＪＬＫ", "laoka"])
def test_finds_the_senior_card_by_chinese_pinyin_and_initials(index: MatterSearchIndex, query: str) -> None:
    assert JLK in names(index.search(query))


def test_pinyin_matches_only_at_syllable_boundaries(index: MatterSearchIndex) -> None:
    # "aok" is inside "laoka" but starts mid-syllable: no resident types that for 敬老卡.
    assert JLK not in names(index.search("aok"))


def test_homophone_typo_still_finds_the_matter(index: MatterSearchIndex) -> None:
    assert JLK in names(index.search("静老卡"))


@pytest.mark.parametrize("query", ["挂失 敬老卡", "补领　jlk", "guashi jinglaoka"])
def test_words_in_another_order_still_find_the_matter(index: MatterSearchIndex, query: str) -> None:
    assert names(index.search(query))[0] == "敬老卡挂失补领"


def test_no_result(index: MatterSearchIndex) -> None:
    assert index.search("火星移民") == []
    assert index.search("zzzzqqq") == []


def test_empty_query_returns_everything_in_catalog_order(index: MatterSearchIndex, catalog: Catalog) -> None:
    assert index.search() == catalog.matters
    assert index.search("   ") == catalog.matters


@pytest.mark.parametrize(
    "query", ["%' OR 1=1 --", ".*", "[", "\\", "'; DROP TABLE matters; --", "a" * 10_000, "卡" * 10_000]
)
def test_hostile_input_returns_quietly(index: MatterSearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_control_characters_are_ignored(index: MatterSearchIndex, catalog: Catalog) -> None:
    assert index.search("\x00") == catalog.matters
    assert JLK in names(index.search("j\x00l\x01k"))


def test_metacharacters_are_plain_characters(index: MatterSearchIndex) -> None:
    # "(" is the full-width "（" after width folding: a literal match, not a regex group.
    assert names(index.search("(")) == ["养老金卡（折）调整"]
    assert names(index.search("（折）")) == ["养老金卡（折）调整"]


def test_exact_match_ranks_before_prefix_before_substring() -> None:
    def matter(matter_id: str, name: str) -> Matter:
        return Matter(
            id=matter_id,
            name=name,
            department="公安",
            category="测试",
            mode="handle",
            on_the_spot=True,
            typical_minutes=5,
            skill="police-general",
        )

    contains = matter("t-c-01", "补办居住证")
    prefix = matter("t-p-01", "居住证签注")
    exact = matter("t-e-01", "居住证")
    index = MatterSearchIndex([contains, prefix, exact])
    assert index.search("居住证") == [exact, prefix, contains]
    assert index.search("juzhuzheng") == [exact, prefix, contains]
    assert index.search("jzz") == [exact, prefix, contains]


def test_name_matches_rank_before_department_matches(index: MatterSearchIndex) -> None:
    results = index.search("公积金")
    name_hits = [m for m in results if "公积金" in m.name]
    assert name_hits and results[: len(name_hits)] == name_hits


def test_department_filter(index: MatterSearchIndex, catalog: Catalog) -> None:
    results = index.search(department="档案")
    assert results and all(m.department == "档案" for m in results)
    assert len(results) == sum(m.department == "档案" for m in catalog.matters)
    assert index.search("jlk", department="档案") == []
    assert index.search(department="不存在") == []


@pytest.mark.parametrize(("mode", "allowed"), [("handle", {"handle", "both"}), ("consult", {"consult", "both"})])
def test_mode_filter_includes_both(index: MatterSearchIndex, catalog: Catalog, mode: str, allowed: set[str]) -> None:
    results = index.search(mode=mode)
    assert {m.mode for m in results} == allowed
    assert len(results) == sum(m.mode in allowed for m in catalog.matters)


def test_unknown_mode_returns_nothing(index: MatterSearchIndex) -> None:
    assert index.search(mode="'; --") == []
