"""Scenario: finding planted duplicates among demo customers (:mod:`db.quality`).

``python -m bench.duplicates plant --path DB --count N --truth FILE`` plants ``N`` duplicates
with known truth (:func:`db.quality.plant.plant_into`) into the demo database at DB (a copy:
the scenario never plants into the cached file) and writes the true pairs to FILE.
``run --path DB --truth FILE`` times :func:`db.quality.candidates.find_duplicates` (read,
block, score, store) and scores what it proposes at the default threshold against the truth.
``baseline --path DB --truth FILE --sample K`` compares every pair of K customers (the
planted pairs' customers among them) with rapidfuzz and the same scorer, no blocking, and
extrapolates its time to all customers (pairs grow with the square). ``splink --path DB
--truth FILE`` does the run with Splink 5 (Fellegi–Sunter, DuckDB in-process) on the same
comparison keys: parameters estimated (u by random sampling, m by expectation maximisation),
then predict; only when Splink is installed (it is not a dependency of custdb).
Each prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy
from rapidfuzz import fuzz, process

from db.core.access import operator
from db.core.engine import make_engine
from db.quality import candidates as service
from db.quality.candidates import live_people
from db.quality.matching import DEFAULT_THRESHOLD, Pair, keys, score
from db.quality.plant import plant_into

PLAIN_CUTOFF = 80


def _truth(path: Path) -> set[tuple[int, int]]:
    return {(min(pair), max(pair)) for pair in json.loads(path.read_text())}


def _quality(proposed: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict:
    hits = len(proposed & truth)
    return {"proposed": len(proposed), "true": len(truth), "hits": hits,
            "precision": hits / len(proposed) if proposed else 1.0,
            "recall": hits / len(truth) if truth else 1.0}


def plant(path: Path, count: int, truth: Path, seed: int) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    pairs = plant_into(engine, count=count, seed=seed)
    seconds = time.perf_counter() - started
    engine.dispose()
    truth.write_text(json.dumps(pairs))
    return {"planted": len(pairs), "seconds": seconds}


def run(path: Path, truth: Path) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    detection = service.find_duplicates(operator(), engine=engine)
    seconds = time.perf_counter() - started
    pairs = service.candidates(operator(), min_score=DEFAULT_THRESHOLD, limit=10**9,
                               engine=engine)
    engine.dispose()
    return {"seconds": seconds, **detection.counts(),
            **_quality({(pair.left_id, pair.right_id) for pair in pairs}, _truth(truth))}


def baseline(path: Path, truth: Path, sample: int, seed: int) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    people = live_people(engine)
    engine.dispose()
    known = _truth(truth)
    rng = random.Random(seed)
    # Half the sample is planted pairs (both sides), the rest drawn at random.
    chosen_pairs = rng.sample(sorted(known), min(len(known), sample // 4))
    ids = {customer for pair in chosen_pairs for customer in pair}
    others = [person.id for person in people if person.id not in ids]
    ids |= set(rng.sample(others, max(0, sample - len(ids))))
    records = [keys(person) for person in people if person.id in ids]
    started = time.perf_counter()
    proposed: list[Pair] = []
    for index, left in enumerate(records):
        for right in records[index + 1:]:
            value, reasons = score(left, right)
            if value >= DEFAULT_THRESHOLD:
                proposed.append(Pair(left.id, right.id, value, reasons))
    seconds = time.perf_counter() - started
    in_sample = {pair for pair in known if pair[0] in ids and pair[1] in ids}
    scale = (len(people) / len(records)) ** 2
    # Plain rapidfuzz: each record as one line of text, every pair by token_sort_ratio in
    # C++ (process.cdist), pairs at or above PLAIN_CUTOFF proposed.
    lines = [" ".join((record.name, record.email, record.phone, record.postcode,
                       record.street, record.birth)) for record in records]
    started = time.perf_counter()
    matrix = process.cdist(lines, lines, scorer=fuzz.token_sort_ratio, dtype=numpy.uint8,
                           score_cutoff=PLAIN_CUTOFF, workers=1)
    plain_seconds = time.perf_counter() - started
    rows, columns = numpy.nonzero(numpy.triu(matrix, 1))
    plain = {(min(records[row].id, records[column].id), max(records[row].id, records[column].id))
             for row, column in zip(rows.tolist(), columns.tolist(), strict=True)}
    return {"sample": len(records), "customers": len(people), "seconds": seconds,
            "extrapolated_seconds": seconds * scale,
            **_quality({(pair.left_id, pair.right_id) for pair in proposed}, in_sample),
            "plain": {"seconds": plain_seconds, "extrapolated_seconds": plain_seconds * scale,
                      "cutoff": PLAIN_CUTOFF, **_quality(plain, in_sample)}}


def splink(path: Path, truth: Path) -> dict:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    people = live_people(engine)
    engine.dispose()
    frame = pd.DataFrame([keys(person)._asdict() for person in people]).replace("", None)
    frame = frame.rename(columns={"id": "unique_id", "first": "first_name",
                                  "last": "surname"})
    for column in ("first_name", "surname"):
        frame[column + "_3"] = frame[column].str[:3]
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("email"), block_on("phone"), block_on("email_name"),
            block_on("postcode", "first_name_3"), block_on("postcode", "surname_3"),
            block_on("birth", "first_name_3"), block_on("birth", "surname_3"),
            block_on("city", "first_name_3", "surname_3"),
        ],
        comparisons=[
            cl.ForenameSurnameComparison("first_name", "surname"),
            cl.ExactMatch("email"), cl.ExactMatch("email_name"), cl.ExactMatch("phone"),
            cl.ExactMatch("birth"), cl.ExactMatch("postcode"),
            cl.JaroWinklerAtThresholds("street", [0.9]), cl.ExactMatch("city"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    database = DuckDBAPI()
    linker = Linker(database.register(frame), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("phone")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000)
    for rule in (block_on("birth"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=DEFAULT_THRESHOLD)
    found = predictions.as_pandas_dataframe()
    seconds = time.perf_counter() - started
    proposed = {(min(left, right), max(left, right)) for left, right in
                zip(found["unique_id_l"], found["unique_id_r"], strict=True)}
    return {"seconds": seconds, "customers": len(people), **_quality(proposed, _truth(truth))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("plant", "run", "baseline", "splink"):
        command = commands.add_parser(name)
        command.add_argument("--path", type=Path, required=True)
        command.add_argument("--truth", type=Path, required=True)
        command.add_argument("--seed", type=int, default=18)
        if name == "plant":
            command.add_argument("--count", type=int, required=True)
        if name == "baseline":
            command.add_argument("--sample", type=int, default=5_000)
    args = parser.parse_args()
    if args.command == "plant":
        report = plant(args.path, args.count, args.truth, args.seed)
    elif args.command == "run":
        report = run(args.path, args.truth)
    elif args.command == "baseline":
        report = baseline(args.path, args.truth, args.sample, args.seed)
    else:
        report = splink(args.path, args.truth)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
