"""Dynamic batching: concurrent requests to one bundle gathered into one engine call.

Requests wait in a bounded queue (counted in inputs). A worker takes the first job, adds every
job already queued, up to `max_batch` inputs, and, when the previous gathering found company
(evidence of concurrent clients), waits up to `max_wait` seconds for more; a lone client never
waits. Jobs with the same options run as one `predict` call on their concatenated inputs; the
outputs are split back per job. When a merged call fails on a bad input, each job of it is run
alone, so that one bad request never fails its neighbours.

A job whose client disconnected or timed out is skipped when its turn comes, and a long call
(text generation) stops between units of work once all its jobs are abandoned
(`seqkeras.runtime.contract.stop_when`).

Engines that run concurrently (ONNX Runtime) may get several worker threads; a LiteRT bundle
always gets one (its interpreter serializes calls anyway).

How jobs are gathered is the one replaceable part: a `seqkeras.serving.app.Service` takes the
batcher class (`batcher=`), anything built like `Batcher` with its `start`, `stop`, `submit`
and `queued`. `seqkeras.serving.ray.RayBatcher` gathers with Ray Serve's `@serve.batch` and
answers each gathered batch with `Batcher.settle`.
"""

import asyncio
import collections
import concurrent.futures
import dataclasses
import time

from seqkeras.errors import SeqKerasError
from seqkeras.runtime.contract import rows, stop_when

# Measured with benchmarks/serve_load.py (sentiment, 128 clients): 128 inputs per call served
# 1.7x the requests/s of 32, at a lower median latency.
DEFAULT_MAX_BATCH = 128


class Overloaded(SeqKerasError):
    """The queue is full: the request is refused (HTTP 503 with Retry-After)."""


@dataclasses.dataclass(eq=False)
class Job:
    """One request's inputs and checked options, and the future its answer goes to."""

    inputs: list
    options: dict
    scored: bool
    future: asyncio.Future
    cancelled: bool = False

    @property
    def key(self):
        return (self.scored, tuple(sorted((k, repr(v)) for k, v in self.options.items())))


class Batcher:
    """Gathers jobs into engine calls on worker threads.

    Args:
        bundle: a runtime bundle (its `answer` and `scored` are called on merged inputs that
            passed `check_options` and `check_inputs` one request at a time).
        max_batch: the most inputs of one engine call (a larger single request runs alone).
        max_wait: seconds to wait for company when requests are arriving concurrently.
        max_queue: the most inputs waiting; beyond, `submit` raises `Overloaded`.
        threads: worker threads (1 when the bundle's engines are not concurrent).
        observe: `observe(batch_inputs, engine_seconds)` after each engine call, or None.
    """

    def __init__(
        self,
        bundle,
        max_batch=DEFAULT_MAX_BATCH,
        max_wait=0.002,
        max_queue=1024,
        threads=1,
        observe=None,
    ):
        for name, value in (("max_batch", max_batch), ("max_queue", max_queue)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SeqKerasError(f"serve: `{name}` must be an integer >= 1, got {value!r}.")
        if not 0 <= max_wait <= 1:
            raise SeqKerasError(f"serve: `max_wait` must be 0 to 1 second, got {max_wait!r}.")
        self.bundle = bundle
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_queue = max_queue
        self.threads = threads if bundle.concurrent else 1
        self.observe = observe
        self.queued = 0
        self._jobs = collections.deque()
        self._ready = None
        self._workers = []
        self._executor = None

    def start(self):
        """Starts the workers on the running event loop."""
        self._ready = asyncio.Condition()
        self._start_engine_threads()
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.threads)]

    def _start_engine_threads(self):
        self._executor = concurrent.futures.ThreadPoolExecutor(
            self.threads, thread_name_prefix="seqkeras-engine"
        )

    async def stop(self):
        """Stops the workers (jobs still queued get `Overloaded`)."""
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        while self._jobs:
            job = self._jobs.popleft()
            if not job.future.done():
                job.future.set_exception(Overloaded("the server is shutting down."))
        self._executor.shutdown(wait=True)

    async def submit(self, inputs, options, scored=False):
        """Queues a job and returns it (`await job.future` gives its outputs).

        Raises:
            Overloaded: the queue holds `max_queue` inputs already.
        """
        job = self._admit(inputs, options, scored)
        self._jobs.append(job)
        async with self._ready:
            self._ready.notify()
        return job

    def _admit(self, inputs, options, scored):
        """A new job, counted in `queued`; `Overloaded` when the queue is full."""
        if self.queued + len(inputs) > self.max_queue and self.queued:
            raise Overloaded(f"the queue is full ({self.queued} inputs waiting); retry later.")
        job = Job(list(inputs), options, scored, asyncio.get_running_loop().create_future())
        self.queued += len(job.inputs)
        return job

    async def _take(self):
        async with self._ready:
            await self._ready.wait_for(lambda: bool(self._jobs))
            return self._pop()

    def _pop(self):
        job = self._jobs.popleft()
        self.queued -= len(job.inputs)
        return job

    async def _gather(self):
        batch = [await self._take()]
        size = len(batch[0].inputs)
        deadline = time.monotonic() + self.max_wait
        waited = False
        while size < self.max_batch:
            if self._jobs:
                if size + len(self._jobs[0].inputs) > self.max_batch:
                    break
                job = self._pop()
                batch.append(job)
                size += len(job.inputs)
                continue
            remaining = deadline - time.monotonic()
            if len(batch) == 1 or waited or remaining <= 0:
                break
            waited = True
            await asyncio.sleep(remaining)
        return batch

    async def _work(self):
        while True:
            await self.settle(await self._gather())

    async def settle(self, batch):
        """Answers a gathered batch: one engine call per option set, results into the futures.

        Jobs abandoned meanwhile (cancelled, or answered already) are skipped.
        """
        loop = asyncio.get_running_loop()
        groups = collections.defaultdict(list)
        for job in batch:
            if not (job.cancelled or job.future.done()):
                groups[job.key].append(job)
        for jobs in groups.values():
            results = await loop.run_in_executor(self._executor, self._run, jobs)
            for job, (outputs, error) in zip(jobs, results):
                if job.cancelled or job.future.done():  # nobody waits for it any more
                    continue
                if error is None:
                    job.future.set_result(outputs)
                else:
                    job.future.set_exception(error)

    def _call(self, jobs, inputs, options, scored):
        run = self.bundle.scored if scored else self.bundle.answer
        start = time.perf_counter()
        with stop_when(lambda: all(job.cancelled for job in jobs)):
            outputs = rows(run(inputs, **options))
        if self.observe is not None:
            self.observe(len(inputs), time.perf_counter() - start)
        return outputs

    def _run(self, jobs):
        """[(outputs, error)] per job: one merged call, or one call per job when it fails."""
        first = jobs[0]
        if len(jobs) > 1:
            merged = [item for job in jobs for item in job.inputs]
            try:
                outputs = self._call(jobs, merged, first.options, first.scored)
            except Exception:  # some job's input is bad (or worse): run each alone below
                pass
            else:
                results, start = [], 0
                for job in jobs:
                    results.append((outputs[start : start + len(job.inputs)], None))
                    start += len(job.inputs)
                return results
        results = []
        for job in jobs:
            try:
                results.append((self._call([job], job.inputs, job.options, job.scored), None))
            except Exception as error:  # returned to the request's handler, which maps it
                results.append((None, error))
        return results
