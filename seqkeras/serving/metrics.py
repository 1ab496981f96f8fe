"""Prometheus metrics of one server (its own registry) and its JSON log lines."""

import json
import logging
import sys
import time

import prometheus_client

ROUTES = ("/healthz", "/metrics", "/v1/predict", "/v2", "/v2/health", "/v2/models")
LONGEST_FIRST = sorted(ROUTES, key=len, reverse=True)
LOGGER = logging.getLogger("seqkeras.serve")


class Metrics:
    """Requests by route and status, request latency, batch sizes, queue depth, engine time.

    Example:

    >>> metrics = Metrics()
    >>> metrics.request("/v1/predict", 200, 0.004)
    >>> b"seqkeras_requests_total" in metrics.exposition()[0]
    True
    """

    def __init__(self):
        self.registry = prometheus_client.CollectorRegistry()
        self.requests = prometheus_client.Counter(
            "seqkeras_requests",
            "HTTP requests by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = prometheus_client.Histogram(
            "seqkeras_request_seconds",
            "Time from the request to the response, by route.",
            ["route"],
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        self.batch_size = prometheus_client.Histogram(
            "seqkeras_batch_size",
            "Inputs per engine call.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        self.engine = prometheus_client.Histogram(
            "seqkeras_engine_seconds",
            "Time of one engine call (pre- and post-processing included).",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5),
            registry=self.registry,
        )
        self.queue_depth = prometheus_client.Gauge(
            "seqkeras_queue_depth", "Inputs waiting for an engine call.", registry=self.registry
        )
        self._series = {}  # (route, status) -> (requests counter, latency histogram)

    def request(self, route, status, seconds):
        series = self._series.get((route, status))
        if series is None:
            series = self.requests.labels(route, str(status)), self.latency.labels(route)
            self._series[route, status] = series
        series[0].inc()
        series[1].observe(seconds)

    def engine_call(self, inputs, seconds):
        self.batch_size.observe(inputs)
        self.engine.observe(seconds)

    def exposition(self):
        """`(body, content_type)` of GET /metrics."""
        return prometheus_client.generate_latest(
            self.registry
        ), prometheus_client.CONTENT_TYPE_LATEST


def route_of(path):
    """The metrics label of a path: a known route prefix, else "other" (bounded cardinality)."""
    if path.startswith("/v2/models/") and path.endswith("/infer"):
        return "/v2/models/{name}/infer"
    for route in LONGEST_FIRST:
        if path == route or path.startswith(route + "/"):
            return route
    return "other"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the record's `fields`."""

    def format(self, record):
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "message": record.getMessage(),
            "pid": record.process,
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level=logging.INFO):
    """Sends `seqkeras.serve` records to stderr as JSON lines (once per process)."""
    if not any(isinstance(h.formatter, JsonFormatter) for h in LOGGER.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    LOGGER.propagate = False
