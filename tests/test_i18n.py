"""Every label exists in Spanish and English, and every label the code asks for exists."""

from __future__ import annotations

import re

import pytest
import yaml

from datajusta_lib import i18n


def test_every_label_has_exactly_spanish_and_english_text(root):
    labels = yaml.safe_load((root / "data/i18n/labels.yaml").read_text(encoding="utf-8"))
    bad = {
        key: value
        for key, value in labels.items()
        if not (isinstance(value, dict) and set(value) == {"es", "en"})
        or not all(isinstance(v, str) and v.strip() for v in value.values())
    }
    assert not bad, f"labels without clean es/en strings (unquoted commas or colons?): {bad}"


def test_every_label_used_in_code_and_notebooks_exists(root):
    labels = yaml.safe_load((root / "data/i18n/labels.yaml").read_text(encoding="utf-8"))
    pattern = re.compile(r"""\btext\(\s*\\?["']([a-z0-9_]+)\\?["']""")
    used = set()
    for path in [*root.glob("datajusta_lib/*.py"), *root.glob("notebooks/*.ipynb")]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    prefixes = {u for u in used if u.endswith("_")}  # e.g. text("banner_" + source)
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in labels), f"no label starts with {prefix!r}"
    missing = sorted(used - prefixes - set(labels))
    assert not missing, f"labels used but not defined in data/i18n/labels.yaml: {missing}"


def test_text_formats_values_and_rejects_unknown_languages():
    assert i18n.text("source_line_synthetic", "en", seed=7).endswith("seed 7)")
    with pytest.raises(ValueError, match="lang must be one of"):
        i18n.text("source", "fr")
    with pytest.raises(KeyError, match="no label"):
        i18n.text("no_such_label", "es")
