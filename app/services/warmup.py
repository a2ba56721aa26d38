"""Warm-up: load, before the first request, what the first drill turn would pay for.

A fresh worker process would otherwise spend its first turns loading the scenario
catalog, the act model of each language (unpickled from the cache, or fitted), jieba's
dictionary (about a second on the first Chinese turn) and the engines. `warm_up` plays
one scripted turn per language in memory (no database, no model call) so all of that
is loaded, then closes every database connection it may have opened: gunicorn's master
runs it once before it forks the workers (gunicorn.conf.py), and no connection may cross
a fork.
"""
from __future__ import annotations

import logging
import time

from flask import Flask

log = logging.getLogger(__name__)

# An agent's opening, once with and once without punctuation: unpunctuated Chinese
# speech is cut into clauses on jieba's word boundaries, which loads its dictionary.
SAMPLE_TURNS = {
    "zh-CN": ("您好，这里是客服中心，请问有什么可以帮您？", "您好请问有什么可以帮您我先帮您查一下账单"),
    "en": ("Hello, this is the service hotline. How can I help you today?",),
}


def warm_up(app: Flask) -> dict[str, float]:
    """Load the catalog, the engines, each language's act model and jieba; return the
    seconds each step took. A failing step is logged and skipped: a cold worker is
    slow on its first turns, never broken."""
    timings: dict[str, float] = {}
    with app.app_context():
        _step(timings, "catalog", _catalog)
        _step(timings, "engines", _engines)
        for language, turns in SAMPLE_TURNS.items():
            _step(timings, f"turn {language}", lambda: _play(language, turns))
        from app.extensions import db

        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return timings


def _step(timings: dict[str, float], name: str, fn) -> None:
    start = time.monotonic()
    try:
        fn()
    except Exception:  # noqa: BLE001 - a warm-up never stops the server
        log.exception("warm-up step %r failed; the first request will load it instead", name)
        return
    timings[name] = round(time.monotonic() - start, 3)


def _catalog() -> None:
    from app.services.content import catalog

    catalog()


def _engines() -> None:
    from app.services.engines import available_kinds, engine_for

    for kind in available_kinds():
        engine_for(kind)  # builds the LLM client too when a server is configured (no call)


def _play(language: str, turns: tuple[str, ...]) -> None:
    """One scripted call opened and answered in memory: the act model, understanding,
    clause cutting and the customer's state machine all run once."""
    from app.services.content import catalog
    from app.services.engines import engine_for

    scenario = next((e.model for e in catalog().of_kind("scenario") if e.model.language == language), None)
    if scenario is None:
        return  # no scenario in this language: nothing will ask for its model
    engine = engine_for("scripted")
    _text, state, _events = engine.start_turn(scenario, scenario.personas[0].id, 1)
    for text in turns:
        for _piece in engine.reply_stream(text, state, scenario=scenario):
            pass
