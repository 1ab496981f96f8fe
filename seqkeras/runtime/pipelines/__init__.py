"""The task pipelines of the runtime: one module per kind of task, each a `Bundle` subclass.

A pipeline is a `Bundle` subclass (see `seqkeras.runtime.bundle`) that declares the runtime
contract and adds the task's own methods on top of the raw graphs, built from the
Preprocessor's NumPy half and `seqkeras.decoding`. Each kind registers itself:

    @register_pipeline("generate")
    class GenerationBundle(Bundle):
        input_kind = "prefixes"
        options = declare(Option("num", int, 1, low=1, high=64), ...)
        preprocessor_class = TextPreprocessor

        def setup(self):                         # self.metadata holds what the task exported
            ...

Pipelines import only the engine room (`bundle`, `contract`, `engines`, `model`, `specs`,
`images`), `seqkeras.decoding`, `seqkeras.text` and `seqkeras.metrics`, and the helpers of a
sibling pipeline; never `seqkeras.runtime.loading`. Importing this package imports every
pipeline module, which is what registers them (`seqkeras.runtime.load` does it).
"""

from seqkeras.runtime.pipelines import ctc, dna, frames, generation, labeling, seq2seq

__all__ = ["ctc", "dna", "frames", "generation", "labeling", "seq2seq"]
