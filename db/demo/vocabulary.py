"""The vocabulary the demo generator draws from: countries, cities, products, message texts.

Kept apart from the generator so that the numbers (how data is shaped) and the words (what
it says) can each be read on their own. Cities are real and their postcode patterns fit them
(``#`` a digit, ``?`` a letter); names come from Faker's locale for the country.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str
    locale: str
    weight: float
    cities: tuple[tuple[str, str], ...]  # (city, postcode pattern)


COUNTRIES: tuple[Country, ...] = (
    Country("GB", "en_GB", 0.22, (
        ("London", "E# #??"), ("Manchester", "M## #??"), ("Birmingham", "B## #??"),
        ("Leeds", "LS# #??"), ("Glasgow", "G## #??"), ("Bristol", "BS# #??"),
        ("Edinburgh", "EH# #??"), ("Liverpool", "L## #??"))),
    Country("DE", "de_DE", 0.22, (
        ("Berlin", "10###"), ("Hamburg", "20###"), ("München", "80###"), ("Köln", "50###"),
        ("Frankfurt am Main", "60###"), ("Stuttgart", "70###"), ("Düsseldorf", "40###"),
        ("Leipzig", "04###"))),
    Country("FR", "fr_FR", 0.14, (
        ("Paris", "750##"), ("Lyon", "6900#"), ("Marseille", "130##"), ("Toulouse", "310##"),
        ("Nice", "060##"), ("Nantes", "440##"), ("Bordeaux", "330##"), ("Lille", "590##"))),
    Country("ES", "es_ES", 0.09, (
        ("Madrid", "280##"), ("Barcelona", "080##"), ("Valencia", "460##"),
        ("Sevilla", "410##"), ("Zaragoza", "500##"), ("Málaga", "290##"), ("Bilbao", "480##"))),
    Country("IT", "it_IT", 0.08, (
        ("Roma", "001##"), ("Milano", "201##"), ("Napoli", "801##"), ("Torino", "101##"),
        ("Bologna", "401##"), ("Firenze", "501##"))),
    Country("NL", "nl_NL", 0.07, (
        ("Amsterdam", "10## ??"), ("Rotterdam", "30## ??"), ("Den Haag", "25## ??"),
        ("Utrecht", "35## ??"), ("Eindhoven", "56## ??"))),
    Country("US", "en_US", 0.10, (
        ("New York", "100##"), ("Los Angeles", "900##"), ("Chicago", "606##"),
        ("Houston", "770##"), ("Seattle", "981##"), ("Boston", "021##"), ("Austin", "787##"))),
    Country("SE", "sv_SE", 0.04, (
        ("Stockholm", "11# ##"), ("Göteborg", "41# ##"), ("Malmö", "21# ##"),
        ("Uppsala", "75# ##"))),
    Country("PL", "pl_PL", 0.04, (
        ("Warszawa", "00-###"), ("Kraków", "30-###"), ("Wrocław", "50-###"),
        ("Gdańsk", "80-###"), ("Poznań", "60-###"))),
)

# Reserved example domains (RFC 2606): demo addresses can never reach a real inbox.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

OCCUPATIONS = (
    "Teacher", "Nurse", "Software developer", "Accountant", "Student", "Retired", "Engineer",
    "Sales manager", "Designer", "Electrician", "Doctor", "Civil servant", "Chef",
    "Consultant", "Shop owner", "Architect", "Lawyer", "Driver", "Pharmacist", "Journalist",
)

INTERESTS = (
    "cycling", "running", "cooking", "gardening", "travel", "photography", "gaming",
    "reading", "yoga", "fashion", "tech", "outdoor", "music", "parenting", "pets",
    "home-office", "wine", "fitness", "diy", "sustainability",
)

# category: (typical price in EUR, products)
CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "electronics": (180.0, ("Wireless headphones", "Smart speaker", "E-reader", "Action camera",
                            "Portable charger", "Smartwatch")),
    "home": (70.0, ("Cotton bed linen", "Table lamp", "Cast-iron pan", "Storage baskets",
                    "Espresso cups", "Wool throw")),
    "fashion": (55.0, ("Linen shirt", "Rain jacket", "Leather belt", "Merino jumper",
                       "Canvas sneakers", "Silk scarf")),
    "books": (18.0, ("Crime novel", "Cookbook", "Travel guide", "Children's picture book",
                     "Biography", "Science essay")),
    "beauty": (30.0, ("Face cream", "Shampoo bar", "Perfume", "Lip balm set", "Sun lotion")),
    "sports": (65.0, ("Yoga mat", "Running shoes", "Cycling gloves", "Water bottle",
                      "Hiking backpack", "Tennis racket")),
    "toys": (35.0, ("Wooden puzzle", "Building blocks", "Board game", "Plush bear",
                    "Remote-control car")),
    "grocery": (25.0, ("Coffee beans", "Olive oil", "Tea selection", "Chocolate box",
                       "Spice set")),
}
CATEGORY_WEIGHTS = (0.14, 0.16, 0.2, 0.12, 0.1, 0.1, 0.06, 0.12)

# Relative order volume by month (January first): a December peak, a summer dip.
MONTH_SEASONALITY = (0.85, 0.8, 0.9, 0.95, 1.0, 0.9, 0.85, 0.85, 1.0, 1.05, 1.35, 1.6)

INTERACTION_SUBJECTS: dict[str, tuple[str, ...]] = {
    "email": ("Question about delivery time", "Invoice copy requested", "Product availability",
              "Newsletter reply", "Address change request"),
    "call": ("Order status enquiry", "Return of an item", "Payment question",
             "Complaint about late delivery", "Product advice"),
    "meeting": ("Account review", "Bulk order discussion", "Loyalty programme briefing"),
    "ticket": ("Damaged item on arrival", "Wrong size delivered", "Refund not received",
               "Login problem on the web shop", "Missing part"),
    "note": ("Prefers morning calls", "Asked not to be called on weekends",
             "Interested in new collection", "VIP: handle personally"),
}
INTERACTION_OUTCOMES = ("resolved", "resolved", "resolved", "pending", "escalated",
                        "no answer", "follow-up scheduled")

FEEDBACK_COMMENTS = {
    "promoter": ("Fast delivery and great quality.", "Always happy with my orders.",
                 "Friendly support, will recommend.", ""),
    "passive": ("Good, but delivery took a while.", "Fine overall.", "Prices a bit high.", ""),
    "detractor": ("Item arrived damaged.", "Support never answered.",
                  "Refund took far too long.", "Quality not as described."),
}

CARD_BRANDS = ("visa", "mastercard", "amex")
# Where a customer's sign-up consent came from (db.models.CONSENT_SOURCES), by how they came.
CONSENT_SOURCES = {"web": "web", "store": "form", "referral": "web", "event": "form",
                   "partner": "import", "social": "web", "import": "import"}
NOTICE_VERSIONS = ((2023, "2023-01"), (2024, "2024-06"), (2025, "2025-03"), (2026, "2026-02"))
