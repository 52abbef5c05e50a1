"""Only lists that count the estimate's population enter a multiple systems estimate."""

from __future__ import annotations

import pandas as pd

from datajusta_lib.pages import unrecorded_victims as rep


def records(rows):
    return pd.DataFrame(rows, columns=["institution", "classification", "person_key"])


def test_detention_register_is_left_out_of_protest_victims_with_the_reason():
    r = records(
        [("CARABINEROS", None, "a"), ("INDH", "tortura", "a"), ("FISCALIA", "lesiones", "b")]
    )
    r.attrs["ingestion"] = [{"n_read": 3, "n_rejected": 0}]
    kept, selection = rep.eligible_records(r, "protest_violence")
    assert sorted(kept["institution"]) == ["FISCALIA", "INDH"]
    assert selection["excluded"] == {"CARABINEROS": 1}
    assert kept.attrs["ingestion"] == r.attrs["ingestion"]  # lineage for the quarantine sentence
    text = rep.eligibility_text("protest_violence", selection, "en")
    assert "Carabineros is left out" in text and "detained persons" in text


def test_smuggling_records_do_not_enter_a_trafficking_estimate():
    r = records(
        [
            ("FISCALIA", "trafficking_411_quater", "a"),
            ("FISCALIA", "smuggling_411_bis", "b"),
            ("FISCALIA", None, "c"),
            ("PDI", None, "d"),  # no classification: not known to be a trafficking victim
            ("PDI", "trafficking_minors_411_quater", "e"),
            ("SERMIG", "not_trafficking", "f"),
        ]
    )
    kept, selection = rep.eligible_records(r, "trafficking")
    assert sorted(kept["person_key"]) == ["a", "e"]
    assert selection["classification"][1] == {"FISCALIA": 2, "PDI": 1, "SERMIG": 1}
    es = rep.eligibility_text("trafficking", selection, "es")
    assert "quedan fuera 4 registros" in es and "trata de personas (art. 411 quáter)" in es
    assert "trafficking_411_quater" not in es  # a code is not a word for readers


def test_every_case_study_has_a_population_and_exclusions_are_known_institutions(root):
    import yaml

    spec = yaml.safe_load((root / "data/analysis/mse_lists.yaml").read_text(encoding="utf-8"))
    from datajusta_lib.core.canon import case_studies

    assert set(spec) == set(case_studies())
    for cs, rules in spec.items():
        assert set(rules["population"]) == {"es", "en"}
        for institution, reason in (rules.get("exclude") or {}).items():
            assert (root / f"data/codebooks/{cs}/{institution}.yaml").exists()
            assert set(reason) == {"es", "en"}
