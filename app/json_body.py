"""How the app reads JSON request bodies: malformed or too deeply nested is a bad request.

Python's json module recurses once per nesting level, so a body of 100,000 "[" raises
RecursionError, which Flask's get_json does not treat as bad JSON (it catches ValueError
only): the request became a 500. Here it is bad JSON like any other.
"""
from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider


class JSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """As json.loads; raises ValueError (never RecursionError) on any malformed body."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
