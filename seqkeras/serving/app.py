"""The ASGI application: one bundle behind /v1/predict, the Open Inference Protocol and /metrics.

    GET  /healthz                         200 {"status": "ok", task, backend, inputs, options,
                                          limits}; 503 {"status": "loading"} before warm-up
    POST /v1/predict                      {"inputs": [...], "options": {...}, "scores": false}
    GET  /v2, /v2/health/live, /v2/health/ready, /v2/models/{name}[/versions/1][/ready]
    POST /v2/models/{name}[/versions/1]/infer
    GET  /metrics                         Prometheus text format
    GET  /openapi.json                    the schema of the routes above

Every answer is JSON (the binary tensor extension of /v2 aside), errors included:
`{"error": "..."}` with 400 (bad JSON, types, inputs, options), 404, 405 (with Allow), 411 (a
POST without Content-Length), 413 (a body over `max_body_bytes`, too many inputs or outputs),
414 (a URL over 8 KiB), 431 (headers over 16 KiB), 503 (loading, queue full, shutting down;
with Retry-After), 504 (no answer within the deadline) or 500 (a failure inside the server,
described only by its request id, which the JSON log line of the request carries too).
"""

import asyncio
import contextlib
import itertools
import os
import pathlib
import time

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from seqkeras.errors import SeqKerasError
from seqkeras.runtime.contract import LimitError
from seqkeras.serving import protocol
from seqkeras.serving.batching import DEFAULT_MAX_BATCH, Batcher, Overloaded
from seqkeras.serving.metrics import LOGGER, Metrics, route_of
from seqkeras.serving.openapi import openapi_schema
from seqkeras.serving.protocol import RequestError

MAX_BODY_BYTES = 16 * 2**20
MAX_URL_BYTES = 8 * 2**10
MAX_HEADER_BYTES = 16 * 2**10


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content):
        return protocol.dumps(content)


def error(status, message, headers=None):
    return JSONBody({"error": message}, status_code=status, headers=headers)


class Service:
    """One bundle behind a batcher, with readiness, draining, deadlines and metrics.

    Args:
        bundle: a runtime bundle (its limits already lowered as the server wants).
        name: the model name of the v2 routes (default: the bundle's task or folder name).
        max_batch, max_wait, max_queue, threads: see `seqkeras.serving.batching.Batcher`.
        batcher: the class that gathers requests into engine calls, called like `Batcher`
            (`seqkeras.serving.ray.RayBatcher` on Ray Serve replicas).
        timeout: seconds a request may wait for its answer before a 504.
        max_body_bytes: the largest request body.
        access_log: log one JSON line per request.
        warmed_up: the bundle is warmed up already, so the service is ready at once (worker
            processes warm up before they accept connections: a worker still loading never
            takes a connection that a ready sibling could answer).
    """

    def __init__(
        self,
        bundle,
        name=None,
        max_batch=DEFAULT_MAX_BATCH,
        max_wait=0.002,
        max_queue=1024,
        threads=1,
        timeout=30.0,
        max_body_bytes=MAX_BODY_BYTES,
        access_log=True,
        batcher=Batcher,
        warmed_up=False,
    ):
        if not timeout > 0:
            raise SeqKerasError(f"serve: `timeout` must be > 0 seconds, got {timeout!r}.")
        self.bundle = bundle
        self.name = name or bundle.task or pathlib.Path(bundle.path).name
        self.metrics = Metrics()
        self.batcher = batcher(
            bundle, max_batch, max_wait, max_queue, threads, observe=self.metrics.engine_call
        )
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log
        self.warmed_up = warmed_up
        self.ready = False
        self.draining = False

    @contextlib.asynccontextmanager
    async def lifespan(self, app):
        """Starts the batcher and the warm-up; at shutdown, stops the batcher."""
        self.batcher.start()
        warm_up = None
        if self.warmed_up:
            self._warm_up()  # at once: ready before the first connection is accepted
        else:
            warm_up = asyncio.get_running_loop().run_in_executor(None, self._warm_up)
        try:
            yield
        finally:
            if warm_up is not None:
                await warm_up
            await self.batcher.stop()

    def _warm_up(self):
        if not self.warmed_up:
            self.bundle.warm_up()
        self.ready = True
        LOGGER.info("ready", extra={"fields": {"model": self.name}})

    def health(self):
        return {"status": "ok" if self.ready else "loading", **self.bundle.describe()}

    async def run(self, request, inputs, options, scored, timeout=None):
        """The outputs of one request, through the batcher.

        Raises:
            RequestError: 503 when not ready or draining, 504 past the deadline.
            LimitError: more inputs (or generated outputs) than the bundle's limits.
            Overloaded: the queue is full.
        """
        if self.draining:
            raise RequestError(503, "the server is shutting down.")
        if not self.ready:
            raise RequestError(503, "the model is still loading; retry shortly.")
        inputs = self.bundle.check_inputs(inputs, options)
        job = await self.batcher.submit(inputs, options, scored)
        self.metrics.queue_depth.set(self.batcher.queued)
        timeout = self.timeout if timeout is None else min(timeout, self.timeout)
        loop = asyncio.get_running_loop()
        watcher = loop.create_task(_disconnected(request.receive))
        watcher.add_done_callback(
            lambda task: task.cancelled() or _abandon(job, 499, "the client disconnected.")
        )
        deadline = f"no answer within the deadline of {timeout:g} s."
        timer = loop.call_later(timeout, _abandon, job, 504, deadline)
        try:
            return await job.future
        finally:
            watcher.cancel()
            timer.cancel()


async def _disconnected(receive):
    while (await receive())["type"] != "http.disconnect":
        pass


def _abandon(job, status, message):
    """Answers a job its client left (499) or waited too long for (504); the batcher skips it."""
    if not job.future.done():
        job.cancelled = True
        job.future.set_exception(RequestError(status, message))


async def read_body(request, limit):
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"the body has more than {limit} bytes, the most accepted.")
        chunks.append(chunk)
    return b"".join(chunks)


async def answer(service, request, parse):
    """Runs a predict/infer request and maps every failure to its JSON error."""
    try:
        return await parse()
    except RequestError as failure:
        headers = {"Retry-After": "1"} if failure.status == 503 else None
        return error(failure.status, str(failure), headers)
    except Overloaded as failure:
        return error(503, str(failure), {"Retry-After": "1"})
    except LimitError as failure:
        return error(413, str(failure))
    except SeqKerasError as failure:
        return error(400, str(failure))


def make_app(service):
    """The Starlette application of a `Service`.

    Example:

    >>> bundle = seqkeras.runtime.load("runs/sentiment/bundle")
    >>> app = make_app(Service(bundle))
    >>> uvicorn.run(app, port=8080)
    """

    async def healthz(request):
        return JSONBody(service.health(), status_code=200 if service.ready else 503)

    async def predict(request):
        async def run():
            body = await read_body(request, service.max_body_bytes)
            inputs, options, scored = protocol.parse_v1(service.bundle, body)
            outputs = await service.run(request, inputs, options, scored)
            return JSONBody({"outputs": outputs})

        return await answer(service, request, run)

    async def server_metadata(request):
        from seqkeras import __version__

        return JSONBody(
            {"name": "seqkeras", "version": __version__, "extensions": ["binary_tensor_data"]}
        )

    async def live(request):
        return JSONBody({"live": True})

    async def ready(request):
        return JSONBody({"ready": service.ready}, status_code=200 if service.ready else 503)

    def model_route(handler):
        async def checked(request):
            name = request.path_params["name"]
            version = request.path_params.get("version", "1")
            if name != service.name or version != "1":
                return error(
                    404,
                    f"no model {name!r} version {version!r}; this server has "
                    f"{service.name!r} version '1'.",
                )
            return await handler(request)

        return checked

    async def model_metadata(request):
        return JSONBody(protocol.model_metadata(service.bundle, service.name))

    async def infer(request):
        async def run():
            body = await read_body(request, service.max_body_bytes)
            infer_request = protocol.parse_v2(
                service.bundle, body, request.headers.get("inference-header-content-length")
            )
            outputs = await service.run(
                request,
                infer_request.inputs,
                infer_request.options,
                infer_request.scored,
                infer_request.timeout,
            )
            content, header_length = protocol.v2_response(
                service.name, infer_request.id, outputs, infer_request.binary_output
            )
            if header_length is None:
                return Response(content, media_type="application/json")
            return Response(
                content,
                media_type="application/octet-stream",
                headers={"Inference-Header-Content-Length": str(header_length)},
            )

        return await answer(service, request, run)

    async def metrics(request):
        body, content_type = service.metrics.exposition()
        return Response(body, media_type=content_type)

    async def schema(request):
        return JSONBody(openapi_schema(service))

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/v1/predict", predict, methods=["POST"]),
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
        Route("/v2/models/{name}", model_route(model_metadata), methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}", model_route(model_metadata), methods=["GET"]),
        Route("/v2/models/{name}/ready", model_route(ready), methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}/ready", model_route(ready), methods=["GET"]),
        Route("/v2/models/{name}/infer", model_route(infer), methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}/infer", model_route(infer), methods=["POST"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", schema, methods=["GET"]),
    ]

    async def http_error(request, failure):
        return error(failure.status_code, failure.detail, failure.headers)

    async def internal_error(request, failure):
        request_id = request.scope.get("state", {}).get("request_id")
        fields = {"request_id": request_id, "error": f"{type(failure).__name__}: {failure}"}
        LOGGER.error("internal error", exc_info=failure, extra={"fields": fields})
        return error(500, f"internal error (request id {request_id}).")

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        lifespan=service.lifespan,
    )
    return Guard(app, service)


class Guard:
    """ASGI middleware: request ids, limits checked before the app, draining, logs, metrics."""

    def __init__(self, app, service):
        self.app = app
        self.service = service
        self.request_ids = itertools.count(1)
        self.id_prefix = f"{os.urandom(6).hex()}-"

    def next_request_id(self):
        """A new request id: this server's random prefix and a counter."""
        return f"{self.id_prefix}{next(self.request_ids)}"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        headers = dict(scope["headers"])  # ASGI servers give lowercase names
        request_id = (
            headers.get(b"x-request-id", b"").decode("latin-1")[:64] or self.next_request_id()
        )
        scope.setdefault("state", {})["request_id"] = request_id
        status = {"code": 500}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        refusal = self.refusal(scope, headers)
        try:
            if refusal is not None:
                await refusal(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:  # answered (500) and logged by `internal_error`; not uvicorn's too
            if status["code"] != 500:
                raise
        finally:
            seconds = time.perf_counter() - start
            route = route_of(scope["path"])
            self.service.metrics.request(route, status["code"], seconds)
            self.service.metrics.queue_depth.set(self.service.batcher.queued)
            if self.service.access_log:
                LOGGER.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": request_id,
                            "method": scope["method"],
                            "path": scope["path"][:200],
                            "status": status["code"],
                            "ms": round(seconds * 1000, 3),
                        }
                    },
                )

    def refusal(self, scope, headers):
        """The error response for a request refused before the app sees it, or None."""
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(
            scope["query_string"]
        )
        if url_bytes > MAX_URL_BYTES:
            return error(414, f"the URL has {url_bytes} bytes; the most is {MAX_URL_BYTES}.")
        header_bytes = sum(len(k) + len(v) + 4 for k, v in scope["headers"])
        if header_bytes > MAX_HEADER_BYTES:
            return error(
                431, f"the headers have {header_bytes} bytes; the most is {MAX_HEADER_BYTES}."
            )
        if self.service.draining:
            return error(503, "the server is shutting down.", {"Retry-After": "1"})
        if scope["method"] == "POST":
            length = headers.get(b"content-length")
            if length is None and b"chunked" not in headers.get(b"transfer-encoding", b""):
                return error(411, "the request needs a Content-Length header.")
            if length is not None:
                try:
                    size = int(length)
                except ValueError:
                    return error(400, "bad Content-Length.")
                if size > self.service.max_body_bytes:
                    return error(
                        413,
                        f"the body has {size} bytes; the most is {self.service.max_body_bytes}.",
                    )
        return None
