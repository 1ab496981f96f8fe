import pytest

from seqkeras import SeqKerasError
from seqkeras.datasets.sentiment import (
    KINDS,
    MAX_DISAGREEMENT,
    MAX_VALENCE,
    MIN_VALENCE,
    NEGATIONS,
    VERDICTS,
    review_corpus,
    sentiment_lexicon,
    sentiment_reviews,
    sentiment_words,
    split_words,
)


@pytest.fixture(scope="module")
def reviews():
    return sentiment_reviews(600, seed=1)


def test_words_come_from_the_lexicon_with_a_clear_polarity():
    lexicon = sentiment_lexicon()
    positive, negative = sentiment_words()
    assert len(positive) > 200 and len(negative) > 200
    assert "good" in positive and "terrible" in negative
    for words, sign in ((positive, 1), (negative, -1)):
        for word in words:
            valence, disagreement = lexicon[word]
            assert MIN_VALENCE <= sign * valence <= MAX_VALENCE
            assert disagreement <= MAX_DISAGREEMENT
    assert sentiment_words(5) == (positive[:5], negative[:5])


def test_reviews_are_reproducible_and_balanced(reviews):
    assert sentiment_reviews(600, seed=1) == reviews
    assert {example.kind for example in reviews} == set(KINDS)
    positive = sum(example.label == "positive" for example in reviews) / len(reviews)
    assert 0.4 < positive < 0.6


def test_negation_flips_the_polarity_of_the_word():
    positive, negative = (set(words) for words in sentiment_words())
    for example in sentiment_reviews(200, seed=2, shares={"negation": 1.0}):
        words = example.text.lower().rstrip(" .").split()
        assert any(negation in example.text for negation in NEGATIONS)
        assert words[-1] in positive | negative
        assert example.label == ("negative" if words[-1] in positive else "positive")


def test_contrast_takes_the_second_clause():
    for example in sentiment_reviews(50, seed=3, shares={"contrast": 1.0}):
        assert ", but the" in example.text


@pytest.mark.parametrize(
    "arguments, message",
    [({"count": 0}, "count"), ({"count": 3, "shares": {"irony": 1.0}}, "shares")],
)
def test_bad_arguments(arguments, message):
    with pytest.raises(SeqKerasError, match=message):
        sentiment_reviews(**arguments)


def test_split_words_spreads_the_unseen_words_evenly():
    positive, _ = sentiment_words()
    seen, unseen = split_words(positive, 0.25)
    assert sorted(seen + unseen) == sorted(positive) and not set(seen) & set(unseen)
    assert abs(len(unseen) - len(positive) / 4) <= 1
    # Spread through the list (strongest agreement first), not only its tail.
    assert positive.index(unseen[0]) < len(positive) / 4
    assert split_words(positive, 0.0) == (positive, [])
    with pytest.raises(SeqKerasError, match="unseen_share"):
        split_words(positive, 1.0)


def test_reviews_use_only_the_given_words():
    positive, negative = sentiment_words()
    words = (positive[:3], negative[:3])
    sentiment_vocabulary = set(positive) | set(negative)
    for example in sentiment_reviews(100, seed=4, words=words):
        used = set(example.text.lower().split()) & sentiment_vocabulary
        assert used and used <= set(words[0]) | set(words[1])
    with pytest.raises(SeqKerasError, match="at least one word per polarity"):
        sentiment_reviews(3, words=(positive[:3], []))


def test_unlabeled_reviews_keep_one_polarity():
    positive, negative = (set(words) for words in sentiment_words())
    corpus = review_corpus(200, seed=5)
    assert len(corpus) == 200 and len(set(corpus)) > 190
    for review in corpus:
        words = set(review.lower().split())
        polarity = "positive" if words & positive else "negative"
        assert not words & (negative if polarity == "positive" else positive)
        assert any(verdict in review.lower() for verdict in VERDICTS[polarity])
        assert review.count(" , ") + review.count(" and ") in (1, 2)
    with pytest.raises(SeqKerasError, match="count"):
        review_corpus(0)
