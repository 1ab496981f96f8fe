"""Short reviews labeled positive or negative, built from the VADER sentiment lexicon's words.

    "The food was delightful ."                                  positive   plain
    "The service was not very helpful ."                         negative   negation
    "The view was charming , but the staff was never friendly ." negative   contrast
    "Completely lacking in good taste , good service and good ambience ."   negative   lacking

The sentiment words are real: adjectives of `vaderSentiment`'s lexicon (human-rated valence,
-4 to +4) with a clear polarity and raters who agree. Sentences mix intensifiers ("very",
"extremely"), negations ("not", "never", "hardly"), which flip a clause's polarity, and
contrasts ("..., but ..."), where the second clause decides; "lacking in" reviews list positive
words in a negative review, as in the course's example.

For transfer learning, `review_corpus` writes unlabeled reviews to pretrain word vectors on
(each consistent in polarity, like most real reviews, so that words of one polarity share
contexts), and `split_words` keeps some words out of the labeled reviews: a classifier over
pretrained vectors can then read sentiment words it never saw labeled.
"""

import importlib.resources
import random
import typing

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require

LABELS = ("negative", "positive")
KINDS = ("plain", "negation", "contrast", "lacking")
# The valence (mean rating) of a kept word is at least MIN_VALENCE from 0 and at most
# MAX_VALENCE (stronger words are mostly about violence, not reviews); its raters' standard
# deviation is at most MAX_DISAGREEMENT.
MIN_VALENCE = 1.5
MAX_VALENCE = 3.0
MAX_DISAGREEMENT = 1.0
ADJECTIVE_SUFFIXES = ("ful", "ous", "ive", "able", "ible", "ent", "ant", "ic", "less", "ing", "ed")
NOT_ADJECTIVE_SUFFIXES = ("ly", "ity", "ment", "ness")
# Common short adjectives the suffix rule misses (their valence still comes from the lexicon).
CORE_WORDS = ("good", "great", "nice", "fine", "bad", "poor", "awful", "terrible", "horrible")
ASPECTS = (
    "food", "service", "staff", "music", "room", "view", "coffee", "movie", "plot",
    "acting", "book", "ending", "hotel", "waiter", "price", "taste", "ambience",
)  # fmt: skip
INTENSIFIERS = ("very", "really", "extremely", "absolutely", "truly", "quite")
NEGATIONS = ("not", "never", "hardly", "not really")
SHARES = {"plain": 0.6, "negation": 0.2, "contrast": 0.1, "lacking": 0.1}
# The closing remarks of `review_corpus`, by polarity.
VERDICTS = {
    "positive": ("highly recommended", "we will be back", "worth every penny", "a real treat"),
    "negative": ("avoid it", "never again", "a waste of money", "stay away"),
}
FULL_SIZE = 20_000
SMOKE_SIZE = 1_200


class SentimentExample(typing.NamedTuple):
    """One review: its text, "positive" or "negative", and its kind (one of `KINDS`)."""

    text: str
    label: str
    kind: str


def sentiment_lexicon():
    """The lexicon of `vaderSentiment`: a dict word -> valence (mean human rating, -4 to 4).

    Raises:
        SeqKerasError: vaderSentiment is not installed.
    """
    package = require("vaderSentiment", "tasks", "the sentiment data")
    text = (
        importlib.resources.files(package).joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    )
    return {
        fields[0]: (float(fields[1]), float(fields[2]))
        for fields in (line.split("\t") for line in text.splitlines())
        if len(fields) >= 3
    }


def sentiment_words(max_words=None):
    """`(positive, negative)`: the lexicon's clear-cut adjectives, those raters agree on most first.

    Args:
        max_words: keep this many words of each polarity (None: all).
    """
    words = {"positive": [], "negative": []}
    for word, (valence, disagreement) in sentiment_lexicon().items():
        adjective = word in CORE_WORDS or (
            word.isalpha()
            and word.islower()
            and len(word) >= 4
            and word.endswith(ADJECTIVE_SUFFIXES)
            and not word.endswith(NOT_ADJECTIVE_SUFFIXES)
        )
        clear = MIN_VALENCE <= abs(valence) <= MAX_VALENCE and disagreement <= MAX_DISAGREEMENT
        if adjective and clear:
            words["positive" if valence > 0 else "negative"].append((disagreement, word))
    return tuple(
        [word for _, word in sorted(words[polarity])[:max_words]]
        for polarity in ("positive", "negative")
    )


def split_words(words, unseen_share):
    """Splits a word list into `(seen, unseen)`, the unseen words spread evenly through it.

    Args:
        words: a list of words (e.g. one polarity of `sentiment_words()`, strongest first).
        unseen_share: the fraction of the words to hold out, in [0, 1).

    Example:

    >>> split_words(["a", "b", "c", "d"], 0.5)
    (['a', 'c'], ['b', 'd'])
    """
    if not 0 <= unseen_share < 1:
        raise SeqKerasError(f"split_words: `unseen_share` must be in [0, 1), got {unseen_share!r}.")
    unseen = [int((i + 1) * unseen_share) > int(i * unseen_share) for i in range(len(words))]
    return (
        [word for word, held_out in zip(words, unseen) if not held_out],
        [word for word, held_out in zip(words, unseen) if held_out],
    )


class _Writer:
    def __init__(self, seed, words):
        self.rng = random.Random(seed)
        if any(not polarity_words for polarity_words in words):
            raise SeqKerasError("sentiment data: `words` needs at least one word per polarity.")
        self.words = dict(zip(("positive", "negative"), words))

    def clause(self, polarity, negated):
        """ "the <aspect> was [negation] [intensifier] <word>" and its polarity."""
        rng = self.rng
        shown = polarity if not negated else _opposite(polarity)
        words = ["the", rng.choice(ASPECTS), "was"]
        if negated:
            words.append(rng.choice(NEGATIONS))
        if rng.random() < 0.4:
            words.append(rng.choice(INTENSIFIERS))
        words.append(rng.choice(self.words[shown]))
        return " ".join(words), polarity

    def review(self, kind):
        rng = self.rng
        polarity = rng.choice(LABELS)
        if kind in ("plain", "negation"):
            text, label = self.clause(polarity, kind == "negation")
            return f"{text.capitalize()} .", label
        if kind == "contrast":
            first, _ = self.clause(_opposite(polarity), rng.random() < 0.5)
            second, label = self.clause(polarity, rng.random() < 0.5)
            return f"{first.capitalize()} , but {second} .", label
        opening = "Completely lacking in" if polarity == "negative" else "Full of"
        good = [f"{rng.choice(self.words['positive'])} {rng.choice(ASPECTS)}" for _ in range(3)]
        return f"{opening} {good[0]} , {good[1]} and {good[2]} .", polarity

    def unlabeled_review(self):
        """Two or three plain clauses of one polarity and a verdict of that polarity."""
        polarity = self.rng.choice(LABELS)
        clauses = [self.clause(polarity, False)[0] for _ in range(self.rng.randint(2, 3))]
        verdict = self.rng.choice(VERDICTS[polarity])
        return (
            f"{' , '.join(clauses[:-1]).capitalize()} and {clauses[-1]} . {verdict.capitalize()} ."
        )


def _opposite(polarity):
    return LABELS[1 - LABELS.index(polarity)]


def _check_count(where, count):
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SeqKerasError(f"{where}: `count` must be a positive integer, got {count!r}.")


def sentiment_reviews(count, seed=0, shares=None, max_words=None, words=None):
    """Generates `count` labeled reviews, positive and negative equally likely.

    Args:
        count: the number of reviews (an integer >= 1).
        seed: the same seed gives the same reviews.
        shares: dict kind -> its share of the reviews (see `KINDS`); `SHARES` if None.
        max_words: use only the `max_words` strongest words of each polarity (None: all
            of `sentiment_words()`, about 400 each).
        words: `(positive, negative)` word lists to use instead of `sentiment_words(max_words)`.

    Returns:
        A list of `SentimentExample(text, label, kind)`.

    Raises:
        SeqKerasError: `count` is not a positive integer, `shares` names an unknown kind or
            has no positive share, `words` lacks a polarity, or vaderSentiment is not
            installed.

    Example:

    >>> sentiment_reviews(1, seed=0)[0].label in ("negative", "positive")
    True
    """
    _check_count("sentiment_reviews", count)
    shares = dict(SHARES if shares is None else shares)
    unknown = sorted(set(shares) - set(KINDS))
    if unknown or not any(share > 0 for share in shares.values()):
        raise SeqKerasError(
            f"sentiment_reviews: `shares` must give kinds of {KINDS} positive weights, "
            f"got {shares!r}."
        )
    writer = _Writer(seed, sentiment_words(max_words) if words is None else words)
    kinds = writer.rng.choices(list(shares), weights=list(shares.values()), k=count)
    return [SentimentExample(*writer.review(kind), kind) for kind in kinds]


def review_corpus(count, seed=0, max_words=None):
    """Unlabeled reviews to pretrain word vectors on, each consistent in its polarity.

        "The room was lovely , the staff was very friendly and the view was charming .
         Highly recommended ."

    Args:
        count: the number of reviews (an integer >= 1).
        seed: the same seed gives the same reviews.
        max_words: as in `sentiment_reviews`.

    Returns:
        A list of `count` strings.

    Example:

    >>> review_corpus(1)[0].endswith(" .")
    True
    """
    _check_count("review_corpus", count)
    writer = _Writer(seed, sentiment_words(max_words))
    return [writer.unlabeled_review() for _ in range(count)]
