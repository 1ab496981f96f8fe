"""Serving under load and in trouble: dynamic batching, a full queue (503), deadlines (504),
clients that leave, graceful SIGTERM, and start-up failures of `seqkeras serve`."""

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from seqkeras import SeqKerasError, runtime
from tests.serve_helpers import bundle_path, start_servers, wait_ready

pytest.importorskip("starlette")
serve = pytest.fixture(scope="module")(start_servers)


class EchoBundle:
    """A stand-in bundle for the batcher: answers each text with text + "!", records calls,
    refuses the input "bad"."""

    concurrent = True

    def __init__(self, gate=None):
        self.calls = []
        self.gate = gate

    def answer(self, inputs, **options):
        self.calls.append((list(inputs), options))
        if self.gate is not None:
            self.gate.wait(timeout=30)
        if "bad" in inputs:
            raise SeqKerasError("input 'bad' is bad.")
        return [f"{text}!{options.get('mark', '')}" for text in inputs]


def run_batcher(bundle, scenario, **settings):
    from seqkeras.serving.batching import Batcher

    async def main():
        batcher = Batcher(bundle, **settings)
        batcher.start()
        try:
            return await scenario(batcher)
        finally:
            await batcher.stop()

    return asyncio.run(main())


def test_queued_jobs_run_as_one_call_and_get_their_own_outputs():
    gate = threading.Event()
    bundle = EchoBundle(gate)

    async def scenario(batcher):
        first = await batcher.submit(["a"], {})
        while not bundle.calls:  # the worker holds the first job
            await asyncio.sleep(0.001)
        jobs = [await batcher.submit([f"x{i}", f"y{i}"], {}) for i in range(5)]
        other = await batcher.submit(["z"], {"mark": "?"})
        bad = await batcher.submit(["bad"], {})
        gate.set()
        answers = [await job.future for job in [first, *jobs, other]]
        with pytest.raises(SeqKerasError, match="bad"):
            await bad.future
        return answers

    answers = run_batcher(bundle, scenario, max_batch=32)
    assert answers == [["a!"], *[[f"x{i}!", f"y{i}!"] for i in range(5)], ["z!?"]]
    merged = [inputs for inputs, _ in bundle.calls if len(inputs) > 2]
    # The five queued jobs and the bad one ran as one call; that call failed on "bad", so
    # each ran alone, and only "bad" failed.
    assert merged and set(merged[0]) == {"bad"} | {f"{c}{i}" for c in "xy" for i in range(5)}
    assert (["z"], {"mark": "?"}) in bundle.calls  # other options: a call of its own


def test_a_full_queue_refuses_and_cancelled_jobs_never_run():
    from seqkeras.serving.batching import Overloaded

    gate = threading.Event()
    bundle = EchoBundle(gate)

    async def scenario(batcher):
        first = await batcher.submit(["a"], {})
        while not bundle.calls:
            await asyncio.sleep(0.001)
        waiting = await batcher.submit(["b", "c"], {})
        with pytest.raises(Overloaded, match="queue is full"):
            await batcher.submit(["d"], {})
        waiting.cancelled = True
        gate.set()
        await first.future
        later = await batcher.submit(["e"], {})
        return await later.future

    assert run_batcher(bundle, scenario, max_batch=1, max_queue=2) == ["e!"]
    assert [inputs for inputs, _ in bundle.calls] == [["a"], ["e"]]


def blocking(server, gate):
    """Makes `server`'s bundle wait for `gate` before answering; returns the calls list."""
    calls = []
    answer = server.bundle.answer

    def blocked(inputs, **options):
        calls.append(list(inputs))
        gate.wait(timeout=30)
        return answer(inputs, **options)

    server.bundle.answer = blocked
    return calls


def in_thread(function, *args):
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=function(*args)))
    thread.start()
    return thread, result


def test_http_overload_gets_503_with_retry_after(serve):
    server = serve("sentiment", max_batch=1, max_queue=2)
    gate = threading.Event()
    calls = blocking(server, gate)
    first, first_result = in_thread(server.predict, ["good"])
    while not calls:
        threading.Event().wait(0.01)
    second, second_result = in_thread(server.predict, ["fine", "bad"])
    while server.service.batcher.queued < 2:
        threading.Event().wait(0.01)
    status, headers, reply = server.predict(["again"])
    assert status == 503 and headers["retry-after"] == "1" and "queue is full" in reply["error"]
    gate.set()
    first.join(), second.join()
    assert first_result["value"][0] == 200 and second_result["value"][0] == 200


def test_a_request_past_its_deadline_gets_504(serve):
    server = serve("sentiment", timeout=0.2)
    gate = threading.Event()
    blocking(server, gate)
    status, _, reply = server.predict(["good"])
    gate.set()
    assert status == 504 and "deadline of 0.2 s" in reply["error"]


def test_a_client_that_leaves_stops_costing_work(serve):
    server = serve("char_lm")
    generated = []
    generate = server.bundle.decoder.generate

    def counting(*args, **kwargs):
        generated.append(args)
        return generate(*args, **kwargs)

    server.bundle.decoder.generate = counting
    request = json.dumps(
        {"inputs": ["a"], "options": {"num": 64, "max_len": 1000, "temperature": 0}}
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(
            b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(request)}\r\n\r\n".encode()
            + request
        )
        while not generated:
            threading.Event().wait(0.01)
    # The client left: the next request is answered once the abandoned one stopped.
    assert server.predict(["b"], options={"max_len": 3})[0] == 200
    assert len(generated) - 1 < 64  # the abandoned request made fewer than its 64 texts


def test_concurrent_clients_get_the_answers_of_single_calls(serve):
    server = serve("sentiment", max_wait=0.005)
    bundle = runtime.load(bundle_path("sentiment"))
    texts = [f"The food was {word} ." for word in ("good", "bad", "not good", "great") * 4]
    results = [None] * len(texts)
    barrier = threading.Barrier(len(texts))

    def client(index):
        barrier.wait()
        results[index] = server.predict([texts[index]])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [reply["outputs"][0] for _, _, reply in results] == bundle.predict(texts)
    registry = server.service.metrics.registry
    assert registry.get_sample_value("seqkeras_batch_size_sum") == len(texts)


def start_cli(*arguments):
    process = subprocess.Popen(
        [sys.executable, "-m", "seqkeras.cli", "serve", *map(str, arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    line = process.stdout.readline()
    return process, line


def post(port, path, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_sigterm_lets_requests_in_flight_finish_then_exits_cleanly():
    process, line = start_cli(bundle_path("char_lm"), "--port", "0", "--quiet")
    try:
        assert line.startswith(f"serving {bundle_path('char_lm')} (char_lm, onnx) on http://")
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        wait_ready(port)
        slow = {"inputs": ["a"], "options": {"num": 6, "max_len": 1000, "temperature": 0}}
        thread, result = in_thread(post, port, "/v1/predict", slow)
        threading.Event().wait(1.0)  # the request is in flight
        process.send_signal(signal.SIGTERM)
        thread.join(timeout=120)
        status, reply = result["value"]
        assert status == 200 and len(reply["outputs"][0]) == 6
        assert process.wait(timeout=60) == 0
        assert "Traceback" not in process.stderr.read()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_two_worker_processes_share_the_socket_and_stop_on_sigterm(serve):
    texts = ["The food was not good .", "I loved the service ."]
    status, _, expected = serve("sentiment").predict(texts)
    process, line = start_cli(
        bundle_path("sentiment"), "--port", "0", "--workers", "2", "--engine-threads", "1"
    )
    logs = []  # the JSON log lines of both workers, as they come
    reader = threading.Thread(
        target=lambda: logs.extend(json.loads(entry) for entry in process.stderr), daemon=True
    )
    reader.start()

    def answering():
        return {log["pid"] for log in list(logs) if log["message"] == "request"}

    try:
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        wait_ready(port)
        deadline = time.monotonic() + 120
        while len(answering()) < 2 and time.monotonic() < deadline:
            # a new connection each time: whichever worker accepts it answers
            assert post(port, "/v1/predict", {"inputs": texts}) == (status, expected)
        assert len(answering()) == 2 and process.pid not in answering()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_start_up_failures_are_one_line_errors():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for arguments, words in (
            (("--port", port), "cannot listen on 127.0.0.1"),
            (("--port", 70000), "--port must be 0 to 65535"),
            (("--max-batch", 0), "--max-batch must be at least 1"),
            (("--engine-threads", 0), "--engine-threads must be at least 1"),
            (("--limit", "num=5"), "cannot limit 'num'"),
        ):
            process, _ = start_cli(bundle_path("sentiment"), *arguments)
            error = process.stderr.read()
            assert process.wait(timeout=60) == 2, error
            assert error.count("\n") == 1 and words in error, error


def test_a_failure_inside_the_server_is_a_500_that_hides_its_text(serve):
    server = serve("sentiment")

    def broken(inputs, **options):
        raise RuntimeError("secret internal detail")

    server.bundle.answer = broken
    status, headers, reply = server.request(
        "POST", "/v1/predict", {"inputs": ["good"]}, headers={"X-Request-ID": "req-42"}
    )
    assert status == 500 and headers["content-type"] == "application/json"
    assert reply == {"error": "internal error (request id req-42)."}
    del server.bundle.answer  # the worker survived: the next request is answered
    assert server.predict(["good"])[0] == 200
