"""No secret in the repository: every file git tracks is scanned for private keys,
provider API keys and tokens, credentials in URLs, long random-looking strings, and
secret-named settings given a literal value. The demo accounts' passwords are the only
passwords allowed, listed here and required to be documented in the README.
"""
from __future__ import annotations

import collections
import math
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "OpenAI-style key": re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}"),
    "GitHub token": re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "bearer token": re.compile(r"Bearer\s+[A-Za-z0-9._~+/-]{20,}"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"`]+:([^\s@/'\"`]+)@"),
}
# Placeholders the README and tests use in example URLs.
URL_PASSWORD_PLACEHOLDERS = {"p", "pass", "password", "..."}

# Secret-named settings assigned a literal: `SECRET_KEY = "..."`, `api_key="..."`,
# `OPENAI_API_KEY: ...` in YAML and the like.
_SECRET_NAME = r"[A-Za-z_]*(?:SECRET|API_KEY|APIKEY|ACCESS_KEY|TOKEN|PASSWORD|PASSWD)[A-Za-z_]*"
SECRET_ASSIGNMENT = re.compile(
    rf"""(?:["'](?P<key>{_SECRET_NAME})["']\s*:|(?<![\w"'])(?P<name>{_SECRET_NAME})\s*[=:])"""
    r"""\s*[rbfu]?(?P<q>['"])(?P<value>[^'"\n]{4,})(?P=q)""", re.I)
# Literal values allowed for such names, each with the reason.
ALLOWED_SECRET_LITERALS = {
    ("config.py", "testing-only-secret"): "TestingConfig's key, for the test suite only",
    ("config.py", "scrypt"): "PASSWORD_HASH_METHOD: the name of a hash method, not a secret",
    ("config.py", "scrypt:1024:8:1"): "TestingConfig's PASSWORD_HASH_METHOD: a hash method and its cost",
    ("benchmarks/security_suite.py", "scrypt"): "the login timing at the production PASSWORD_HASH_METHOD",
}
# Tests may give their own accounts any password, and keys and tokens obviously fake
# values (for the fake servers they start on 127.0.0.1).
TEST_FAKE_VALUE = re.compile(r"^(?:test|fake|dummy|wrong|secret|k|x|password)[-\w]*$", re.I)

# The demo accounts' passwords: documented demo data (README table, `flask seed demo`).
DEMO_PASSWORDS = {"trainee-demo", "trainer-demo", "hr-demo-pass", "admin-demo", "demo-password"}
# Files that may name them: where they are defined, documented, and the tests that log in with them.
DEMO_PASSWORD_FILES = {"README.md", "app/services/accounts.py", "app/services/demo_certification.py",
                       "tests/e2e/support.py", "tests/test_cli.py"}

# Files that hold secrets or local data and must never be tracked.
NEVER_TRACKED = re.compile(r"(^|/)(\.env(\..*)?|secret_key|id_rsa|id_ed25519|[^/]*\.(pem|key|p12|pfx|db|sqlite3?))$")


def tracked_files() -> list[str]:
    result = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"git ls-files failed (the secret scan needs a git checkout): {result.stderr.strip()}")
    files = [f for f in result.stdout.split("\0") if f]
    assert len(files) > 100, "git ls-files listed almost nothing"
    return files


def scanned_texts():
    """(path, text) of every tracked text file but this one (its patterns and samples)."""
    for path in tracked_files():
        text = text_of(path)
        if text is not None and path != "tests/security/test_no_secrets.py":
            yield path, text


def text_of(path: str) -> str | None:
    raw = (ROOT / path).read_bytes() if (ROOT / path).is_file() else b""
    if b"\0" in raw[:4096]:
        return None  # binary (compiled catalogs, fonts, images)
    return raw.decode("utf-8", errors="replace")


def entropy(s: str) -> float:
    counts, n = collections.Counter(s), len(s)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def random_looking(text: str) -> list[str]:
    """Strings of 32+ key characters, with letters and digits, that look random, like
    generated keys and tokens: Shannon entropy of at least 3 bits per character for hex
    (at most 4 possible), at least 4 for wider alphabets."""
    out = []
    for m in re.finditer(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{32,}", text):
        s = m.group(0)
        if s.startswith("/") or not (re.search(r"\d", s) and re.search(r"[A-Za-z]", s)):
            continue
        if entropy(s) >= (3.0 if re.fullmatch(r"[0-9a-fA-F]+", s) else 4.0):
            out.append(s)
    return out


def published_checksums() -> set[str]:
    """SHA-256 sums the model fetcher checks downloads against: public data, not keys."""
    from scripts.llm_model import MODELS

    return {spec.sha256 for spec in MODELS.values()}


def test_no_key_token_or_credential_in_tracked_files():
    found = []
    checksums = published_checksums()
    for path, text in scanned_texts():
        for kind, pattern in PATTERNS.items():
            for m in pattern.finditer(text):
                if kind == "credentials in a URL" and m.group(1) in URL_PASSWORD_PLACEHOLDERS:
                    continue
                found.append(f"{path}: {kind}: {m.group(0)[:24]}…")
        found += [f"{path}: random-looking string {s[:12]}…" for s in random_looking(text) if s not in checksums]
    assert not found, "possible secrets in tracked files:\n" + "\n".join(found)


def test_no_secret_setting_has_a_literal_value():
    found = []
    for path, text in scanned_texts():
        for m in SECRET_ASSIGNMENT.finditer(text):
            value = m.group("value")
            if (path, value) in ALLOWED_SECRET_LITERALS or value in DEMO_PASSWORDS:
                continue
            name = (m.group("name") or m.group("key")).upper()
            if path.startswith("tests/") and ("PASSW" in name or TEST_FAKE_VALUE.match(value)):
                continue  # accounts the tests create, fake keys for fake servers
            if not re.search(r"[A-Za-z0-9]", value) or "{" in value or value.startswith(("$", "os.environ")):
                continue  # templates, environment lookups, punctuation
            if re.fullmatch(r"[^\x00-\x7f|]*\|[ -~]+", value) or not value.isascii():
                continue  # rubric keywords such as "服务密码|service password", UI text
            found.append(f"{path}: {name} = {value[:4]}…")
    assert not found, "secret-named settings with literal values:\n" + "\n".join(found)


def test_demo_passwords_are_documented_and_only_where_expected():
    from app.services.accounts import DEMO_USERS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    seeded = {password for _, password, *_ in DEMO_USERS}
    assert seeded <= DEMO_PASSWORDS, seeded - DEMO_PASSWORDS
    assert all(f"`{p}`" in readme for p in seeded), "every demo password is in the README's table"
    misplaced = [f"{path}: {p}" for path, text in scanned_texts() if path not in DEMO_PASSWORD_FILES
                 for p in DEMO_PASSWORDS if p in text]
    assert not misplaced, misplaced


def test_secret_files_are_neither_tracked_nor_trackable():
    tracked = [f for f in tracked_files() if NEVER_TRACKED.search(f)]
    assert not tracked, tracked
    # The generated local key lives in instance/, which git ignores.
    ignored = subprocess.run(["git", "check-ignore", "-q", "instance/secret_key"], cwd=ROOT)
    assert ignored.returncode == 0, "instance/secret_key is not ignored by git"


def test_the_scan_finds_what_it_looks_for():
    """The patterns catch real-looking secrets (built here, so this file holds none)."""
    samples = {
        "private key": "-----BEGIN " + "RSA PRIVATE KEY-----",
        "AWS access key": "AKIA" + "Q3EGRT5IMZ7XK2NA",
        "OpenAI-style key": "sk-" + "proj-" + "a8F3kLm2Qz9XwV7tR4yB1nC6",
        "GitHub token": "ghp_" + "x7Kq2mR9vB4nL8wT3zY6cF1hJ5dS0pA",
        "credentials in a URL": "postgresql://hotline:" + "Zr8#kq2@db/hotline",
    }
    for kind, sample in samples.items():
        assert PATTERNS[kind].search(sample), kind
    assert random_looking('SECRET = "' + "9f2c4e8a1b7d3f6e0a5c9b2d8e4f1a7c" + '"')
    assert random_looking("token: " + "Qm9vS2V5LXRlc3Qtb25seS0xMjM0NTY3ODkwYWJj")
    for line in ('SECRET_KEY = "hunter2-but-longer"', '{"OPENAI_API_KEY": "abc123def"}', "api_token: 'abc123def'"):
        assert SECRET_ASSIGNMENT.search(line), line
    assert not SECRET_ASSIGNMENT.search('startswith("remember_token=") for c in cookies if c != "x"')
