"""Rule-decided parts of speech-act recognition: forbidden words, staff IDs, time promises.

Rules beat a classifier here because the service norms are lexical ("never say 应该")
and a trainee must be able to see exactly which word triggered a finding. The rules
are deliberately narrow: each pattern comes with near-misses in the tests
(有什么可以帮您, 什么时候, 您知道吗, 这是我们应该做的, 尽可能, "what time").
"""
from __future__ import annotations

import re

from app.core.numbers import NEXT_MONTH_DAY, staff_ids, time_expressions

# (reported word, pattern). Order matters only for readability; findings are sorted
# by position in the utterance.
_ZH_FORBIDDEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("喂", re.compile(r"喂(?![养奶食药])")),
    # 什么 as a bare "what?": it opens its clause (optionally after 啊/嗯/哈/呃/哦) and is
    # followed by punctuation or the end, or it is the interrogating "你说什么?".
    ("什么", re.compile(
        r"(?:^|(?<=[。！？!?，,；;…\s]))(?:[啊嗯哈呃哦诶]\s*[？?！!，,]?\s*)?什么\s*(?=[？?！!，,。…]|$)"
        r"|[你您]说什么\s*(?=[？?！!]|$)")),
    # "您不知道也没关系" speaks about the customer, so 不知道 right after 您 is allowed;
    # "不知道您现在方便说话吗？" opening a clause is a polite request, not "I don't know".
    ("不知道", re.compile(r"(?<!您)(?<!您也)(?<!您要是)(?:(?<=[^\s，,。！!？?；;…])不知道"
                         r"|不知道(?!您[^。！!？?]{0,8}方便[^。！!？?]*[吗？?]))")),
    # "这是我们应该做的/应该的" is a set phrase of courtesy, not a hedge.
    ("应该", re.compile(r"应该(?!做的|的[。！，,!\s]|的$)")),
    ("好像", re.compile(r"好像")),
    ("不可能", re.compile(r"不可能")),
    # Brushing the customer off: "你烦不烦", "这种事我们也没办法。" A 没办法 that goes on to
    # what cannot be done ("我没办法保证今天修好") is an honest limit, not a brush-off.
    ("烦不烦", re.compile(r"烦不烦")),
    ("没办法", re.compile(r"没(?:有|啥|什么)?办法(?:了|啊|呀|哦)?\s*(?=[，,。！!？?；;…\s]|$)")),
)

_EN_FORBIDDEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("what?", re.compile(
        r"(?:^|(?<=[.!?,;]\s)|(?<=[.!?,;]))\s*(?:(?:sorry|huh|eh|uh|um|hm+)[,\s]+)?what\s*[?!]",
        re.IGNORECASE)),
    ("i don't know", re.compile(r"\bI\s+(?:really\s+|just\s+)?(?:don'?t|do\s+not|dunno)\s+know\b|\bI\s+dunno\b|\bI\s+have\s+no\s+idea\b",
                                re.IGNORECASE)),
    ("should be", re.compile(r"\bshould\s+be\b", re.IGNORECASE)),
    ("probably", re.compile(r"\bprobably\b", re.IGNORECASE)),
    ("i guess", re.compile(r"\bI\s+guess\b", re.IGNORECASE)),
    ("seems like", re.compile(r"\bseems?\s+like\b|\bseems\s+to\s+be\b", re.IGNORECASE)),
    ("impossible", re.compile(r"\bimpossible\b", re.IGNORECASE)),
)

FORBIDDEN_RULES = {"zh-CN": _ZH_FORBIDDEN, "en": _EN_FORBIDDEN}


def forbidden_spans(text: str, language: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, word) of each forbidden word in `text`, in order of appearance, one
    per occurrence: the rubric's 不说服务禁用语 counts these, so the trainee's report and
    the act layer always agree on which words were forbidden.

    Raises KeyError for a language without rules.
    """
    hits = []
    for word, pattern in FORBIDDEN_RULES[language]:
        hits.extend((m.start(), m.end(), word) for m in pattern.finditer(text))
    return tuple(sorted(hits))


def forbidden_words(text: str, language: str) -> tuple[str, ...]:
    """Forbidden words found in `text`, in order of appearance, one entry per occurrence.

    Raises KeyError for a language without rules.
    """
    return tuple(word for _, _, word in forbidden_spans(text, language))


# A time expression is a promise only when a commitment verb is close after it
# ("24小时内给您回复", "within 2 hours we will call you back") or just before it
# ("we'll call you back within 2 hours"). "流量日包24小时内有效" names a rule, not a
# promise, so 有效 is not a commitment verb.
_ZH_COMMIT = re.compile(
    r"回复|回电|回拨|答复|回访|回个电话|联系您|联系|通知|告知|处理|解决|恢复|修复|到账|退回|退还|返还|"
    r"上门|寄出|寄到|送到|完成|办好|开通|生效|给您|打给您|打电话|发送|反馈|安排"
)
_EN_COMMIT = re.compile(
    r"\b(?:call(?:s|ing)?|ring|give\s+you|get\s+back|back|answer|reply|respond|contact(?:\s+you)?|"
    r"update|let\s+you\s+know|notify|inform|fix(?:ed)?|resolve[ds]?|resolution|restore[ds]?|"
    r"refund(?:ed)?|credit(?:ed)?|arrive[s]?|visit|send(?:ing)?|sent|be\s+there|text|email|activate[ds]?|"
    r"complete[ds]?|done|finish(?:ed)?|processed|hear|receive|take\s+effect|result|in\s+touch|reach)\b",
    re.IGNORECASE,
)
# Typed without apostrophes, "I'll" is "ill" ("ill call you back by 6").
_EN_PROMISE = re.compile(r"\b(?:will|'ll|shall|promise|guarantee|going\s+to|commit|ill|youll|itll|theyll)\b|'ll\b",
                         re.IGNORECASE)
_WINDOW_AFTER = 16
_WINDOW_AFTER_EN = 24
_WINDOW_BEFORE_EN = 60


# A clause ends at punctuation, or (in Chinese) at a space between two Chinese characters.
_ZH_CLAUSE_END = re.compile(r"[，,。；;！!？?\n]|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_EN_SENTENCE_END = re.compile(r"[.;!?\n]")
# A time in a clause like these states a rule or the past, not a promise:
# "日包24小时内有效", "一般半小时内自动恢复", "上次说三天内给您回复", "隔了三天才打电话".
# ... nor a refusal: "24小时也恢复不了" names a time only to say it will not be kept.
_ZH_NOT_PROMISE = re.compile(r"一般|通常|正常情况下|有效|上次|之前|当时|上周|那次|那几天|没|不是|"
                             r"不了|不能|无法|不给|不予|做不到|办不到")
_EN_NOT_PROMISE = re.compile(r"\b(?:usually|normally|typically|valid|last time|previously|did|didn't|was|were|"
                             r"can't|cannot|unable|not able|won't|will not|nothing)\b", re.IGNORECASE)


def _clause(text: str, start: int, end: int, boundary: re.Pattern[str]) -> tuple[int, int]:
    lo = max((m.end() for m in boundary.finditer(text, 0, start)), default=0)
    hi = next((m.start() for m in boundary.finditer(text, end)), len(text))
    return lo, hi


def has_time_commitment(text: str, language: str) -> bool:
    """True when a concrete duration or clock time comes with a commitment verb in the
    same clause, and that clause is neither a question nor a rule or the past.

    zh-CN: the verb must follow within 16 characters of the time ("3个工作日内退回").
    en: a promise word (will/'ll/promise/going to) must occur in the sentence, and a
    commitment verb within 60 characters before or 24 after the time.
    """
    for start, end, said in time_expressions(text):
        if language == "zh-CN":
            if NEXT_MONTH_DAY.fullmatch(said):
                # "次月1日生效" states when a plan change takes effect, a rule's time: the act
                # definition's explanation. (The scorer's time-commitment criterion credits it
                # by its own pattern where something was done for the customer.)
                continue
            lo, hi = _clause(text, start, end, _ZH_CLAUSE_END)
            clause = text[lo:hi]
            stop = re.compile(r"[。！!？?\n]").search(text, end)
            asked = stop is not None and stop.group() in "？?"  # "…下周六上门，对吗？" asks, not promises
            if _ZH_NOT_PROMISE.search(clause) or text[start - 1:start] == "了" or asked or clause.endswith("吗"):
                continue
            if _ZH_COMMIT.search(text[end:min(hi, end + _WINDOW_AFTER)]):
                return True
            if not text[lo:start].strip() and not text[end:hi].strip(" 前之以内"):
                # A fronted time ("明天上午十点前，我会给您回电") promises in the next clause.
                nxt_lo, nxt_hi = _clause(text, hi + 1, hi + 1, _ZH_CLAUSE_END)
                nxt = text[nxt_lo:nxt_hi]
                if nxt and not _ZH_NOT_PROMISE.search(nxt) and _ZH_COMMIT.search(nxt[:_WINDOW_AFTER]):
                    return True
            continue
        lo, hi = _clause(text, start, end, _EN_SENTENCE_END)
        sentence = text[lo:hi]
        if text[hi:hi + 1] == "?" or _EN_NOT_PROMISE.search(sentence):
            continue
        after = text[end:min(hi, end + _WINDOW_AFTER_EN)]
        before = text[max(lo, start - _WINDOW_BEFORE_EN):start]
        if _EN_PROMISE.search(sentence) and (_EN_COMMIT.search(after) or _EN_COMMIT.search(before)):
            return True
    return False


def has_self_id(text: str) -> bool:
    """True when the agent gives a staff number (工号1024, 工号三七二一, "staff ID 2087")."""
    return bool(staff_ids(text))


# Contempt, sarcasm and abuse aimed at the customer: a red line (or attitude zero, as the
# rubric says), so the rule is narrow and each pattern names what it catches. Near misses
# kept out on purpose: "屏幕往下滚动" (滚 as scrolling), "这个很简单，我一步一步教您",
# "有什么可以帮您", "请问还有什么问题吗？".
_ZH_CONTEMPT: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("abuse", re.compile(r"你有病|神经病|脑子(?:有病|有问题|进水|坏了)|(?:真|太)笨|笨死|笨蛋|蠢|白痴|弱智|活该|"
                         r"爱办不办|听不懂人话|(?<![往向下上翻来回])滚(?![动轮筒烫屏条雪])|有完没完|[你您]烦不烦")),
    ("contempt", re.compile(r"(?:小学生|三岁小孩|三岁孩子|傻子)都(?:懂|会|知道|明白)|这都不(?:懂|会|知道)|"
                            r"这么简单都不|(?:跟|和|对)?(?:你|您)这种人|讲道理(?:太|真)?费劲|对牛弹琴|"
                            r"说了(?:你|您)也不懂|有没有脑子|(?:老人家|老年人|岁数大的|上了年纪的)[^。！!？?]{0,8}(?:就是|真|太|很)费劲|"
                            # a whole sentence of bare "说。" / "快说！" barks at the caller
                            r"(?:^|(?<=[。！!？?\s]))(?:快)?[说讲][。！!]")),
    ("sarcasm", re.compile(r"(?:找|问|跟|冲)我(?:说)?有什么用[？?！!]?|又不是我(?:建|修|弄|定|开|装|设)的|"
                           r"关我什么事|不关我的事|不归我管|你(?:自己)?不会(?:自己)?(?:看|查|上网查)吗")),
)
_EN_CONTEMPT: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("abuse", re.compile(r"\b(?:stupid|idiot|moron|dumb|shut up)\b", re.IGNORECASE)),
    ("contempt", re.compile(r"\b(?:even a (?:child|kid) (?:knows|could)|people like you)\b", re.IGNORECASE)),
    ("sarcasm", re.compile(r"\bwhat do you want me to do about it\b|\bnot my (?:problem|job)\b|"
                           r"\bdid I build\b", re.IGNORECASE)),
)
CONTEMPT_RULES = {"zh-CN": _ZH_CONTEMPT, "en": _EN_CONTEMPT}


def contempt_spans(text: str, language: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, label) of each contemptuous, sarcastic or abusive phrase in `text`
    (label: abuse, contempt or sarcasm), in order of appearance.

    Raises KeyError for a language without rules.
    """
    hits = []
    for label, pattern in CONTEMPT_RULES[language]:
        hits.extend((m.start(), m.end(), label) for m in pattern.finditer(text))
    return tuple(sorted(hits))
