"""Flask-free domain core: data-file schemas, intent model, simulators, scorer.

Nothing in this package imports Flask or reads application config; callers pass
plain values in and get plain values (dataclasses, pydantic models) back.
"""
