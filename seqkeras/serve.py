"""`seqkeras serve`: a bundle behind HTTP, with the standard library's server and no TensorFlow.

    GET  /healthz     -> 200 {"status": "ok", "task": ..., "backend": ..., "inputs": ...}
    POST /v1/predict  {"inputs": [...], "options": {...}} -> 200 {"outputs": [...]}

What `inputs` holds depends on the bundle, as `healthz` says:

    "texts"    tagging, classification, translation, DNA bundles: a list of strings
    "prefixes" generation bundles: prefixes (`options`: num, temperature, top_k, top_p, seed,
               max_len); each output is the list of `num` texts
    "arrays"   speech, caption, frame and plain one-graph bundles: a list of nested number
               lists (a waveform, an image, a clip of frames; a plain graph's batch rows)

`options` are the keyword arguments of the bundle's `predict` (e.g. `beam_width`,
`sample_rate`). File paths are never accepted: a client cannot make the server read its files.

Every error comes back as JSON `{"error": "..."}` with a 4xx status (400 bad JSON, types, inputs
or options; 404 unknown path; 405 wrong method; 411 no Content-Length; 413 a body over
`max_body_bytes` or more than `max_inputs` inputs) or 500 (a failure inside the server), and the
server keeps serving. Requests are answered one at a time (the engines are not thread-safe).
"""

import http.server
import inspect
import json
import threading

import numpy as np

from seqkeras import runtime
from seqkeras.errors import SeqKerasError

MAX_BODY_BYTES = 16 * 2**20
MAX_INPUTS = 256
GENERATION_OPTIONS = ("num", "temperature", "top_k", "top_p", "seed", "max_len")


class RequestError(SeqKerasError):
    """A request the server refuses, with its HTTP status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def input_kind(bundle):
    """What a bundle's `inputs` are over HTTP: `"texts"`, `"prefixes"` or `"arrays"`."""
    if isinstance(bundle, runtime.GenerationBundle):
        return "prefixes"
    if isinstance(
        bundle, (runtime.SpeechBundle, runtime.CaptionBundle, runtime.FrameClassificationBundle)
    ):
        return "arrays"
    if type(bundle) is runtime.Bundle:
        return "arrays"
    return "texts"


class BundleService:
    """Answers the JSON requests of `make_server` with one loaded bundle.

    Args:
        bundle: a `seqkeras.runtime` bundle (as `runtime.load` returns it).
        max_inputs: the most inputs one request may hold.
    """

    def __init__(self, bundle, max_inputs=MAX_INPUTS):
        self.bundle = bundle
        self.kind = input_kind(bundle)
        self.max_inputs = max_inputs
        self.lock = threading.Lock()
        if self.kind == "prefixes":
            self.options = set(GENERATION_OPTIONS)
        else:
            parameters = inspect.signature(bundle.predict).parameters
            self.options = {name for name in parameters if name not in ("inputs", "graph")}
            self.options.discard("options")  # a **options catch-all: its names are predict's

    def health(self):
        return {
            "status": "ok",
            "task": self.bundle.task,
            "backend": self.bundle.backend,
            "inputs": self.kind,
            "options": sorted(self.options),
        }

    def predict(self, request):
        """The response body of a parsed POST /v1/predict request.

        Raises:
            RequestError: the request is malformed (400) or too large (413).
            SeqKerasError: the bundle refused the inputs or options.
        """
        if not isinstance(request, dict):
            raise RequestError(400, 'the body must be a JSON object {"inputs": [...]}.')
        unknown = sorted(set(request) - {"inputs", "options"})
        if unknown:
            raise RequestError(400, f"unknown fields {unknown}; the fields are inputs, options.")
        inputs, options = request.get("inputs"), request.get("options", {})
        if not isinstance(inputs, list) or not inputs:
            raise RequestError(400, "'inputs' must be a non-empty list.")
        if len(inputs) > self.max_inputs:
            raise RequestError(
                413, f"{len(inputs)} inputs; the most per request is {self.max_inputs}."
            )
        if not isinstance(options, dict):
            raise RequestError(400, "'options' must be an object.")
        unknown = sorted(set(options) - self.options)
        if unknown:
            raise RequestError(
                400, f"unknown options {unknown}; this bundle takes {sorted(self.options)}."
            )
        with self.lock:
            return {"outputs": self._run(inputs, options)}

    def _run(self, inputs, options):
        if self.kind in ("texts", "prefixes"):
            if not all(isinstance(text, str) for text in inputs):
                raise RequestError(400, "'inputs' must be a list of strings for this bundle.")
            if self.kind == "prefixes":
                num = options.pop("num", 1)
                return [self.bundle.generate(num, prefix, **options) for prefix in inputs]
            return self.bundle.predict(inputs, **options)
        arrays = [_as_array(row, index) for index, row in enumerate(inputs)]
        if type(self.bundle) is runtime.Bundle:
            return _plain_predict(self.bundle, arrays)
        return self.bundle.predict(arrays, **options)


def _as_array(value, index):
    if isinstance(value, str):
        raise RequestError(400, f"input {index} is a string; this bundle takes number arrays.")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise RequestError(400, f"input {index} is not a (nested) list of numbers.") from None
    if array.ndim == 0:
        raise RequestError(400, f"input {index} is a number; expected an array.")
    return array


def _plain_predict(bundle, rows):
    if len(bundle.graphs) != 1 or len(next(iter(bundle.graphs.values())).inputs) != 1:
        raise RequestError(400, "serve runs task bundles and plain bundles of one one-input graph.")
    (graph,) = bundle.graphs.values()
    try:
        batch = np.stack(rows).astype(graph.inputs[0].dtype)
    except ValueError:
        raise RequestError(400, "the inputs of a plain bundle must all have one shape.") from None
    return bundle.predict(batch)


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class _Handler(http.server.BaseHTTPRequestHandler):
    service = None  # set by make_server
    max_body_bytes = MAX_BODY_BYTES
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/healthz":
            self._reply(200, self.service.health())
        elif self.path == "/v1/predict":
            self._reply(405, {"error": "use POST for /v1/predict."}, allow="POST")
        else:
            self._reply(404, {"error": f"no such path {self.path!r}; try /v1/predict."})

    def do_POST(self):
        if self.path != "/v1/predict":
            self._reply(404, {"error": f"no such path {self.path!r}; POST to /v1/predict."})
            return
        try:
            request = self._read_json()
            self._reply(200, self.service.predict(request))
        except RequestError as error:
            self._reply(error.status, {"error": str(error)})
        except (SeqKerasError, TypeError, ValueError) as error:
            self._reply(400, {"error": str(error)})
        except Exception as error:
            self.log_error("predict failed: %r", error)
            self._reply(500, {"error": f"internal error: {type(error).__name__}: {error}"})

    def _read_json(self):
        length = self.headers.get("Content-Length")
        if length is None:
            raise RequestError(411, "the request needs a Content-Length header.")
        try:
            length = int(length)
        except ValueError:
            raise RequestError(400, f"bad Content-Length {length!r}.") from None
        if length < 0 or length > self.max_body_bytes:
            self.close_connection = True  # the body is not read: the connection cannot go on
            raise RequestError(
                413, f"the body has {length} bytes; the most is {self.max_body_bytes}."
            )
        body = self.rfile.read(length)
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RequestError(400, f"the body is not valid JSON ({error}).") from None

    def _reply(self, status, body, allow=None):
        data = json.dumps(body, ensure_ascii=False, default=_jsonable).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)


def make_server(
    bundle,
    host="127.0.0.1",
    port=8080,
    max_body_bytes=MAX_BODY_BYTES,
    max_inputs=MAX_INPUTS,
    verbose=True,
):
    """An HTTP server (not yet serving) answering for `bundle`; call `serve_forever()`.

    Args:
        bundle: a bundle folder, or a bundle `runtime.load` returned.
        host, port: where to listen (port 0: a free port, see `server.server_address`).
        max_body_bytes: the largest request body accepted.
        max_inputs: the most inputs per request.
        verbose: log each request to stderr.

    Returns:
        A `http.server.ThreadingHTTPServer`.

    Raises:
        BundleError: the bundle folder cannot be loaded.

    Example:

    >>> server = make_server("runs/sentiment/bundle", port=0, verbose=False)
    >>> threading.Thread(target=server.serve_forever, daemon=True).start()
    """
    if not isinstance(bundle, runtime.Bundle):
        bundle = runtime.load(bundle)
    handler = type(
        "Handler",
        (_Handler,),
        {"service": BundleService(bundle, max_inputs), "max_body_bytes": max_body_bytes},
    )
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.verbose = verbose
    return server
