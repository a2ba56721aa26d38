"""Feedback and red-line wording per language (zh-CN, en), kept as data.

Criterion titles, tips and model phrasings live in the rubric files; these are the
sentence frames the criterion kinds fill in. `msg()` fails loudly on a missing key so a
new kind cannot ship with half its wording.
"""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "sep": "、",
        "turns": "第{turns}轮",
        "present.ok": "{title}：做到了（{where}）。",
        "present.partial": "{title}：只做到 {count}/{need} 次（{where}）。",
        "present.required_share": "但本案必须办的 {total} 件事只办了 {done} 件：问题没有解决，确认也就只按办到的比例计分。",
        "present.missing": "{title}：{window}没有做到。",
        "window.first_agent_turns": "开场前{n}句话中",
        "window.last_agent_turns": "结束前最后{n}句话中",
        "window.before": "在{event}之前",
        "window.after": "在{event}之后",
        "window.anywhere": "整通电话中",
        "event.verification": "身份核实",
        "event.first_account_fact": "说出账户信息",
        "event.first_change": "办理业务",
        "event.first_gated": "说出账户信息或办理业务",
        "absent.ok": "{title}：没有出现，满分。",
        "absent.hit": "{title}：出现 {count} 次（{where}），扣 {lost} 分。",
        "order.ok": "先核实身份（{where}）再涉及账户信息或办理业务。",
        "order.ok_nogate": "已核实身份（{where}），通话中没有涉及账户信息。",
        "order.bad": "{where}在身份核实完成之前说出了账户信息或办理了业务。",
        "order.unverified": "没有按要求核实身份（至少{n}项，并等客户回答）。",
        "kp.ok": "讲对了：{text}",
        "kp.missing": "没有讲到：{text}",
        "kp.wrong": "讲错了（{where}）：{reason}；扣 {lost} 分。",
        "res.ok": "已完成：{text}",
        "res.missing": "没有做到：{text}",
        "end.ok": "通话以理想状态结束（{state}）。",
        "end.bad": "通话结束时状态不理想（{state}）。",
        "end.na": "记录里没有通话结束状态：本项不适用，分值按比例分给本维度其他项。",
        "mood.up": "客户情绪由“{first}”变为“{last}”，安抚有效。",
        "mood.flat": "客户情绪没有明显改善（{first}→{last}）。",
        "mood.down": "客户情绪变差（{first}→{last}）。",
        "mood.na": "无法判断客户情绪：本项不适用，分值按比例分给本维度其他项。",
        "share.ok": "{title}：{total} 轮中有 {done} 轮做到，满分。",
        "share.partial": "{title}：{total} 轮中只有 {done} 轮做到（要达到 {need}%）；没做到的是{where}。",
        "present.missing_share": "{title}：坐席没有说话。",
        "resolution.refused": "{where}拒绝办理本案必须办的事，之后也没有办：问题没有解决，本项不计分。",
        "refusal.capped": "{where}拒绝了客户的核心诉求，之后也没有办：措辞再客气，本维度最多得 {share}% 的分。",
        "credit.red_line": "{where}触犯红线，这些轮次里的表现不计分（本项得分按其余轮次计）。",
        "absent.scaled": "没有出现该问题，但这类“不犯错”的分只按通话中其他要求做到的程度给（做到 {share}%，得本项的 {factor}%）。",
        "na.applies_when": "{title}：这通电话不需要（评分表规定的适用条件不成立），本项不适用，分值按比例分给本维度其他项。",
        "attitude.zero": "对客户有轻蔑、讽刺或辱骂（{where}）：按评分表，服务态度记 0 分。",
        "flag.disclosed_before_verification": "在身份核实完成之前说出了账户信息或办理了业务",
        "flag.impossible_promise": "作出了按案情无法兑现的承诺：{reason}",
        "flag.personal_data_read_back": "向来电者念出了系统登记的个人信息（{what}）",
        "flag.insulted_customer": "对客户使用了侮辱性或攻击性言语",
        "tip.model": "{tip} 示范：“{model}”",
        # The simulator's end states and mood levels in words (the report never shows a code).
        "state.resolved": "问题已解决",
        "state.escalated": "转交上级处理",
        "state.hung_up": "客户挂断",
        "state.other": "通话没有走到结束",
        "mood.0": "平静",
        "mood.1": "比较平和",
        "mood.2": "有些不满",
        "mood.3": "生气",
        "mood.4": "非常激动",
    },
    "en": {
        "sep": ", ",
        "turns": "turn {turns}",
        "present.ok": "{title}: done ({where}).",
        "present.partial": "{title}: only {count} of {need} ({where}).",
        "present.required_share": "But only {done} of the {total} things the case requires were done: a result not delivered cannot be confirmed, so this earns in that proportion.",
        "present.missing": "{title}: not done {window}.",
        "window.first_agent_turns": "in the first {n} agent turn(s)",
        "window.last_agent_turns": "in the last {n} agent turn(s)",
        "window.before": "before {event}",
        "window.after": "after {event}",
        "window.anywhere": "anywhere in the call",
        "event.verification": "identity verification",
        "event.first_account_fact": "stating account facts",
        "event.first_change": "making a change",
        "event.first_gated": "stating account facts or making a change",
        "absent.ok": "{title}: none, full points.",
        "absent.hit": "{title}: {count} occurrence(s) ({where}), minus {lost}.",
        "order.ok": "Identity verified ({where}) before any account fact or change.",
        "order.ok_nogate": "Identity verified ({where}); no account facts were needed.",
        "order.bad": "{where}: account facts stated or a change made before identity verification was complete.",
        "order.unverified": "Identity not verified as required (at least {n} items, answered by the caller).",
        "kp.ok": "Correct: {text}",
        "kp.missing": "Not covered: {text}",
        "kp.wrong": "Wrong ({where}): {reason}; minus {lost}.",
        "res.ok": "Done: {text}",
        "res.missing": "Not done: {text}",
        "end.ok": "The call ended in a good state ({state}).",
        "end.bad": "The call ended in a poor state ({state}).",
        "end.na": "No end state recorded: not applicable, its points go to the rest of the dimension.",
        "mood.up": "Customer mood went from '{first}' to '{last}': the calming worked.",
        "mood.flat": "Customer mood did not improve ({first} -> {last}).",
        "mood.down": "Customer mood got worse ({first} -> {last}).",
        "mood.na": "Customer mood cannot be judged: not applicable, its points go to the rest of the dimension.",
        "share.ok": "{title}: shown in {done} of {total} turns, full points.",
        "share.partial": "{title}: shown in only {done} of {total} turns ({need}% needed); missing in {where}.",
        "present.missing_share": "{title}: the agent said nothing.",
        "resolution.refused": "{where} refused what the case requires and never did it afterwards: the problem is not resolved, so this item earns nothing.",
        "refusal.capped": "{where} refused what the customer needed and never did it afterwards: however courteous the wording, this dimension earns at most {share}% of its points.",
        "credit.red_line": "{where} crossed a red line: nothing said in those turns earns credit here (the score counts the other turns only).",
        "absent.scaled": "No such slip, but credit for avoiding slips follows how much of the rest of the call was done ({share}% done, {factor}% of this item).",
        "na.applies_when": "{title}: not called for in this call (the rubric's condition does not hold): not applicable, its points go to the rest of the dimension.",
        "attitude.zero": "Contempt, sarcasm or abuse toward the customer ({where}): the rubric sets service attitude to 0.",
        "flag.disclosed_before_verification": "account facts stated or a change made before identity verification was complete",
        "flag.impossible_promise": "a promise the case facts say cannot be kept: {reason}",
        "flag.personal_data_read_back": "stored personal data read back to the caller ({what})",
        "flag.insulted_customer": "insulting or abusive words to the customer",
        "tip.model": "{tip} Try: \"{model}\"",
        "state.resolved": "problem solved",
        "state.escalated": "handed to a supervisor",
        "state.hung_up": "the customer hung up",
        "state.other": "the call did not reach an ending",
        "mood.0": "calm",
        "mood.1": "fairly calm",
        "mood.2": "somewhat annoyed",
        "mood.3": "angry",
        "mood.4": "furious",
    },
}


def msg(lang: str, key: str, **values: object) -> str:
    return MESSAGES[lang][key].format(**values)


def state_words(lang: str, state: str) -> str:
    """A simulator end state in words: the three outcomes by name, any other state (the
    call stopped mid-way, e.g. "settling") as not having reached an ending."""
    key = f"state.{state}"
    return MESSAGES[lang][key] if key in MESSAGES[lang] else MESSAGES[lang]["state.other"]


def mood_words(lang: str, contentment: float) -> str:
    """A mood in [-1, 1] (1 = content) in words, five levels from calm to furious."""
    level = min(4, max(0, int((1.0 - contentment) / 2 * 5)))
    return MESSAGES[lang][f"mood.{level}"]


def where(lang: str, turns: list[int]) -> str:
    """'第3、5轮' / 'turn 3, 5' for evidence turns."""
    return msg(lang, "turns", turns=MESSAGES[lang]["sep"].join(str(t) for t in sorted(set(turns))))
