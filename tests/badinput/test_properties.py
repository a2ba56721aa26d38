"""Property-based tests of the readers and the scorer (hypothesis).

Readers: any input either loads or fails with the reader's own `DataFileError`, whose
faults name the file and (when the fault is in a field) the field; never another
exception. Inputs are random mutations of the real files (a key dropped, a value
replaced by a wrong type, a huge or non-finite number, deep nesting, unicode and
control characters, an unknown key) and random bytes. Loaders that write to the
database (transcript import, `flask scenarios load`) leave it unchanged when they refuse.

Scorer: any valid transcript scores deterministically, within the rubric's bounds.

The examples are derandomized and bounded (profile `badinput-ci`) so CI time is fixed;
HOTLINE_SLOW=1 runs ten times as many.
"""
from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from app.core.datafiles import DataFileError, read_raw
from app.core.rubric import load_rubric
from app.core.scoring import load_scenario_for_scoring, score_transcript
from app.core.scoring.keywords import keyword_analyse
from app.core.transcript import make_transcript, read_transcript, write_transcript

ROOT = Path(__file__).resolve().parents[2]
SLOW = os.environ.get("HOTLINE_SLOW") == "1"
CI = settings(settings.get_profile("badinput-ci"), max_examples=300 if SLOW else 30)
LOADER = settings(CI, max_examples=150 if SLOW else 12)  # each example writes and parses 2-4 files
FEW = settings(CI, max_examples=60 if SLOW else 6)  # examples that touch the database

SCENARIO_IDS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
TRANSCRIPTS = sorted((ROOT / "tests" / "data" / "transcripts").glob("*.json"))
SCRATCH = Path(tempfile.mkdtemp(prefix="badinput-"))

# --- mutations ---------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Mn"]), max_size=10),
    st.sampled_from(["", " ", "\x00", "<script>alert(1)</script>", "9999-12-31T23:59:59-14:00", "agent",
                     "customer", "zh-CN", "x" * 5000, "\u202e", "💥", "ＡＢＣ"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


def _deep(depth: int):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


def _paths(data, prefix=()):
    """Every location in a parsed document (dict keys, list positions), down to the depth
    real files have (not into the deep nesting an earlier mutation made)."""
    yield prefix
    if len(prefix) > 8:
        return
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*prefix, i))


def _get(data, path):
    for p in path:
        data = data[p]
    return data


@st.composite
def mutated(draw, documents: list):
    """A real document with one to three random mutations."""
    data = copy.deepcopy(documents[draw(st.integers(0, len(documents) - 1))])  # an index: a short repr
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent, key = _get(data, path[:-1]), path[-1]
        action = draw(st.sampled_from(["drop", "replace", "replace", "deep", "add", "wrap"]))
        if action == "drop":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(VALUES)
        elif action == "deep":
            # Deeper than any real file; the parsers' own limit is covered by RAW_INPUTS.
            parent[key] = _deep(draw(st.sampled_from([50, 300])))
        elif action == "wrap":
            parent[key] = [parent[key]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(VALUES)
        else:
            parent.append(draw(VALUES))
    return data


def _as_json(data) -> bytes:
    try:
        return json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except RecursionError:  # json.dumps of the deepest mutations; the reader gets raw text then
        return (b"[" * 5000) + b"]" * 5000


def _as_yaml(data) -> bytes:
    try:
        return yaml.safe_dump(data, allow_unicode=True).encode("utf-8", "surrogatepass")
    except (RecursionError, yaml.YAMLError):
        return (b"[" * 5000) + b"]" * 5000


def assert_own_fault(exc: DataFileError, file: str):
    """The reader's error names the file in every fault, and says what is wrong."""
    assert exc.faults, "a DataFileError without faults"
    for fault in exc.faults:
        assert fault.file == file, (fault, file)
        assert fault.reason.strip(), fault
        assert str(fault).startswith(f"{file}: "), str(fault)


# --- the transcript reader ------------------------------------------------------------------

TRANSCRIPT_DOCS = [json.loads(p.read_text(encoding="utf-8")) for p in TRANSCRIPTS]
RAW_INPUTS = st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                       st.sampled_from([b"", b"\xef\xbb\xbf{}", b"[" * 100_000, b'{"a":' * 100_000, b"1" * 5000,
                                        b'{"format": "transcript/1", "turns": [' + b"{}," * 10_000 + b"{}]}"]))


def _check_transcript(raw: bytes):
    try:
        transcript = read_transcript(raw, SCENARIO_IDS, name="call.json")
    except DataFileError as exc:
        assert_own_fault(exc, "call.json")
        return None
    # What loads writes back to text that loads to the same transcript.
    assert read_transcript(write_transcript(transcript).encode(), SCENARIO_IDS, name="again.json") == transcript
    return transcript


@CI
@given(mutated(TRANSCRIPT_DOCS))
def test_transcript_reader_on_mutated_files(data):
    _check_transcript(_as_json(data))


@CI
@given(RAW_INPUTS)
def test_transcript_reader_on_random_bytes(raw):
    _check_transcript(raw)


# --- scenario, rubric and track loaders -----------------------------------------------------

def _docs(paths):
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths]


SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))[:3]
SCENARIO_DOCS = _docs(SCENARIO_FILES)
RUBRIC_DOCS = _docs([ROOT / "rubrics" / "standard-100.yaml", ROOT / "rubrics" / "qa-inspection.yaml"])
TRACK_DOCS = _docs([ROOT / "rubrics" / "tracks" / "core.yaml"])


def _write(name: str, raw: bytes) -> Path:
    path = SCRATCH / name
    path.write_bytes(raw)
    return path


def _load_each_way(loader, name: str, data):
    """The loader on the document as YAML and as JSON: loads or fails naming the file."""
    for suffix, raw in ((".yaml", _as_yaml(data)), (".json", _as_json(data))):
        path = _write(name + suffix, raw)
        try:
            loader(path)
        except DataFileError as exc:
            assert_own_fault(exc, str(path))


def _scenario_loader(path):
    from app.core.scenario_files import scenario_versions

    return scenario_versions(path, scenarios_dir=ROOT / "scenarios")


@LOADER
@given(mutated(SCENARIO_DOCS))
def test_scenario_loader_on_mutated_files(data):
    _load_each_way(_scenario_loader, "scenario", data)
    _load_each_way(load_scenario_for_scoring, "scenario", data)  # the scorer's view of the same file


@LOADER
@given(mutated(RUBRIC_DOCS))
def test_rubric_loader_on_mutated_files(data):
    # Named after the first rubric: the other one (or a mutated id) also gets the name fault.
    _load_each_way(load_rubric, "standard-100", data)


@LOADER
@given(mutated(TRACK_DOCS))
def test_track_loader_on_mutated_files(data):
    from app.core.certification import load_track

    _load_each_way(load_track, "core", data)


@CI
@given(RAW_INPUTS)
def test_data_file_reader_on_random_bytes(raw):
    for suffix in (".yaml", ".json"):
        path = _write("random" + suffix, raw)
        try:
            read_raw(path)
        except DataFileError as exc:
            assert_own_fault(exc, str(path))


# --- the scorer ------------------------------------------------------------------------------

RUBRICS = [load_rubric(ROOT / "rubrics" / "standard-100.yaml"), load_rubric(ROOT / "rubrics" / "qa-inspection.yaml")]
SCENARIOS = {p.stem: load_scenario_for_scoring(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
# Words the scorer's patterns react to, from the real transcripts, mixed with noise.
PHRASES = sorted({t["text"] for d in TRANSCRIPT_DOCS for t in d["turns"]})
TEXTS = st.one_of(st.sampled_from(PHRASES), st.text(min_size=1, max_size=80).filter(str.strip),
                  st.lists(st.sampled_from(PHRASES), min_size=2, max_size=4).map("".join))
TURNS = st.lists(st.tuples(st.sampled_from(["agent", "customer"]), TEXTS), min_size=1, max_size=25)


@CI
@given(scenario_id=st.sampled_from(sorted(SCENARIOS)), rubric=st.sampled_from(RUBRICS), turns=TURNS)
def test_scorer_is_deterministic_and_within_bounds(scenario_id, rubric, turns):
    try:
        transcript = make_transcript(scenario_id, turns)
    except DataFileError:
        return  # e.g. a text of only whitespace: not a valid transcript, nothing to score
    scenario = SCENARIOS[scenario_id]
    first = score_transcript(transcript, scenario, rubric, keyword_analyse)
    again = score_transcript(transcript, scenario, rubric, keyword_analyse)
    assert first.to_json() == again.to_json()
    assert 0 <= first.total <= rubric.max
    assert first.max == rubric.max
    for dim_id, dim in first.dimensions.items():
        assert 0 <= dim.score <= dim.max == rubric.dimension(dim_id).max
    # The total is the sum of the dimensions, unless a red line vetoed it to 0 (the QA form).
    assert abs(sum(d.score for d in first.dimensions.values()) - first.total) < 1e-6 or \
        (first.veto is not None and first.total == 0 and first.flags and rubric.red_lines.veto)
    # Evidence quotes what was said in the turn it cites; flags cite agent turns only.
    agent_turns = {i for i, t in enumerate(transcript.turns) if t.speaker == "agent"}
    for result in first.criteria:
        assert result.score <= result.max + 1e-6, result
        for ev in result.evidence:
            assert 0 <= ev.turn < len(transcript.turns) and ev.quote in transcript.turns[ev.turn].text, ev
    for flag in first.flags:
        assert set(flag.turns) <= agent_turns, flag


# --- loaders that write: nothing kept of a refused input --------------------------------------

def _row_counts():
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AuditEvent, Drill, RubricVersion, ScenarioVersion, Score, Turn

    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Drill, Turn, Score, AuditEvent, ScenarioVersion, RubricVersion))


@pytest.fixture
def uploader(app, make_user):
    return make_user("trainer", username="prop-uploader")


@FEW
@given(data=st.one_of(mutated(TRANSCRIPT_DOCS), RAW_INPUTS))
def test_a_refused_import_leaves_the_database_unchanged(app, uploader, data):
    from app.services.scoring import import_transcript

    raw = data if isinstance(data, bytes) else _as_json(data)
    before = _row_counts()
    try:
        drill = import_transcript(raw, "call.json", uploader, external_agent="agent-x")
    except DataFileError as exc:
        assert_own_fault(exc, "call.json")
        assert _row_counts() == before
    else:
        assert drill.id is not None and _row_counts() != before


@settings(FEW, max_examples=20 if SLOW else 2)  # each example validates the whole content folder
@given(data=mutated(SCENARIO_DOCS[:1]))
def test_flask_scenarios_load_refuses_a_broken_folder_whole(app, runner, data):
    """`flask scenarios load` on a folder with one mutated scenario: either every file is
    valid and stored, or the command fails naming the file and stores nothing."""
    import shutil

    folder = SCRATCH / "content"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(ROOT / "scenarios", folder)
    (folder / SCENARIO_FILES[0].name).write_bytes(_as_yaml(data))
    app.config["SCENARIOS_DIR"] = str(folder)
    before = _row_counts()
    result = runner.invoke(args=["scenarios", "load"])
    if result.exit_code != 0:
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert SCENARIO_FILES[0].name in result.output, result.output
        assert _row_counts() == before
