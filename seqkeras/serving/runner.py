"""Running the ASGI app under uvicorn: one process, or `workers` processes on one socket.

The socket is bound (and listening) before uvicorn starts, so `port=0` picks a free port that
is known at once, and a bad or busy port is a `SeqKerasError`, not a traceback. On SIGTERM
(or Ctrl+C) the server stops accepting connections, answers new requests on open ones with
503, lets the requests in flight finish (up to the deadline), then exits with status 0.
"""

import json
import os
import signal
import socket
import sys

from seqkeras.errors import SeqKerasError

ENVIRONMENT = "SEQKERAS_SERVE_SETTINGS"
SERVICES = []  # the services of this process, told to drain on SIGTERM
BACKLOG = 2048
MAX_CONNECTIONS = 2048


def bind(host, port):
    """A listening TCP socket on host:port (port 0: a free one).

    Raises:
        SeqKerasError: the port is out of range, in use, or the address is not this machine's.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise SeqKerasError(f"serve: --port must be 0 to 65535, got {port!r}.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, protocol, _, address = infos[0]
        sock = socket.socket(family, kind, protocol)
    except OSError as error:
        raise SeqKerasError(f"serve: cannot listen on {host}:{port} ({error}).") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        reason = error.strerror or str(error)
        raise SeqKerasError(f"serve: cannot listen on {host}:{port} ({reason}).") from None
    sock.set_inheritable(True)
    return sock


def _uvicorn():
    try:
        import uvicorn
    except ImportError:
        raise SeqKerasError(
            "seqkeras serve needs starlette and uvicorn: pip install 'seqkeras[serve]'."
        ) from None
    return uvicorn


def _server_class(uvicorn):
    class GracefulServer(uvicorn.Server):
        def handle_exit(self, sig, frame):
            for service in SERVICES:
                service.draining = True
            super().handle_exit(sig, frame)

    return GracefulServer


def uvicorn_config(uvicorn, app, timeout, **extra):
    """The uvicorn settings of a seqkeras server (h11, our own logs, limits, graceful stop)."""
    from seqkeras.serving.parsers import protocol_class

    return uvicorn.Config(
        app,
        http=protocol_class(),
        lifespan="on",
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # client addresses are not used (nor logged)
        timeout_keep_alive=5,
        limit_concurrency=MAX_CONNECTIONS,
        backlog=BACKLOG,
        h11_max_incomplete_event_size=64 * 2**10,
        timeout_graceful_shutdown=int(timeout) + 5,
        **extra,
    )


def build_service(bundle, settings):
    """A `Service` of `bundle` with the server `settings` (see `serve`)."""
    from seqkeras.serving.app import Service

    service = Service(bundle, **settings)
    SERVICES.append(service)
    return service


def app_from_environment():
    """The app factory of each worker process (`workers` > 1): settings in the environment."""
    from seqkeras import runtime
    from seqkeras.serving.app import make_app
    from seqkeras.serving.metrics import configure_logging

    settings = json.loads(os.environ[ENVIRONMENT])
    configure_logging()
    bundle = runtime.load(
        settings.pop("bundle"),
        backend=settings.pop("backend"),
        num_threads=settings.pop("engine_threads"),
    )
    bundle.limit(**settings.pop("limits"))
    bundle.warm_up()  # before this worker accepts connections (uvicorn calls the factory first)
    return make_app(build_service(bundle, {**settings, "warmed_up": True}))


def serve(bundle, sock, workers=1, limits=None, engine_threads=None, **settings):
    """Serves `bundle` on the listening socket `sock` until SIGTERM or Ctrl+C.

    Args:
        bundle: a loaded runtime bundle (limits applied).
        sock: a socket from `bind`.
        workers: processes; each loads the bundle again (`workers` > 1).
        limits: the limits applied to the bundle (passed on to worker processes).
        engine_threads: the `num_threads` the bundle was loaded with (worker processes load
            it again with as many).
        **settings: the `seqkeras.serving.app.Service` arguments.
    """
    from seqkeras.serving.app import make_app
    from seqkeras.serving.metrics import configure_logging

    uvicorn = _uvicorn()
    configure_logging()
    server_class = _server_class(uvicorn)
    previous = signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        if workers <= 1:
            app = make_app(build_service(bundle, settings))
            server_class(uvicorn_config(uvicorn, app, settings.get("timeout", 30))).run(
                sockets=[sock]
            )
            return
        from uvicorn.supervisors import Multiprocess

        os.environ[ENVIRONMENT] = json.dumps(
            {
                "bundle": str(bundle.path),
                "backend": bundle.backend,
                "limits": limits or {},
                "engine_threads": engine_threads,
                **settings,
            }
        )
        config = uvicorn_config(
            uvicorn,
            "seqkeras.serving.runner:app_from_environment",
            settings.get("timeout", 30),
            factory=True,
            workers=workers,
        )
        Multiprocess(config, sockets=[sock]).run()  # workers drain as uvicorn does
    except SystemExit as exit:
        if exit.code not in (0, None):
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()


def _exit_quietly(sig, frame):
    """The SIGTERM handler uvicorn re-raises after its graceful shutdown: exit with 0."""
    sys.exit(0)
