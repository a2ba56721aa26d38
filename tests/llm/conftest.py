"""The `llm` tier: a real small chat model served by llama.cpp on 127.0.0.1.

`bash scripts/llm-tier.sh` installs the runtime (its own venv) and the model (cached,
SHA-256 checked); `.ci/run` calls it, so CI on a fresh machine has both. The tier is
opt-in locally, because it takes minutes: it runs under CI, with `-m llm`, or with
HOTLINE_LLM_TESTS=1, and otherwise skips saying so. When it should run but the runtime
or the model is missing it skips with the reason, except under CI, where that fails.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import llm_server  # noqa: E402

HERE = Path(__file__).resolve().parent


def _wanted(config) -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("HOTLINE_LLM_TESTS") == "1" or \
        "llm" in (config.getoption("markexpr") or "")


def pytest_collection_modifyitems(config, items):
    if _wanted(config):
        return
    skip = pytest.mark.skip(reason="llm tier skipped: it runs under CI, with `-m llm` or HOTLINE_LLM_TESTS=1 "
                                   "(after `bash scripts/llm-tier.sh`)")
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(skip)


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"llm tier cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"llm tier skipped: {reason}")


@pytest.fixture(scope="session")
def llama():
    """The llama.cpp server with the small model, on a free port of 127.0.0.1."""
    reason = llm_server.missing()
    if reason is not None:
        skip_or_fail(reason)
    server = llm_server.LlamaServer(llm_server.model_file(), n_ctx=4096)  # threads: HOTLINE_LLM_THREADS or 1
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llm_client(llama):
    from app.core.llm import LLMClient

    # The timeout bounds a stuck server, not a slow turn: CI's 2 cores are shared.
    return LLMClient(llama.base_url, None, llama.model_id, timeout=120)


@pytest.fixture(scope="session")
def zh_intents(cache_dir):
    from app.core.acts import load_intent_model

    return load_intent_model("zh-CN", acts_dir=ROOT / "rubrics" / "acts", cache_dir=cache_dir)


@pytest.fixture(scope="session")
def llm_engine(llm_client, zh_intents):
    from app.core.simulation import make_engine

    return make_engine("llm", lambda language: zh_intents, llm_client, prompts_dir=ROOT / "scenarios" / "prompts")
