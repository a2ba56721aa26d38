"""Numbers, money, data volumes, phone numbers and IDs pulled out of agent utterances.

Plain regular expressions plus a small Chinese-numeral converter. Every extractor
takes a string and returns a tuple in order of appearance, so callers can store the
result as-is and tests can compare it literally.
"""
from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
ZH_NUM = "零〇一幺二两三四五六七八九十百千万亿"
_NUM = rf"(?:\d+(?:\.\d+)?|[{ZH_NUM}]+(?:点[{ZH_NUM}]+)?)"


def _section(text: str) -> int:
    """Value of a numeral below 万, e.g. 三百五 -> 350, 一百零八 -> 108, 十五 -> 15."""
    total, digit, last_unit, zero_seen = 0, None, 1, False
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
            zero_seen = zero_seen or digit == 0
        elif ch in _UNITS:
            unit = _UNITS[ch]
            total += (1 if digit is None else digit) * unit
            digit, last_unit, zero_seen = None, unit, False
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    if digit is not None:
        # Colloquial "三百五" means 350: a trailing digit right after a unit (no 零
        # in between) counts in the next lower unit.
        total += digit * (last_unit // 10 if last_unit > 1 and not zero_seen else 1)
    return total


def chinese_to_number(text: str) -> float:
    """Convert a Chinese numeral to a number.

    Handles units (十五 = 15, 一百零八 = 108, 两万五 = 25000), digit strings
    (三七二一 = 3721) and decimals with 点 (九点九 = 9.9). Raises ValueError on
    anything else.
    """
    if not text:
        raise ValueError("empty numeral")
    if "点" in text:
        whole, frac = text.split("点", 1)
        digits = "".join(str(_DIGITS[c]) for c in frac if c in _DIGITS)
        if len(digits) != len(frac):
            raise ValueError(f"not a Chinese numeral: {text!r}")
        return chinese_to_number(whole or "零") + float("0." + digits)
    if not any(c in _UNITS or c in _BIG for c in text):
        if any(c not in _DIGITS for c in text):
            raise ValueError(f"not a Chinese numeral: {text!r}")
        return float(int("".join(str(_DIGITS[c]) for c in text)))
    total, rest = 0, text
    for big_char, big in sorted(_BIG.items(), key=lambda kv: -kv[1]):
        if big_char in rest:
            head, rest = rest.split(big_char, 1)
            total += (_section(head) if head else 1) * big
            if rest and rest[0] in _DIGITS and len(rest) == 1:
                # 两万五 = 25000: a lone trailing digit is thousands.
                return float(total + _DIGITS[rest] * big // 10)
    return float(total + (_section(rest) if rest else 0))


def to_number(token: str) -> float:
    """Arabic or Chinese numeral to float; raises ValueError when it is neither."""
    token = token.replace(",", "")
    try:
        return float(token)
    except ValueError:
        return chinese_to_number(token)


def _num(x: float) -> float:
    return round(x, 2)


_AMOUNT = re.compile(
    rf"[¥￥]\s*(?P<a>\d+(?:,\d{{3}})*(?:\.\d+)?)"
    rf"|(?:RMB|CNY)\s*(?P<b>\d+(?:\.\d+)?)"
    rf"|(?P<c>{_NUM})\s*(?:元|块钱|块|(?:yuan|RMB|CNY)\b)",
    re.IGNORECASE,
)


def amounts(text: str) -> tuple[float, ...]:
    """Money in yuan: 15元, 十五元, 108块, ¥35, 35 yuan, RMB 20."""
    out = []
    for m in _AMOUNT.finditer(text):
        token = m.group("a") or m.group("b") or m.group("c")
        try:
            out.append(_num(to_number(token)))
        except ValueError:
            continue
    return tuple(out)


# "5G" on its own names the network generation, not a data volume; the same holds for
# 2G/3G/4G and the 2.4G/5G Wi-Fi bands. A bare G counts only when 流量/data follows.
_GB = re.compile(
    rf"(?P<n>{_NUM})\s*(?:个\s*)?(?P<u>GB|G|MB|M|兆)(?![A-Za-z])"
    r"(?P<after>\s*的?\s*(?:通用|定向|国内|全国|省内)?\s*流量|\s*of\s+(?:mobile\s+)?data|\s+(?:mobile\s+)?data)?",
    re.IGNORECASE,
)
_GENERATIONS = {2.0, 2.4, 3.0, 4.0, 5.0, 6.0}


def data_volumes_gb(text: str) -> tuple[float, ...]:
    """Data volumes in GB: 30G, 30GB, 30 GB, 五个G, 500MB -> 0.5.

    "5G套餐", "4G信号", "2.4G Wi-Fi" are network names and are skipped; "100M宽带"
    (bandwidth) is skipped because M/兆 counts only with MB or a following 流量.
    """
    out = []
    for m in _GB.finditer(text):
        unit, after = m.group("u").upper(), (m.group("after") or "").strip()
        try:
            n = to_number(m.group("n"))
        except ValueError:
            continue
        if unit == "G" and n in _GENERATIONS and not after and "个" not in m.group(0):
            continue
        if unit in ("M", "兆") and not after:
            continue
        out.append(_num(n / 1000 if unit in ("MB", "M", "兆") else n))
    return tuple(out)


_PHONE = re.compile(r"(?<![\d])(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![\d])")


def phones(text: str) -> tuple[str, ...]:
    """11-digit mainland mobile numbers, spaces and dashes removed."""
    return tuple("".join(m.groups()) for m in _PHONE.finditer(text))


_ID_TAIL = re.compile(
    r"(?:身份证|证件|后四位|后4位|last\s+(?:four|4)(?:\s+digits)?|ID\s+card)"
    r"[^\d\n]{0,12}?(?<![\d])(\d{3}[\dXx])(?![\dA-Za-z])",
    re.IGNORECASE,
)


def id_fragments(text: str) -> tuple[str, ...]:
    """Four-character ID-card tails mentioned with 身份证/证件/后四位/"last four"."""
    return tuple(m.group(1).upper() for m in _ID_TAIL.finditer(text))


_ZH_DIGITS = "零〇一幺二三四五六七八九"
_STAFF = re.compile(
    rf"工号[^\d{_ZH_DIGITS}。！？!?\n]{{0,4}}?(?P<zh>[{_ZH_DIGITS}]{{3,8}}|\d{{3,8}})(?!\d)"
    r"|(?:staff|agent|employee|operator|badge)\s+(?:ID|number|no\.?|#)?\s*(?:is\s+|[:,]\s*)?#?(?P<en>\d{3,8})\b",
    re.IGNORECASE,
)


def staff_ids(text: str) -> tuple[str, ...]:
    """Staff numbers given after 工号 (digits or 三七二一-style) or "staff ID"/"agent number"."""
    out = []
    for m in _STAFF.finditer(text):
        token = m.group("zh") or m.group("en")
        if token.isdigit():
            out.append(token)
        else:
            out.append("".join(str(_DIGITS[c]) for c in token))
    return tuple(out)


_ZH_DURATION = rf"(?:{_NUM}|半|几)\s*个?\s*(?:半\s*)?(?:分钟|小时|钟头|工作日|天|日|周|星期)"
_ZH_CLOCK = (
    rf"(?:今天|明天|后天|今晚|明早|明晚|本周[一二三四五六日]?|下周[一二三四五六日])"
    rf"(?:\s*(?:上午|中午|下午|晚上|早上|傍晚|下班前|下班之前))?"
    rf"(?:\s*{_NUM}\s*(?:点|:\d\d)(?:半|{_NUM}分)?)?(?:\s*(?:前|之前|以前))?"
)
_EN_DURATION = (
    r"\b(?:\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|ten|twelve|twenty[- ]four|"
    r"forty[- ]eight|seventy[- ]two|half\s+an?)\s*(?:-\s*)?(?:business\s+|working\s+)?"
    r"(?:minutes?|mins?|hours?|hrs?|days?|weeks?)\b"
)
_EN_CLOCK = (
    r"\b(?:(?:by|before)\s+)?(?:tomorrow|today|tonight|this\s+(?:afternoon|evening))"
    r"(?:\s+(?:morning|afternoon|evening|noon|night))?"
    r"(?:\s+between\s+\d{1,2}(?::\d\d)?\s*(?:am|pm)?\s+and\s+\d{1,2}(?::\d\d)?\s*(?:am|pm)?)?"
    r"(?:\s+(?:by|before|at)\s+\d{1,2}(?::\d\d)?\s*(?:a\.?m\.?|p\.?m\.?)?)?"
    r"|\b(?:by|before|at)\s+\d{1,2}(?::\d\d)?\s*(?:a\.?m\.?|p\.?m\.?|o'clock)"
    r"|\b(?:by|before)\s+(?:noon|midday|(?:the\s+)?end\s+of\s+(?:the\s+)?day|close\s+of\s+business)"
    # A weekday pins a time down only with a part of the day ("Thursday morning").
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+(?:morning|afternoon|evening)"
    r"|\bwithin\s+the\s+hour\b"
)
# A day of next month pins a time down as well: "下个月1号生效", "次月1日起".
_ZH_NEXT_MONTH = rf"(?:下个?月|次月)\s*{_NUM}\s*[日号]"
NEXT_MONTH_DAY = re.compile(_ZH_NEXT_MONTH)
_TIME = re.compile(rf"{_ZH_DURATION}|{_ZH_CLOCK}|{_ZH_NEXT_MONTH}|{_EN_DURATION}|{_EN_CLOCK}", re.IGNORECASE)


def time_expressions(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, text) of every duration or clock time: 24小时, 3个工作日, 明天上午, 2 hours."""
    out = []
    for m in _TIME.finditer(text):
        s = m.group(0).strip()
        # 今天/明天 alone ("您明天再来") is a day, not a commitment-sized time; and a bare
        # number with 日 ("5日") is a date. Keep only expressions that pin a time down.
        if s in {"今天", "明天", "后天", "today", "tomorrow"} or re.fullmatch(r"\d+日", s):
            continue
        out.append((m.start(), m.end(), " ".join(s.split())))
    return tuple(out)


def durations(text: str) -> tuple[str, ...]:
    """The time expressions of `time_expressions`, as written (whitespace collapsed)."""
    return tuple(t for _, _, t in time_expressions(text))
