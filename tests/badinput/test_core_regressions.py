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
