"""Issue 13: pages that tell the truth (estimates on the right population, no cross-unit
totals, reader text free of code, synthetic data labelled wherever it travels)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from datajusta_lib import mse_report as rep


def _spec(root) -> dict:
    return yaml.safe_load((root / "data/analysis/mse_lists.yaml").read_text(encoding="utf-8"))


# ---- 1. every list entering an estimate counts the population the page names ----------------


@pytest.mark.parametrize("case_study", ["trafficking", "attempted_femicide"])
def test_every_list_is_restricted_to_the_named_population(root, case_study):
    """Each list of the case study keeps only records of the page's population: one record of
    every classification in the vocabulary, on every list, goes in; only the population's
    classifications come out."""
    from datajusta_lib.canon import vocabulary

    population = set(_spec(root)[case_study].get("classification") or [])
    assert population, f"{case_study}: mse_lists.yaml names no classification for its population"
    classes = vocabulary("classification", case_study) + [None]
    lists = [p.stem for p in (root / "data/codebooks" / case_study).glob("*.yaml")]
    rows = [(inst, c, f"{inst}-{c}") for inst in lists for c in classes]
    r = pd.DataFrame(rows, columns=["institution", "classification", "person_key"])
    kept, _ = rep.eligible_records(r, case_study)
    for inst, got in kept.groupby("institution")["classification"]:
        other = set(got) - population
        assert not other, f"{case_study}: list {inst} carries another classification: {other}"


def test_population_classifications_are_in_the_vocabulary(root):
    from datajusta_lib.canon import vocabulary

    for cs, rules in _spec(root).items():
        for value in rules.get("classification") or []:
            assert value in vocabulary("classification", cs), (cs, value)
