"""Customer engine kinds as a small registry: {"scripted": ..., "llm": ...}."""
from __future__ import annotations

from typing import Any, Callable

ENGINES: dict[str, Callable[..., Any]] = {}


def register_engine(kind: str, factory: Callable[..., Any]) -> None:
    """Register a factory `(analyser_for_language, llm_client, **options) -> engine`; refuses duplicates."""
    if kind in ENGINES:
        raise ValueError(f"customer engine {kind!r} is registered twice")
    ENGINES[kind] = factory


def get_engine_factory(kind: str) -> Callable[..., Any]:
    try:
        return ENGINES[kind]
    except KeyError:
        raise KeyError(f"unknown customer engine {kind!r}; known: {', '.join(sorted(ENGINES))}") from None


def make_engine(kind: str, analyser_for_language: Callable[[str], Any], llm_client: Any = None, **options: Any):
    """Build an engine by name. `analyser_for_language(lang)` returns an IntentModel or an analyse callable.

    `options` go to the engine (e.g. `scenarios=` lookup, `prompts=` for llm). Raises KeyError
    on an unknown kind and ValueError if the llm engine gets no client.
    """
    engine = get_engine_factory(kind)(analyser_for_language, llm_client, **options)
    from app.core.simulation.engine import CustomerEngine

    if not isinstance(engine, CustomerEngine):
        raise TypeError(f"customer engine {kind!r} does not offer the CustomerEngine interface")
    return engine


def _scripted(analyser_for_language, llm_client=None, **options):
    from app.core.simulation.scripted import ScriptedEngine

    return ScriptedEngine(analyser_for_language=analyser_for_language, scenarios=options.get("scenarios"),
                          understanding_llm=options.get("understanding_llm"))


def _llm(analyser_for_language, llm_client=None, **options):
    from app.core.simulation.llm_engine import LLMEngine
    from app.core.simulation.scripted import ScriptedEngine

    if llm_client is None:
        raise ValueError("the llm customer engine needs an llm_client (app.core.llm.LLMClient)")
    scripted = ScriptedEngine(analyser_for_language=analyser_for_language, scenarios=options.pop("scenarios", None),
                              understanding_llm=options.pop("understanding_llm", None))
    return LLMEngine(scripted, llm_client, **options)


register_engine("scripted", _scripted)
register_engine("llm", _llm)
