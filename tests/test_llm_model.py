"""scripts/llm_model.py on small wheels it makes itself: the chunks are read as data out
of the zip archives, joined in part order, checked against the pinned SHA-256, and a
mismatch caches nothing and says what was expected."""
from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import llm_model  # noqa: E402

CHUNKS = [b"GGUF-first-", b"second-", b"third"]


def make_wheels(tmp_path: Path, chunks=CHUNKS, numbers=None) -> list[Path]:
    wheels = []
    for i, data in enumerate(chunks, start=1):
        n = (numbers or range(1, len(chunks) + 1))[i - 1]
        path = tmp_path / f"fake_part{i}-0.1.0-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as zf:
            # The code in a chunk wheel must never run: make running it fail loudly.
            zf.writestr(f"fake_part{i}/__init__.py", "raise SystemExit('chunk wheel code was executed')\n")
            zf.writestr(f"fake_part{i}/data/part{n:02d}.bin", data)
        wheels.append(path)
    return wheels


def spec(sha: str, parts: int = 3) -> llm_model.ModelSpec:
    return llm_model.ModelSpec("t", "test model", "test.gguf", "fake-part{n}", "0.1.0", parts, sha)


def test_chunks_join_in_order_and_are_verified(tmp_path):
    whole = b"".join(CHUNKS)
    s = spec(hashlib.sha256(whole).hexdigest())
    dest = llm_model.assemble(s, make_wheels(tmp_path), tmp_path / "models" / s.filename)
    assert dest.read_bytes() == whole
    assert llm_model.cached(s, tmp_path / "models") == dest
    dest.write_bytes(whole + b"x")  # changed after the check: no longer counts as cached
    assert llm_model.cached(s, tmp_path / "models") is None


def test_checksum_mismatch_caches_nothing_and_says_why(tmp_path):
    s = spec("0" * 64)
    with pytest.raises(llm_model.ModelError, match=r"checksum mismatch for test model.*expected 0{64}"):
        llm_model.assemble(s, make_wheels(tmp_path), tmp_path / "models" / s.filename)
    assert not list((tmp_path / "models").iterdir())


def test_parts_out_of_order_are_refused(tmp_path):
    wheels = make_wheels(tmp_path, numbers=[1, 3, 2])
    with pytest.raises(llm_model.ModelError, match="holds part 3, expected part 2"):
        llm_model.assemble(spec("0" * 64), wheels, tmp_path / "m" / "test.gguf")


def test_a_wheel_without_one_chunk_is_refused(tmp_path):
    path = tmp_path / "empty-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("empty/__init__.py", "")
    with pytest.raises(llm_model.ModelError, match="expected one data/partNN.bin, found none"):
        llm_model.chunk_of(path)


def test_pinned_models():
    assert {s: (m.parts, m.version) for s, m in llm_model.MODELS.items()} == {"0.5b": (6, "0.9.0"),
                                                                               "1.5b": (22, "0.2.0")}
    assert all(len(m.sha256) == 64 for m in llm_model.MODELS.values())
