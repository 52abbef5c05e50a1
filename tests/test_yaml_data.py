"""YAML data files load cleanly: no string silently split by an unquoted comma.

In a YAML flow mapping such as ``{es: Uno, dos, en: One, two}`` the commas split the
values and create stray keys (``dos``, ``two``) with null values. The signature is a
bilingual mapping (with ``es`` or ``en``) that also has a null-valued key. (Codebook value
maps legitimately map a label to null = explicit missing; they have no es/en keys.)
"""

from __future__ import annotations

import yaml


def _stray_keys(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}/{key}"
            if value is None and ({"es", "en"} & set(node)):
                yield here
            yield from _stray_keys(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _stray_keys(item, f"{path}[{i}]")


def test_no_yaml_file_has_strings_split_by_commas(root):
    files = [
        *root.glob("data/**/*.yaml"),
        *root.glob("datajusta_lib/**/*.yaml"),
        root / "reports.yaml",
    ]
    assert len(files) > 20
    problems = {}
    for path in files:
        stray = list(_stray_keys(yaml.safe_load(path.read_text(encoding="utf-8"))))
        if stray:
            problems[str(path.relative_to(root))] = stray
    assert not problems, problems
