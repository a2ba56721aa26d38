"""Data-file faults in plain words for the person who uploaded the file.

A `Fault` reads ``broken.json: (top): bad JSON at line 1 column 1: Expecting value``: exact,
and what the CLI, the JSON API and the logs keep. A trainer who uploads a call needs to
know what is wrong in words of their own language: "the file is not valid JSON: check
line 1, column 1 (a missing comma, quote or bracket)". `plain()` says that, in zh-CN or
en, for every reason the readers produce; a reason it does not know is still shown, after
the part of the file it concerns.
"""
from __future__ import annotations

import re

from app.core.datafiles import Fault

_ZH, _EN = "zh-CN", "en"

# (pattern on the reason, {language: wording}); the wording is formatted with the groups.
_REASONS: list[tuple[re.Pattern, dict[str, str]]] = [(re.compile(p), w) for p, w in [
    (r"^bad JSON at line (?P<line>\d+) column (?P<col>\d+)", {
        _ZH: "文件不是有效的 JSON：第 {line} 行第 {col} 列附近格式有误（常见原因：少了逗号、引号或括号，或文件是空的）。",
        _EN: "The file is not valid JSON: check line {line}, column {col} (a missing comma, quote or "
             "bracket, or an empty file)."}),
    (r"^bad JSON: nested too deeply|^nested too deeply", {
        _ZH: "文件的层级嵌套过深，不是一份通话记录。",
        _EN: "The file nests too deeply to be a call transcript."}),
    (r"^bad JSON|^bad number", {
        _ZH: "文件不是有效的 JSON：其中有无法读取的内容（例如过长的数字）。",
        _EN: "The file is not valid JSON: part of it cannot be read (for example a number that is too long)."}),
    (r"^bad YAML at line (?P<line>\d+) column (?P<col>\d+)", {
        _ZH: "文件不是有效的 YAML：第 {line} 行第 {col} 列附近格式有误（常见原因：缩进不对，或冒号、引号不配对）。",
        _EN: "The file is not valid YAML: check line {line}, column {col} (indentation, or an unmatched colon or quote)."}),
    (r"^bad YAML", {
        _ZH: "文件不是有效的 YAML，请检查缩进和引号。",
        _EN: "The file is not valid YAML: check its indentation and quotes."}),
    (r"^not UTF-8 text", {
        _ZH: "文件不是 UTF-8 编码的文本：请用 UTF-8 编码另存后再上传。",
        _EN: "The file is not UTF-8 text: save it as UTF-8 and upload it again."}),
    (r"^cannot read file", {
        _ZH: "文件无法读取。",
        _EN: "The file cannot be read."}),
    (r"^unsupported format (?P<got>.+?); expected (?P<want>.+)$", {
        _ZH: "文件的格式版本是 {got}，本系统只接受 {want}。",
        _EN: "The file's format version is {got}; this system accepts {want} only.", "whole": True}),
    (r"^required field is missing", {
        _ZH: "缺少必填项。",
        _EN: "A required entry is missing."}),
    (r"^unknown field", {
        _ZH: "这一项本系统不认识（请检查拼写）。",
        _EN: "This entry is not known here (check the spelling)."}),
    # Scenario files written in the browser (app/core/authoring.py) meet the schema's own reasons.
    (r"^Input should be less than or equal to (?P<n>\S+)", {
        _ZH: "数值太大：最多为 {n}。", _EN: "The value is too large: at most {n}."}),
    (r"^Input should be greater than or equal to (?P<n>\S+)", {
        _ZH: "数值太小：至少为 {n}。", _EN: "The value is too small: at least {n}."}),
    (r"^Input should be a valid integer", {
        _ZH: "这里应填整数。", _EN: "A whole number belongs here."}),
    (r"^Input should be a valid string", {
        _ZH: "这里应填文字。", _EN: "Text belongs here."}),
    (r"^Input should be a valid (list|array)", {
        _ZH: "这里应是列表（每项以“- ”开头）。", _EN: "A list belongs here (each item starting with '- ')."}),
    (r"^List should have at least (?P<n>\d+) items?", {
        _ZH: "至少需要 {n} 项。", _EN: "At least {n} items are needed."}),
    (r"^id '(?P<id>[^']*)' differs from the file name '(?P<stem>[^']*)'", {
        _ZH: "编号 {id} 与文件名 {stem} 不一致。", _EN: "The id {id} differs from the file name {stem}."}),
    (r"^the excellent agent script does not resolve the call with persona '(?P<p>[^']*)'", {
        _ZH: "优秀坐席脚本在客户类型 {p} 下没有解决问题。",
        _EN: "The excellent agent script does not resolve the call with the customer {p}."}),
    (r"^the poor agent script resolves the call with persona '(?P<p>[^']*)'", {
        _ZH: "较差坐席脚本在客户类型 {p} 下解决了问题（它不应解决）。",
        _EN: "The poor agent script resolves the call with the customer {p} (it must not)."}),
    (r"^the (excellent|poor) agent script has no lines", {
        _ZH: "坐席脚本是空的：每个场景都需要优秀和较差两个脚本，每行一轮坐席发言。",
        _EN: "The agent script is empty: every scenario needs an excellent and a poor script, one agent turn per line."}),
    (r"^too large: (?P<n>\d+) bytes \(at most (?P<max>\d+)\)", {
        _ZH: "内容过大：{n} 字节，最多 {max} 字节。", _EN: "Too large: {n} bytes, at most {max}."}),
    (r"could not be imported \(internal error\)", {
        _ZH: "系统处理这个文件时出错，文件没有保存；请把文件交给管理员查看。",
        _EN: "The system failed while importing this file, and nothing was stored; give the file to an administrator."}),
]]

_WHERE = {
    _ZH: {"whole": "", "turn": "第 {n} 轮对话", "field": "“{path}”", "in": "{where}：{text}"},
    _EN: {"whole": "", "turn": "turn {n}", "field": "'{path}'", "in": "{where}: {text}"},
}
_ORIGINAL = {_ZH: "内容不符合要求（{reason}）。", _EN: "The content is not accepted ({reason})."}
_TURN = re.compile(r"^turns\[(\d+)\](?:\.(.+))?$")


def _where(field: str, lang: str) -> str:
    """The part of the file a fault concerns: nothing for the whole file, "第 4 轮对话 “speaker”"
    for turns[3].speaker (turns counted from 1, as a person counts them)."""
    words = _WHERE[lang]
    if not field or field == "(top)":
        return words["whole"]
    m = _TURN.match(field)
    if m:
        turn = words["turn"].format(n=int(m.group(1)) + 1)
        return turn + (" " + words["field"].format(path=m.group(2)) if m.group(2) else "")
    return words["field"].format(path=field)


def plain_reason(fault: Fault, lang: str) -> str:
    """The fault's reason alone in `lang`, for a page that shows the field beside it."""
    return plain(Fault(fault.file, "", fault.reason), lang)


def plain(fault: Fault, lang: str) -> str:
    """The fault as one sentence in `lang` ("zh-CN" or "en"; anything else reads as en)."""
    lang = _ZH if lang.startswith("zh") else _EN
    text, whole = None, False
    for pattern, wording in _REASONS:
        m = pattern.search(fault.reason)
        if m:
            text, whole = wording[lang].format(**m.groupdict()), wording.get("whole", False)
            break
    if text is None:
        text = _ORIGINAL[lang].format(reason=fault.reason)
    where = "" if whole else _where(fault.field, lang)
    return _WHERE[lang]["in"].format(where=where, text=text) if where else text
