"""A server on an export runtime (ONNX Runtime, OpenVINO) never imports torch: `contradict serve` in
a real process, inspected from inside (its ``sys.modules``, written on SIGUSR1 while it serves) and
from outside (the shared libraries it mapped)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.models import build_varied_model
from tests.support.service import body, make_pairs
from training.export_onnx import export_onnx

pytestmark = pytest.mark.slow  # a real uvicorn server in its own interpreter

# Runs the console script's code in an interpreter that writes its module names on SIGUSR1.
SERVE = """
import json, signal, sys
out = sys.argv[1]
signal.signal(signal.SIGUSR1, lambda *_: open(out, "w").write(json.dumps(sorted(sys.modules))))
from contradict.cli import app
sys.argv = ["contradict", "serve", "--host", "127.0.0.1", "--port", sys.argv[2], "--model", sys.argv[3]]
app()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, path: str, payload: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {"content-type": "application/json"} if data else {}
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as response:
        return response.status, json.loads(response.read())


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if request(port, "/readyz")[0] == 200:
                return
        except OSError:
            pass
        assert server.poll() is None, server.communicate()[0]
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.3)


# backend -> (its Python package, a shared library of its runtime)
RUNTIMES = {"onnx": ("onnxruntime", "onnxruntime"), "openvino": ("openvino", "libopenvino")}


@pytest.mark.parametrize("backend", sorted(RUNTIMES))
def test_a_server_on_an_export_runtime_never_imports_torch(backend, tiny_model_dir, tmp_path):
    package, library = RUNTIMES[backend]
    folder = build_varied_model(tiny_model_dir, tmp_path / "model", make_pairs(8, seed=0))
    export_onnx(folder, check=0)
    modules_file, port = tmp_path / "modules.json", free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONTRADICT_")}
    env["CONTRADICT_BACKEND"] = backend
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(modules_file), str(port), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        wait_ready(port, server)
        status, scored = request(port, "/v1/contradictions", body(make_pairs(5, seed=1), symmetric=True))
        assert status == 200 and len(scored["results"]) == 5
        assert request(port, "/v1/model")[1]["runtime"]["backend"] == backend
        mapped = Path(f"/proc/{server.pid}/maps").read_text()
        assert "libtorch" not in mapped and library in mapped
        server.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not modules_file.is_file() or not modules_file.read_text().endswith("]"):
            assert time.monotonic() < deadline, "the server did not write its modules"
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGINT)
        logs = server.communicate(timeout=60)[0]
    modules = set(json.loads(modules_file.read_text()))
    assert package in modules, logs[-2000:]
    assert not {name for name in modules if name == "torch" or name.startswith("torch.")}
