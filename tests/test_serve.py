"""`seqkeras serve`: /v1/predict answers equal the bundle's, every bad request gets a JSON 4xx
naming what is wrong, and the server keeps serving."""

import json
import socket

import numpy as np
import pytest

from seqkeras import runtime
from tests.serve_helpers import TEXTS, bundle_path, start_servers

pytest.importorskip("starlette")
serve = pytest.fixture(scope="module")(start_servers)


@pytest.fixture(scope="module")
def servers(serve):
    return {
        "sentiment": serve("sentiment", max_body_bytes=8192, limits={"inputs": 8}),
        "char_lm": serve("char_lm"),
        "dates": serve("dates"),
        "plain": serve("plain"),
    }


def test_healthz_describes_the_bundle_contract(servers):
    status, _, reply = servers["sentiment"].request("GET", "/healthz")
    assert status == 200
    assert reply == {
        "status": "ok",
        "task": "sentiment",
        "backend": "onnx",
        "inputs": "texts",
        "options": {},
        "limits": {"inputs": 8},
    }
    reply = servers["char_lm"].request("GET", "/healthz")[2]
    assert reply["inputs"] == "prefixes" and reply["limits"]["generated"] == 1024
    assert reply["options"]["num"] == {
        "type": "integer",
        "default": 1,
        "min": 1,
        "max": 64,
        "nullable": False,
        "help": "texts per prefix",
    }
    assert "lm" not in servers["dates"].request("GET", "/healthz")[2]["options"]


def test_predict_answers_what_the_bundle_predicts(servers):
    bundle = runtime.load(bundle_path("sentiment"))
    status, headers, reply = servers["sentiment"].predict(TEXTS)
    assert status == 200 and headers["content-type"] == "application/json"
    assert reply == {"outputs": bundle.predict(TEXTS)}
    status, _, reply = servers["sentiment"].predict(TEXTS, scores=True)
    assert status == 200
    expected = json.loads(json.dumps(bundle.predict_scored(TEXTS)))
    assert reply["outputs"] == expected
    assert set(reply["outputs"][0]["probabilities"]) == set(bundle.preprocessor.labels)


def test_generation_options_reach_the_sampler(servers):
    options = {"num": 2, "temperature": 0.8, "seed": 3, "max_len": 6}
    status, _, reply = servers["char_lm"].predict(["a", ""], options=options)
    assert status == 200
    bundle = runtime.load(bundle_path("char_lm"))
    sampling = {key: value for key, value in options.items() if key != "num"}
    expected = [bundle.generate(2, prefix, **sampling) for prefix in ("a", "")]
    assert reply["outputs"] == expected and len(reply["outputs"][0]) == 2


def test_translation_options_and_scores(servers):
    bundle = runtime.load(bundle_path("dates"))
    sources = ["3 mars 2021", "9 may 2018"]
    status, _, reply = servers["dates"].predict(sources, options={"beam_width": 3, "alpha": 0.5})
    assert status == 200
    assert reply["outputs"] == bundle.predict(sources, beam_width=3, alpha=0.5)
    status, _, reply = servers["dates"].predict(sources, options={"beam_width": 2}, scores=True)
    scored = bundle.predict_scored(sources, beam_width=2)
    assert [o["output"] for o in reply["outputs"]] == [s["output"] for s in scored]
    np.testing.assert_allclose([o["score"] for o in reply["outputs"]], [s["score"] for s in scored])


def test_dna_sequences_and_activity_clips(serve):
    from seqkeras.tasks.activity import ActivityTask

    sequences = ["ACGTTATAAAAGGC", "GGGGCGGGGNACGT"]
    status, _, reply = serve("dna").predict(sequences)
    assert status == 200
    expected = json.loads(json.dumps(runtime.load(bundle_path("dna")).predict(sequences)))
    assert reply == {"outputs": expected}
    activity = serve("activity")
    clips = [
        example.frames[:6].astype(float).round(2)
        for example in ActivityTask(smoke=True).data["test"][:2]
    ]
    status, _, reply = activity.predict([clip.tolist() for clip in clips])
    assert status == 200
    assert reply["outputs"] == runtime.load(bundle_path("activity")).predict(clips)
    # File paths are not read: a client cannot make the server open its files.
    status, _, reply = activity.predict(["/etc/passwd"])
    assert status == 400 and "number arrays" in reply["error"]


def test_a_plain_bundle_takes_number_arrays(servers):
    rows = [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]]
    status, _, reply = servers["plain"].predict(rows)
    assert status == 200
    expected = runtime.load(bundle_path("plain")).predict(np.array(rows, np.float32))
    np.testing.assert_allclose(reply["outputs"], expected, rtol=1e-6)
    status, _, reply = servers["plain"].predict([[1, 2], [1]])
    assert status == 400 and "input" in reply["error"]


def body(value):
    return json.dumps(value).encode()


# (server, method, path, raw body, extra headers, status, words of the error)
CATALOGUE = [
    ("sentiment", "POST", "/v1/predict", b"{not json", None, 400, "not valid JSON"),
    ("sentiment", "POST", "/v1/predict", b"[1, 2]", None, 400, "JSON object"),
    ("sentiment", "POST", "/v1/predict", body({"inputs": "one"}), None, 400, "non-empty list"),
    ("sentiment", "POST", "/v1/predict", body({"inputs": []}), None, 400, "non-empty list"),
    ("sentiment", "POST", "/v1/predict", body({"inputs": [1, 2]}), None, 400, "list of strings"),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        body({"inputs": TEXTS, "x": 1}),
        None,
        400,
        "unknown fields",
    ),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        body({"inputs": TEXTS, "options": []}),
        None,
        400,
        "'options' must be",
    ),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        body({"inputs": TEXTS, "options": {"beam": 3}}),
        None,
        400,
        "unknown options",
    ),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        body({"inputs": TEXTS, "scores": "yes"}),
        None,
        400,
        "'scores'",
    ),
    ("sentiment", "POST", "/v1/predict", body({"inputs": ["   "]}), None, 400, "empty"),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        body({"inputs": ["good"] * 9}),
        None,
        413,
        "the most per call is 8",
    ),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        body({"inputs": ["good " * 2000]}),
        None,
        413,
        "the most is 8192",
    ),
    ("sentiment", "POST", "/v1/predict", b'{"inputs": ["a"], "x": NaN}', None, 400, "NaN"),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        b'{"inputs": ["a"], "x": -Infinity}',
        None,
        400,
        "Infinity",
    ),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        b'{"inputs": ["a"], "x": 1e999}',
        None,
        400,
        "out of range",
    ),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        b'{"inputs": ' + b"[" * 3000 + b"]" * 3000 + b"}",
        None,
        400,
        "too deeply",
    ),
    (
        "sentiment",
        "POST",
        "/v1/predict",
        body({"inputs": TEXTS}),
        {"Content-Length": "x"},
        400,
        "invalid HTTP request",
    ),
    ("sentiment", "PUT", "/v1/predict", body({"inputs": TEXTS}), None, 405, "Method Not Allowed"),
    ("sentiment", "DELETE", "/v1/predict", None, None, 405, "Method Not Allowed"),
    ("sentiment", "OPTIONS", "/v1/predict", None, None, 405, "Method Not Allowed"),
    ("sentiment", "GET", "/v1/predict", None, None, 405, "Method Not Allowed"),
    ("sentiment", "POST", "/healthz", body({"inputs": TEXTS}), None, 405, "Method Not Allowed"),
    ("sentiment", "GET", "/nope", None, None, 404, "Not Found"),
    ("sentiment", "GET", "/" + "a" * 9000, None, None, 414, "URL"),
    (
        "sentiment",
        "GET",
        "/healthz",
        None,
        {f"x-h{i}": "v" * 1000 for i in range(20)},
        431,
        "headers",
    ),
    (
        "char_lm",
        "POST",
        "/v1/predict",
        body({"inputs": ["a"], "options": {"num": 10**9}}),
        None,
        400,
        "`num` must be between 1 and 64",
    ),
    (
        "char_lm",
        "POST",
        "/v1/predict",
        body({"inputs": ["a"] * 20, "options": {"num": 64}}),
        None,
        413,
        "1280 texts",
    ),
    (
        "char_lm",
        "POST",
        "/v1/predict",
        body({"inputs": ["a"], "options": {"seed": -1}}),
        None,
        400,
        "`seed`",
    ),
    (
        "char_lm",
        "POST",
        "/v1/predict",
        body({"inputs": ["a"], "options": {"top_p": 1.5}}),
        None,
        400,
        "`top_p`",
    ),
    (
        "char_lm",
        "POST",
        "/v1/predict",
        body({"inputs": ["a"], "options": {"temperature": "hot"}}),
        None,
        400,
        "`temperature` must be a number",
    ),
    (
        "char_lm",
        "POST",
        "/v1/predict",
        body({"inputs": ["a"], "options": {"num": True}}),
        None,
        400,
        "`num` must be an integer",
    ),
    (
        "char_lm",
        "POST",
        "/v1/predict",
        body({"inputs": ["a"], "options": {"max_len": 2.5}}),
        None,
        400,
        "`max_len` must be an integer",
    ),
    (
        "dates",
        "POST",
        "/v1/predict",
        body({"inputs": ["3 mars 2021"], "options": {"alpha": 1e308}}),
        None,
        400,
        "`alpha` must be between 0.0 and 10.0",
    ),
    (
        "dates",
        "POST",
        "/v1/predict",
        body({"inputs": ["3 mars 2021"], "options": {"beam_width": 10**5}}),
        None,
        400,
        "`beam_width` must be between 1 and 32",
    ),
    (
        "dates",
        "POST",
        "/v1/predict",
        body({"inputs": ["3 mars 2021"], "options": {"lm": 1}}),
        None,
        400,
        "unknown options ['lm']",
    ),
    (
        "plain",
        "POST",
        "/v1/predict",
        body({"inputs": [[1.0, 2.0, 1e300 * 10]]}),
        None,
        400,
        "out of range",
    ),
    ("plain", "POST", "/v1/predict", body({"inputs": ["/etc/passwd"]}), None, 400, "number arrays"),
    ("plain", "POST", "/v1/predict", body({"inputs": [7]}), None, 400, "a number"),
]


@pytest.mark.parametrize(
    "name, method, path, raw, headers, status, words",
    CATALOGUE,
    ids=[f"{i}-{entry[0]}-{entry[5]}" for i, entry in enumerate(CATALOGUE)],
)
def test_bad_requests_get_a_json_error_and_the_server_keeps_serving(
    servers, name, method, path, raw, headers, status, words
):
    server = servers[name]
    got, reply_headers, reply = server.request(method, path, raw=raw, headers=headers)
    assert got == status, reply
    assert reply_headers["content-type"] == "application/json"
    assert words in reply["error"]
    assert "Traceback" not in reply["error"]
    if status == 405:
        assert reply_headers["allow"]
    ok_inputs = (
        ["3 mars 2021"] if name == "dates" else [[1.0, 2.0, 3.0]] if name == "plain" else ["a"]
    )
    assert server.predict(ok_inputs)[0] == 200


def test_a_post_without_content_length_gets_411(servers):
    server = servers["sentiment"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = connection.recv(4096)
    assert reply.startswith(b"HTTP/1.1 411") and b"application/json" in reply


def test_every_response_carries_a_request_id(servers):
    server = servers["sentiment"]
    _, headers, _ = server.request("GET", "/healthz", headers={"X-Request-ID": "abc-123"})
    assert headers["x-request-id"] == "abc-123"
    first, second = (server.request("GET", "/nope")[1]["x-request-id"] for _ in range(2))
    assert first != second and first.split("-")[0] == second.split("-")[0]


def test_metrics_count_requests_by_route_and_status(servers):
    server = servers["sentiment"]
    server.predict(TEXTS)
    server.request("GET", "/nope")
    connection = __import__("http.client").client.HTTPConnection("127.0.0.1", server.port)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    assert 'seqkeras_requests_total{route="/v1/predict",status="200"}' in text
    assert 'seqkeras_requests_total{route="other",status="404"}' in text
    assert "seqkeras_batch_size_bucket" in text and "seqkeras_queue_depth" in text
    assert "seqkeras_engine_seconds_count" in text
