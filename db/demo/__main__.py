"""``python -m db.demo --customers N --seed S``: realistic demo data into an empty database."""

from db.demo import loader

if __name__ == "__main__":
    raise SystemExit(loader.main())
