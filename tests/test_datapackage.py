"""The Frictionless descriptor of the published figures is valid and lists every source."""

from __future__ import annotations

import json

import pandas as pd
from frictionless import Package


def test_datapackage_validates_against_the_data(root):
    report = Package(str(root / "data/published/datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])


def test_datapackage_licence_and_sources(root):
    pkg = json.loads((root / "data/published/datapackage.json").read_text())
    assert pkg["licenses"][0]["name"] == "CC-BY-4.0"
    urls = set(pd.read_csv(root / "data/published/figures.csv")["source_url"])
    assert {s["path"] for s in pkg["sources"]} == urls


def test_datapackage_detects_a_negative_value(tmp_path, root):
    pkg = json.loads((root / "data/published/datapackage.json").read_text())
    df = pd.read_csv(root / "data/published/figures.csv", dtype=str)
    df.loc[0, "value"] = "-1"
    df.to_csv(tmp_path / "figures.csv", index=False)
    (tmp_path / "datapackage.json").write_text(json.dumps(pkg))
    assert not Package(str(tmp_path / "datapackage.json")).validate().valid
