"""Decoding in NumPy only (shared by the Keras path and the TF-free runtime).

Sampling (`sample`, `greedy`, `sample_sequence`, the `Sampler` classes), `beam_search`
(`beam_search_batch` for many inputs at once), `ensemble` (several models decoded jointly),
and CTC decoding (`ctc_greedy_decode`, `ctc_beam_search` with an optional lexicon and
`WordNgramLM`). Nothing here imports TensorFlow or Keras.
"""

from seqkeras.decoding.beam_search import beam_search, beam_search_batch
from seqkeras.decoding.ctc import ctc_beam_search, ctc_greedy_decode
from seqkeras.decoding.ensemble import ensemble
from seqkeras.decoding.greedy_sampler import GreedySampler
from seqkeras.decoding.ngram import WordNgramLM
from seqkeras.decoding.random_sampler import RandomSampler
from seqkeras.decoding.sampler import Sampler
from seqkeras.decoding.sampling import get_sampler, greedy, sample, sample_sequence
from seqkeras.decoding.top_k_sampler import TopKSampler
from seqkeras.decoding.top_p_sampler import TopPSampler

__all__ = [
    "GreedySampler",
    "RandomSampler",
    "Sampler",
    "TopKSampler",
    "TopPSampler",
    "WordNgramLM",
    "beam_search",
    "beam_search_batch",
    "ctc_beam_search",
    "ctc_greedy_decode",
    "ensemble",
    "get_sampler",
    "greedy",
    "sample",
    "sample_sequence",
]
