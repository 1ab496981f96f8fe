"""`seqkeras serve --ray --replicas 2`: a local Ray Serve deployment whose replicas run the
single-process server's app. Both replicas answer, and every route answers as the
single-process server does: /v1/predict, the Open Inference Protocol (driven by
`tritonclient.http`), metadata, JSON errors. One Ray instance for the module (Ray starts
slowly). Skipped when Ray Serve is not installed."""

import concurrent.futures
import http.client
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.serve_helpers import bundle_path, start_servers, wait_ready

pytest.importorskip("ray.serve")
httpclient = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

TEXTS = [
    f"The {word} was {verdict} ."
    for word in ("food", "staff")
    for verdict in ("good", "not good", "awful", "great", "fine")
]

serve = pytest.fixture(scope="module")(start_servers)


@pytest.fixture(scope="module")
def ray_port():
    """The port of `seqkeras serve BUNDLE --ray --replicas 2` (sentiment), ready; replicas
    wait up to 50 ms for company, so that concurrent requests share engine calls."""
    path = bundle_path("sentiment")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "seqkeras.cli", "serve", str(path)),
            *("--ray", "--replicas", "2", "--port", "0", "--quiet", "--max-wait-ms", "50"),
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
        wait_ready(port)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request(port, method, path, body=None):
    """`(status, replica, content type, parsed JSON body)` of one request."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
    connection.request(method, path, body=data)
    response = connection.getresponse()
    content = response.read()
    connection.close()
    return (
        response.status,
        response.getheader("X-Seqkeras-Replica"),
        response.getheader("Content-Type"),
        json.loads(content),
    )


def merged_calls(port):
    """Whether the replica that answers GET /metrics has run an engine call on more inputs
    than it had calls (when every request so far had one input: requests were merged)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/metrics")
    lines = connection.getresponse().read().decode().splitlines()
    value = {
        name: float(number)
        for name, _, number in (line.partition(" ") for line in lines)
        if name in ("seqkeras_batch_size_sum", "seqkeras_batch_size_count")
    }
    return value["seqkeras_batch_size_sum"] > value["seqkeras_batch_size_count"]


def test_both_replicas_answer_like_the_single_process_server(ray_port, serve):
    local = serve("sentiment")
    expected = [local.predict([text])[2]["outputs"][0] for text in TEXTS]
    replicas, merged = set(), False
    deadline = time.monotonic() + 120
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        while not (len(replicas) == 2 and merged) and time.monotonic() < deadline:
            answers = list(
                pool.map(
                    lambda text: request(ray_port, "POST", "/v1/predict", {"inputs": [text]}),
                    TEXTS * 2,
                )
            )
            for status, replica, _, reply in answers:
                assert status == 200, reply
                replicas.add(replica)
            assert [reply["outputs"][0] for *_, reply in answers] == expected * 2
            merged = merged or any(merged_calls(ray_port) for _ in range(4))
    assert len(replicas) == 2 and None not in replicas
    assert merged, "no engine call of a replica merged concurrent requests (@serve.batch)"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/healthz", None),
        ("GET", "/v2", None),
        ("GET", "/v2/health/live", None),
        ("GET", "/v2/models/sentiment/versions/1/ready", None),
        ("POST", "/v1/predict", {"inputs": TEXTS[:3], "scores": True}),
        ("POST", "/v1/predict", b"{not json"),
        ("POST", "/v1/predict", {"inputs": "one text"}),
        ("POST", "/v1/predict", {"inputs": ["good"] * 300}),
        ("GET", "/v1/predict", None),
        ("GET", "/nowhere", None),
        ("GET", "/v2/models/other", None),
        ("POST", "/v2/models/sentiment/infer", {"inputs": [{"name": "INPUT"}]}),
    ],
)
def test_routes_and_errors_answer_as_the_single_process_server(ray_port, serve, method, path, body):
    local = serve("sentiment")
    status, replica, content_type, reply = request(ray_port, method, path, body)
    expected_status, headers, expected = local.request(
        method, path, raw=body if isinstance(body, bytes) else None, body=body
    )
    assert (status, reply) == (expected_status, expected)
    assert content_type == headers["Content-Type"] == "application/json"
    assert replica is not None


def test_openapi_metrics_and_request_ids(ray_port, serve):
    status, _, _, schema = request(ray_port, "GET", "/openapi.json")
    assert status == 200 and schema == serve("sentiment").request("GET", "/openapi.json")[2]
    connection = http.client.HTTPConnection("127.0.0.1", ray_port, timeout=60)
    connection.request("GET", "/metrics", headers={"X-Request-ID": "probe-7"})
    response = connection.getresponse()
    assert response.status == 200
    assert b'seqkeras_requests_total{route="/v1/predict"' in response.read()
    assert [v for k, v in response.getheaders() if k.lower() == "x-request-id"] == ["probe-7"]


def test_triton_client_against_the_replicas(ray_port, serve):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{ray_port}")
    local = httpclient.InferenceServerClient(f"127.0.0.1:{serve('sentiment').port}")
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("sentiment") and not client.is_model_ready("nope")
    assert client.get_model_metadata("sentiment") == local.get_model_metadata("sentiment")
    for binary in (False, True):
        texts = httpclient.InferInput("INPUT", [len(TEXTS)], "BYTES")
        texts.set_data_from_numpy(np.array(TEXTS, dtype=object), binary_data=binary)
        outputs = [httpclient.InferRequestedOutput("OUTPUT", binary_data=binary)]
        got, want = (
            c.infer("sentiment", [texts], outputs=outputs).as_numpy("OUTPUT")
            for c in (client, local)
        )
        assert got.tolist() == want.tolist() and len(got) == len(TEXTS)
    numbers = httpclient.InferInput("INPUT", [1, 2], "FP32")
    numbers.set_data_from_numpy(np.zeros((1, 2), np.float32))
    with pytest.raises(InferenceServerException, match="BYTES tensor"):
        client.infer("sentiment", [numbers])
