"""Survey answers and contacts against an independent pandas computation, on both engines."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from db.kpi.engagement import engagement, nps_daily, nps_of
from db.kpi.periods import Period, bucketed
from tests.factories import MANAGER
from tests.kpi.reference import (
    FILTERS,
    PERIODS,
    chosen_customers,
    in_days,
)


def test_nps_per_bucket_matches_the_reference(engine: Engine, shop: dict) -> None:
    period = Period(date(2026, 1, 1), date(2026, 4, 30))
    days = nps_daily(MANAGER, period, engine=engine)
    months = bucketed(days, "month")
    answers = shop["answers"][in_days(shop["answers"], period)]
    month = answers["at"].map(lambda moment: moment.date().replace(day=1))
    for row, nps in zip(months.itertuples(), nps_of(months), strict=True):
        scores = answers[month == row.bucket.date()]["score"]
        assert (row.promoters, row.passives, row.detractors) == (
            (scores >= 9).sum(), scores.between(7, 8).sum(), (scores <= 6).sum())
        assert nps == pytest.approx(100 * ((scores >= 9).mean() - (scores <= 6).mean()))
    assert months["promoters"].sum() + months["passives"].sum() + months[
        "detractors"].sum() == len(answers) > 0



def test_engagement_matches_the_reference(engine: Engine, shop: dict) -> None:
    for period in PERIODS:
        for filters in FILTERS[:2]:
            got = engagement(MANAGER, period, filters, engine=engine)
            answers = shop["answers"]
            chosen = answers[in_days(answers, period)
                             & chosen_customers(answers, shop, filters)]["score"]
            assert (got.promoters, got.passives, got.detractors) == (
                int((chosen >= 9).sum()), int(chosen.between(7, 8).sum()),
                int((chosen <= 6).sum()))
            if len(chosen):
                assert got.nps == pytest.approx(
                    100 * ((chosen >= 9).mean() - (chosen <= 6).mean()))
            else:
                assert got.nps is None
            contacts = shop["contacts"]
            kept = contacts[in_days(contacts, period)
                            & chosen_customers(contacts, shop, filters)]
            assert got.interactions == kept["kind"].value_counts().to_dict()
