"""Lookup: exact, prefix, contains and typo matches, each explained, on the trigram index."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz
from sqlalchemy import Engine, select, text

from db.core.access import Actor, PermissionDenied
from db.customers.service import create_customer, soft_delete_customer, update_customer
from db.derived import search_index
from db.derived.search_index import fold, fold_name, rebuild
from db.privacy.erasure import erase_customer
from db.search import candidates, matching, ranking
from db.search.matching import Candidate, Match, starts
from db.search.ranking import SearchFilters, search_customers
from tests.factories import MANAGER

PEOPLE = [
    {"first_name": "John", "last_name": "Smith", "email": "john.smith@example.com",
     "phone": "020 7946 0958", "country": "GB", "city": "London", "external_ref": "CRM-77"},
    {"first_name": "José", "last_name": "García", "email": "jose@example.es", "country": "ES",
     "city": "Málaga", "status": "active"},
    {"first_name": "Joan", "last_name": "Smithers", "country": "GB", "city": "Leeds",
     "status": "active"},
    {"first_name": "Anna", "last_name": "Müller", "email": "anna.mueller@example.de",
     "phone": "+49 30 901820", "country": "DE", "city": "Berlin"},
]


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    return {p["last_name"]: create_customer(MANAGER, p, confirm=True, engine=engine).id
            for p in PEOPLE}


def _find(engine: Engine, term: str, **filters: str) -> list[tuple[str, Match, str]]:
    hits = search_customers(MANAGER, term, SearchFilters(**filters), engine=engine).hits
    return [(h.customer.last_name, h.match, h.reason) for h in hits]


@pytest.mark.parametrize("typed", ["+44 20 7946 0958", "020 7946 0958", "442079460958"])
def test_any_phone_format_finds_the_customer_exactly(engine: Engine, people: dict,
                                                    typed: str) -> None:
    assert _find(engine, typed)[0] == ("Smith", Match.EXACT, "phone number")


@pytest.fixture
def callers(engine: Engine) -> dict[str, int]:
    """A German mobile with nothing after it in the index (no city, no reference), and a
    number that holds the same eight digits in its middle."""
    return {last: create_customer(MANAGER, {"first_name": "Eva", "last_name": last,
                                            "phone": phone, "country": "DE"},
                                  engine=engine).id
            for last, phone in [("Steckel", "+49 157 41015619"),
                                ("Hamann", "+49 4101 561900")]}


@pytest.mark.parametrize(("typed", "reason"), [
    ("0049 15741015619", "phone number"),
    ("+49 (0)157 41015619", "phone number"),
    ("0049 (0)157 4101-5619", "phone number"),
    ("41015619", "phone number ends with the search"),
    ("4101 5619", "phone number ends with the search"),
    ("015619", "phone number ends with the search"),
])
def test_international_prefixes_trunks_and_last_digits_find_the_phone(
    engine: Engine, callers: dict, typed: str, reason: str
) -> None:
    assert _find(engine, typed) == [("Steckel", Match.EXACT if reason == "phone number"
                                     else Match.CONTAINS, reason)]


def test_last_digits_held_by_many_records_still_find_the_phone(
    engine: Engine, callers: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite looks for the last six digits first; when that finds as many records as are
    ranked (here one: both callers hold "015619"), it asks for the whole ending instead."""
    monkeypatch.setattr(ranking, "RANKED", 1)
    assert _find(engine, "41015619") == [("Steckel", Match.CONTAINS,
                                          "phone number ends with the search")]


def test_a_number_held_by_more_records_than_are_ranked_is_still_found_exactly(
    engine: Engine, people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records ending in the typed digits hold the exact matches only while fewer than
    RANKED of them are found; beyond that the number itself is looked up."""
    twin = create_customer(MANAGER, {**PEOPLE[0], "first_name": "Jane", "email": None,
                                     "external_ref": None}, confirm=True, engine=engine).id
    monkeypatch.setattr(ranking, "RANKED", 1)
    hits = search_customers(MANAGER, "020 7946 0958", engine=engine).hits
    assert sorted((h.customer.id, h.match, h.reason) for h in hits) == sorted(
        (cid, Match.EXACT, "phone number") for cid in (people["Smith"], twin))


def test_exact_email_id_and_reference(engine: Engine, people: dict) -> None:
    assert _find(engine, "JOHN.SMITH@example.com")[0][:2] == ("Smith", Match.EXACT)
    assert _find(engine, str(people["Müller"]))[0] == ("Müller", Match.EXACT, "customer id")
    assert _find(engine, "crm-77")[0] == ("Smith", Match.EXACT, "external reference")


def test_typos_and_swapped_letters_still_find_the_name(engine: Engine, people: dict) -> None:
    found = _find(engine, "jonh smiht")
    assert found[0][0] == "Smith" and found[0][1] == Match.SIMILAR
    assert found[0][2].startswith("similar name")


@pytest.mark.parametrize("anchor_rows", [candidates.ANCHOR_ROWS, 0],
                         ids=["names-in-range", "common-word-join"])
def test_a_typo_in_one_word_is_found_through_the_other_word(
    engine: Engine, people: dict, monkeypatch: pytest.MonkeyPatch, anchor_rows: int
) -> None:
    """The other word's names are tested as read from its range, or — for a word that
    starts more names than are read so — through a join to their other words."""
    monkeypatch.setattr(ranking, "CANDIDATES", 0)  # nothing from the trigram ranking
    monkeypatch.setattr(candidates, "ANCHOR_ROWS", anchor_rows)
    # "smtih" shares no trigram with "smith": found as a name word alike it.
    for typed, name in [("anna mulelr", "Müller"), ("garica jose", "García"),
                        ("john smiht", "Smith"), ("john smtih", "Smith")]:
        found = _find(engine, typed)
        assert found and found[0][:2] == (name, Match.SIMILAR), typed
    assert _find(engine, "anna xyzzy") == []  # a name word alone is not a resemblance


def test_a_typo_in_a_single_word_is_found_through_name_words_alike(
    engine: Engine, people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone word with a typo finds the names with a word alike that starts with its first
    letter (its first two where more words start with that letter than are read); a typo
    in that letter, or more words than are read, leaves it to the ranking by shared
    trigrams."""
    monkeypatch.setattr(ranking, "CANDIDATES", 0)  # nothing from the trigram ranking
    for typed, name in [("smiht", "Smith"), ("mulelr", "Müller"), ("garcai", "García"),
                        ("smithres", "Smithers"), ("gracia", "García")]:
        found = _find(engine, typed)
        assert found and found[0][:2] == (name, Match.SIMILAR), typed
    assert _find(engine, "msith") == []
    create_customer(MANAGER, {"first_name": "Sara", "last_name": "Smyth", "country": "GB"},
                    engine=engine)
    monkeypatch.setattr(candidates, "ALIKE_WORDS", 3)  # four words start with "s"
    assert _find(engine, "smiht")[0][:2] == ("Smith", Match.SIMILAR)
    monkeypatch.setattr(candidates, "ALIKE_WORDS", 2)  # three with "sm"
    assert _find(engine, "smiht") == []
    monkeypatch.undo()
    assert _find(engine, "msith")[0][:2] == ("Smith", Match.SIMILAR)


def test_more_names_alike_than_are_read_are_counted_as_more(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every name with a word alike a lone typo matches it, so when more of them exist than
    are read the page says "more than" that many, not that many; with filters, those not
    read might not pass them, so nothing is claimed."""
    for first in ("Ada", "Ben", "Cleo", "Dan", "Eve"):
        create_customer(MANAGER, {"first_name": first, "last_name": "Dumont",
                                  "country": "FR"}, engine=engine)
    monkeypatch.setattr(ranking, "ANCHORED_CANDIDATES", 3)
    found = search_customers(MANAGER, "dmuont", engine=engine)
    assert (len(found.hits), found.total, found.more) == (3, 3, True)
    assert {hit.match for hit in found.hits} == {Match.SIMILAR}
    filtered = search_customers(MANAGER, "dmuont", SearchFilters(country="FR"), engine=engine)
    assert (filtered.total, filtered.more) == (3, False)
    monkeypatch.setattr(ranking, "ANCHORED_CANDIDATES", 5)  # all of them read
    found = search_customers(MANAGER, "dmuont", engine=engine)
    assert (len(found.hits), found.total, found.more) == (5, 5, False)


def test_accents_are_ignored(engine: Engine, people: dict) -> None:
    assert _find(engine, "jose")[0][0] == "García"
    assert _find(engine, "muller")[0][0] == "Müller"
    assert _find(engine, "malaga")[0][:2] == ("García", Match.CONTAINS)


@pytest.mark.parametrize(("written", "folded"), [
    ("Ørsted", "orsted"), ("ØSTERGAARD", "ostergaard"), ("Mærsk", "maersk"),
    ("Æbeltoft", "aebeltoft"), ("Œuvray", "oeuvray"), ("Đurić", "duric"), ("Þórður", "thordur"),
    ("Łukasz", "lukasz"), ("GROẞ", "gross"), ("Yıldız", "yildiz"), ("Ǿrsted", "orsted")])
def test_letters_without_an_accent_to_strip_fold_alike_in_either_case(written: str,
                                                                      folded: str) -> None:
    """Letters that Unicode does not write as a base letter and a mark (ø, æ, đ, þ …) are
    spelt out, in capitals as in small letters: "Østergaard" typed as "østergaard" or
    "ostergaard" must find the same person."""
    assert fold(written) == fold(written.lower()) == folded


def test_nordic_and_slavic_names_are_found_as_people_type_them(engine: Engine) -> None:
    for first, last, city in [("Søren", "Østergaard", "Ærøskøbing"),
                              ("Đorđe", "Đurić", "Niš"), ("Bo", "Bø Ørsted", None)]:
        create_customer(MANAGER, {"first_name": first, "last_name": last, "city": city,
                                  "country": "DK"}, engine=engine)
    for typed, name in [("ostergaard", "Østergaard"), ("østergaard", "Østergaard"),
                        ("ØSTERGAARD", "Østergaard"), ("soren ost", "Østergaard"),
                        ("djuric", None), ("duric", "Đurić"), ("dorde", "Đurić"),
                        ("orsted", "Bø Ørsted"), ("bo bo", "Bø Ørsted")]:
        found = _find(engine, typed)
        if name is None:
            assert not found or found[0][1] == Match.SIMILAR, typed
        else:
            assert found and found[0][0] == name and found[0][1] == Match.PREFIX, (typed, found)
    assert _find(engine, "aeroskobing")[0][:2] == ("Østergaard", Match.CONTAINS)
    with engine.connect() as connection:
        assert search_index.differences(connection) == 0


def test_prefixes_rank_before_other_matches(engine: Engine, people: dict) -> None:
    found = _find(engine, "smith")
    assert [name for name, _, _ in found[:2]] == ["Smith", "Smithers"]
    assert all(match == Match.PREFIX for _, match, _ in found[:2])


def test_short_terms_fall_back_to_name_prefixes(engine: Engine, people: dict) -> None:
    assert {name for name, _, _ in _find(engine, "sm")} == {"Smith", "Smithers"}
    assert _find(engine, "g")[0][0] == "García"


def test_filters_narrow_the_results(engine: Engine, people: dict) -> None:
    assert [n for n, _, _ in _find(engine, "smith", status="active")] == ["Smithers"]
    assert [n for n, _, _ in _find(engine, "", country="DE")] == ["Müller"]


def test_edits_and_deletes_keep_the_index_in_step(engine: Engine, people: dict) -> None:
    update_customer(MANAGER, people["Smith"], 1, {"city": "Edinburgh"}, engine=engine)
    assert _find(engine, "edinburgh")[0][0] == "Smith"
    assert _find(engine, "london") == []
    soft_delete_customer(Actor("alex", "admin"), people["Smith"], engine=engine)
    assert all(name != "Smith" for name, _, _ in _find(engine, "john smith"))


@pytest.mark.parametrize("hostile", ['"', "'; DROP TABLE customer; --", "%", "_", "a\\b",
                                     'NEAR(smith "x")', "smith AND OR NOT", "*", "ü" * 300,
                                     "99999999999999999999", "\x00", "🙂🙂🙂"])
def test_hostile_input_never_raises_and_matches_literally(engine: Engine, people: dict,
                                                          hostile: str) -> None:
    found = _find(engine, hostile)
    assert all(name in {"Smith", "García", "Smithers", "Müller"} for name, _, _ in found)
    if hostile in {"%", "_", "*"}:
        assert found == []


def test_rebuilt_index_equals_the_incremental_one(engine: Engine, people: dict) -> None:
    update_customer(MANAGER, people["García"], 1, {"phone": "+34 612 345 678"}, engine=engine)
    soft_delete_customer(Actor("alex", "admin"), people["Smithers"], engine=engine)
    dump = text("SELECT rowid, body FROM customer_search ORDER BY 1"
                if engine.dialect.name == "sqlite"
                else "SELECT customer_id, body FROM customer_search ORDER BY 1")
    with engine.connect() as connection:
        incremental = connection.execute(dump).all()
    words = select(search_index.WORDS).order_by(*search_index.WORDS.primary_key)
    with engine.connect() as connection:
        written = connection.execute(words).all()
    with engine.begin() as connection:
        rebuild(connection)
    with engine.connect() as connection:
        assert connection.execute(dump).all() == incremental
        assert connection.execute(words).all() == written and len(written) == 6


def test_lookup_needs_the_lookup_capability(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        search_customers(Actor("x", "nobody"), "smith", engine=engine)
    with pytest.raises(PermissionDenied):
        ranking.known_countries(Actor("x", "nobody"), engine=engine)


def test_known_countries_lists_each_country_once(engine: Engine, people: dict) -> None:
    assert ranking.known_countries(Actor("maya", "marketing"), engine=engine) == [
        "DE", "ES", "GB"]


def test_surname_first_finds_the_name_too(engine: Engine, people: dict) -> None:
    assert _find(engine, "smith john")[0][:2] == ("Smith", Match.CONTAINS)


def test_a_single_misspelt_word_finds_the_name(engine: Engine, people: dict) -> None:
    found = _find(engine, "smiht")
    assert found[0][0] == "Smith" and found[0][1] == Match.SIMILAR


@settings(max_examples=500, deadline=None)
@given(st.text(), st.text())
def test_names_fold_apart_as_they_fold_together(first: str, last: str) -> None:
    """The index folds first and last name apart (remembered per name): it must give what
    folding the whole name gives, for any text."""
    assert fold_name(first) + " " + fold_name(last) == fold(first + " " + last)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(st.characters(max_codepoint=127))))
def test_plain_ascii_folds_as_any_text_does(value: str) -> None:
    """Plain ASCII takes a short way through folding; it must end where the long way does."""
    assert fold(value) == search_index._fold_any(value)


@settings(max_examples=1000, deadline=None)
@given(st.text(), st.text(), st.data())
def test_a_name_starts_with_the_search_as_a_whole_its_surname_or_a_word(
        first: str, last: str, data: st.DataObject) -> None:
    name, surname = fold(first) + " " + fold(last), fold(last)
    start = data.draw(st.integers(0, len(name)))
    # Mostly a piece of the name itself, so that it often starts a word, sometimes not.
    folded = data.draw(st.one_of(st.integers(start + 1, len(name) + 1).map(
        lambda end: name[start:end]), st.text(min_size=1).map(fold)).filter(str.strip))
    expected = name.startswith(folded) or surname.startswith(folded) or any(
        word.startswith(folded) for word in name.split())
    assert starts(folded, Candidate(1, first, last)) == expected
    if " " not in folded:  # what the name words give a one-word search
        words = search_index.name_words(first, last)
        assert any(word.startswith(folded) for word in words) == expected


@pytest.fixture
def pagers(engine: Engine) -> list[int]:
    """Seven customers called Pager (four in DE), then Pagel (DE) and Olsen (DE)."""
    made = [create_customer(MANAGER, {"first_name": first, "last_name": "Pager",
                                      "country": "DE" if i < 4 else "AT"}, engine=engine).id
            for i, first in enumerate(["Ada", "Ben", "Cem", "Dora", "Emil", "Fay", "Gus"])]
    made.append(create_customer(MANAGER, {"first_name": "Hal", "last_name": "Pagel",
                                          "country": "DE"}, engine=engine).id)
    create_customer(MANAGER, {"first_name": "Ida", "last_name": "Olsen", "country": "DE"},
                    engine=engine)
    return made


def _walk(engine: Engine, term: str, size: int, **filters: str) -> tuple[list[int], set[int]]:
    """Every page of a search of ``size`` results: ids in order and the totals reported."""
    ids: list[int] = []
    totals = set()
    while True:
        page = search_customers(MANAGER, term, SearchFilters(**filters), limit=size,
                                offset=len(ids), engine=engine)
        assert page.offset == len(ids) and not page.more
        totals.add(page.total)
        ids += [hit.customer.id for hit in page.hits]
        if len(page.hits) < size:
            return ids, totals


def test_text_search_counts_every_match_and_pages_through_them(engine: Engine,
                                                                pagers: list[int]) -> None:
    ids, totals = _walk(engine, "pager", 3)  # the Pagers, then the similar Pagel
    assert totals == {8} and sorted(ids[:7]) == pagers[:7] and ids[7] == pagers[7]
    ids, totals = _walk(engine, "pager", 3, country="DE")
    assert totals == {5} and sorted(ids[:4]) == pagers[:4] and ids[4] == pagers[7]


def test_names_starting_with_one_word_page_alike_from_the_name_words(
    engine: Engine, pagers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No similar names: the first pages are filled from the name words alone, the last
    # (past the names starting with the search) by ranking; they must agree.
    monkeypatch.setattr(ranking, "SIMILAR_BELOW", 0)
    assert _walk(engine, "pager", 3) == (pagers[:7], {7})
    assert _walk(engine, "pager", 3, country="DE") == (pagers[:4], {4})
    # In name order, not in the words' order: "Pagen Abel" first, by surname, then Pagel.
    abel = create_customer(MANAGER, {"first_name": "Pagen", "last_name": "Abel",
                                     "country": "DE"}, engine=engine).id
    assert _walk(engine, "page", 3) == ([abel, pagers[7], *pagers[:7]], {9})
    update_customer(MANAGER, pagers[0], 1, {"last_name": "Olsen-Pager"}, engine=engine)
    assert _walk(engine, "pager", 2) == ([*pagers[1:7], pagers[0]], {7})  # its second word
    soft_delete_customer(Actor("alex", "admin"), pagers[1], engine=engine)
    assert _walk(engine, "pager", 2) == ([*pagers[2:7], pagers[0]], {6})
    with engine.connect() as connection:
        assert search_index.differences(connection) == 0


def test_short_and_empty_searches_count_and_page_too(engine: Engine, pagers: list[int]) -> None:
    ids, totals = _walk(engine, "pa", 2)
    assert totals == {8} and len(set(ids)) == 8
    ids, totals = _walk(engine, "", 4, country="DE")
    assert totals == {6} and ids == sorted(ids, reverse=True) and len(set(ids)) == 6


def test_past_the_ranked_window_the_total_still_counts_every_match(
    engine: Engine, pagers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ranking, "RANKED", 5)
    monkeypatch.setattr(ranking, "SIMILAR_BELOW", 0)
    page = search_customers(MANAGER, "pager", limit=3, engine=engine)
    assert (page.total, page.more, page.listable) == (7, False, 5)
    in_de = search_customers(MANAGER, "pager", SearchFilters(country="DE"), engine=engine)
    assert in_de.total == 4
    inside = search_customers(MANAGER, "ager", limit=3, engine=engine)  # starts no name
    assert (inside.total, inside.more, inside.listable) == (7, False, 5)
    monkeypatch.setattr(ranking, "COUNTED", 6)
    page = search_customers(MANAGER, "pager", limit=3, engine=engine)
    assert (page.total, page.more) == (6, True)
    inside = search_customers(MANAGER, "ager", limit=3, engine=engine)
    assert (inside.total, inside.more, inside.listable) == (6, True, 5)
    everyone = search_customers(MANAGER, "", limit=4, offset=4, engine=engine)
    assert (everyone.total, everyone.more, len(everyone.hits)) == (6, True, 2)


INVISIBLE = [("Da\u200fvid", "Cohen", ["Da\u200fvid Cohen", "David Cohen", "david", "Dav\u200fid"]),
             ("Sam", "Coder\U0001f469\u200d\U0001f4bb",
              ["Sam Coder\U0001f469\u200d\U0001f4bb", "Sam Coder\U0001f469\U0001f4bb",
               "coder\U0001f469\u200d\U0001f4bb"])]


@pytest.mark.parametrize(("first", "last", "typed"), INVISIBLE)
def test_names_with_invisible_marks_are_found_with_or_without_them(
        engine: Engine, first: str, last: str, typed: list[str]) -> None:
    """An RTL mark or an emoji's zero-width joiner is folded away on both sides alike."""
    create_customer(MANAGER, {"first_name": first, "last_name": last, "country": "IL"},
                    confirm=True, engine=engine)
    create_customer(MANAGER, {"first_name": "Other", "last_name": "Person", "country": "IL"},
                    confirm=True, engine=engine)
    for term in typed:
        assert [(name, match) for name, match, _ in _find(engine, term)] == [
            (last, Match.PREFIX)], term


def test_a_name_of_invisible_marks_only_is_saved_with_no_name_words(engine: Engine) -> None:
    made = create_customer(MANAGER, {"first_name": "\u200f", "last_name": "\u200d",
                                     "email": "marks@example.com", "country": "DE"},
                           engine=engine)
    assert [h.customer.id for h in search_customers(MANAGER, "marks@example.com",
                                                    engine=engine).hits] == [made.id]
    with engine.connect() as connection:
        assert search_index.differences(connection) == 0


def test_the_index_and_the_query_fold_invisible_characters_alike() -> None:
    assert fold("Da\u200fvid\u200d") == fold("David") == "david"
    assert fold("Anna\u2028Maria\tX") == "anna maria x"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=8),
       st.text(min_size=1, max_size=10).map(fold))
def test_names_scored_a_list_at_a_time_score_as_one_at_a_time(
        names: list[tuple[str, str]], folded: str) -> None:
    """Ranking scores its candidates' names in one call; each score must be the one the
    definition gives a name alone: the best of the whole name and each of its words."""
    rows = [Candidate(index, first, last) for index, (first, last) in enumerate(names)]
    expected = []
    for first, last in names:
        name = fold_name(first) + " " + fold_name(last)
        expected.append(max(fuzz.token_sort_ratio(folded, name),
                            max(fuzz.ratio(folded, word) for word in name.split() or [""])))
    assert matching._scores(folded, rows) == expected


def test_a_customer_deleted_while_the_search_runs_is_left_out_not_a_failure(
    engine: Engine, people: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL each statement of a search sees what was committed before it: a record
    ranked, then deleted before the page's records are read, is left out (SQLite's read
    keeps one snapshot, so it is still shown there)."""
    rank = ranking.ranked
    def ranked_then_deleted(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = rank(*args, **kwargs)
        soft_delete_customer(Actor("alex", "admin"), people["Smithers"], engine=engine)
        return result
    monkeypatch.setattr(ranking, "ranked", ranked_then_deleted)
    found = [hit.customer.last_name for hit in
             search_customers(MANAGER, "smith", engine=engine).hits]
    assert found[0] == "Smith"
    assert ("Smithers" in found) == (engine.dialect.name == "sqlite")


def test_the_vocabulary_holds_each_name_word_while_a_live_customer_has_it(
        engine: Engine) -> None:
    """A lone typo is compared with the vocabulary's words: each word of a live name, once;
    a word leaves with its last holder (renamed, deleted or erased: an erased name leaves
    no word behind) and stays while another customer has it."""
    def vocabulary() -> set[str]:
        with engine.connect() as connection:
            return set(connection.execute(select(search_index.VOCABULARY.c.word)).scalars())

    admin = Actor("alex", "admin")
    first = create_customer(MANAGER, {"first_name": "Zoltan", "last_name": "Quayle",
                                      "country": "GB"}, engine=engine)
    second = create_customer(MANAGER, {"first_name": "Zoltan", "last_name": "Xerxes",
                                       "country": "GB"}, engine=engine)
    third = create_customer(MANAGER, {"first_name": "Yvette", "last_name": "Wolstenholme",
                                      "country": "GB"}, engine=engine)
    assert {"zoltan", "quayle", "xerxes", "yvette", "wolstenholme"} <= vocabulary()
    assert first.id and second.id and third.id
    update_customer(MANAGER, first.id, first.version, {"last_name": "Quill"}, engine=engine)
    assert "quayle" not in vocabulary() and "quill" in vocabulary()
    soft_delete_customer(admin, second.id, engine=engine)
    assert "xerxes" not in vocabulary() and "zoltan" in vocabulary()  # the first has it
    erase_customer(admin, third.id, confirmation=str(third.id), engine=engine)
    assert not {"yvette", "wolstenholme"} & vocabulary()
    with engine.begin() as connection:
        assert search_index.differences(connection) == 0
        held = set(connection.execute(select(search_index.WORDS.c.word)).scalars())
    assert vocabulary() == held
    assert _find(engine, "quilp")[0][:2] == ("Quill", Match.SIMILAR)
