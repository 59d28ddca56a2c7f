"""German sort order for names, the same on PostgreSQL and SQLite.

A clerk looks for "König" between "Köhler" and "Krüger", not after "Zander", and for
"bäckerei am markt" beside "Bäckerei Schulz". Byte order (SQLite's BINARY, PostgreSQL
databases created with the C locale) puts umlauts after z and lower case after upper
case. DIN 5007-1 (the dictionary order) treats ä as a, ö as o, ü as u and ß as ss and
ignores case; only names that are equal that way are ordered by their spelling.

Use `german("name")` wherever a list or a choice list is sorted by a name:
`queryset.order_by(german("name"))`, `german("customer__name").desc()`.

- PostgreSQL: the ICU collation "de-x-icu" (shipped with every ICU-enabled build,
  Debian's included). Its primary strength is exactly DIN 5007-1.
- SQLite: a collation "german" registered on every new connection (see `register`),
  which compares `din5007_key()` of both sides.
- Other backends: the column's own collation.
"""

from __future__ import annotations

import functools
import unicodedata

from django.db.models import F, Func

POSTGRESQL_COLLATION = "de-x-icu"
SQLITE_COLLATION = "german"


@functools.lru_cache(maxsize=65536)
def din5007_key(value: str) -> tuple[str, str, str]:
    """The sort key of a name after DIN 5007-1: letters without their accents (ä as a,
    é as e), ß as ss (casefold does that), case ignored. Ties are broken as ICU does:
    by the accent (a before ä, ss before ß), then by the case (lower first), so the order is total
    and every page of a list is stable."""
    base = "".join(c for c in unicodedata.normalize("NFKD", value.casefold()) if not unicodedata.combining(c))
    return base, value.lower(), value.swapcase()


def _compare(left: str, right: str) -> int:
    a, b = din5007_key(left), din5007_key(right)
    return (a > b) - (a < b)


def register(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: teach each new SQLite connection the collation.
    A connection without it would fail every query that sorts by `german(...)`."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(SQLITE_COLLATION, _compare)


class German(Func):
    """`expression COLLATE <German collation>` for ORDER BY (and indexes)."""

    template = "%(expressions)s"
    arity = 1

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template=f"%(expressions)s COLLATE {SQLITE_COLLATION}", **extra_context
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template=f"%(expressions)s COLLATE {connection.ops.quote_name(POSTGRESQL_COLLATION)}",
            **extra_context,
        )


def german(field: str) -> German:
    """`field` (a name, possibly across relations: "customer__name") in German order."""
    return German(F(field))
