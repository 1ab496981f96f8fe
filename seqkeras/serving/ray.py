"""Scale-out on Ray Serve: replicas that each run the single-process server's app.

    seqkeras serve BUNDLE --ray --replicas 2 [--address ray://HEAD:10001] [--port 8080]

Each replica loads the bundle and builds the same Starlette app as `seqkeras serve`
(`seqkeras.serving.app.make_app` over a `Service`), so Ray's HTTP proxy serves every route of
the single-process server with the same bodies and errors: `/healthz`, `/v1/predict`, the Open
Inference Protocol under `/v2`, `/metrics` (of the replica that answers) and `/openapi.json`.
The only difference is how requests are gathered into engine calls: `RayBatcher` lets Ray
Serve's `@serve.batch` gather them (up to `--max-batch` inputs, waiting up to `--max-wait-ms`),
then runs each batch as `seqkeras.serving.batching.Batcher` does. Each answer names its replica
in `X-Seqkeras-Replica`. Without `--address` a local Ray instance is started; with one, the
deployment goes to that cluster (the bundle folder must be readable at the same path on its
nodes). Draining on shutdown is Ray's: a replica stops getting requests, finishes those in
flight, then stops its batcher.

In Python:

    from seqkeras.serving.ray import deployment
    serve.run(deployment("runs/sentiment/bundle", replicas=2), route_prefix="/")
"""

import asyncio
import signal
import socket
import threading

from seqkeras.errors import SeqKerasError
from seqkeras.serving.batching import DEFAULT_MAX_BATCH, Batcher, Overloaded


def _ray():
    try:
        import ray
        from ray import serve
    except ImportError:
        raise SeqKerasError(
            "seqkeras serve --ray needs Ray Serve: pip install 'seqkeras[ray]'."
        ) from None
    return ray, serve


def _inputs_of(jobs):
    return sum(len(job.inputs) for job in jobs)


class RayBatcher(Batcher):
    """The batching step of a `Service` on a Ray Serve replica: `@serve.batch` gathers jobs.

    Ray's batch queue gathers concurrent jobs up to `max_batch` inputs (its `batch_size_fn`
    counts inputs, not requests), waiting up to `max_wait` seconds for company, and runs up to
    `threads` batches at once; each batch is answered by `Batcher.settle` (one engine call per
    option set, a failing merged call retried job by job). A job of more than `max_batch`
    inputs runs alone, as with `Batcher`. Unlike `Batcher`, Ray waits `max_wait` for company
    even when a single client is sending. Same arguments as `Batcher`.
    """

    def start(self):
        """Creates the `@serve.batch` queue (on the running event loop) and the engine threads."""
        _, serve = _ray()
        self._start_engine_threads()
        self._pending = set()
        self._gathered = serve.batch(
            max_batch_size=self.max_batch,
            batch_wait_timeout_s=self.max_wait,
            max_concurrent_batches=self.threads,
            batch_size_fn=_inputs_of,
        )(self._settle_gathered)

    async def stop(self):
        """Fails the jobs not answered yet with `Overloaded` and stops the engine threads."""
        for task, job in list(self._pending):
            task.cancel()
            if not job.future.done():
                job.future.set_exception(Overloaded("the server is shutting down."))
        self._executor.shutdown(wait=True)

    async def submit(self, inputs, options, scored=False):
        """Queues a job on Ray's batch queue and returns it (`await job.future`).

        Raises:
            Overloaded: `max_queue` inputs wait already.
        """
        job = self._admit(inputs, options, scored)
        if len(job.inputs) > self.max_batch:
            self.queued -= len(job.inputs)
            call = self.settle([job])
        else:
            call = self._gathered(job)
        task = asyncio.ensure_future(call)
        self._pending.add((task, job))
        task.add_done_callback(lambda task: self._finished(task, job))
        return job

    async def _settle_gathered(self, jobs):
        self.queued -= _inputs_of(jobs)
        await self.settle(jobs)
        return [None] * len(jobs)

    def _finished(self, task, job):
        self._pending.discard((task, job))
        if not task.cancelled() and task.exception() is not None and not job.future.done():
            job.future.set_exception(task.exception())


def _replica_name():
    _, serve = _ray()
    return serve.get_replica_context().replica_id.to_full_id_str()


def named(app, replica):
    """ASGI middleware: every response names `replica` in its `X-Seqkeras-Replica` header.

    The app's `X-Request-ID` header is dropped: Ray's proxy gives the request that id (the
    client's, or a new one) and adds the header to the response itself.
    """
    header = (b"x-seqkeras-replica", replica.encode("latin-1"))

    async def named_app(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)

        async def send_named(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                message["headers"] = [
                    *(item for item in headers if item[0].lower() != b"x-request-id"),
                    header,
                ]
            await send(message)

        await app(scope, receive, send_named)

    return named_app


def deployment(
    bundle_path,
    backend=None,
    limits=None,
    replicas=1,
    max_batch=DEFAULT_MAX_BATCH,
    max_wait=0.002,
    max_queue=1024,
    engine_threads=None,
    **settings,
):
    """A bound Ray Serve deployment of the bundle (pass it to `serve.run`).

    Args:
        bundle_path: the bundle folder (at the same path on every node of the cluster).
        backend: the engine (default: the first installed).
        limits: `Bundle.limit` arguments.
        replicas: Ray Serve replicas.
        max_batch, max_wait: the most inputs of one engine call and the wait for company.
        max_queue: the most inputs waiting in a replica (beyond, 503); a replica takes as many
            requests at once (Ray's `max_ongoing_requests`), so that batches can fill up.
        engine_threads: threads of one engine call (`seqkeras.runtime.load`'s `num_threads`).
        **settings: the other `seqkeras.serving.app.Service` arguments (name, threads,
            timeout, max_body_bytes, access_log).

    Returns:
        The bound application.

    Example:

    >>> serve.run(deployment("runs/sentiment/bundle", replicas=2), route_prefix="/")
    """
    _, serve = _ray()

    def replica_app():
        from seqkeras import runtime
        from seqkeras.serving.app import Service, make_app
        from seqkeras.serving.metrics import configure_logging

        configure_logging()
        bundle = runtime.load(bundle_path, backend=backend, num_threads=engine_threads)
        bundle.limit(**(limits or {}))
        bundle.warm_up()  # before Ray routes requests here; the service's own warm-up is quick
        service = Service(
            bundle,
            max_batch=max_batch,
            max_wait=max_wait,
            max_queue=max_queue,
            batcher=RayBatcher,
            **settings,
        )
        return named(make_app(service), _replica_name())

    ingress = serve.ingress(replica_app)()
    return serve.deployment(
        ingress,
        name="SeqkerasBundle",
        num_replicas=replicas,
        max_ongoing_requests=max(max_queue, max_batch * settings.get("threads", 1)),
        ray_actor_options={"num_cpus": 0},
    ).bind()


def _free_port(host):
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def serve_on_ray(bundle, args, limits, settings):
    """`seqkeras serve --ray`: deploys, prints the start line, serves until SIGTERM/Ctrl+C."""
    ray, serve = _ray()
    port = args.port or _free_port(args.host)
    ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
    try:
        serve.start(http_options={"host": args.host, "port": port})
        app = deployment(
            str(bundle.path),
            bundle.backend,
            limits,
            args.replicas,
            engine_threads=args.engine_threads,
            **settings,
        )
        serve.run(app, name="seqkeras", route_prefix="/")
        print(
            f"serving {args.bundle} ({bundle.task}, {bundle.backend}) on "
            f"http://{args.host}:{port}/v1/predict",
            flush=True,
        )
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    finally:
        serve.shutdown()
        ray.shutdown()
    return 0
