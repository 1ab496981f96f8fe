"""A word n-gram language model with add-k smoothing, for scoring words in CTC beam search."""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Sequence

from seqkeras.decoding._validation import check_int, check_number
from seqkeras.errors import SeqKerasError

START = "<s>"
UNKNOWN = "<unk>"


class WordNgramLM:
    """Word n-gram language model with add-k smoothing (pure Python).

    With h the `order` - 1 words before w (padded with `<s>` at the start of a text), c(·) the
    counts in the training texts and V their words plus `<unk>`:

        P(w | h) = (c(h, w) + k) / (c(h) + k·|V|)

    A word outside the training texts is scored as `<unk>`. An instance is the language model
    `seqkeras.decoding.ctc_beam_search` takes: `lm(context, word) -> log P(word | context)`.

    Args:
        order: n, the words per n-gram (1: unigram).
        k: the smoothing count added to every n-gram, > 0.

    Example:

    >>> lm = WordNgramLM(order=2).fit(["go left", "go right", "stop"])
    >>> lm(("go",), "left") > lm(("go",), "stop")
    True
    """

    def __init__(self, order: int = 2, k: float = 0.1) -> None:
        self.order = check_int(order, "WordNgramLM: `order`", 1)
        self.k = check_number(k, "WordNgramLM: `k`", 1e-12)
        self.counts: collections.defaultdict[tuple[str, ...], collections.Counter[str]] = (
            collections.defaultdict(collections.Counter)
        )
        self.vocabulary = {UNKNOWN}

    def fit(self, texts: Iterable[str]) -> WordNgramLM:
        """Counts the n-grams of `texts` (strings of space-separated words); returns self.

        Raises:
            SeqKerasError: `texts` is a string or holds no words.
        """
        if isinstance(texts, str):
            raise SeqKerasError("WordNgramLM.fit: expected a list of texts, got one string.")
        for text in texts:
            words = [START] * (self.order - 1) + text.split()
            for end in range(self.order - 1, len(words)):
                self.counts[tuple(words[end - self.order + 1 : end])][words[end]] += 1
                self.vocabulary.add(words[end])
        if len(self.vocabulary) == 1:
            raise SeqKerasError("WordNgramLM.fit: the texts hold no words.")
        return self

    def __call__(self, context: Sequence[str], word: str) -> float:
        """log P(word | context), `context` the words before `word` (oldest first)."""
        history = (START,) * (self.order - 1) + tuple(context)
        history = history[len(history) - self.order + 1 :]
        counts = self.counts.get(history, collections.Counter())
        word = word if word in self.vocabulary else UNKNOWN
        total = sum(counts.values()) + self.k * len(self.vocabulary)
        return math.log((counts.get(word, 0) + self.k) / total)
