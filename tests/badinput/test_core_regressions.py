"""Data files and transcripts that made the readers raise something other than their
DataFileError (a traceback in `flask scenarios validate`, an "internal error" on upload)."""
from __future__ import annotations

import pytest

from app.core.datafiles import DataFileError, read_raw
from app.core.transcript import read_transcript

HOSTILE = {
    "deep array": "[" * 100_000,
    "deep object": '{"a":' * 100_000,
    "huge integer": '{"format": "transcript/1", "scenario": "x", "n": ' + "9" * 5000 + "}",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_transcript_reader_refuses_with_its_own_error(name):
    with pytest.raises(DataFileError) as caught:
        read_transcript(HOSTILE[name].encode(), None, name="call.json")
    assert str(caught.value).startswith("call.json: (top): bad JSON")


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
@pytest.mark.parametrize("name", HOSTILE)
def test_data_file_reader_refuses_with_its_own_error(tmp_path, suffix, name):
    path = tmp_path / f"broken{suffix}"
    text = HOSTILE[name] if suffix == ".json" else HOSTILE[name].replace('"', "")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        read_raw(path)
    assert str(caught.value).startswith(f"{path}: (top): ")


def _doc(**turn):
    import json

    return json.dumps({"format": "transcript/1", "scenario": "billing_complaint",
                       "turns": [{"speaker": "agent", "text": "您好", **turn}]}).encode()


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_times_without_a_utc_equivalent_are_faults_of_their_field(at):
    # Was: accepted by the reader, then OverflowError when the import converted them to UTC.
    with pytest.raises(DataFileError) as caught:
        read_transcript(_doc(at=at), None, name="call.json")
    assert [str(f) for f in caught.value.faults] == [
        "call.json: turns[0].at: Value error, date-time out of range once converted to UTC"]


@pytest.mark.parametrize("turn, field", [({"text": "您\u0000好"}, "turns[0].text"),
                                         ({"meta": {"k": ["\ud800"]}}, "turns[0].meta.k[0]"),
                                         ({"meta": {"\u0000": 1}}, "turns[0].meta")])
def test_text_no_database_can_store_is_a_fault_of_its_field(turn, field):
    # Was: read fine, then PostgreSQL refused the NUL (or the driver the surrogate) on import.
    with pytest.raises(DataFileError) as caught:
        read_transcript(_doc(**turn), None, name="call.json")
    assert [f.field for f in caught.value.faults] == [field]
