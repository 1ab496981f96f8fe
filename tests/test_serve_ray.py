"""`seqkeras serve --ray --replicas 2`: a local Ray Serve deployment; both replicas answer,
with the single-process server's outputs. Skipped when Ray Serve is not installed."""

import concurrent.futures
import http.client
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from seqkeras import runtime
from tests.serve_helpers import bundle_path

pytest.importorskip("ray.serve")

TEXTS = [
    f"The {word} was {verdict} ."
    for word in ("food", "staff")
    for verdict in ("good", "not good", "awful", "great", "fine")
]


def post(port, texts):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/v1/predict", body=json.dumps({"inputs": texts}))
    response = connection.getresponse()
    return response.status, response.getheader("X-Seqkeras-Replica"), json.loads(response.read())


def test_two_ray_replicas_answer_like_the_single_process_server():
    path = bundle_path("sentiment")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seqkeras.cli",
            "serve",
            str(path),
            "--ray",
            "--replicas",
            "2",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "RAY_USAGE_STATS_ENABLED": "0"},
    )
    try:
        line = process.stdout.readline()
        assert line.startswith(f"serving {path} (sentiment, onnx) on http://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        expected = runtime.load(path).predict(TEXTS)
        replicas = set()
        deadline = time.monotonic() + 120
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while len(replicas) < 2 and time.monotonic() < deadline:
                answers = list(pool.map(lambda text: post(port, [text]), TEXTS * 2))
                for status, replica, reply in answers:
                    assert status == 200, reply
                    replicas.add(replica)
                assert [reply["outputs"][0] for _, _, reply in answers] == expected * 2
        assert len(replicas) == 2
        status, _, reply = post(port, ["good"] * 300)
        assert status == 413 and "the most per call is 256" in reply["error"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
