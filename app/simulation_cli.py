"""`flask drill`: play a drill against a simulated customer in the terminal.

The lead registers it in app/cli.py with one line, passing how to find scenarios and
the intent model, e.g.:

    app.cli.add_command(drill_command(scenario_lookup, analyser_for_language,
                                      llm_client_factory=..., scorer=...))

Everything is passed as callables and resolved when the command runs, so start-up
loads nothing.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Callable

import click

from app.core.simulation.play import play_lines
from app.core.simulation.registry import ENGINES, make_engine


def drill_command(scenario_lookup: Callable[[str, str], Any], analyser_for_language: Callable[[str], Any],
                  llm_client_factory: Callable[[], Any] | None = None,
                  scorer: Callable[[dict], dict] | None = None, name: str = "drill") -> click.Command:
    """Build the click command.

    scenario_lookup(id, language) -> Scenario (raise KeyError/LookupError if unknown);
    analyser_for_language(language) -> IntentModel or analyse callable;
    llm_client_factory() -> app.core.llm.LLMClient, or None when no LLM is configured;
    scorer(transcript dict in TRANSCRIPT.md format) -> score dict (flask score --json shape).
    """

    @click.command(name)
    @click.argument("scenario_id")
    @click.option("--persona", "persona_id", default=None, help="persona id (default: the scenario's first)")
    @click.option("--customer", "kind", type=click.Choice(sorted(ENGINES)), default="scripted", show_default=True)
    @click.option("--seed", type=int, default=None, help="same seed, same customer (default: random, printed)")
    @click.option("--agent-lines", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                  help="file with one agent turn per non-empty line; without it the drill is interactive")
    @click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of the conversation")
    @click.option("--language", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True)
    def drill(scenario_id, persona_id, kind, seed, agent_lines, as_json, language):
        """Play SCENARIO_ID against a simulated customer."""
        try:
            scenario = scenario_lookup(scenario_id, language)
        except LookupError as exc:
            raise click.UsageError(f"unknown scenario {scenario_id!r} ({language}): {exc}") from None
        persona_id = persona_id or scenario.personas[0].id
        if persona_id not in {p.id for p in scenario.personas}:
            known = ", ".join(p.id for p in scenario.personas)
            raise click.UsageError(f"scenario {scenario_id!r} has no persona {persona_id!r}; known: {known}")
        client = None
        if kind == "llm":
            client = llm_client_factory() if llm_client_factory else None
            if client is None:
                raise click.UsageError("--customer llm needs an LLM endpoint configured (see README: LLM settings)")
        engine = make_engine(kind, analyser_for_language, client)
        seed = seed if seed is not None else random.SystemRandom().randrange(1_000_000)
        show = None if as_json else _echo_turn
        if agent_lines is not None:
            lines = agent_lines.read_text(encoding="utf-8").splitlines()
        else:
            if as_json:
                raise click.UsageError("--json needs --agent-lines (interactive drills print as they go)")
            click.echo(f"{scenario.title} · {persona_id} · seed {seed}  (empty line or /quit ends)")
            lines = _interactive()
        result = play_lines(engine, scenario, persona_id, seed, lines, on_turn=show)
        result.pop("state")
        # HOOK(scorer): the scorer engineer's app.core.scoring plugs in through `scorer`.
        if scorer is not None:
            result["score"] = scorer({"format": "transcript/1", "scenario": scenario.id, "language": scenario.language,
                                      "persona": persona_id, "turns": result["turns"]})
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            click.echo(f"-- outcome: {result['outcome']}")

    return drill


def _echo_turn(speaker: str, text: str, meta: dict) -> None:
    if speaker == "customer":
        fallback = next((e["reason"] for e in meta.get("events", []) if e["type"] == "llm_fallback"), None)
        note = f"  [mood {meta['mood']} · {meta['state']}" + (f" · fallback {fallback}" if fallback else "") + "]"
        click.echo(f"客户: {text}{click.style(note, dim=True)}")


def _interactive():
    while True:
        line = click.prompt("客服", default="", show_default=False)
        if not line.strip() or line.strip() == "/quit":
            return
        yield line
