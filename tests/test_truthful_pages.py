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


# ---- 5. no total across institutions (different units) -----------------------------------------


@pytest.fixture(scope="module")
def protest_records():
    import warnings

    import datajusta_lib as dj

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dj.load("protest_violence")


def _audit_tables(records, lang):
    from datajusta_lib import audit as au

    risk = au.reidentification("protest_violence", records, 5)
    return [
        au.children_table(records, lang, k=5),
        au.reidentification_counts(risk, 5, lang),
        au.ingestion_table(records, lang, k=5),
    ]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_audit_tables_never_add_institutions_of_different_units(protest_records, lang):
    from datajusta_lib.disclosure import check_published_csv

    for table in _audit_tables(protest_records, lang):
        frame = table.table
        assert frame.iloc[-1, 0] != "Total", (
            f"{table.name}: a Total row adds {', '.join(frame.iloc[:-1, 0])}"
        )
        # the reader-side disclosure check still holds without the total row
        assert check_published_csv(table.csv, table.kind, table.gate) == []


def test_withheld_total_row_cannot_be_put_back(protest_records):
    from datajusta_lib.disclosure import check_published_csv

    table = _audit_tables(protest_records, "en")[0]
    tampered = table.csv + "Total,1,2,3,6\n"
    assert check_published_csv(tampered, table.kind, table.gate)


def test_rendered_site_has_no_cross_institution_totals(root):
    from datajusta_lib.truth_checks import cross_unit_totals

    site = root / "outputs" / "site"
    if not (site / "manifest.json").is_file():
        pytest.skip("site not rendered (datajusta render)")
    assert cross_unit_totals(site) == []
