"""The independent evaluation set of the act model (`tests/data/acts_eval/<language>.yaml`).

Written and labelled by another hand from the act definitions alone; loaded through the
same schema as the training file so a fault names the file and the field. Nothing may
train or tune on it: `app.core.acts` never reads this folder.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from app.core.acts_data import ActExample
from app.core.datafiles import load_model


class EvalSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str = Field(description="zh-CN or en")
    examples: list[ActExample] = Field(min_length=1)


def load_eval_set(language: str, folder: Path | str = Path("tests/data/acts_eval")) -> list[ActExample]:
    data, _ = load_model(EvalSet, Path(folder) / f"{language}.yaml")
    if data.language != language:
        raise ValueError(f"{folder}/{language}.yaml: language: says {data.language!r}")
    return list(data.examples)
