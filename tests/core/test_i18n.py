"""Every label exists in Spanish and English, and every label the code asks for exists."""

from __future__ import annotations

import re

import pytest
import yaml

from datajusta_lib.core import i18n


def _leaves(entries: dict, prefix: str = ""):
    """(dotted key, entry) of every string pair; nested groups (``examples``) are walked."""
    for key, value in entries.items():
        if isinstance(value, dict) and not ({"es", "en"} & value.keys()):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_every_label_has_exactly_spanish_and_english_text(root):
    files = sorted((root / "data/i18n").glob("*.yaml"))
    assert {f.name for f in files} >= {"labels.yaml", "gate.yaml", "mse.yaml"}
    for path in files:
        labels = yaml.safe_load(path.read_text(encoding="utf-8"))
        bad = {
            key: value
            for key, value in _leaves(labels)
            if not (isinstance(value, dict) and set(value) == {"es", "en"})
            or not all(isinstance(v, str) and v.strip() for v in value.values())
        }
        assert not bad, f"{path.name}: labels without clean es/en strings: {bad}"
        # the same placeholders in both languages
        for key, entry in _leaves(labels):
            es, en = (set(re.findall(r"\{(\w+)", entry[x])) for x in ("es", "en"))
            assert es == en, f"{path.name}: {key}"


def test_one_lookup_reads_every_text_file_and_refuses_a_key_defined_twice(tmp_path, monkeypatch):
    (tmp_path / "data" / "i18n").mkdir(parents=True)
    (tmp_path / "data" / "i18n" / "a.yaml").write_text("hello: {es: hola, en: hello}\n")
    (tmp_path / "data" / "i18n" / "b.yaml").write_text(
        "bye: {es: adiós, en: bye}\nnested: {x: {es: equis, en: ex}}\n"
    )
    monkeypatch.setattr(i18n, "data_dir", lambda: tmp_path / "data")
    i18n._labels.cache_clear()
    try:
        assert i18n.text("hello", "es") == "hola"
        assert i18n.text("bye", "en") == "bye"
        assert i18n.text("nested.x", "es") == "equis"
        assert not i18n.has_text("nested")
        (tmp_path / "data" / "i18n" / "c.yaml").write_text("hello: {es: otra, en: other}\n")
        i18n._labels.cache_clear()
        with pytest.raises(ValueError, match="c.yaml: text keys defined in another file"):
            i18n.text("hello", "es")
    finally:
        i18n._labels.cache_clear()


def test_every_label_used_in_code_and_notebooks_exists(root):
    labels = i18n._labels()
    pattern = re.compile(r"""\btext\(\s*\\?["']([a-z0-9_]+)\\?["']""")
    used = set()
    library = sorted((root / "datajusta_lib").rglob("*.py"))
    assert len(library) > 40
    for path in [*library, *root.glob("notebooks/*.ipynb")]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    prefixes = {u for u in used if u.endswith("_")}  # e.g. text("banner_" + source)
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in labels), f"no label starts with {prefix!r}"
    missing = sorted(used - prefixes - set(labels))
    assert not missing, f"labels used but not defined in data/i18n/: {missing}"


def test_text_formats_values_and_rejects_unknown_languages():
    assert i18n.text("source_line_synthetic", "en", seed=7).endswith("seed 7)")
    with pytest.raises(ValueError, match="lang must be one of"):
        i18n.text("source", "fr")
    with pytest.raises(KeyError, match="no text"):
        i18n.text("no_such_label", "es")
