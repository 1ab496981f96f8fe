"""Tiny untrained bundles (built once per test session) and an in-process server for the
serving tests."""

import atexit
import functools
import http.client
import json
import pathlib
import shutil
import tempfile
import threading
import time

import pytest

ROOT = pathlib.Path(tempfile.mkdtemp(prefix="seqkeras-serve-tests-"))
atexit.register(shutil.rmtree, ROOT, True)
TEXTS = ["The food was not good .", "The staff was friendly ."]


def _untrained(task, name, formats=("onnx",)):
    task.preprocessor = task.build_preprocessor(task.data["train"])
    task.model = task.build_model()
    return task.export(ROOT / name, formats=formats, verify=False, progress=False)


@functools.cache
def bundle_path(kind):
    """The folder of a tiny bundle: sentiment (ONNX and TFLite), char_lm, dates, dna,
    activity, asr, or plain (one Dense graph)."""
    if kind == "sentiment":
        from seqkeras.tasks.sentiment import SentimentTask

        return _untrained(SentimentTask(smoke=True), kind, ("onnx", "tflite"))
    if kind == "char_lm":
        from seqkeras.tasks.char_lm import CharLMTask

        config = {"num_layers": 1, "units": 8, "embedding_dim": 4}
        return _untrained(CharLMTask(config, smoke=True), kind)
    if kind == "dates":
        from seqkeras.tasks.dates import DatesTask

        config = {"units": 8, "embedding_dim": 4, "attention_units": 8}
        return _untrained(DatesTask(config, smoke=True), kind)
    if kind == "dna":
        from seqkeras.tasks.dna import DnaTask

        return _untrained(DnaTask(smoke=True), kind)
    if kind == "activity":
        from seqkeras.tasks.activity import ActivityTask

        return _untrained(ActivityTask(smoke=True), kind)
    if kind == "asr":
        pytest.importorskip("espeakng_loader")
        from seqkeras.tasks.asr import AsrTask

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SEQKERAS_CACHE_DIR", str(ROOT / "cache"))
            task = AsrTask({"train_size": 4, "validation_size": 2, "units": 8}, smoke=True)
            return _untrained(task, kind)
    if kind == "plain":
        import keras

        from seqkeras import export

        inputs = keras.Input((3,), name="x")
        model = keras.Model(inputs, keras.layers.Dense(2, name="y")(inputs))
        return export.bundle(model, ROOT / kind, formats="onnx", progress=False)
    raise ValueError(kind)


class RunningServer:
    """A `seqkeras.serving` app under uvicorn in a thread, on a free port of 127.0.0.1.

    Args:
        path: the bundle folder.
        backend: the engine (default: the first installed).
        limits: `Bundle.limit` arguments.
        **settings: `seqkeras.serving.app.Service` arguments.
    """

    def __init__(self, path, backend=None, limits=None, **settings):
        import uvicorn

        from seqkeras import runtime
        from seqkeras.serving.app import Service, make_app
        from seqkeras.serving.runner import bind, uvicorn_config

        self.bundle = runtime.load(path, backend=backend).limit(**(limits or {}))
        self.service = Service(self.bundle, access_log=False, **settings)
        self.socket = bind("127.0.0.1", 0)
        self.port = self.socket.getsockname()[1]
        config = uvicorn_config(uvicorn, make_app(self.service), self.service.timeout)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.service.ready:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not become ready")
            time.sleep(0.02)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, raw=None, headers=None):
        """`(status, headers, parsed JSON body)` of one request on a new connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=data, headers=headers or {})
        response = connection.getresponse()
        content = response.read()
        connection.close()
        parsed = json.loads(content) if content else None
        return response.status, response.headers, parsed

    def predict(self, inputs, **fields):
        return self.request("POST", "/v1/predict", {"inputs": inputs, **fields})

    def close(self):
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.socket.close()


def wait_ready(port, seconds=120):
    """Polls /v2/health/ready of a server on 127.0.0.1:`port` until it answers 200: the
    "serving ..." line comes once the socket is bound, before the model's warm-up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/v2/health/ready")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the server on port {port} never became ready")


def start_servers():
    """The `serve` fixture of the test modules (`serve = pytest.fixture(scope="module")(
    start_servers)`): `serve(kind_or_path, **settings)` starts a `RunningServer`; all are
    closed at the end."""
    started = []

    def start(kind, **settings):
        path = kind if isinstance(kind, pathlib.Path) else bundle_path(kind)
        started.append(RunningServer(path, **settings))
        return started[-1]

    yield start
    for server in started:
        server.close()
