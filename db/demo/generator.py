"""What the demo customers do, drawn as NumPy arrays a chunk of customers at a time.

What makes it realistic: a minority of customers bringing most of the revenue (lognormal
activity); seasonality with a December peak and a weekend bump; a share of customers who stop
buying; support contacts and NPS answers that follow orders; consent that is mixed and
sometimes withdrawn. Who they are (names, addresses, e-mails) comes from :mod:`db.demo.people`.

The same ``seed`` and ``as_of`` always give the same arrays: each chunk draws from its own
generator seeded with ``seed`` and its first customer id, in a fixed order. Data ends just
before midnight (UTC) at the start of ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from db.demo import vocabulary as vocab
from db.demo.people import draw_people, draw_tags, name_pools
from db.models import CONSENT_PURPOSES, NPS_BANDS

HISTORY_YEARS = 4
SECONDS_PER_DAY = 86_400
CONSENT_RATES = {"email_marketing": 0.62, "sms": 0.28, "profiling": 0.45,
                 "third_party_sharing": 0.12}
ORDER_CHANNEL_WEIGHTS = {"web": 0.45, "store": 0.25, "app": 0.18, "phone": 0.04,
                         "marketplace": 0.08}
CHANNELS = tuple(ORDER_CHANNEL_WEIGHTS)  # the order channels, in the order codes number them

Arrays = dict[str, Any]  # a table's columns by name: NumPy arrays or lists of one length


@dataclass(frozen=True)
class Chunk:
    """A chunk of customers and everything they did. ``people`` also holds the latent traits
    (``activity``, ``churns``, ...), ``orders`` each order's ``owner`` (the customer's
    position in ``ids``) and its channel and category as codes; timestamps are
    ``datetime64[s]`` arrays under ``at`` (``created`` for people, ``created_at`` for cards)."""

    ids: np.ndarray
    people: Arrays
    orders: Arrays
    status: np.ndarray
    tags: tuple[list[int], list[int]]  # customer ids, tag ids
    interactions: Arrays
    feedback: Arrays
    consent: Arrays
    cards: Arrays


class _DayDistribution:
    """Draws order days between two dates with the shop's seasonality and weekend bump."""

    def __init__(self, start: date, end: date) -> None:
        days = np.arange(np.datetime64(start), np.datetime64(end))
        months = days.astype("datetime64[M]").astype(int) % 12
        weekdays = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
        weights = np.asarray(vocab.MONTH_SEASONALITY)[months] * np.where(weekdays >= 5, 1.15, 1)
        self.start = np.datetime64(start, "D")
        self.cdf = np.concatenate([[0.0], np.cumsum(weights)])

    def draw(self, rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Fractional day offsets from ``start``, one in each ``[low, high)`` window."""
        positions = np.arange(len(self.cdf), dtype=float)
        low_mass = np.interp(low, positions, self.cdf)
        high_mass = np.interp(high, positions, self.cdf)
        mass = low_mass + rng.random(len(low)) * (high_mass - low_mass)
        return np.interp(mass, self.cdf, positions)


class DemoGenerator:
    """Draws the demo rows chunk by chunk; see the module docstring for what they look like.

    Keeps the e-mail addresses it has handed out, so chunks must be drawn in order, once.
    """

    def __init__(self, *, seed: int, as_of: date, orders_per_customer: float,
                 staff_ids: list[int]) -> None:
        self.seed = seed
        self.as_of = as_of
        self.orders_per_customer = orders_per_customer
        self.staff_ids = np.asarray(staff_ids or [0], dtype=np.int64)
        self.has_staff = bool(staff_ids)
        self.start = date(as_of.year - HISTORY_YEARS, as_of.month, 1)
        self.span_days = (as_of - self.start).days
        self.days = _DayDistribution(self.start, as_of)
        self.pools = name_pools(seed)
        self.used_emails: set[str] = set()
        self.epoch = np.datetime64(self.start, "s")
        self.end = np.datetime64(as_of, "s") - np.timedelta64(1, "s")  # the last second

    def draw(self, first_id: int, size: int) -> Chunk:
        """The customers ``first_id`` to ``first_id + size - 1`` and everything they did."""
        rng = np.random.default_rng([self.seed, first_id])
        ids = np.arange(first_id, first_id + size, dtype=np.int64)
        people = draw_people(rng, ids, pools=self.pools, span_days=self.span_days,
                             as_of=self.as_of, used_emails=self.used_emails)
        people["created"] = self._after_start(people["created_days"])
        people |= self._traits(rng, size)
        orders = self._orders(rng, people)
        return Chunk(ids=ids, people=people, orders=orders,
                     status=self._lifecycle_status(people, orders), tags=draw_tags(rng, ids),
                     interactions=self._interactions(rng, people, orders),
                     feedback=self._feedback(rng, people, orders),
                     consent=self._consent(rng, people),
                     cards=self._payment_methods(rng, people))

    def _after_start(self, days: np.ndarray) -> np.ndarray:
        """Timestamps (to the second) ``days`` fractional days after the data starts."""
        return self.epoch + (days * SECONDS_PER_DAY).astype("timedelta64[s]")

    @staticmethod
    def _traits(rng: np.random.Generator, size: int) -> Arrays:
        """Latent traits that shape behaviour: how much they buy, whether they stop."""
        return {
            "activity": rng.lognormal(0.0, 1.0, size),
            "is_lead": rng.random(size) < 0.12,
            "churns": rng.random(size) < 0.35,
            "satisfaction": rng.normal(0.0, 1.0, size),
            "favourite": rng.choice(len(vocab.CATEGORIES), size,
                                    p=np.asarray(vocab.CATEGORY_WEIGHTS)),
            "shop_channel": rng.choice(len(ORDER_CHANNEL_WEIGHTS), size,
                                       p=list(ORDER_CHANNEL_WEIGHTS.values())),
        }

    def _orders(self, rng: np.random.Generator, people: Arrays) -> Arrays:
        size = len(people["ids"])
        start = people["created_days"]
        end = np.where(people["churns"], start + rng.random(size) * (self.span_days - start),
                       self.span_days)
        window = np.maximum(end - start, 0.5)
        rate = np.where(people["is_lead"], 0.0, people["activity"] * window ** 0.85)
        rate *= self.orders_per_customer * size / max(rate.sum(), 1e-9)
        per_customer = rng.poisson(rate)
        owner = np.repeat(np.arange(size), per_customer)
        count = len(owner)

        day = self.days.draw(rng, start[owner], end[owner])
        # Shoppers buy mostly in the evening: a time of day weighted towards 19:00-21:00.
        seconds = np.clip(rng.normal(19.5, 3.5, count), 7, 23.98) * 3600
        at = self.epoch + (np.floor(day) * SECONDS_PER_DAY + seconds).astype("timedelta64[s]")
        at = np.maximum(at, people["created"][owner] + np.timedelta64(60, "s"))
        at = np.minimum(at, self.end)

        names = list(vocab.CATEGORIES)
        category_index = np.where(rng.random(count) < 0.5, people["favourite"][owner],
                                  rng.choice(len(names), count,
                                             p=np.asarray(vocab.CATEGORY_WEIGHTS)))
        prices = np.array([vocab.CATEGORIES[name][0] for name in names])
        product = np.empty(count, dtype=object)
        for index, name in enumerate(names):
            rows = np.flatnonzero(category_index == index)
            products = np.array(vocab.CATEGORIES[name][1], dtype=object)
            product[rows] = products[rng.integers(0, len(products), len(rows))]
        quantity = np.minimum(rng.geometric(0.72, count), 6)
        amount = (prices[category_index] * rng.lognormal(0, 0.45, count) * quantity
                  * people["activity"][owner] ** 0.25)
        refund = rng.random(count) < 0.01
        amount = np.round(np.where(refund, -amount, amount), 2)

        channels = np.array(CHANNELS, dtype=object)
        channel_index = np.where(rng.random(count) < 0.7, people["shop_channel"][owner],
                                 rng.choice(len(CHANNELS), count,
                                            p=list(ORDER_CHANNEL_WEIGHTS.values())))
        return {
            "owner": owner, "customer_id": people["ids"][owner], "at": at, "amount": amount,
            "category": np.array(names, dtype=object)[category_index], "product": product,
            "quantity": quantity, "channel": channels[channel_index],
            "per_customer": per_customer, "category_code": category_index,
            "channel_code": channel_index,
        }

    def _lifecycle_status(self, people: Arrays, orders: Arrays) -> np.ndarray:
        """lead (never bought), active (<180 days), inactive (<365 days), churned (older)."""
        last = np.full(len(people["ids"]), np.datetime64("NaT"), dtype="datetime64[s]")
        if len(orders["at"]):
            order = np.lexsort((orders["at"], orders["owner"]))
            owners = orders["owner"][order]
            is_last = np.append(owners[1:] != owners[:-1], True)
            last[owners[is_last]] = orders["at"][order][is_last]
        since = np.datetime64(self.as_of, "s") - last
        status = np.where(since < np.timedelta64(180, "D"), "active",
                          np.where(since < np.timedelta64(365, "D"), "inactive", "churned")
                          ).astype(object)
        status[np.isnat(last)] = "lead"
        return status

    def _staff(self, rng: np.random.Generator, count: int) -> list[int | None]:
        if not self.has_staff:
            return [None] * count
        return self.staff_ids[rng.integers(0, len(self.staff_ids), count)].tolist()

    def _interactions(self, rng: np.random.Generator, people: Arrays, orders: Arrays) -> Arrays:
        # Support contacts follow about one order in five, within days of it.
        follow = np.flatnonzero(rng.random(len(orders["at"])) < 0.2)
        support_kind = rng.choice(np.array(["email", "call", "ticket"]), len(follow),
                                  p=[0.4, 0.3, 0.3])
        support_at = orders["at"][follow] + (rng.exponential(3.0, len(follow))
                                             * SECONDS_PER_DAY).astype("timedelta64[s]")
        # Outreach and notes happen throughout the relationship.
        outreach_count = rng.poisson(0.6, len(people["ids"]))
        owner = np.repeat(np.arange(len(people["ids"])), outreach_count)
        outreach_kind = rng.choice(np.array(["note", "email", "call", "meeting"]), len(owner),
                                   p=[0.4, 0.4, 0.15, 0.05])
        offset = people["created_days"][owner] + rng.random(len(owner)) * (
            self.span_days - people["created_days"][owner])
        outreach_at = self._after_start(offset)

        kind = np.concatenate([support_kind, outreach_kind]).astype(object)
        at = np.minimum(np.concatenate([support_at, outreach_at]), self.end)
        customer_id = np.concatenate([orders["customer_id"][follow], people["ids"][owner]])
        direction = np.concatenate([
            np.full(len(follow), "inbound", dtype=object),
            np.where(outreach_kind == "note", "internal", "outbound").astype(object)])
        subject = np.empty(len(kind), dtype=object)
        for name, options in vocab.INTERACTION_SUBJECTS.items():
            rows = np.flatnonzero(kind == name)
            subject[rows] = np.array(options, dtype=object)[rng.integers(0, len(options),
                                                                         len(rows))]
        outcome = np.array(vocab.INTERACTION_OUTCOMES, dtype=object)[
            rng.integers(0, len(vocab.INTERACTION_OUTCOMES), len(kind))]
        outcome[kind == "note"] = None
        return {
            "customer_id": customer_id.tolist(), "at": at, "kind": kind.tolist(),
            "direction": direction.tolist(), "subject": subject.tolist(),
            "summary": [None] * len(kind), "staff_user_id": self._staff(rng, len(kind)),
            "outcome": outcome.tolist(),
        }

    def _feedback(self, rng: np.random.Generator, people: Arrays, orders: Arrays) -> Arrays:
        asked = np.flatnonzero(rng.random(len(orders["at"])) < 0.07)
        owner = orders["owner"][asked]
        mood = people["satisfaction"][owner] - 0.8 * people["churns"][owner]
        score = np.clip(np.round(8.2 + 1.8 * mood + rng.normal(0, 0.8, len(asked))), 0, 10)
        at = np.minimum(
            orders["at"][asked] + rng.integers(2, 11, len(asked)).astype("timedelta64[D]"),
            self.end)
        group = np.select([score >= low for low, _ in NPS_BANDS.values()], list(NPS_BANDS), "")
        comment: list[str | None] = []
        choices = rng.integers(0, 4, len(asked))
        for index, name in enumerate(group):
            text = vocab.FEEDBACK_COMMENTS[name][choices[index]]
            comment.append(text or None)
        return {"customer_id": orders["customer_id"][asked].tolist(), "at": at,
                "nps_score": score.astype(int).tolist(), "comment": comment}

    def _consent(self, rng: np.random.Generator, people: Arrays) -> Arrays:
        """Grants at sign-up, and some email-marketing withdrawals later."""
        size = len(people["ids"])
        created = people["created"]
        years = created.astype("datetime64[Y]").astype(int) + 1970
        notices = np.full(size, vocab.NOTICE_VERSIONS[0][1], dtype=object)
        for year, version in vocab.NOTICE_VERSIONS:
            notices[years >= year] = version
        source = np.array([vocab.CONSENT_SOURCES[s] for s in people["source"]], dtype=object)
        parts: dict[str, list[np.ndarray]] = {key: [] for key in
                                              ("customer", "purpose", "granted", "at", "source",
                                               "notice")}

        def add(rows: np.ndarray, purpose: str, granted: bool, at: np.ndarray) -> None:
            parts["customer"].append(people["ids"][rows])
            parts["purpose"].append(np.full(len(rows), purpose, dtype=object))
            parts["granted"].append(np.full(len(rows), granted))
            parts["at"].append(at)
            parts["source"].append(source[rows])
            parts["notice"].append(notices[rows])

        for purpose in CONSENT_PURPOSES:
            rows = np.flatnonzero(rng.random(size) < CONSENT_RATES[purpose])
            add(rows, purpose, True, created[rows])
            if purpose == "email_marketing":
                withdrawn = rows[rng.random(len(rows)) < 0.12]
                later = people["created_days"][withdrawn] + rng.random(len(withdrawn)) * (
                    self.span_days - people["created_days"][withdrawn])
                add(withdrawn, purpose, False, self._after_start(later))
        granted = np.concatenate(parts["granted"])
        return {
            "customer_id": np.concatenate(parts["customer"]).tolist(),
            "purpose": np.concatenate(parts["purpose"]).tolist(),
            "granted": granted.tolist(),
            "at": np.concatenate(parts["at"]),
            "source": np.concatenate(parts["source"]).tolist(),
            "notice_version": np.concatenate(parts["notice"]).tolist(),
            "recorded_by_user_id": [None] * len(granted),
        }

    def _payment_methods(self, rng: np.random.Generator, people: Arrays) -> Arrays:
        size = len(people["ids"])
        cards = np.where(rng.random(size) < 0.35, 1, 0) + np.where(rng.random(size) < 0.1, 1, 0)
        owner = np.repeat(np.arange(size), cards)
        count = len(owner)
        tokens = rng.integers(0, 2**62, count)
        return {
            "customer_id": people["ids"][owner].tolist(),
            "brand": rng.choice(np.array(vocab.CARD_BRANDS, dtype=object), count,
                                p=[0.55, 0.35, 0.1]).tolist(),
            "last4": [f"{n:04d}" for n in rng.integers(0, 10_000, count)],
            "exp_month": rng.integers(1, 13, count).tolist(),
            "exp_year": (self.as_of.year - 1 + rng.integers(0, 6, count)).tolist(),
            "processor_token": [f"tok_{people['ids'][o]:x}_{t:016x}"
                                for o, t in zip(owner, tokens, strict=True)],
            "created_at": people["created"][owner],
        }
