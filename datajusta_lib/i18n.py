"""Spanish and English strings from one place (``data/i18n/labels.yaml``)."""

from __future__ import annotations

from functools import cache

import yaml

from .paths import data_dir

LANGS = ("es", "en")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


@cache
def _labels() -> dict:
    with open(data_dir() / "i18n" / "labels.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def institutions() -> dict:
    with open(data_dir() / "institutions.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def text(key: str, lang: str = "es", **values) -> str:
    """The string ``key`` in ``lang``, formatted with ``values``."""
    check_lang(lang)
    try:
        entry = _labels()[key]
    except KeyError:
        raise KeyError(f"no label {key!r} in data/i18n/labels.yaml") from None
    return entry[lang].format(**values) if values else entry[lang]


def institution_name(institution: str, lang: str = "es", short: bool = False) -> str:
    entry = institutions().get(institution)
    if entry is None:
        return institution
    return entry["short"] if short else entry["name"][check_lang(lang)]


def unit_label(unit: str, lang: str = "es") -> str:
    return text(f"unit_{unit}", lang)
