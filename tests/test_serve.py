"""`seqkeras serve`: HTTP answers equal the bundle's, and every malformed request gets a 4xx."""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading

import keras
import numpy as np
import pytest

from seqkeras import export, runtime
from seqkeras.serve import make_server
from seqkeras.tasks.activity import ActivityTask
from seqkeras.tasks.char_lm import CharLMTask
from seqkeras.tasks.dna import DnaTask
from seqkeras.tasks.sentiment import SentimentTask

TEXTS = ["The food was not good .", "The staff was friendly ."]


def untrained_bundle(task, path):
    task.preprocessor = task.build_preprocessor(task.data["train"])
    task.model = task.build_model()
    return task.export(path, formats="onnx", verify=False, progress=False)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    inputs = keras.Input((3,), name="x")
    plain = keras.Model(inputs, keras.layers.Dense(2, name="y")(inputs))
    return {
        "classify": untrained_bundle(SentimentTask(smoke=True), root / "sentiment"),
        "generate": untrained_bundle(
            CharLMTask({"num_layers": 1, "units": 8, "embedding_dim": 4}, smoke=True),
            root / "char_lm",
        ),
        "plain": export.bundle(plain, root / "plain", formats="onnx", progress=False),
        "dna": untrained_bundle(DnaTask(smoke=True), root / "dna"),
        "activity": untrained_bundle(ActivityTask(smoke=True), root / "activity"),
    }


@pytest.fixture(scope="module")
def servers(bundles):
    running = {}
    for name, path in bundles.items():
        server = make_server(path, port=0, max_body_bytes=4096, max_inputs=8, verbose=False)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        running[name] = server
    yield running
    for server in running.values():
        server.shutdown()
        server.server_close()


def request(server, method, path, body=None, raw=None):
    connection = http.client.HTTPConnection(*server.server_address, timeout=30)
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    status, reply = response.status, json.loads(response.read())
    connection.close()
    return status, reply


def test_healthz_describes_the_bundle(servers):
    status, reply = request(servers["classify"], "GET", "/healthz")
    assert status == 200
    assert reply == {
        "status": "ok",
        "task": "sentiment",
        "backend": "onnx",
        "inputs": "texts",
        "options": [],
    }
    assert request(servers["generate"], "GET", "/healthz")[1]["inputs"] == "prefixes"


def test_predict_answers_what_the_bundle_predicts(servers, bundles):
    status, reply = request(servers["classify"], "POST", "/v1/predict", {"inputs": TEXTS})
    assert status == 200
    assert reply == {"outputs": runtime.load(bundles["classify"]).predict(TEXTS)}


def test_generation_options_reach_the_sampler(servers, bundles):
    options = {"num": 2, "temperature": 0.8, "seed": 3, "max_len": 6}
    status, reply = request(
        servers["generate"], "POST", "/v1/predict", {"inputs": ["a", ""], "options": options}
    )
    assert status == 200
    bundle = runtime.load(bundles["generate"])
    sampling = {key: value for key, value in options.items() if key != "num"}
    expected = [bundle.generate(2, prefix, **sampling) for prefix in ("a", "")]
    assert reply["outputs"] == expected and len(reply["outputs"][0]) == 2


def test_dna_sequences_and_activity_clips(servers, bundles):
    sequences = ["ACGTTATAAAAGGC", "GGGGCGGGGNACGT"]
    status, reply = request(servers["dna"], "POST", "/v1/predict", {"inputs": sequences})
    assert status == 200
    expected = json.loads(json.dumps(runtime.load(bundles["dna"]).predict(sequences)))
    assert reply == {"outputs": expected}
    # Short clips, rounded: the test server takes bodies of at most 4096 bytes.
    clips = [
        example.frames[:6].astype(float).round(2)
        for example in ActivityTask(smoke=True).data["test"][:2]
    ]
    body = {"inputs": [clip.tolist() for clip in clips]}
    status, reply = request(servers["activity"], "POST", "/v1/predict", body)
    assert status == 200 and reply["outputs"] == runtime.load(bundles["activity"]).predict(clips)
    # File paths are not read: a client cannot make the server open its files.
    status, reply = request(servers["activity"], "POST", "/v1/predict", {"inputs": ["/etc/passwd"]})
    assert status == 400 and "number arrays" in reply["error"]


def test_a_plain_bundle_takes_number_arrays(servers, bundles):
    rows = [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]]
    status, reply = request(servers["plain"], "POST", "/v1/predict", {"inputs": rows})
    assert status == 200
    expected = runtime.load(bundles["plain"]).predict(np.array(rows, np.float32))
    np.testing.assert_allclose(reply["outputs"], expected, rtol=1e-6)
    status, reply = request(servers["plain"], "POST", "/v1/predict", {"inputs": [[1, 2], [1]]})
    assert status == 400 and "one shape" in reply["error"]


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"inputs": "one text"}).encode(), 400, "non-empty list"),
        (json.dumps({"inputs": []}).encode(), 400, "non-empty list"),
        (json.dumps({"inputs": [1, 2]}).encode(), 400, "list of strings"),
        (json.dumps({"inputs": TEXTS, "extra": 1}).encode(), 400, "unknown fields"),
        (json.dumps({"inputs": TEXTS, "options": []}).encode(), 400, "'options' must be"),
        (json.dumps({"inputs": TEXTS, "options": {"beam": 3}}).encode(), 400, "unknown options"),
        (json.dumps({"inputs": ["   "]}).encode(), 400, "empty"),
        (json.dumps({"inputs": ["good"] * 9}).encode(), 413, "most per request is 8"),
        (json.dumps({"inputs": ["good " * 2000]}).encode(), 413, "the most is 4096"),
    ],
)
def test_malformed_requests_get_a_4xx_and_the_server_keeps_serving(servers, body, status, message):
    got, reply = request(servers["classify"], "POST", "/v1/predict", raw=body)
    assert got == status and message in reply["error"]
    assert request(servers["classify"], "POST", "/v1/predict", {"inputs": TEXTS})[0] == 200


def test_paths_methods_and_missing_length(servers):
    server = servers["classify"]
    assert request(server, "GET", "/v1/predict")[0] == 405
    assert request(server, "GET", "/nope")[0] == 404
    assert request(server, "POST", "/healthz", {"inputs": TEXTS})[0] == 404
    with socket.create_connection(server.server_address, timeout=30) as connection:
        connection.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n\r\n")
        assert connection.recv(4096).startswith(b"HTTP/1.1 411")


def test_the_command_line_serves_a_bundle(bundles):
    command = [sys.executable, "-m", "seqkeras.cli", "serve", str(bundles["classify"])]
    process = subprocess.Popen(
        [*command, "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("serving ") and "http://127.0.0.1:" in line
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/healthz")
        assert json.loads(connection.getresponse().read())["task"] == "sentiment"
    finally:
        process.terminate()
        process.wait(timeout=30)
