"""First names from the person providers of the `faker` package (nothing is downloaded)."""

import importlib

from seqkeras.errors import SeqKerasError

DEFAULT_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "sv_SE")


def first_names(locales=DEFAULT_LOCALES):
    """The first names of faker's person providers for `locales`, deduplicated and sorted.

    Only single words of letters, hyphens and apostrophes are kept (e.g. "Anne-Marie").

    Args:
        locales: faker locale names, e.g. `("en_US", "de_DE")`.

    Returns:
        A sorted list of unique names (about 5,000 for the default locales).

    Raises:
        SeqKerasError: faker is not installed or a locale has no person provider.

    Example:

    >>> first_names(["en_US"])[:3]
    ['Aaron', 'Abigail', 'Adam']
    """
    if isinstance(locales, str) or not locales:
        raise SeqKerasError(f"first_names: `locales` must be a non-empty list, got {locales!r}.")
    names: set[str] = set()
    for locale in locales:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ModuleNotFoundError as error:
            if error.name and error.name.split(".")[0] == "faker" and error.name != "faker":
                raise SeqKerasError(
                    f"first_names: faker has no person provider for locale {locale!r}."
                ) from None
            raise SeqKerasError(
                "first_names needs the `faker` package: pip install faker"
            ) from None
        for attribute in ("first_names", "first_names_female", "first_names_male"):
            names.update(getattr(provider, attribute, ()))
    return sorted(
        name
        for name in names
        if name and all(c.isalpha() or c in "-'" for c in name) and name[0].isalpha()
    )
