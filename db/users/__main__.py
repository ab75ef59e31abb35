"""``python -m db.users add USERNAME --role ROLE`` creates a staff account (the password is
prompted); ``python -m db.users list`` shows the accounts."""

from db.users import service

if __name__ == "__main__":
    raise SystemExit(service.main())
