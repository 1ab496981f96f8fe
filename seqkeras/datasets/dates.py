"""Human-written dates in many formats and languages, paired with their ISO 8601 form.

    "Wednesday, May 9, 2018"  -> "2018-05-09"
    "9 de mayo de 2018"       -> "2018-05-09"
    "mercredi 9 mai 2018"     -> "2018-05-09"
    "5/9/18"                  -> "2018-05-09"
    "09.05.18"                -> "2018-05-09"

Dates are drawn uniformly with `faker` between `FIRST_DATE` and `LAST_DATE` and written with
`babel`'s CLDR data in the locales of `LOCALES`: the locale's own medium, long and full
formats and a few common patterns with month and weekday names. Numeric formats follow one
rule so that every string has exactly one reading: a slash means month first (US "5/9/18"),
a dot or a dash means day first ("09.05.18", "09-05-2018"), a year of four digits may come
first ("2018-05-09"); a two-digit year yy is 19yy from 50 on and 20yy below.
"""

import datetime

from seqkeras.errors import SeqKerasError
from seqkeras.optional import require

tqdm = require("tqdm.auto", "tasks", "progress bars").tqdm

FIRST_DATE = datetime.date(1950, 1, 1)
LAST_DATE = datetime.date(2049, 12, 31)
LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL")
# babel's named formats; digit-only results are left out (their order varies by locale).
NAMED_FORMATS = ("medium", "long", "full")
TEXT_PATTERNS = ("d MMMM y", "d MMM y", "MMMM d, y", "EEEE d MMMM y", "d MMM yy", "EEE d MMM y")
NUMERIC_PATTERNS = ("M/d/yy", "MM/dd/yyyy", "dd.MM.yy", "d.M.yyyy", "dd-MM-yyyy", "yyyy-MM-dd")
# Share of numeric formats among the generated strings.
NUMERIC_SHARE = 0.2
FULL_SIZE = 50_000
SMOKE_SIZE = 600


def date_pairs(count, seed=0, locales=LOCALES, progress=False):
    """Generates `count` distinct human-written dates and their ISO 8601 forms.

    Args:
        count: number of pairs (an integer >= 1). No two pairs share the human-written string,
            so splitting the result gives disjoint training and held-out sets.
        seed: seed of faker's random generator: the same seed gives the same pairs.
        locales: babel locale names the month and weekday names come from.
        progress: show a progress bar.

    Returns:
        `(inputs, targets)`: two lists of `count` strings, e.g. "9 mai 2018" and "2018-05-09".

    Raises:
        SeqKerasError: `count` is not a positive integer, or a locale is unknown to babel.

    Example:

    >>> inputs, targets = date_pairs(3, seed=0)
    >>> len(inputs), all(len(t) == 10 for t in targets)
    (3, True)
    """
    babel = require("babel", "tasks", "the dates data")
    require("babel.dates", "tasks", "the dates data")
    Faker = require("faker", "tasks", "the dates data").Faker

    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SeqKerasError(f"date_pairs: `count` must be a positive integer, got {count!r}.")
    try:
        parsed = [babel.Locale.parse(name) for name in locales]
    except (ValueError, TypeError, babel.UnknownLocaleError) as error:
        raise SeqKerasError(f"date_pairs: unknown locale in {list(locales)!r}: {error}") from None
    if not parsed:
        raise SeqKerasError("date_pairs: `locales` is empty.")
    fake = Faker()
    fake.seed_instance(seed)
    seen = set()
    inputs, targets = [], []
    bar = tqdm(total=count, desc="dates", unit="pair", disable=not progress)
    while len(inputs) < count:
        date = fake.date_between_dates(FIRST_DATE, LAST_DATE)
        if fake.random.random() < NUMERIC_SHARE:
            text = babel.dates.format_date(date, fake.random_element(NUMERIC_PATTERNS), "en_US")
        else:
            locale = fake.random_element(parsed)
            pattern = fake.random_element(NAMED_FORMATS + TEXT_PATTERNS)
            text = babel.dates.format_date(date, pattern, locale=locale)
            if not any(character.isalpha() for character in text):
                continue
        if text in seen:
            continue
        seen.add(text)
        inputs.append(text)
        targets.append(date.isoformat())
        bar.update()
    bar.close()
    return inputs, targets


def date_splits(train_size, test_size, seed=0, locales=LOCALES, progress=False):
    """Disjoint training and held-out sets from one `date_pairs` draw.

    Returns:
        `((train_inputs, train_targets), (test_inputs, test_targets))`.
    """
    inputs, targets = date_pairs(train_size + test_size, seed, locales, progress)
    return (inputs[:train_size], targets[:train_size]), (inputs[train_size:], targets[train_size:])
