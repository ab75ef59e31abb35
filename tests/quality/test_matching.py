"""Blocking and scoring over plain records: comparison keys from the import engine's
normalisers, the reasons a reviewer reads, and planted duplicates found."""

from __future__ import annotations

from datetime import date

from db.quality.matching import DEFAULT_THRESHOLD, Person, find_pairs, keys, score
from db.quality.plant import plant


def _person(id: int, first: str = "Jana", last: str = "Novak", **fields: object) -> Person:
    return Person(id, first, last, None, None, None, None, None, "DE", None)._replace(**fields)


def test_keys_use_the_import_normalisers() -> None:
    record = keys(_person(1, email=" Jana.Novak@Example.COM ", phone="030 1234567",
                          postcode="10 115"))
    assert record.email == "jana.novak@example.com"
    assert record.email_name == "jana.novak"
    assert record.phone == "+49301234567"
    assert record.postcode == "DE10115"
    assert keys(_person(2, "José", "Łukasz")).name == "jose lukasz"


def test_the_same_person_written_differently_scores_high_with_reasons() -> None:
    stored = keys(_person(1, email="jana.novak@example.com", phone="+49301234567",
                          birth_date=date(1980, 5, 1)))
    typed = keys(_person(2, "Novak", "Jana", email="Jana.Novak@EXAMPLE.com",
                         phone="030 1234567", birth_date=date(1980, 5, 1)))
    value, reasons = score(stored, typed)
    assert value >= DEFAULT_THRESHOLD
    assert reasons[:2] == ("same e-mail", "same phone")
    assert "same name, first and last swapped" in reasons
    assert "same birth date" in reasons


def test_a_typo_is_reported_as_names_alike_and_namesakes_stay_apart() -> None:
    _, reasons = score(keys(_person(1, "Patrick", "Turner", birth_date=date(1983, 2, 12),
                                    city="Seattle", country="US")),
                       keys(_person(2, "Patick", "Turner", birth_date=date(1983, 2, 12),
                                    city="Seattle", country="US")))
    assert any(reason.startswith("names ") and reason.endswith("% alike") for reason in reasons)
    namesake, why = score(keys(_person(1, birth_date=date(1970, 1, 1), postcode="10115",
                                       phone="+49301111111")),
                          keys(_person(2, birth_date=date(1991, 7, 9), postcode="80331",
                                       phone="+49892222222")))
    assert namesake < 0.5 and "birth dates differ" in why


def test_blocking_and_scoring_find_planted_duplicates() -> None:
    cities = [("Berlin", "10115"), ("Hamburg", "20095"), ("München", "80331"), ("Köln", "50667")]
    firsts = ["Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hans", "Ida", "Jonas"]
    lasts = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
             "Schulz", "Hoffmann", "Koch", "Richter"]
    people = []
    for number in range(1, 481):
        first, last = firsts[number % 10], lasts[(number * 7) % 12]
        city, postcode = cities[number % 4]
        people.append(_person(
            number, first, last,
            email=f"{first.lower()}.{last.lower()}{number}@example.org",
            phone=f"+4930{1000000 + number * 37}" if number % 3 else None,
            street=f"Hauptstraße {number % 90 + 1}", postcode=postcode, city=city,
            birth_date=date(1950 + number % 50, 1 + number % 12, 1 + number % 28)))
    copies, truth = plant(people, count=60, seed=3, first_id=1001)
    assert len(copies) == 60 and all(copy.id > 1000 for copy in copies)
    assert plant(people, count=60, seed=3, first_id=1001) == (copies, truth)  # deterministic
    found = find_pairs(people + copies)
    proposed = {(pair.left_id, pair.right_id) for pair in found.pairs
                if pair.score >= DEFAULT_THRESHOLD}
    hits = len(proposed & set(truth))
    assert hits / len(proposed) >= 0.95
    assert hits / len(truth) >= 0.95
    assert all(pair.left_id < pair.right_id for pair in found.pairs)
    assert [pair.score for pair in found.pairs] == sorted(
        (pair.score for pair in found.pairs), reverse=True)


def test_excluded_pairs_are_left_out() -> None:
    people = [_person(1, email="a@example.org", phone="+49301234567"),
              _person(2, email="A@example.org", phone="+49301234567")]
    assert [(pair.left_id, pair.right_id) for pair in find_pairs(people).pairs] == [(1, 2)]
    assert find_pairs(people, exclude=frozenset({(1, 2)})).pairs == []
