"""``python -m db.backup [--folder DIR]``: back up the configured database as the operator.

Prints the path of the file written. Exit status: 0 the backup was written; 1 it failed
(folder not writable, disk full, database error; nothing was kept, the reason is on stderr);
2 the command line was wrong; 3 the database is PostgreSQL, which this command does not back
up: stderr gives the ``pg_dump`` command to run instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from db.backup.copy import BackupError, BackupNotSupported, back_up
from db.core.access import operator
from db.core.engine import DatabaseBusy

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_POSTGRESQL = 0, 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m db.backup",
        description="Write a consistent copy of the SQLite database (DATABASE_URL) while the "
                    "app may be running; prints the file's path.")
    parser.add_argument("--folder", type=Path,
                        help="where to write it (default: backups/ beside the database, "
                             "data/backups/ for the default database)")
    args = parser.parse_args(argv)
    try:
        path = back_up(operator(), folder=args.folder, source="cli")
    except BackupNotSupported as error:
        print(error, file=sys.stderr)
        return EXIT_POSTGRESQL
    except (BackupError, DatabaseBusy) as error:
        print(f"backup: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(path)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
