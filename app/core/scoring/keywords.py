"""A transparent regex-only speech-act analyser with the `IntentModel.analyse` shape.

Used by unit tests (a fixed, inspectable stand-in for the trained model) and as a
baseline to compare the intent model against. It is deliberately plain: one regex per
act, Chinese hotline phrasing first, a little English.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ACT_PATTERNS: dict[str, str] = {
    "greeting": r"您好|你好|早上好|下午好|hello|good (morning|afternoon|evening)",
    "self_id": r"工号\s*\d+|我是[^，。]{0,6}客服|staff (id|number)",
    "identity_request": r"(核实|核对|验证)[^。]{0,8}(身份|信息)|身份证[^。]{0,4}(后四位|号码)|机主姓名|verify your identity",
    "restate": r"您的意思是|您是说|我(跟您)?确认一下|我理解(您|的)?是|也就是说您|so what you mean",
    "open_question": r"(什么|怎么|哪|多久|如何)[^。！]{0,12}[？?]|(能|可以)(具体)?(说|讲)一下",
    "closed_question": r"(是不是|是否|有没有|对吗|对不对|好吗|可以吗)[？?]",
    "empathy": r"理解您|明白您的|让您(着急|担心|费心|久等|生气)|I understand",
    "apology": r"抱歉|对不起|不好意思|sorry",
    "explanation": r"因为|原因是|是由于|主要是|because",
    "solution_offer": r"(帮|为|给)您(办理|退订|申请|登记|提交|开通|安排|推荐)|建议您|可以为您",
    "time_commitment": r"\d+\s*个?(小时|工作日|天)(之|以)?内|(二十四|四十八|三)\s*个?(小时|工作日)内|within \d+",
    "confirm_result": r"(解决|清楚|明白|弄好|设置好|办好)了(吗|没有)|还有(什么|别的|其他)[^。]{0,8}(问题|需要)|anything else",
    "closing": r"感谢您的(来电|耐心|理解)|祝您|再见|thank you for calling|goodbye",
    "upsell": r"(顺便|另外)[^。]{0,6}推荐|升级到",
    "blame_customer": r"(您|你)自己(订|点|回复|用|没|不)|肯定是(您|你)|谁让(您|你)|不是我们的问题",
    "rude": r"你有病|神经病|爱办不办|烦不烦|笨|蠢|白痴|stupid",
    "jargon": r"负荷|VoLTE|APN|RRC|RSRP|扇区|鉴权|弱覆盖|出账",
    "forbidden_word": r"喂|不知道|应该|好像|不可能|(^|[，。！？\s])什么[？?]",
}
FORBIDDEN_WORDS = ("喂", "不知道", "应该", "好像", "不可能")
_COMPILED = {act: re.compile(p, re.IGNORECASE) for act, p in ACT_PATTERNS.items()}


@dataclass(frozen=True)
class KeywordAnalysis:
    acts: frozenset[str]
    forbidden: tuple[str, ...]


def keyword_analyse(text: str) -> KeywordAnalysis:
    """Acts whose regex matches `text`, and the forbidden words it contains (in list order)."""
    acts = frozenset(act for act, rx in _COMPILED.items() if rx.search(text))
    forbidden = tuple(w for w in FORBIDDEN_WORDS if w in text)
    return KeywordAnalysis(acts, forbidden)
