"""BLEU (Papineni et al. 2002), computed as sacrebleu computes it on pre-tokenized text."""

from __future__ import annotations

import collections
import dataclasses
import math
import numbers
from collections.abc import Sequence

from seqkeras.errors import SeqKerasError

# Default smoothing value of each method (None: the method takes no value), as in sacrebleu
# and Chen & Cherry 2014, "A Systematic Comparison of Smoothing Techniques for Sentence-Level BLEU".
SMOOTHING_DEFAULTS = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}


@dataclasses.dataclass(frozen=True)
class BLEU:
    """A BLEU score with the statistics it was computed from.

    Attributes:
        score: BLEU in [0, 100].
        precisions: the (smoothed) n-gram precisions p_1 ... p_N, in percent.
        bp: the brevity penalty.
        sys_len: total hypothesis length c, in tokens.
        ref_len: total length r of the closest references, in tokens.
        counts: clipped n-gram matches per order (before smoothing).
        totals: hypothesis n-grams per order (before smoothing).
    """

    score: float
    precisions: tuple
    bp: float
    sys_len: int
    ref_len: int
    counts: tuple
    totals: tuple

    @property
    def ratio(self) -> float:
        """The length ratio c / r (0 when there is no reference token)."""
        return self.sys_len / self.ref_len if self.ref_len else 0.0

    def __float__(self) -> float:
        return self.score

    def __str__(self) -> str:
        precisions = "/".join(f"{precision:.1f}" for precision in self.precisions)
        return (
            f"BLEU = {self.score:.2f} {precisions} (BP = {self.bp:.3f} ratio = {self.ratio:.3f} "
            f"hyp_len = {self.sys_len} ref_len = {self.ref_len})"
        )


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    max_n: int = 4,
    smooth: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
) -> BLEU:
    """Computes corpus-level BLEU of whitespace-tokenized hypotheses against references.

    Counts are summed over the corpus before the score is formed:

        p_n = Σ_hyp Σ_{g ∈ n-grams(hyp)} min(count_hyp(g), max_ref count_ref(g))
              / Σ_hyp |n-grams(hyp)|
        BP = 1 if c > r else exp(1 - r / c)
        BLEU = 100 · BP · exp((1/N) Σ_{n=1..N} log p_n)

    where c is the total hypothesis length and r the total length of the references closest
    in length to each hypothesis (the shorter one on ties). The result equals
    `sacrebleu.corpus_bleu(hypotheses, streams, tokenize="none", ...)`, where `streams`
    lays `references` out as sacrebleu's reference streams.

    Smoothing (Chen & Cherry 2014) of orders with no match:
        "none": p_n = 0, so BLEU = 0.
        "floor": p_n = smooth_value / |n-grams| (default 0.1).
        "add-k": for n > 1, k = smooth_value (default 1) is added to matches and totals.
        "exp": the k-th order without matches gets p_n = 1 / (2^k · |n-grams|) (mteval-v13a).
    BLEU is 0 when no unigram matches at all.

    Args:
        hypotheses: list of strings, tokens separated by whitespace.
        references: one list of reference strings per hypothesis (one or more each).
        max_n: the highest n-gram order N.
        smooth: "exp" (default), "floor", "add-k" or "none".
        smooth_value: the value of "floor" and "add-k"; None for their defaults.
        effective_order: if True, N is lowered to the highest order the hypotheses have
            n-grams of (use it for short sentences).

    Returns:
        A `BLEU`.

    Raises:
        SeqKerasError: if the inputs are not laid out as described, or an option is unknown.

    Example:

    >>> result = corpus_bleu(["the cat sat on the mat"], [["the cat sat on a mat"]])
    >>> round(result.score, 2), [round(p, 1) for p in result.precisions]
    (53.73, [83.3, 60.0, 50.0, 33.3])
    """
    _check_options(max_n, smooth, smooth_value)
    if not _is_list(hypotheses):
        raise SeqKerasError(
            f"hypotheses must be a list of strings, got a {type(hypotheses).__name__}."
        )
    if not hypotheses:
        raise SeqKerasError("hypotheses must not be empty.")
    if not _is_list(references) or len(references) != len(hypotheses):
        got = (
            f"{len(references)} reference lists"
            if _is_list(references)
            else f"a {type(references).__name__}"
        )
        raise SeqKerasError(
            "references must be a list holding one list of reference strings per hypothesis: "
            f"got {len(hypotheses)} hypotheses and {got}."
        )
    counts, totals = [0] * max_n, [0] * max_n
    sys_len = ref_len = 0
    for index, (hypothesis, hypothesis_references) in enumerate(zip(hypotheses, references)):
        if not isinstance(hypothesis, str):
            raise SeqKerasError(
                f"hypotheses[{index}] must be a string, got {type(hypothesis).__name__}."
            )
        hypothesis_tokens = hypothesis.split()
        reference_tokens = _reference_tokens(hypothesis_references, index)
        reference_ngrams: collections.Counter[tuple[str, ...]] = collections.Counter()
        for tokens in reference_tokens:
            reference_ngrams |= _ngrams(tokens, max_n)
        for ngram, count in _ngrams(hypothesis_tokens, max_n).items():
            totals[len(ngram) - 1] += count
            counts[len(ngram) - 1] += min(count, reference_ngrams[ngram])
        sys_len += len(hypothesis_tokens)
        ref_len += min(
            (abs(len(tokens) - len(hypothesis_tokens)), len(tokens)) for tokens in reference_tokens
        )[1]
    return _bleu_from_statistics(
        counts, totals, sys_len, ref_len, smooth, smooth_value, effective_order
    )


def sentence_bleu(
    hypothesis: str,
    references: Sequence[str],
    max_n: int = 4,
    smooth: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = True,
) -> BLEU:
    """Computes BLEU of one hypothesis against its references.

    The same as `corpus_bleu([hypothesis], [references], ...)`, with `effective_order=True` by
    default (as `sacrebleu.sentence_bleu`), so short sentences are not scored 0 for lacking
    4-grams.

    Args:
        hypothesis: a string, tokens separated by whitespace.
        references: a list of reference strings.
        max_n: the highest n-gram order N.
        smooth: "exp" (default), "floor", "add-k" or "none".
        smooth_value: the value of "floor" and "add-k"; None for their defaults.
        effective_order: if True, N is lowered to the highest order the hypothesis has.

    Returns:
        A `BLEU`.

    Example:

    >>> round(sentence_bleu("a cat", ["a cat", "the cat"]).score, 1)
    100.0
    """
    if not isinstance(hypothesis, str):
        raise SeqKerasError(f"hypothesis must be a string, got {type(hypothesis).__name__}.")
    return corpus_bleu([hypothesis], [references], max_n, smooth, smooth_value, effective_order)


def _check_options(max_n, smooth, smooth_value):
    if isinstance(max_n, bool) or not isinstance(max_n, numbers.Integral) or max_n < 1:
        raise SeqKerasError(f"max_n must be an integer >= 1, got {max_n!r}.")
    if smooth not in SMOOTHING_DEFAULTS:
        raise SeqKerasError(f"smooth must be one of {sorted(SMOOTHING_DEFAULTS)}, got {smooth!r}.")
    if smooth_value is not None and (
        isinstance(smooth_value, bool)
        or not isinstance(smooth_value, numbers.Real)
        or not float(smooth_value) > 0
    ):
        raise SeqKerasError(f"smooth_value must be a number > 0, got {smooth_value!r}.")


def _is_list(value):
    return isinstance(value, collections.abc.Sequence) and not isinstance(value, str)


def _reference_tokens(references, index):
    if not _is_list(references):
        raise SeqKerasError(
            f"references[{index}] must be a list of reference strings, got a "
            f"{type(references).__name__}; for a single reference write [reference]."
        )
    if not references or not all(isinstance(reference, str) for reference in references):
        raise SeqKerasError(
            f"references[{index}] must be a non-empty list of strings, got {references!r}."
        )
    return [reference.split() for reference in references]


def _ngrams(tokens, max_n):
    return collections.Counter(
        tuple(tokens[start : start + n])
        for n in range(1, max_n + 1)
        for start in range(len(tokens) - n + 1)
    )


def _bleu_from_statistics(counts, totals, sys_len, ref_len, smooth, smooth_value, effective_order):
    max_n = len(counts)
    if smooth_value is None:
        smooth_value = SMOOTHING_DEFAULTS[smooth]
    if sys_len >= ref_len:
        bp = 1.0
    else:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    result = {
        "bp": bp,
        "sys_len": sys_len,
        "ref_len": ref_len,
        "counts": tuple(counts),
        "totals": tuple(totals),
    }
    if not any(counts):
        return BLEU(score=0.0, precisions=(0.0,) * max_n, **result)

    precisions = [0.0] * max_n
    order = max_n
    exp_divisor = 1.0
    for n in range(1, max_n + 1):
        matches, total = counts[n - 1], totals[n - 1]
        if smooth == "add-k" and n > 1:
            matches, total = matches + smooth_value, total + smooth_value
        if total == 0:
            break
        if effective_order:
            order = n
        if matches > 0:
            precisions[n - 1] = 100.0 * matches / total
        elif smooth == "exp":
            exp_divisor *= 2
            precisions[n - 1] = 100.0 / (exp_divisor * total)
        elif smooth == "floor":
            precisions[n - 1] = 100.0 * smooth_value / total
    if min(precisions[:order]) == 0:
        score = 0.0
    else:
        score = bp * math.exp(sum(math.log(p) for p in precisions[:order]) / order)
    return BLEU(score=score, precisions=tuple(precisions), **result)
