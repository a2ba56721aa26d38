"""Training batches by other hands (`rubrics/acts/<language>.d/*.yaml`): validated with
file and field, trained on whole, never a held-out sentence of the main file, part of the
model's cache key."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from app.core.acts import training_bytes, training_examples
from app.core.acts_data import batch_paths, load_batches, load_examples, split_examples
from app.core.acts_rules import forbidden_words
from app.core.catalog import build_catalog
from app.core.datafiles import DataFileError

ROOT = Path(__file__).resolve().parents[2]
ACTS_DIR = ROOT / "rubrics" / "acts"
LANGS = ("zh-CN", "en")


@pytest.mark.parametrize("lang", LANGS)
def test_the_shipped_batches_validate_and_follow_the_forbidden_word_rule(lang):
    paths = batch_paths(lang, ACTS_DIR)
    assert paths, f"no batches for {lang}"
    catalog = build_catalog(ROOT / "scenarios", ROOT / "rubrics", paths=paths)
    assert not catalog.faults, [str(f) for f in catalog.faults]
    for path in paths:
        for i, ex in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]):
            assert bool(forbidden_words(ex["text"], lang)) == ("forbidden_word" in ex["acts"]), (path, i)


def _dir_with_batch(tmp_path: Path, lang: str, examples: list[dict], batch: str = "extra-1",
                    name: str | None = None) -> Path:
    shutil.copy(ACTS_DIR / f"{lang}.yaml", tmp_path / f"{lang}.yaml")
    folder = tmp_path / f"{lang}.d"
    folder.mkdir(exist_ok=True)
    (folder / f"{name or batch}.yaml").write_text(yaml.safe_dump(
        {"language": lang, "batch": batch, "written_by": "a test", "examples": examples},
        allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_a_bad_batch_names_the_file_and_the_field(tmp_path):
    acts_dir = _dir_with_batch(tmp_path, "en", [{"text": "Sorry about that.", "acts": ["apology", "gretting"]}])
    with pytest.raises(DataFileError) as info:
        load_batches("en", acts_dir)
    assert any(str(f).startswith(f"{acts_dir / 'en.d' / 'extra-1.yaml'}: examples[0].acts[1]: unknown act 'gretting'")
               for f in info.value.faults), info.value.faults
    (tmp_path / "b").mkdir()
    renamed = _dir_with_batch(tmp_path / "b", "en", [{"text": "Sorry.", "acts": ["apology"]}],
                              batch="extra-1", name="other")
    with pytest.raises(DataFileError) as info:
        load_batches("en", renamed)
    assert "batch 'extra-1' differs from the file name 'other'" in str(info.value)


def test_batches_train_whole_but_never_a_held_out_sentence(tmp_path):
    data, _ = load_examples("en", ACTS_DIR)
    train, held = split_examples(data.examples)
    new = [{"text": "so basically the 15 yuan is the ringback tone you never asked for", "acts": ["restate"]},
           {"text": held[0].text, "acts": list(held[0].acts)}]  # a held-out sentence: must not be trained on
    acts_dir = _dir_with_batch(tmp_path, "en", new)
    examples = training_examples("en", acts_dir)
    texts = [ex.text for ex in examples]
    assert len(examples) == len(train) + 1
    assert new[0]["text"] in texts and held[0].text not in texts


def test_a_batch_is_part_of_the_models_key(tmp_path):
    acts_dir = _dir_with_batch(tmp_path, "en", [{"text": "Sorry about the wait.", "acts": ["apology"]}])
    before = training_bytes("en", acts_dir)
    _dir_with_batch(tmp_path, "en", [{"text": "Sorry about the long wait.", "acts": ["apology"]}])
    assert training_bytes("en", acts_dir) != before
    assert training_bytes("en", acts_dir).startswith((ACTS_DIR / "en.yaml").read_bytes())
