"""Scale-out on Ray Serve: the same bundle, contract and batching as replicas of a deployment.

    seqkeras serve BUNDLE --ray --replicas 2 [--address ray://HEAD:10001] [--port 8080]

Each replica loads the bundle and batches concurrent requests with `@serve.batch` (the
`--max-batch` and `--max-wait-ms` of `seqkeras serve`); Ray's HTTP proxy spreads requests over
the replicas. Routes: `GET /healthz`, `POST /v1/predict` (the bodies and errors of
`seqkeras.serving.protocol`); each answer names its replica in `X-Seqkeras-Replica`. Without
`--address` a local Ray instance is started; with one, the deployment goes to that cluster (the
bundle folder must be readable at the same path on its nodes).

In Python:

    from seqkeras.serving.ray import deployment
    serve.run(deployment("runs/sentiment/bundle", replicas=2), route_prefix="/")
"""

import asyncio
import collections
import signal
import socket
import threading

from seqkeras.errors import SeqKerasError
from seqkeras.runtime.contract import LimitError, rows
from seqkeras.serving.batching import DEFAULT_MAX_BATCH


def _ray():
    try:
        import ray
        from ray import serve
    except ImportError:
        raise SeqKerasError(
            "seqkeras serve --ray needs Ray Serve: pip install 'seqkeras[ray]'."
        ) from None
    return ray, serve


def deployment(
    bundle_path,
    backend=None,
    limits=None,
    replicas=1,
    max_batch=DEFAULT_MAX_BATCH,
    max_wait=0.002,
):
    """A bound Ray Serve deployment of the bundle (pass it to `serve.run`)."""
    _, serve = _ray()
    from starlette.responses import Response

    from seqkeras.serving import protocol

    def reply(status, body, replica):
        return Response(
            protocol.dumps(body),
            status_code=status,
            media_type="application/json",
            headers={"X-Seqkeras-Replica": replica},
        )

    @serve.deployment(num_replicas=replicas, ray_actor_options={"num_cpus": 0})
    class SeqkerasBundle:
        def __init__(self):
            from seqkeras import runtime

            self.bundle = runtime.load(bundle_path, backend=backend).limit(**(limits or {}))
            self.bundle.warm_up()
            context = serve.get_replica_context()
            self.replica = str(getattr(context, "replica_id", None) or context.replica_tag)
            self.predict_batch.set_max_batch_size(max_batch)
            self.predict_batch.set_batch_wait_timeout_s(max_wait)

        @serve.batch(max_batch_size=DEFAULT_MAX_BATCH, batch_wait_timeout_s=0.002)
        async def predict_batch(self, jobs):
            """One engine call per option set for the batched requests; an error per job."""
            results = [None] * len(jobs)
            groups = collections.defaultdict(list)
            for index, (_, options, scored) in enumerate(jobs):
                groups[(scored, repr(sorted(options.items())))].append(index)
            for indexes in groups.values():
                _, options, scored = jobs[indexes[0]]
                run = self.bundle.scored if scored else self.bundle.answer
                try:
                    merged = [item for index in indexes for item in jobs[index][0]]
                    outputs = rows(await asyncio.to_thread(run, merged, **options))
                except SeqKerasError:
                    outputs = None
                start = 0
                for index in indexes:
                    inputs = jobs[index][0]
                    if outputs is not None:
                        results[index] = outputs[start : start + len(inputs)]
                        start += len(inputs)
                        continue
                    try:
                        results[index] = rows(run(inputs, **options))
                    except SeqKerasError as error:
                        results[index] = error
            return results

        async def __call__(self, request):
            if request.url.path == "/healthz" and request.method == "GET":
                return reply(200, {"status": "ok", **self.bundle.describe()}, self.replica)
            if request.url.path != "/v1/predict":
                return reply(404, {"error": f"no such path {request.url.path!r}."}, self.replica)
            if request.method != "POST":
                return reply(405, {"error": "use POST for /v1/predict."}, self.replica)
            try:
                inputs, options, scored = protocol.parse_v1(self.bundle, await request.body())
                inputs = self.bundle.check_inputs(inputs, options)
            except protocol.RequestError as error:
                return reply(error.status, {"error": str(error)}, self.replica)
            except SeqKerasError as error:
                return reply(
                    413 if isinstance(error, LimitError) else 400,
                    {"error": str(error)},
                    self.replica,
                )
            outputs = await self.predict_batch((inputs, options, scored))
            if isinstance(outputs, SeqKerasError):
                status = 413 if isinstance(outputs, LimitError) else 400
                return reply(status, {"error": str(outputs)}, self.replica)
            return reply(200, {"outputs": outputs}, self.replica)

    return SeqkerasBundle.bind()


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
            settings["max_batch"],
            settings["max_wait"],
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
