"""A tiny keyword analyser standing in for the intent model in engine unit tests.

It recognises the same act names as `app.core.acts` from obvious cue words, so tests of
the state machine do not depend on a trained classifier's accuracy.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

CUES = {
    "greeting": r"您好|你好|hello|good (morning|afternoon)",
    "self_id": r"工号\s*\d+|(staff|agent) (id|number)",
    "identity_request": r"(核实|验证)[^。]{0,6}身份|提供[^。]{0,10}(姓名|身份证|号码)|机主姓名|verify your identity",
    "restate": r"您的意思是|您是说|我理解您是|if I understand",
    "open_question": r"能(具体)?(跟我)?说说|怎么回事|什么情况|怎么用的|哪些情况|哪些场合|平时怎么",
    "closed_question": r"(吗|是不是|有没有|对吧)[？?]",
    "empathy": r"理解您|明白您|换成我|着急|心情|放心",
    "apology": r"抱歉|对不起|不好意思|sorry",
    "explanation": r"是因为|原因是|是这样的|这笔|费用是|是说",
    "solution_offer": r"帮您|为您|建议|推荐|给您(开|送|发)",
    "time_commitment": r"\d+\s*(个)?(小时|工作日|天)(之)?内|[二两三]十?[四]?\s*个?(小时|工作日)(之)?内",
    "confirm_result": r"已经(为您|给您|帮您)|办好了|处理好了|搞定了",
    "closing": r"还有(其他|别的|什么)|感谢您的来电|祝您|再见",
    "upsell": r"顺便|再加一个|升级到",
    "blame_customer": r"你自己|您自己|肯定是你|是你的问题|怪你",
    "rude": r"爱信不信|听不懂吗|烦不烦|自己去|没办法|我说了多少遍|刚才不是说了",
    "jargon": r"基站负荷|PRB|RSRP|APN|数据业务|弱覆盖|VoLTE|APP",
    "forbidden_word": r"喂|不知道|应该|好像|不可能|^什么[？?]",
}
_COMPILED = {act: re.compile(p, re.IGNORECASE) for act, p in CUES.items()}


def fake_analyse(text: str) -> SimpleNamespace:
    acts = frozenset(act for act, rx in _COMPILED.items() if rx.search(text))
    return SimpleNamespace(acts=acts)


def fake_analyser_for_language(language: str):
    return fake_analyse
