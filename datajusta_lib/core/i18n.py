"""Spanish and English strings from one place: every YAML file of ``data/i18n/``.

Each file holds a family of strings (``labels.yaml`` the pages, ``gate.yaml`` the disclosure
gate and the audit, ``mse.yaml`` the estimation pages); a key is unique across all of them, and
one function, :func:`text`, looks any of them up.
"""

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
    merged: dict = {}
    for path in sorted((data_dir() / "i18n").glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            entries = yaml.safe_load(fh) or {}
        twice = sorted(merged.keys() & entries.keys())
        if twice:
            raise ValueError(
                f"{path}: text keys defined in another file of data/i18n/ too: {twice}"
            )
        merged.update(entries)
    return merged


@cache
def institutions() -> dict:
    with open(data_dir() / "institutions.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def has_text(key: str) -> bool:
    """Whether ``key`` (dots walk into nested entries) names a string in data/i18n/."""
    entry = _labels()
    for part in key.split("."):
        if not isinstance(entry, dict) or part not in entry:
            return False
        entry = entry[part]
    return isinstance(entry, dict) and set(LANGS) <= entry.keys()


def text(key: str, lang: str = "es", **values) -> str:
    """The string ``key`` in ``lang``, formatted with ``values``; a dotted key
    (``examples.trafficking.closed``) walks into a nested entry."""
    check_lang(lang)
    if not has_text(key):
        raise KeyError(f"no text {key!r} in data/i18n/")
    entry = _labels()
    for part in key.split("."):
        entry = entry[part]
    return entry[lang].format(**values) if values else entry[lang]


def institution_name(institution: str, lang: str = "es", short: bool = False) -> str:
    entry = institutions().get(institution)
    if entry is None:
        return institution
    return entry["short"] if short else entry["name"][check_lang(lang)]


def unit_label(unit: str, lang: str = "es") -> str:
    return text(f"unit_{unit}", lang)
