"""Levenshtein distance, and the character and word error rates built on it."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from seqkeras.errors import SeqKerasError


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Computes the Levenshtein distance between two sequences.

    The distance is the fewest insertions, deletions and substitutions that turn `a` into `b`:

        D(i, j) = min(D(i-1, j) + 1, D(i, j-1) + 1, D(i-1, j-1) + [a_i ≠ b_j]),
        D(i, 0) = i, D(0, j) = j, distance = D(|a|, |b|)

    Args:
        a: a sequence (string, list of tokens, 1-D array) whose items compare with `==`.
        b: another sequence.

    Returns:
        The distance, an `int`.

    Example:

    >>> edit_distance("kitten", "sitting")
    3
    >>> edit_distance(["the", "cat"], ["a", "cat", "sat"])
    2
    """
    a, b = list(a), list(b)
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, item_a in enumerate(a, start=1):
        current = [i]
        for j, item_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (item_a != item_b))
            )
        previous = current
    return previous[-1]


def cer(refs: str | Sequence[str], hyps: str | Sequence[str]) -> float:
    """Computes the character error rate of hypotheses against references.

        CER = Σ edit_distance(ref, hyp) / Σ |ref|

    over characters, after stripping leading and trailing whitespace (inner spaces count).
    Equals `jiwer.cer(refs, hyps)`.

    Args:
        refs: a reference string or a list of them.
        hyps: a hypothesis string or a list of them, one per reference.

    Returns:
        The CER, a `float` (it exceeds 1 when hypotheses insert more than the references hold).

    Raises:
        SeqKerasError: if the lists differ in length or every reference is empty.

    Example:

    >>> round(cer(["the cat"], ["the bat"]), 4)
    0.1429
    """
    return _error_rate(refs, hyps, lambda text: text.strip(), "characters")


def wer(refs: str | Sequence[str], hyps: str | Sequence[str]) -> float:
    """Computes the word error rate of hypotheses against references.

        WER = Σ edit_distance(ref words, hyp words) / Σ |ref words|

    with words separated by whitespace. Equals `jiwer.wer(refs, hyps)` on space-separated text.

    Args:
        refs: a reference string or a list of them.
        hyps: a hypothesis string or a list of them, one per reference.

    Returns:
        The WER, a `float`.

    Raises:
        SeqKerasError: if the lists differ in length or every reference is empty.

    Example:

    >>> wer(["the cat sat", "on the mat"], ["the cat sat down", "on mat"])
    0.3333333333333333
    """
    return _error_rate(refs, hyps, str.split, "words")


def _error_rate(refs, hyps, units, unit_name):
    refs = _as_string_list(refs, "refs")
    hyps = _as_string_list(hyps, "hyps")
    if len(refs) != len(hyps):
        raise SeqKerasError(
            f"refs and hyps must have one hypothesis per reference, got {len(refs)} refs "
            f"and {len(hyps)} hyps."
        )
    pairs = [(units(ref), units(hyp)) for ref, hyp in zip(refs, hyps)]
    reference_length = sum(len(ref) for ref, _ in pairs)
    if reference_length == 0:
        raise SeqKerasError(
            f"refs hold no {unit_name}: the error rate is undefined for empty references."
        )
    return sum(edit_distance(ref, hyp) for ref, hyp in pairs) / reference_length


def _as_string_list(texts, name):
    if isinstance(texts, str):
        return [texts]
    try:
        texts = list(texts)
    except TypeError:
        raise SeqKerasError(
            f"{name} must be a string or a list of strings, got {type(texts).__name__}."
        ) from None
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise SeqKerasError(f"{name}[{index}] must be a string, got {type(text).__name__}.")
    return texts
