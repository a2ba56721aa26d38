"""Upload faults in plain words (app/core/fault_words.py): every reason the readers produce."""
from __future__ import annotations

import pytest

from app.core.datafiles import DataFileError, Fault
from app.core.fault_words import plain
from app.core.transcript import read_transcript


def faults_of(raw: bytes) -> list[Fault]:
    with pytest.raises(DataFileError) as exc:
        read_transcript(raw, known_scenarios={"billing_complaint"}, name="up.json")
    return exc.value.faults


@pytest.mark.parametrize("raw, zh, en", ids=["empty", "not-utf8", "format", "deep"], argvalues=[
    (b"", "文件不是有效的 JSON：第 1 行第 1 列", "The file is not valid JSON: check line 1, column 1"),
    (b"\xff\xfe", "文件不是 UTF-8 编码的文本", "The file is not UTF-8 text"),
    (b'{"format": "transcript/9", "scenario": "x", "turns": []}', "文件的格式版本是 'transcript/9'",
     "The file's format version is 'transcript/9'"),
    (b"[" * 100_000, "文件的层级嵌套过深", "The file nests too deeply"),
])
def test_each_reader_fault_reads_as_a_sentence(raw, zh, en):
    (fault,) = faults_of(raw)
    assert plain(fault, "zh-CN").startswith(zh) and plain(fault, "en").startswith(en)
    # Nothing of the parser's own English or the "(top)" marker reaches the person.
    assert "(top)" not in plain(fault, "zh-CN") and fault.reason not in plain(fault, "zh-CN")


def test_turn_faults_count_turns_from_one():
    raw = b'{"format": "transcript/1", "scenario": "billing_complaint", "turns": [{"speaker": "agent", "text": "hi", "colour": 1}]}'
    (fault,) = faults_of(raw)
    assert fault.field == "turns[0].colour"
    assert plain(fault, "zh-CN") == "第 1 轮对话 “colour”：这一项本系统不认识（请检查拼写）。"
    assert plain(fault, "en") == "turn 1 'colour': This entry is not known here (check the spelling)."


def test_an_unknown_reason_is_still_shown_after_the_place():
    fault = Fault("f.json", "scenario", "something new")
    assert plain(fault, "zh-CN") == "“scenario”：内容不符合要求（something new）。"
