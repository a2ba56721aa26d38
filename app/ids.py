"""Row ids as they arrive from outside (URL parts, query parameters, JSON fields).

Every primary key is an INTEGER column: 32 bits on PostgreSQL, 64 on SQLite. A larger
number in a URL is not a row that exists, yet handed to the database it is an error
(PostgreSQL: "integer out of range"; SQLite: OverflowError before the query runs), which
the user would see as a 500. These helpers turn such numbers into "no such row" first.
"""
from __future__ import annotations

from typing import Mapping

from werkzeug.routing import IntegerConverter, ValidationError

# The largest value every INTEGER column holds on every database the app supports.
ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` that does not match numbers beyond ID_MAX, so they get the app's 404.

    ASCII digits only: the base class's \\d also takes other scripts' digits, so that
    /hr/people/٣ was user 3 under a second address."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=ID_MAX if max is None else max,
                         signed=signed)

    def to_python(self, value: str) -> int:
        # The base class parses every digit before checking the bound; a 100,000-digit
        # path segment would be a slow (and, past Python's digit limit, failing) int().
        if len(value.lstrip("0")) > len(str(self.max)):
            raise ValidationError()
        return super().to_python(value)


def id_arg(args: Mapping[str, str], name: str) -> int | None:
    """The query parameter `name` as a row id, or None when it is missing, not a whole
    number, or outside 1..ID_MAX (no row can have such an id)."""
    value = (args.get(name) or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > len(str(ID_MAX)):
        return None
    number = int(value)
    return number if 1 <= number <= ID_MAX else None
