"""Serve the small local model with llama.cpp's OpenAI-compatible server on 127.0.0.1.

Used by the `llm` test tier and benchmarks/llm_bench.py (as `LlamaServer`), and by hand
for a fully offline demo:

    bash scripts/llm-tier.sh                 # once: builds the runtime, fetches the model
    python scripts/llm_server.py --port 8081 # then point the app at it (README)

The runtime lives in its own venv (HOTLINE_LLM_VENV, default
~/.cache/hotline-coach/llm-venv) so the app's venv never carries llama.cpp; the model is
the one scripts/llm_model.py cached (HOTLINE_LLM_MODEL_SIZE, default 0.5b), or any GGUF
file named by HOTLINE_LLM_MODEL.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import llm_model  # noqa: E402

DEFAULT_VENV = Path.home() / ".cache" / "hotline-coach" / "llm-venv"
READY_TIMEOUT = 300.0  # loading the 1.5B model on a busy 2-core machine


def runtime_python() -> Path:
    return Path(os.environ.get("HOTLINE_LLM_VENV", DEFAULT_VENV)) / "bin" / "python"


def threads() -> int:
    """Threads for llama.cpp: HOTLINE_LLM_THREADS, default 1. Measured on a 2-core machine
    shared with other work (benchmarks/RESULTS.md): 1 thread generated about 11 tokens/s,
    2 threads 1.2-1.6 tokens/s, because llama.cpp's threads spin waiting for each other
    whenever another process takes a core. One thread degrades gracefully."""
    return int(os.environ.get("HOTLINE_LLM_THREADS", "1"))


def model_size() -> str:
    return os.environ.get("HOTLINE_LLM_MODEL_SIZE", "0.5b")


def model_file(size: str | None = None) -> Path | None:
    """The GGUF file to serve: HOTLINE_LLM_MODEL, else the verified cached model of `size`."""
    if os.environ.get("HOTLINE_LLM_MODEL"):
        path = Path(os.environ["HOTLINE_LLM_MODEL"])
        return path if path.is_file() else None
    return llm_model.cached(llm_model.MODELS[size or model_size()])


def missing(size: str | None = None) -> str | None:
    """Why the local model cannot be served here, or None when it can."""
    py = runtime_python()
    if not py.exists():
        return f"no llama.cpp runtime at {py} (run: bash scripts/llm-tier.sh)"
    done = subprocess.run([str(py), "-c", "import llama_cpp.server"], capture_output=True, text=True)
    if done.returncode:
        return f"{py} cannot import llama_cpp.server (run: bash scripts/llm-tier.sh): {done.stderr.strip()[-300:]}"
    if model_file(size) is None:
        return (f"model {size or model_size()} is not cached and verified in {llm_model.cache_dir()} "
                f"(run: bash scripts/llm-tier.sh)")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """`python -m llama_cpp.server` on a free port of 127.0.0.1, ready when /v1/models answers."""

    def __init__(self, model: Path, port: int | None = None, n_ctx: int = 4096, n_threads: int | None = None,
                 log_path: Path | None = None):
        self.model, self.port = Path(model), port or free_port()
        self.n_ctx, self.n_threads = n_ctx, n_threads or threads()
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None
        self.model_id = self.model.name

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [str(runtime_python()), "-m", "llama_cpp.server", "--model", str(self.model),
                "--model_alias", self.model_id, "--host", "127.0.0.1", "--port", str(self.port),
                "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
                "--n_threads_batch", str(self.n_threads)]

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def start(self, timeout: float = READY_TIMEOUT) -> "LlamaServer":
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200 and json.load(r).get("data"):
                        return self
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"llama.cpp server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> "LlamaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Serve the local model on 127.0.0.1 for an offline demo.")
    ap.add_argument("--size", choices=sorted(llm_model.MODELS), default=model_size())
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--threads", type=int, default=threads())
    args = ap.parse_args(argv)
    reason = missing(args.size)
    if reason:
        print(f"llm_server: {reason}", file=sys.stderr)
        return 1
    server = LlamaServer(model_file(args.size), port=args.port, n_threads=args.threads)
    server.start()
    print(f"serving {server.model} at {server.base_url} (log: {server.log_path})\n"
          f"  export OPENAI_BASE_URL={server.base_url} OPENAI_MODEL={server.model_id} OPENAI_API_KEY=none\n"
          "Ctrl-C stops it.", flush=True)
    try:
        server.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
