"""The LLM customer: the scripted state machine decides, the LLM only phrases.

Every reply passes the guardrails; a timeout, HTTP error, malformed or empty output or
a failed guardrail falls back to the scripted line and records an `llm_fallback` event
with the reason. Each turn records an `llm` event with model, temperature, seed,
latency and token counts. The drill never fails because of the LLM.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping

from app.core.llm import LLMResult
from app.core.simulation.engine import Reply, final_reply
from app.core.simulation.guardrails import ReplyContext, check_reply, clean_reply
from app.core.simulation.prompts import CustomerPrompt, load_prompt
from app.core.simulation.schema import Scenario
from app.core.simulation.scripted import Decision, ScriptedEngine
from app.core.simulation.state import dump_state
from app.core.understanding import Understanding

# The name this engine's final item had before every engine shared `Reply`.
TurnResult = Reply


class LLMEngine:
    kind = "llm"

    def __init__(self, scripted: ScriptedEngine, client, prompts: Mapping[str, CustomerPrompt] | None = None,
                 prompts_dir: Path | str = Path("scenarios/prompts"), temperature: float | None = None):
        self.scripted, self.client = scripted, client
        self._prompts = dict(prompts or {})
        self._prompts_dir = prompts_dir
        self.temperature = temperature

    # -- same interface as ScriptedEngine -----------------------------------------
    def start(self, scenario: Scenario, persona_id: str, seed: int) -> tuple[str, dict]:
        text, state, _ = self.start_turn(scenario, persona_id, seed)
        return text, state

    def start_turn(self, scenario: Scenario, persona_id: str, seed: int) -> tuple[str, dict, list[dict]]:
        d = self.scripted.decide_start(scenario, persona_id, seed)
        d.state.engine = self.kind
        if not d.text:  # an outbound call: the agent speaks first, there is nothing to rephrase
            return "", dump_state(d.state), d.events
        r = self._finish(d, scenario, self._call(d, scenario))
        return r.text, r.state, r.events

    def understand(self, text: str, state: dict, scenario: Scenario | None = None) -> Understanding:
        return self.scripted.understand(text, state, scenario)

    def next_turn(self, agent_text: str, state: dict, scenario: Scenario | None = None,
                  understanding: Understanding | None = None) -> tuple[str, dict, list[dict]]:
        r = final_reply(self.reply_stream(agent_text, state, scenario, understanding))
        return r.text, r.state, r.events

    def stream_turn(self, agent_text: str, state: dict, scenario: Scenario | None = None,
                    understanding: Understanding | None = None) -> Iterator[str | Reply]:
        return self.reply_stream(agent_text, state, scenario, understanding)

    def reply_stream(self, agent_text: str, state: dict, scenario: Scenario | None = None,
                     understanding: Understanding | None = None) -> Iterator[str | Reply]:
        """Yield text chunks as the model writes, then one Reply (check `replaced`)."""
        d = self.scripted.decide(agent_text, state, scenario, understanding)
        sc = scenario or self.scripted.scenario_for(d.state.scenario, d.state.language)
        result = None
        prompt = self.prompt(sc.language)
        for item in self.client.stream("customer", self._messages(d, sc, prompt), temperature=self._temp(prompt),
                                       seed=self._seed(d), max_tokens=prompt.max_tokens, stop=prompt.stop or None):
            if isinstance(item, LLMResult):
                result = item
            else:
                yield item
        yield self._finish(d, sc, result, streamed=True)

    # -- internals --------------------------------------------------------------
    def prompt(self, language: str) -> CustomerPrompt:
        if language not in self._prompts:
            self._prompts[language] = load_prompt(language, self._prompts_dir)
        return self._prompts[language]

    def _temp(self, prompt: CustomerPrompt) -> float:
        return prompt.temperature if self.temperature is None else self.temperature

    @staticmethod
    def _seed(d: Decision) -> int:
        # Same drill seed and turn, same request: lets servers that honour seeds replay a drill.
        return d.state.seed * 1000 + d.state.turn

    def _messages(self, d: Decision, sc: Scenario, prompt: CustomerPrompt) -> list[dict]:
        persona = sc.persona(d.state.persona)
        history = d.state.history[:-1][-prompt.history_turns:] if prompt.history_turns else []
        lines = [f"{prompt.speaker_labels[t['speaker']]}：{t['text']}" for t in history]
        values = {
            "scenario_title": sc.title, "customer_name": sc.customer.name, "customer_age": sc.customer.age,
            "customer_profile": sc.customer.profile, "customer_goal": sc.customer.goal,
            "persona_label": persona.label, "persona_description": persona.description,
            "mood_word": prompt.mood_word(d.state.mood), "history": "\n".join(lines) or "-", "line": d.text,
        }
        messages = [{"role": "system", "content": prompt.system.format(**values)}]
        for ex in prompt.examples:  # few-shot: the same request, answered well
            shown = f"{prompt.speaker_labels['agent']}：{ex.agent}" if ex.agent else "-"
            messages += [{"role": "user", "content": prompt.user.format(**{**values, "history": shown, "line": ex.line})},
                         {"role": "assistant", "content": ex.reply}]
        return messages + [{"role": "user", "content": prompt.user.format(**values)}]

    def _call(self, d: Decision, sc: Scenario) -> LLMResult:
        prompt = self.prompt(sc.language)
        return self.client.chat("customer", self._messages(d, sc, prompt), temperature=self._temp(prompt),
                                seed=self._seed(d), max_tokens=prompt.max_tokens, stop=prompt.stop or None)

    def _finish(self, d: Decision, sc: Scenario, result: LLMResult | None, streamed: bool = False) -> TurnResult:
        events = list(d.events)
        reason, text = None, d.text
        if result is None:
            reason = "malformed"
        elif result.error:
            reason = result.error_kind or "http_error"
        elif result.finish_reason == "length":  # cut off mid-sentence by max_tokens
            reason = "length"
        else:
            agent = next((t["text"] for t in reversed(d.state.history) if t["speaker"] == "agent"), "")
            ctx = ReplyContext(sc, d.state, d.text, agent, self.prompt(sc.language))
            candidate = clean_reply(result.text, ctx)
            reason = check_reply(candidate, ctx)
            if reason is None:
                text = candidate
        meta = {"type": "llm", **(result.meta() if result else {}), "used": "scripted" if reason else "llm"}
        events.append(meta)
        if reason:
            events.append({"type": "llm_fallback", "reason": reason,
                           "detail": (result.error if result and result.error else (result.text[:200] if result else ""))})
        d.state.history[-1] = {"speaker": "customer", "text": text}
        replaced = streamed and (reason is not None or result is None or text != result.text)
        return TurnResult(text, dump_state(d.state), events, replaced, reason)
