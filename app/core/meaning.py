"""Scenario items credited by meaning: a `MeaningSpec` (action, object, amounts, data
volumes, words) matched against one turn's `Understanding`, and the check that a regex
hit sits inside a negated clause (the escape hatch's counterpart).

Split from app/core/understanding.py, which builds the understanding these read.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from app.core import numbers
from app.core.understanding import (
    TOPIC_KEPT, Clause, Understanding, _EN_MONEY_REF, _ZH_MONEY_REF, _negated_after, _negated_before, objects_in,
)


def _has_amount(values: Iterable[float], wanted: float) -> bool:
    return any(abs(v - wanted) < 1e-6 for v in values)


def _refers_to_money(text: str, language: str) -> bool:
    return bool((_ZH_MONEY_REF if language == "zh-CN" else _EN_MONEY_REF).search(text))


def _value_negated(clause: str, value_text_end: int, language: str) -> bool:
    return _negated_after(clause, value_text_end, language)


def meaning_matches(spec: Any, u: Understanding) -> tuple[int, int] | None:
    """The span of the clause that does what `spec` (a `matching.MeaningSpec`) describes,
    or None. Never credited: a keyword list, a negated action, a refused amount."""
    if u.token_list:
        return None
    lang = u.language
    for ci, c in enumerate(u.clauses):
        if clause_refuses(c.text, lang):
            continue  # "24小时也恢复不了" rules out what it names
        scope_text = u.text if spec.scope == "turn" else c.text
        if spec.action:
            acts = [a for a in u.actions if a.clause == ci and spec.action in a.kinds and not a.negated]
            if not acts:
                continue
            if spec.object and not any(
                    spec.object in a.objects or (not a.objects and spec.object in a.implied[:TOPIC_KEPT])
                    for a in acts):
                continue
        elif spec.object and spec.object not in (objects_in(scope_text, u.context.objects) if spec.scope == "turn"
                                                 else c.objects):
            continue
        if spec.amounts:
            stated = numbers.amounts(scope_text)
            if not all(_has_amount(stated, v) for v in spec.amounts):
                referred = _refers_to_money(c.text, lang) and spec.action
                if not (referred and all(_has_amount(u.context.amounts[:2], v) or _has_amount(stated, v)
                                         for v in spec.amounts)):
                    continue
            if spec.action and _amount_refused(c.text, lang):
                continue
        if spec.data_gb:
            stated = numbers.data_volumes_gb(scope_text)
            if not all(_has_amount(stated, v) for v in spec.data_gb):
                continue
        within = u.clauses if spec.scope == "turn" else (c,)
        if spec.words and not any(_word_said(w, within, lang) for w in spec.words):
            continue
        if spec.all_words and not all(_word_said(w, within, lang) for w in spec.all_words):
            continue
        if not spec.action and c.negated and spec.scope == "clause":
            continue
        return (c.start, c.end)
    return None


def _word_said(word: str, clauses: Iterable[Clause], language: str) -> bool:
    """`word` occurs in one of `clauses` without a negator right before it in its clause:
    "5个G够用" says 够, "5个G不够用" and "您别往右拖" do not (as with a regex hit)."""
    w = word.lower()
    for c in clauses:
        low = c.text.lower()
        i = low.find(w)
        while i >= 0:
            if not _negated_before(c.text, i, language):
                return True
            i = low.find(w, i + 1)
    return False


def _amount_refused(clause: str, language: str) -> bool:
    # "15元不能退", "这笔不退" carry the negation after the money, before the verb.
    if language == "zh-CN":
        return bool(re.search(r"(?:元|块|钱|笔)[^，。]{0,3}(?:不能|不会|不予|没法|无法|不)(?:给您|帮您)?(?:退|返)", clause))
    return bool(re.search(r"\b(?:not|non)[- ]refundable\b|can(?:no|')t be refunded", clause, re.IGNORECASE))


_NEGATOR = r"不|没|别|无|not|n't|never|no\b"


def span_in_negated_clause(u: Understanding | None, span: tuple[int, int] | None, pattern: str = "") -> bool:
    """True when a regex hit at `span` sits in a clause that negates an action, so a
    pattern written for "退订彩铃" does not credit "我不会给您退订彩铃". Patterns that spell a
    negation themselves are left alone, unless what they matched sits in a clause that
    refuses something else as well: "合约影不影响我不跟您说" states nothing."""
    if u is None or span is None:
        return False
    c = u.clause_of(span[0])
    if c is None:
        return False
    if re.search(_NEGATOR, pattern):
        if not re.search(_NEGATOR, u.text[span[0]:span[1]]):
            return False
        rest = c.text[:max(0, span[0] - c.start)] + "，" + c.text[max(0, span[1] - c.start):]
        return clause_refuses(rest, u.language)
    i = span[0] - c.start
    return _negated_before(c.text, i + 1, u.language) or (
        _negated_before(c.text, min(len(c.text), span[1] - c.start), u.language) and c.negated) or (
        clause_refuses(c.text, u.language))


_ZH_REFUSAL = re.compile(r"[\u4e00-\u9fff]不了|不能|无法|没法|不给|不予|没用|做不到|办不到|不行[。！，,]?$|"
                         r"我(?:们)?(?:也|就|可)?不(?:会|能|想)?(?:跟您|和您|给您|帮您|为您|替您)?"
                         r"(?:帮|办|退|安排|提交|处理|管|说|讲|告诉|解释|申请|设|弄|开通|取消|升级|负责|确认|教|登记|建议|推荐)|"
                         r"(?:不会|不)(?:给您|帮您|为您)|"
                         # telling the caller not to take the step: "##21#您也别拨", "营业厅您也别去"
                         r"(?:[您你](?:也|就|可|千万)?|也|就)(?:别|不要)(?!着急|急|担心|害怕|慌|客气|生气|介意|误会|紧张|挂|忘)|"
                         # ... or that the step is not needed: "指示灯也不用看", "5G频段也不用连"
                         r"(?:也|就|都)不用(?!担心|着急|急|怕|客气|紧张)")
_EN_REFUSAL = re.compile(r"\b(?:can't|cannot|won't|will not|unable to|not able to|refuse|no way|nothing)\b", re.IGNORECASE)


def clause_refuses(clause: str, language: str) -> bool:
    """The clause refuses or rules out what it names, wherever the negator sits:
    "24小时也恢复不了", "带身份证去营业厅也没用", "二次实名核验我不给您安排", "I can't
    refund that within 3 days". Credit for a step or a fact never comes from such a clause."""
    if language == "zh-CN":
        asked = _A_NOT_A.sub(lambda m: m.group(1) + "或" + m.group(1), clause)  # 能不能 asks
        return any(not _NOT_REFUSAL_BEFORE.search(asked[:m.start()]) for m in _ZH_REFUSAL.finditer(asked))
    return bool(_EN_REFUSAL.search(clause))


_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
# "您放心，不会让您多花钱" / "这个不用担心": a reassurance, not a refusal of the step.
_NOT_REFUSAL_BEFORE = re.compile(r"(?:放心|别担心|不用担心)[^，。]*$")
