"""Simulated-customer engines for drills, built from the app config once per process.

The intent model behind both customers is loaded through `load_intent_model`, which
fits it only when its on-disk cache (keyed by the examples' hash) is missing, i.e. at
install or first use, and memoises it per process: requests only ever analyse.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Mapping

from flask import current_app

from app.core.simulation import ENGINES, make_engine
from app.core.simulation.schema import Scenario

CUSTOMER_KINDS = ("scripted", "llm")

_engines: dict[tuple, Any] = {}
_lock = threading.Lock()


def llm_configured(config: Mapping | None = None) -> bool:
    """True when an OpenAI-compatible server is configured (OPENAI_BASE_URL set)."""
    config = current_app.config if config is None else config
    return bool(config.get("OPENAI_BASE_URL"))


def available_kinds(config: Mapping | None = None) -> list[str]:
    """Customer kinds a trainee may pick now: scripted always, llm only when configured."""
    config = current_app.config if config is None else config
    return [k for k in CUSTOMER_KINDS if k in ENGINES and (k != "llm" or llm_configured(config))]


def analyser_factory(config: Mapping | None = None) -> Callable[[str], Any]:
    """`language -> IntentModel`, reading the acts data and model cache named by the config."""
    config = current_app.config if config is None else config
    acts_dir = str(Path(config["RUBRICS_DIR"]) / "acts")
    cache_dir = str(config["CACHE_DIR"])

    def for_language(language: str):
        from app.core.acts import load_intent_model

        # load_intent_model memoises per (language, acts dir, data hash) itself.
        return load_intent_model(language, acts_dir, cache_dir)

    return for_language


def turn_analyser(language: str, config: Mapping | None = None):
    """The intent model of `language` for drill turns. A turn is understood once
    (app.core.understanding) and that understanding serves the stored acts and the
    customer, so no per-utterance memo is needed."""
    return analyser_factory(config)(language)


def _llm_client(config: Mapping):
    from app.core.llm import LLMClient

    return LLMClient(
        base_url=config["OPENAI_BASE_URL"],
        api_key=config.get("OPENAI_API_KEY") or "not-needed",
        model=config["OPENAI_MODEL"],
        timeout=float(config.get("OPENAI_TIMEOUT") or 20),
    )


def understanding_llm(config: Mapping):
    """The LLM understanding of drill turns when LLM_UNDERSTANDING is on and a server is
    configured, else None (then no turn asks the model about its acts)."""
    if not (config.get("LLM_UNDERSTANDING") and llm_configured(config)):
        return None
    from app.core.llm import LLMClient
    from app.core.llm_understanding import (DEFAULT_ADDS, MODEL_ACTS, RULES, LLMUnderstanding,
                                            load_understanding_prompt)

    rule = config.get("LLM_UNDERSTANDING_RULE") or "add"
    if rule not in RULES:
        raise ValueError(f"LLM_UNDERSTANDING_RULE={rule!r} is not one of {', '.join(RULES)}")
    prompts_dir = Path(config["RUBRICS_DIR"]) / "understanding"
    prompts: dict = {}

    def prompt_for(language: str):
        if language not in prompts:
            prompts[language] = load_understanding_prompt(language, prompts_dir)
        return prompts[language]

    client = LLMClient(config["OPENAI_BASE_URL"], config.get("OPENAI_API_KEY") or "not-needed",
                       config["OPENAI_MODEL"], timeout=float(config.get("LLM_UNDERSTANDING_TIMEOUT") or 5))
    adds = DEFAULT_ADDS
    if config.get("LLM_UNDERSTANDING_ADDS") is not None:
        named = frozenset(a.strip() for a in config["LLM_UNDERSTANDING_ADDS"].split(",") if a.strip())
        unknown = named - set(MODEL_ACTS)
        if unknown:
            raise ValueError(f"LLM_UNDERSTANDING_ADDS names unknown acts: {', '.join(sorted(unknown))}")
        adds = {language: named for language in DEFAULT_ADDS}
    return LLMUnderstanding(client, prompt_for, rule=rule, adds=adds)


def _engine_key(kind: str, config: Mapping) -> tuple:
    key = (kind, config["RUBRICS_DIR"], str(config["CACHE_DIR"]))
    if config.get("LLM_UNDERSTANDING"):
        key += ("understanding", config.get("OPENAI_BASE_URL"), config.get("OPENAI_MODEL"),
                config.get("LLM_UNDERSTANDING_RULE"), config.get("LLM_UNDERSTANDING_TIMEOUT"),
                config.get("LLM_UNDERSTANDING_ADDS"))
    if kind == "llm":
        key += (config.get("OPENAI_BASE_URL"), config.get("OPENAI_MODEL"), config.get("OPENAI_TIMEOUT"),
                config["SCENARIOS_DIR"])
    return key


def engine_for(kind: str, config: Mapping | None = None):
    """The engine of this customer kind for the current config; built once, then shared.

    Raises KeyError for an unknown kind and LookupError for llm when no server is
    configured. Engines keep no per-drill state (it travels in the turns), so one
    instance safely serves every drill and thread.
    """
    config = current_app.config if config is None else config
    if kind not in available_kinds(config):
        if kind == "llm" and kind in ENGINES:
            raise LookupError("the llm customer is not configured (OPENAI_BASE_URL is not set)")
        raise KeyError(f"unknown customer kind {kind!r}")
    key = _engine_key(kind, config)
    engine = _engines.get(key)
    if engine is None:
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                engine = _build(kind, config)
                _engines[key] = engine
    return engine


def _build(kind: str, config: Mapping):
    config = dict(config)  # the engine outlives the app context it was built in

    def analysers(language: str):
        return turn_analyser(language, config)

    extra = {"understanding_llm": understanding_llm(config)}
    if kind == "llm":
        return make_engine(kind, analysers, llm_client=_llm_client(config),
                           prompts_dir=Path(config["SCENARIOS_DIR"]) / "prompts", **extra)
    return make_engine(kind, analysers, **extra)


def forget_engines() -> None:
    """Drop the built engines (tests that change the engine config)."""
    with _lock:
        _engines.clear()


_scenarios: dict[tuple[str, str, str], Scenario] = {}


def scenario_of_version(version) -> Scenario:
    """The typed scenario stored in a ScenarioVersion row (parsed once per content hash).

    A drill always plays the exact version it started with, even after the file changed.
    """
    key = (version.scenario_id, version.language, version.content_hash)
    scenario = _scenarios.get(key)
    if scenario is None:
        scenario = Scenario.model_validate(version.data)
        _scenarios[key] = scenario
    return scenario
