"""Decoding of CTC outputs: best path (greedy) and prefix beam search."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from seqkeras.decoding._types import Hypotheses
from seqkeras.decoding._validation import check_int, check_log_probs, check_number
from seqkeras.errors import SeqKerasError

SPACE = " "
END = ""  # the trie key of a complete word (never a character)


def ctc_greedy_decode(logits: npt.ArrayLike, blank: int = 0) -> list[int]:
    """Decodes CTC outputs by best path: the argmax per frame, repeats collapsed, blanks dropped.

        π<t> = argmax_v y<t>_v;   labels = B(π)

    where B merges consecutive repeats, then removes blanks ("ttt_h_eee___ ___qqq" -> "the q").

    Args:
        logits: array of shape (T, vocab_size): logits, log-probabilities or probabilities
            (the argmax is the same).
        blank: the blank's class id.

    Returns:
        The decoded label ids, a list of `int`.

    Example:

    >>> import numpy as np
    >>> ctc_greedy_decode(np.eye(3)[[1, 1, 0, 1, 2, 2, 0]])
    [1, 1, 2]
    """
    logits = check_log_probs(logits, "logits")
    blank = _check_blank(blank, logits.shape[1])
    path = np.argmax(logits, axis=1)
    first_of_run = np.ones(len(path), dtype=bool)
    first_of_run[1:] = path[1:] != path[:-1]
    return [int(label) for label in path[first_of_run] if label != blank]


def ctc_beam_search(
    log_probs: npt.ArrayLike,
    beam_width: int = 8,
    blank: int = 0,
    prefix_scorer: Callable[[tuple[int, ...]], npt.ArrayLike] | None = None,
    alphabet: str | Sequence[str] | None = None,
    lexicon: Iterable[str] | None = None,
    lm: Callable[[tuple[str, ...], str], float] | None = None,
    lm_weight: float = 1.0,
    word_bonus: float = 0.0,
) -> Hypotheses:
    """Decodes CTC outputs by prefix beam search (Hannun et al. 2014), in log space.

    Every prefix ℓ keeps two log-probabilities over the alignments of frames 1..t that
    collapse to it: b(ℓ) for those ending in a blank and n(ℓ) for those ending in ℓ's last
    label. For frame t with log-probabilities y:

        b'(ℓ)   = log(e^b(ℓ) + e^n(ℓ)) + y_blank
        n'(ℓ)   = n(ℓ) + y_last(ℓ)                        (a repeat collapses)
        n'(ℓ+c) = log(e^b(ℓ) + e^n(ℓ)) + y_c + s(ℓ, c)    (c ≠ last(ℓ); for c = last(ℓ) only b(ℓ))

    contributions to the same prefix are summed, and the `beam_width` prefixes with the
    largest log(e^b + e^n) survive. s(ℓ, c) is 0 unless `prefix_scorer` or word scoring is
    given. With a beam as wide as the number of possible prefixes, the result is exact:
    log P(ℓ | x) summed over all alignments (plus the s terms along ℓ); a narrower beam drops
    the alignments of pruned prefixes, so the log-prob it returns is a lower bound.

    Word scoring (`lexicon`, `lm`, `word_bonus`; `alphabet` spells the labels): the text of ℓ
    is its completed words h (before the last space) and a partial word w. Extending ℓ by a
    space completes w, and at the last frame each prefix's partial word is completed too:

        s(ℓ, " ") = lm_weight·log P_LM(w | h) + word_bonus

    the word language model with an insertion bonus per word (Hannun et al.'s α and β). With
    a `lexicon` (a prefix trie of its words), a character c gets s(ℓ, c) = -inf unless w + c
    begins a lexicon word, and a completed word outside the lexicon gets -inf, so the beam
    only holds lexicon words separated by single spaces (the empty text is allowed). Without
    a lexicon, a space that completes no word (a leading or repeated one) scores 0.

    Args:
        log_probs: array of shape (T, vocab_size), log-probabilities or logits (rows are
            log-softmax normalized).
        beam_width: integer >= 1, the number of prefixes kept per frame.
        blank: the blank's class id.
        prefix_scorer: optional `prefix_scorer(prefix) -> scores`, called with a prefix (a
            tuple of label ids) and returning an array of shape (vocab_size,) of log-weights
            s(prefix, c) added when the prefix is extended by c: e.g. α·log P_LM(c | prefix) + β
            for a character language model, or -inf for extensions a constraint forbids. It is
            called once per distinct prefix. Not together with word scoring.
        alphabet: the character of each class id, a string or list of vocab_size entries
            (the blank's entry is ignored; `" "` separates words). Needed for word scoring.
        lexicon: optional set of words (strings without spaces) the transcript must be made of.
        lm: optional word language model, `lm(context, word) -> log P(word | context)` with
            `context` the tuple of the words before `word`; e.g. a `WordNgramLM`.
        lm_weight: α >= 0, the weight of the language model's log-probabilities.
        word_bonus: β, a log-weight added per word (it offsets the LM's per-word cost; < 0
            penalizes insertions).

    Returns:
        Up to `beam_width` pairs `(labels, log_prob)`, best first: `labels` a list of ids,
        `log_prob` the prefix's log-probability (plus its scorer or word terms). With a
        lexicon, prefixes that end inside a word are dropped at the end, so the list may be
        empty.

    Raises:
        SeqKerasError: bad arguments, an lm returning NaN or a positive value, or a lexicon
            word with characters outside `alphabet`.

    Example:

    >>> import numpy as np
    >>> probs = np.array([[0.4, 0.6], [0.4, 0.6]])   # blank = 0
    >>> [(labels, round(float(np.exp(p)), 2)) for labels, p in ctc_beam_search(np.log(probs))]
    [([1], 0.84), ([], 0.16)]
    >>> [labels for labels, _ in ctc_beam_search(np.log(probs), alphabet="_a", lexicon={"aa"})]
    [[]]
    """
    log_probs = check_log_probs(log_probs, "log_probs")
    vocab_size = log_probs.shape[1]
    blank = _check_blank(blank, vocab_size)
    beam_width = check_int(beam_width, "beam_width", 1)
    words = None
    if lexicon is not None or lm is not None or word_bonus != 0.0:
        if prefix_scorer is not None:
            raise SeqKerasError("give either prefix_scorer or lexicon/lm/word_bonus, not both.")
        words = _WordScorer(vocab_size, blank, alphabet, lexicon, lm, lm_weight, word_bonus)
        scorer: _WordScorer | _CachedScorer | None = words
    else:
        scorer = None if prefix_scorer is None else _CachedScorer(prefix_scorer, vocab_size)

    prefixes = [()]
    blank_ending = np.array([0.0])
    label_ending = np.array([-np.inf])
    for frame in log_probs:
        rows = np.arange(len(prefixes))
        last = np.array([prefix[-1] if prefix else blank for prefix in prefixes])
        total = np.logaddexp(blank_ending, label_ending)
        stay_blank = total + frame[blank]
        stay_label = label_ending + frame[last]
        extend = total[:, None] + frame[None, :]
        extend[rows, last] = blank_ending + frame[last]
        extend[:, blank] = -np.inf
        if scorer is not None:
            extend += np.stack([scorer(prefix) for prefix in prefixes])

        row_of = {prefix: row for row, prefix in enumerate(prefixes)}
        for row, prefix in enumerate(prefixes):
            parent_row = row_of.get(prefix[:-1]) if prefix else None
            if parent_row is not None:
                stay_label[row] = np.logaddexp(stay_label[row], extend[parent_row, prefix[-1]])
                extend[parent_row, prefix[-1]] = -np.inf

        scores = np.concatenate([np.logaddexp(stay_blank, stay_label), extend.ravel()])
        best = np.argsort(-scores, kind="stable")[:beam_width]
        best = best[np.isfinite(scores[best])]
        next_prefixes, next_blank_ending, next_label_ending = [], [], []
        for candidate in best:
            if candidate < len(prefixes):
                next_prefixes.append(prefixes[candidate])
                next_blank_ending.append(stay_blank[candidate])
                next_label_ending.append(stay_label[candidate])
            else:
                row, label = divmod(candidate - len(prefixes), vocab_size)
                next_prefixes.append((*prefixes[row], int(label)))
                next_blank_ending.append(-np.inf)
                next_label_ending.append(extend[row, label])
        prefixes = next_prefixes
        blank_ending = np.array(next_blank_ending)
        label_ending = np.array(next_label_ending)

    scores = np.logaddexp(blank_ending, label_ending)
    if words is not None:
        scores = scores + np.array([words.final(prefix) for prefix in prefixes])
    order = np.argsort(-scores, kind="stable")
    return [(list(prefixes[i]), float(scores[i])) for i in order if np.isfinite(scores[i])]


class _CachedScorer:
    """Calls a prefix scorer once per prefix and checks what it returns."""

    def __init__(self, prefix_scorer, vocab_size):
        self.prefix_scorer = prefix_scorer
        self.vocab_size = vocab_size
        self.cache = {}

    def __call__(self, prefix):
        if prefix not in self.cache:
            scores = np.asarray(self.prefix_scorer(prefix), dtype=np.float64)
            if scores.shape != (self.vocab_size,) or np.isnan(scores).any():
                raise SeqKerasError(
                    f"prefix_scorer must return an array of shape ({self.vocab_size},) "
                    f"without NaN, got shape {scores.shape} for prefix {prefix}."
                )
            if np.isposinf(scores).any():
                raise SeqKerasError(f"prefix_scorer returned +inf for prefix {prefix}.")
            self.cache[prefix] = scores
        return self.cache[prefix]


class _WordScorer:
    """Lexicon and word-LM log-weights s(ℓ, c) and end terms of `ctc_beam_search`, per prefix."""

    def __init__(self, vocab_size, blank, alphabet, lexicon, lm, lm_weight, word_bonus):
        if alphabet is None:
            raise SeqKerasError("lexicon, lm and word_bonus need the `alphabet` of the labels.")
        if (
            not isinstance(alphabet, str | list | tuple)
            or len(alphabet) != vocab_size
            or not all(
                isinstance(c, str) and (len(c) == 1 or i == blank) for i, c in enumerate(alphabet)
            )
        ):
            raise SeqKerasError(
                f"alphabet must be a string or list of vocab_size={vocab_size} characters, one "
                f"per class id (the blank's entry is ignored), got {alphabet!r:.80}."
            )
        self.ids = {c: i for i, c in enumerate(alphabet) if i != blank}
        if len(self.ids) != len(alphabet) - 1:
            raise SeqKerasError(f"alphabet must have distinct characters, got {alphabet!r:.80}.")
        self.alphabet = list(alphabet)
        self.trie = None if lexicon is None else self._trie(lexicon)
        if lm is not None and not callable(lm):
            raise SeqKerasError(f"lm must be callable as lm(context, word), got {lm!r:.80}.")
        self.lm = lm
        self.lm_weight = check_number(lm_weight, "lm_weight")
        self.word_bonus = check_number(word_bonus, "word_bonus", -np.inf)
        self.cache = {}

    def _trie(self, lexicon):
        """Nested dicts, one level per character; the key END marks a complete word."""
        if isinstance(lexicon, str) or not isinstance(lexicon, Iterable):
            raise SeqKerasError(f"lexicon must be a set of words, got {lexicon!r:.80}.")
        root: dict[str, Any] = {}
        for word in lexicon:
            if not isinstance(word, str):
                raise SeqKerasError(f"lexicon must hold strings, got {word!r:.80}.")
            outside = sorted(set(word) - set(self.ids) | set(word) & {SPACE})
            if not word or outside:
                raise SeqKerasError(
                    f"lexicon word {word!r} is empty or holds characters {outside} that are "
                    "spaces or outside the alphabet."
                )
            node = root
            for character in word:
                node = node.setdefault(character, {})
            node[END] = True
        return root

    def _split(self, prefix):
        """The prefix's completed words (a tuple) and its partial word."""
        *words, partial = "".join(self.alphabet[i] for i in prefix).split(SPACE)
        return tuple(word for word in words if word), partial

    def word_score(self, context, word):
        """lm_weight·log P_LM(word | context) + word_bonus, -inf for a non-lexicon word."""
        if not word:
            return 0.0 if self.trie is None else -np.inf
        if self.trie is not None and END not in self._node(word):
            return -np.inf
        if self.lm is None or self.lm_weight == 0.0:
            return self.word_bonus
        log_prob = self.lm(context, word)
        if not isinstance(log_prob, numbers.Real) or not float(log_prob) <= 0:
            raise SeqKerasError(
                f"lm must return a log-probability <= 0, got {log_prob!r} for {word!r} after "
                f"{context}."
            )
        return self.lm_weight * float(log_prob) + self.word_bonus

    def _node(self, word):
        node: Any = self.trie
        for character in word:
            node = node.get(character, {})
        return node

    def __call__(self, prefix):
        if prefix not in self.cache:
            context, partial = self._split(prefix)
            if self.trie is None:
                scores = np.zeros(len(self.alphabet))
            else:
                scores = np.full(len(self.alphabet), -np.inf)
                scores[[self.ids[c] for c in self._node(partial) if c != END]] = 0.0
            if SPACE in self.ids:
                scores[self.ids[SPACE]] = self.word_score(context, partial)
            self.cache[prefix] = scores
        return self.cache[prefix]

    def final(self, prefix):
        """The end term: the partial word completed (0 for the empty prefix)."""
        return self.word_score(*self._split(prefix)) if prefix else 0.0


def _check_blank(blank, vocab_size):
    blank = check_int(blank, "blank", 0)
    if blank >= vocab_size:
        raise SeqKerasError(f"blank must be a class id < vocab_size={vocab_size}, got {blank}.")
    return blank
