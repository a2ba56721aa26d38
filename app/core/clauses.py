"""Split an agent turn into clauses, with or without punctuation.

A clause is the unit the act model, negation and the meaning matchers look at, so that
evidence quotes the clause and "我不会给您退订彩铃" is not read as 退订彩铃 done.

Punctuation splits first. Chinese speech-to-text output often has none, so a long
unpunctuated stretch is cut again at words that open a new clause in hotline speech
(请问, 我马上, 另外, 感谢, 您看 …), found on jieba's word boundaries, never inside a
word. English is cut at punctuation and before a few clause-opening words.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

# Telecom words jieba's general dictionary cuts apart; kept whole so a clause boundary
# never falls inside them.
_USER_WORDS = (
    "彩铃", "视频彩铃", "彩铃会员", "加油包", "流量包", "套餐", "工单", "携号转网", "光猫", "停机", "复机",
    "漫游", "呼叫转移", "移动数据", "营业厅", "身份证", "后四位", "验证码", "服务密码", "工作日", "话费",
    "退订", "退费", "开通", "回访", "机主", "实名", "补卡", "挂失", "宽带", "路由器", "合约", "违约金",
    "超套", "叠加包", "用量提醒", "高清通话", "小基站", "信号", "报障", "上门",
)

# Words that open a new clause in hotline speech. A cut is made before one of them when
# the clause so far already has some content (see MIN_CHARS).
_ZH_OPENERS = frozenset({
    "请问", "麻烦", "麻烦您", "麻烦你", "另外", "然后", "同时", "还有", "而且", "所以", "因为", "如果",
    "感谢", "谢谢", "祝您", "再见", "您看", "你看", "您说", "您放心", "你放心", "您别", "你别", "别急",
    "不好意思", "抱歉", "对不起", "非常抱歉", "真不好意思", "实在抱歉", "您好", "你好", "稍后", "已经",
    "建议", "建议您", "我们", "我这边", "这边", "我马上", "马上", "我帮您", "我给您", "我来", "我先",
    "为了", "您的意思是", "就是说", "也就是说", "确认", "跟您确认", "接下来", "首先", "第一步", "第二步",
    "最后", "另一笔", "一笔", "这个月", "对于", "至于", "那", "那么", "好的", "嗯", "您是说", "您是",
    "是不是", "有没有", "能不能", "可以", "现在", "之后", "以后", "您先", "你先", "再", "回头",
    "一会儿", "等会", "记得", "千万", "注意", "您还有", "还有别的", "请", "咱们", "我们会", "我已经",
})
# A cut also follows a sentence-final particle that closes a question or statement.
_ZH_FINAL = frozenset({"吗", "呢", "吧", "啊", "呀", "哈", "哦", "啦", "嘛"})
MIN_CHARS = 4  # a clause shorter than this is never cut off from what follows

_EN_OPENERS = re.compile(
    r"\s+(?=(?:and then|then|also|so|because|but|however|meanwhile|I will|I'll|I've|I have|we will|we'll|"
    r"could you|can you|would you|please|thank you|thanks|is there anything|have a)\b)",
    re.IGNORECASE,
)
# A full stop between digits is a decimal point (3.5G), not the end of a clause.
_PUNCT = re.compile(r"[，,。．！!？?；;：:…\n、]+|(?<!\d)\.+|\.+(?!\d)|\s{2,}")
# In Chinese a single space between two non-ASCII characters is a pause too.
_ZH_PAUSE = re.compile(r"(?<=[\u4e00-\u9fff？！，。])\s+(?=[\u4e00-\u9fff])")
_CJK = re.compile(r"[\u4e00-\u9fff]")
LONG_UNPUNCTUATED = 12  # characters of Chinese without punctuation before the segmenter cuts


@dataclass(frozen=True)
class Span:
    """A clause: its text and where it sits in the turn (text == turn[start:end])."""

    text: str
    start: int
    end: int


_jieba_lock = threading.Lock()
_tokenizer = None


def _jieba():
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                for word in _USER_WORDS:
                    tok.add_word(word, freq=20000)
                _tokenizer = tok
    return _tokenizer


def words(text: str) -> list[str]:
    """jieba's words of `text` (telecom terms kept whole); the concatenation is `text`."""
    return _jieba().lcut(text, HMM=True)


def _zh_cut(text: str, offset: int) -> list[Span]:
    out: list[Span] = []
    start = pos = 0
    tokens = words(text)
    for i, tok in enumerate(tokens):
        here = pos
        pos += len(tok)
        if tok.isspace():
            continue
        so_far = text[start:here].strip()
        # An opener may run past this word's end ("您看" in 您/看行/吗): the cut still
        # falls on a word boundary, which is what matters.
        opens = tok in _ZH_OPENERS or any(text[here:here + n] in _ZH_OPENERS for n in range(2, 6))
        if opens and len(so_far) >= MIN_CHARS:
            out.append(Span(text[start:here], offset + start, offset + here))
            start = here
        if tok in _ZH_FINAL and i + 1 < len(tokens) and len(text[start:pos]) >= MIN_CHARS:
            out.append(Span(text[start:pos], offset + start, offset + pos))
            start = pos
    if start < len(text):
        out.append(Span(text[start:], offset + start, offset + len(text)))
    return out


def _en_cut(text: str, offset: int) -> list[Span]:
    out, start = [], 0
    for m in _EN_OPENERS.finditer(text):
        if len(text[start:m.start()].split()) >= 3:
            out.append(Span(text[start:m.start()], offset + start, offset + m.start()))
            start = m.end()
    out.append(Span(text[start:], offset + start, offset + len(text)))
    return out


def split(text: str, language: str) -> list[Span]:
    """The clauses of `text`, in order, each a stripped, non-empty slice of it.

    Guarantees: `text[c.start:c.end] == c.text` for every clause; clauses do not overlap;
    an empty or blank text has no clauses.
    """
    pieces: list[Span] = []
    pos = 0
    boundaries = [*_PUNCT.finditer(text + "\n")]
    if language == "zh-CN":
        boundaries = sorted([*boundaries, *_ZH_PAUSE.finditer(text)], key=lambda m: m.start())
    for m in boundaries:
        if m.start() < pos:
            continue
        chunk = text[pos:m.start()]
        if chunk.strip():
            pieces.append(Span(chunk, pos, m.start()))
        pos = m.end()
    out: list[Span] = []
    for p in pieces:
        if language == "zh-CN" and len(_CJK.findall(p.text)) > LONG_UNPUNCTUATED:
            parts = _zh_cut(p.text, p.start)
        elif language != "zh-CN":
            parts = _en_cut(p.text, p.start)
        else:
            parts = [p]
        for part in parts:
            stripped = part.text.strip()
            if not stripped:
                continue
            lead = len(part.text) - len(part.text.lstrip())
            start = part.start + lead
            out.append(Span(stripped, start, start + len(stripped)))
    return out
