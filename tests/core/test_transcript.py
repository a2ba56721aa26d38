"""transcript/1: strict reading with file + JSON path faults, writing, text rendering."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.datafiles import DataFileError
from app.core.transcript import make_transcript, read_transcript, render_text, write_transcript

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "transcripts"
KNOWN = ["billing_complaint", "5g_plan_launch", "signal_complaint", "elderly_smartphone"]


def _doc(**over):
    doc = {"format": "transcript/1", "scenario": "billing_complaint",
           "turns": [{"speaker": "customer", "text": "多扣了钱"}, {"speaker": "agent", "text": "您好"}]}
    doc.update(over)
    return doc


def _faults(tmp_path: Path, content: str | bytes, name: str = "t.json") -> list[str]:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(DataFileError) as exc:
        read_transcript(path, KNOWN)
    return [str(f) for f in exc.value.faults]


@pytest.mark.parametrize(
    "content, field, reason",
    [
        ("{\"format\": ", "(top)", "bad JSON at line 1"),
        ("[1, 2]", "(top)", "expected a mapping"),
        (json.dumps(_doc(turns=[{"speaker": "agent", "text": "a"}, {"speaker": "bot", "text": "b"}])), "turns[1].speaker", "'agent' or 'customer'"),
        (json.dumps(_doc(turns=[{"speaker": "agent", "text": "  "}])), "turns[0].text", "must not be empty"),
        (json.dumps(_doc(turns=[{"speaker": "agent", "text": 42}])), "turns[0].text", "valid string"),
        (json.dumps(_doc(turns="hello")), "turns", "valid list"),
        (json.dumps(_doc(turns=[])), "turns", "at least 1"),
        (json.dumps(_doc(scenario="lottery_win")), "scenario", "unknown scenario 'lottery_win'"),
        (json.dumps(_doc(socre=3)), "socre", "unknown field"),
        (json.dumps(_doc(turns=[{"speaker": "agent", "text": "a", "mood": 3}])), "turns[0].mood", "unknown field"),
        (json.dumps(_doc(turns=[{"speaker": "agent", "text": "a", "at": "yesterday"}])), "turns[0].at", "ISO 8601"),
        (json.dumps(_doc(language="chinese please")), "language", "BCP 47"),
        (json.dumps(_doc(format="transcript/2")), "format", "unsupported format"),
        (json.dumps({k: v for k, v in _doc().items() if k != "scenario"}), "scenario", "required"),
        (b"\xff\xfe{}", "(top)", "not UTF-8"),
    ],
    ids=["bad-json", "not-object", "unknown-speaker", "empty-text", "wrong-type", "turns-not-list",
         "no-turns", "unknown-scenario", "unknown-top-key", "unknown-turn-key", "bad-time",
         "bad-language", "other-format", "missing-scenario", "not-utf8"],
)
def test_bad_files_are_rejected_with_file_and_json_path(tmp_path, content, field, reason):
    faults = _faults(tmp_path, content, "call-17.json")
    assert any(f.startswith(f"{tmp_path / 'call-17.json'}: {field}: ") and reason in f for f in faults), faults


def test_uploaded_bytes_are_named_by_the_caller():
    with pytest.raises(DataFileError) as exc:
        read_transcript(json.dumps(_doc(turns=[{"speaker": "x", "text": "a"}])).encode(), KNOWN, name="upload.json")
    assert str(exc.value).startswith("upload.json: turns[0].speaker:")


def test_every_fault_is_reported_at_once():
    doc = _doc(turns=[{"speaker": "bot", "text": "a"}, {"speaker": "agent", "text": ""}], extra=1)
    with pytest.raises(DataFileError) as exc:
        read_transcript(json.dumps(doc).encode(), KNOWN)
    assert {f.field for f in exc.value.faults} == {"turns[0].speaker", "turns[1].text", "extra"}


def test_optional_fields_and_meta_are_kept_as_is():
    doc = _doc(language="zh-CN", persona="angry", agent={"id": "trainee-042", "name": "小李"},
               started_at="2026-11-22T09:30:00+08:00",
               turns=[{"speaker": "customer", "text": "喂", "at": "2026-11-22T09:30:12+08:00",
                       "meta": {"mood": 7, "nested": {"a": [1, 2]}}}])
    t = read_transcript(json.dumps(doc).encode(), KNOWN)
    assert t.turns[0].meta == {"mood": 7, "nested": {"a": [1, 2]}}
    assert t.agent.name == "小李" and t.effective_language("en") == "zh-CN"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.json")), ids=lambda p: p.name)
def test_corpus_round_trips_byte_for_byte(path):
    t = read_transcript(path, KNOWN)
    assert write_transcript(t) == path.read_text(encoding="utf-8")


def test_write_then_read(tmp_path):
    t = make_transcript("billing_complaint", [("customer", "多扣了钱"), ("agent", "您好")], language="zh-CN")
    out = tmp_path / "out.json"
    write_transcript(t, out)
    assert read_transcript(out, KNOWN) == t
    assert json.loads(out.read_text("utf-8"))["turns"][1] == {"speaker": "agent", "text": "您好"}


def test_make_transcript_refuses_what_the_reader_refuses():
    with pytest.raises(DataFileError) as exc:
        make_transcript("billing_complaint", [("agent", "")])
    assert str(exc.value).startswith("<drill>: turns[0].text:")


def test_text_rendering_numbers_turns_like_the_evidence():
    t = read_transcript(CORPUS / "billing_complaint.good.json", KNOWN)
    text = render_text(t, title="账单异常投诉处理")
    assert text.startswith("场景: 账单异常投诉处理\n")
    assert "\n[1] 客服: 您好，这里是客服中心" in text and "\n[0] 客户: " in text
    assert "Agent: 您好" in render_text(t, language="en")


def test_text_rendering_names_persona_and_language_in_words():
    t = make_transcript("billing_complaint", [("customer", "喂？")], language="zh-CN", persona="furious")
    text = render_text(t, title="账单异常投诉处理", persona="激动型")
    assert "客户类型: 激动型\n" in text and "语言: 中文\n" in text and "furious" not in text
