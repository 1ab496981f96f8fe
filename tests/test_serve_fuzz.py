"""Fuzzing the server from its own OpenAPI schema with schemathesis: valid and invalid
requests to every route of three kinds of bundle; no 5xx, and the server still answers."""

import pytest

from tests.serve_helpers import start_servers

pytest.importorskip("starlette")
schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")
from schemathesis.generation import GenerationMode  # noqa: E402

serve = pytest.fixture(scope="module")(start_servers)

# Small generation limits keep each generated request cheap (the fuzzer finds the bounds).
SERVERS = {
    "sentiment": {},
    "char_lm": {"limits": {"num": 1, "max_len": 1, "generated": 2, "inputs": 2}},
    "plain": {},
}
EXAMPLES = {"GET": 5, "POST": 85}  # per route and mode (GET routes: valid requests only)


def fuzz(server, session, kind, operation, mode, sent, failures):
    """Sends the requests hypothesis generates for one route and mode; records statuses."""

    @hypothesis.settings(
        max_examples=EXAMPLES[operation.method.upper()],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def send(case):
        response = case.call(base_url=server.url, session=session, timeout=30)
        sent.append(response.status_code)
        if response.status_code >= 500:
            failures.append((kind, case.method, case.path, case.body, response.text))
        (content_type,) = response.headers["content-type"]
        assert content_type.startswith(("application/json", "text/plain; version=0.0.4"))

    send()


def test_no_generated_request_gets_a_5xx(serve):
    import requests

    sent, failures = [], []
    session = requests.Session()
    for kind, settings in SERVERS.items():
        server = serve(kind, timeout=10, **settings)
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        for result in schema.get_all_operations():
            operation = result.ok()
            modes = [GenerationMode.POSITIVE]
            if operation.method.upper() == "POST":
                modes.append(GenerationMode.NEGATIVE)
            for mode in modes:
                fuzz(server, session, kind, operation, mode, sent, failures)
        assert server.request("GET", "/healthz")[0] == 200
    assert failures == []
    assert len(sent) >= 1000
