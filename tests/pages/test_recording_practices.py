"""Recording-practice profiles: expected values worked out by hand from the three small
codebooks in tests/_codebook_fixture.py and from small canonical frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _codebook_fixture import write_codebooks

from datajusta_lib.gate import disclosure
from datajusta_lib.ingest import codebooks
from datajusta_lib.pages import recording_practices as profiles

CS = "trafficking"


@pytest.fixture(autouse=True)
def small_codebooks(tmp_path, monkeypatch):
    folder = write_codebooks(tmp_path)
    monkeypatch.setattr(codebooks, "codebooks_dir", lambda: folder)
    monkeypatch.delenv("DATAJUSTA_K", raising=False)
    return folder


def records(rows: dict[str, list[dict]]) -> pd.DataFrame:
    """Canonical records: every profiled field present as a column (NA unless given)."""
    out = []
    for inst, rs in rows.items():
        for r in rs:
            out.append({"institution": inst, **{f: r.get(f) for f in profiles.PROFILE_FIELDS}})
    return pd.DataFrame(out)


# ------------------------------------------------------------------ structure (codebooks)
def test_recording_flags_follow_the_codebooks():
    flags = profiles.recording_flags(CS)
    assert len(flags) == 3 * len(profiles.PROFILE_FIELDS)
    recorded = flags[flags["recorded"]].groupby("institution")["field"].apply(set).to_dict()
    assert recorded == {
        "ALFA": {"person_key", "event_date", "region_code", "sex", "age", "classification"},
        "BETA": {"person_key", "report_date", "region_code", "sex", "classification"},
        "GAMMA": {"region_code", "sex", "age_band", "nationality"},
    }
    row = flags[(flags["institution"] == "BETA") & (flags["field"] == "report_date")].iloc[0]
    assert row["original_name"] == "INGRESO" and row["dtype"] == "date"
    # a field a codebook does not describe at all is not recorded
    assert not flags[(flags["institution"] == "GAMMA") & (flags["field"] == "disability")][
        "recorded"
    ].iloc[0]


def test_units_of_count_and_what_a_row_is():
    units = profiles.units_of_count(CS, "en").set_index("institution")
    assert units["unit_of_count"].to_dict() == {
        "ALFA": "persons",
        "BETA": "cases",
        "GAMMA": "records",
    }
    assert units.loc["BETA", "unit_label"] == "cases"
    assert units.loc["GAMMA", "identifier_kind"] == "none"
    assert units.loc["ALFA", "what_a_row_is"] == "One row per person."
    es = profiles.units_of_count(CS, "es").set_index("institution")
    assert es.loc["BETA", "unit_label"] == "causas"


def test_units_finding_groups_institutions_by_unit():
    text = profiles.units_finding(profiles.units_of_count(CS, "es"), "es")
    assert text.startswith("Las 3 instituciones cuentan en 3 unidades distintas")
    assert "causas: BETA" in text and "personas: ALFA" in text and "registros: GAMMA" in text


def test_category_scheme_puts_each_institutions_labels_side_by_side():
    sex = profiles.category_scheme(CS, "sex")
    assert sex["canonical_value"].tolist() == ["female", "male"]
    assert sex.loc[0, ["ALFA", "BETA", "GAMMA"]].tolist() == [["F"], ["Mujer"], ["F"]]
    assert sex.loc[1, ["ALFA", "BETA", "GAMMA"]].tolist() == [["M"], ["Hombre"], []]

    cls = profiles.category_scheme(CS, "classification")
    # vocabulary order, then the labels mapped to an explicit missing value
    assert cls["canonical_value"].tolist() == ["trafficking_411_quater", "smuggling_411_bis", None]
    assert cls.loc[2, "BETA"] == ["Otro"]
    assert cls["GAMMA"].isna().all()  # GAMMA does not record a classification

    with pytest.raises(ValueError, match="not a category field"):
        profiles.category_scheme(CS, "age")


def test_scheme_differences_compare_labels_ignoring_case():
    scheme = pd.DataFrame(
        {
            "canonical_value": ["a", "b", "c", None],
            "X": [["Uno"], ["Dos"], ["Tres"], ["?"]],
            "Y": [["UNO"], ["Two"], [], ["N/S"]],
            "Z": [None, None, None, None],
        }
    )
    diffs = profiles.scheme_differences(scheme)
    # a: same label in another case; c: only one institution; the missing row is skipped
    assert diffs["canonical_value"].tolist() == ["b"]
    assert diffs.loc[0, "n_institutions"] == 2 and diffs.loc[0, "n_labels"] == 2
    assert diffs.loc[0, "labels"] == {"X": ["Dos"], "Y": ["Two"]}


def test_scheme_finding_names_the_sharpest_example():
    es = profiles.scheme_finding(CS, "sex", profiles.category_scheme(CS, "sex"), "es")
    assert es == (
        "3 instituciones registran sexo; en 2 categorías usan etiquetas distintas para lo "
        "mismo. Por ejemplo, «mujer» se escribe «F» (ALFA y GAMMA) y «Mujer» (BETA)."
    )
    one = profiles.scheme_finding(
        CS, "nationality", profiles.category_scheme(CS, "nationality"), "en"
    )
    assert one == "Only GAMMA records nationality: there is no other scheme to compare it with."


def test_definition_changes_come_from_the_codebooks():
    ch = profiles.definition_changes(CS, "en")
    assert ch[["institution", "field", "note"]].values.tolist() == [
        ["BETA", "classification", "New typology."]
    ]
    assert ch.loc[0, "date"] == pd.Timestamp("2015-01-01")
    assert profiles.changes_finding(ch, "es").startswith("Los libros de códigos declaran 1 cambios")
    table = profiles.changes_table(profiles.definition_changes(CS, "es"), "es")
    assert table.iloc[0].tolist() == [
        1,
        "01-01-2015",
        "BETA",
        "Clasificación legal",
        "Nueva tipología.",
    ]


def test_linkage_pairs_exact_only_on_the_same_identifier_kind():
    pairs = profiles.linkage_pairs(CS).set_index(["institution_a", "institution_b"])
    assert pairs.loc[("ALFA", "BETA"), "method"] == "exact"
    assert pairs.loc[("ALFA", "BETA"), "key_kind"] == "RUN"
    assert pairs.loc[("ALFA", "GAMMA"), "method"] == "probabilistic"
    assert pairs.loc[("BETA", "GAMMA"), "method"] == "probabilistic"
    # ALFA's age gives an age band, so it shares the age band with GAMMA
    assert pairs.loc[("ALFA", "GAMMA"), "shared_quasi_identifiers"] == [
        "region_code",
        "sex",
        "age_band",
    ]
    assert pairs.loc[("ALFA", "BETA"), "shared_quasi_identifiers"] == ["region_code", "sex"]
    ids = profiles.identifiers(CS).set_index("institution")
    assert ids.loc["ALFA", "exact_partners"] == ["BETA"]
    assert ids.loc["GAMMA", "exact_partners"] == []


def test_linkage_finding_counts_pairs():
    assert profiles.linkage_finding(CS, "en") == (
        "Of 3 pairs of institutions, 1 can be linked exactly on the pseudonymous key: ALFA–BETA. "
        "The rest only by comparing attributes (probabilistic linkage)."
    )


# ------------------------------------------------------------------ quality (records)
def test_completeness_counts_rows_and_present_values_per_institution():
    recs = records(
        {
            "ALFA": [{"sex": "female"}, {}, {"sex": "male"}, {}],
            "BETA": [{"sex": "female"}, {"sex": "female"}],
        }
    )
    comp = profiles.completeness(recs).set_index(["institution", "field"])
    assert comp.loc[("ALFA", "sex"), "n_rows"] == 4
    assert comp.loc[("ALFA", "sex"), "n_present"] == 2
    assert comp.loc[("BETA", "sex"), "n_present"] == 2
    assert comp.loc[("BETA", "age"), "n_present"] == 0


def test_field_failures_read_harmonisation_labels():
    failures = pd.DataFrame(
        {
            "file": ["alfa.csv"] * 6,
            "row": [2, 2, 3, None, 4, 5],
            "column": [
                "SEXO (sex)",
                "SEXO (sex)",
                "FECHA (event_date), INGRESO (report_date)",
                "SEXO",
                "ID (record_id)",
                "EDAD (age)",
            ],
            "rule": [
                "unknown_category",
                "formula_like_content",
                "report_date_not_before_event_date",
                "missing_required_column",
                "record_id_format",
                "not_an_integer",
            ],
            "value": ["X", "=1", "", None, "?", "3,5"],
        }
    )
    ff = profiles.field_failures(failures, "ALFA")
    # a cross-field rule counts against both fields; table-level and record-id failures do not count
    assert sorted(zip(ff["field"], ff["row_id"], strict=True)) == [
        ("age", "alfa.csv:5"),
        ("event_date", "alfa.csv:3"),
        ("report_date", "alfa.csv:3"),
        ("sex", "alfa.csv:2"),
        ("sex", "alfa.csv:2"),
    ]
    inv = profiles.invalid_counts(ff).set_index(["institution", "field"])["n_invalid"]
    assert inv[("ALFA", "sex")] == 1  # two failures on one row and field count once
    with pytest.raises(ValueError, match="institution"):
        profiles.field_failures(failures)


def test_recording_matrix_completeness_and_validity_by_hand():
    # ALFA: 10 rows, sex present in 8; 2 quarantined rows had an unknown sex label
    alfa = [{"sex": "female"}] * 8 + [{}] * 2
    recs = records({"ALFA": alfa, "BETA": [{"sex": "male"}] * 5})
    fails = pd.DataFrame({"institution": "ALFA", "field": "sex", "row_id": ["a:11", "a:12"]})
    m = profiles.recording_matrix(CS, recs, fails).set_index(["institution", "field"])
    assert m.loc[("ALFA", "sex"), "completeness"] == pytest.approx(0.8)
    assert m.loc[("ALFA", "sex"), "n_checked"] == 10
    assert m.loc[("ALFA", "sex"), "validity"] == pytest.approx(0.8)
    assert m.loc[("BETA", "sex"), "validity"] == pytest.approx(1.0)
    # recorded but never filled: 0 % complete, validity undefined
    assert m.loc[("ALFA", "age"), "completeness"] == 0
    assert np.isnan(m.loc[("ALFA", "age"), "validity"])
    # not recorded: no share at all, whatever the data hold
    assert m.loc[("GAMMA", "person_key"), "status"] == "not_recorded"
    assert np.isnan(m.loc[("GAMMA", "sex"), "completeness"])  # GAMMA has no rows
    assert m.loc[("GAMMA", "sex"), "n_rows"] == 0


def test_gate_matrix_hides_shares_over_fewer_than_k_rows_and_a_complement():
    # rows per list: ALFA 10, BETA 3, GAMMA 12. k = 5: BETA (3) is hidden; the list sizes
    # add up to a total assumed known, so the smallest other list (ALFA, 10) is hidden too.
    recs = records(
        {
            "ALFA": [{"sex": "female"}] * 10,
            "BETA": [{"sex": "male"}] * 3,
            "GAMMA": [{"sex": "female", "region_code": "13"}] * 12,
        }
    )
    m = profiles.recording_matrix(CS, recs)
    gm = profiles.gate_matrix(m, CS, "en", k=5)
    gated = gm.frame
    g = gated.set_index(["institution", "field"])
    assert g.loc[("BETA", "sex"), "status"] == "suppressed"
    assert g.loc[("ALFA", "sex"), "status"] == "suppressed"
    assert np.isnan(g.loc[("BETA", "sex"), "completeness"])
    assert g.loc[("GAMMA", "sex"), "completeness"] == 1.0
    assert g.loc[("GAMMA", "sex"), "status"] == "ok"
    assert g.loc[("GAMMA", "person_key"), "status"] == "not_recorded"
    assert gm.completeness.gate["suppressed_rows"] == 2 and gm.completeness.gate["k"] == 5
    # the published table: one row per institution, hidden rows marked [c] in every value
    pub = gm.completeness.table.set_index("Institution")
    assert pub.loc["BETA", "Rows in the list"] == disclosure.SUPPRESSED
    assert pub.loc["BETA", "Sex"] == disclosure.SUPPRESSED
    assert pub.loc["GAMMA", "Rows in the list"] == 12 and pub.loc["GAMMA", "Sex"] == 100.0
    # the counts behind the shares are not carried to what the chart uses
    assert not {"n_present", "n_invalid", "n_checked", "n_rows"} & set(gated.columns)


def test_gate_matrix_hides_validity_over_fewer_than_k_values():
    recs = records(
        {"ALFA": [{"sex": "female"}] * 10 + [{"age": 30}] * 10, "GAMMA": [{"sex": "female"}] * 12}
    )
    m = profiles.recording_matrix(CS, recs)
    gm = profiles.gate_matrix(m, CS, "en", k=5)
    g = gm.frame.set_index(["institution", "field"])
    # ALFA: sex checked 10 times, age 10 times; GAMMA's sex 12 times: all shown
    assert g.loc[("ALFA", "sex"), "validity"] == 1.0
    assert not g.loc[("ALFA", "sex"), "validity_hidden"]
    assert g.loc[("ALFA", "sex"), "completeness"] == 0.5
    v = gm.validity.table.set_index(["Institution", "Field"])
    assert v.loc[("ALFA", "Sex"), "Values delivered"] == 10
    assert v.loc[("ALFA", "Date of the event"), "Values delivered"] == 0  # a zero is shown


def test_gate_matrix_hides_validity_resting_on_few_values():
    # ALFA: 20 rows, age given in 3 of them: its age validity rests on 3 values
    recs = records({"ALFA": [{"sex": "female"}] * 17 + [{"sex": "female", "age": 30}] * 3})
    gm = profiles.gate_matrix(profiles.recording_matrix(CS, recs), CS, "en", k=5)
    g = gm.frame.set_index(["institution", "field"])
    assert g.loc[("ALFA", "age"), "validity_hidden"]
    assert np.isnan(g.loc[("ALFA", "age"), "validity"])
    assert g.loc[("ALFA", "age"), "completeness"] == pytest.approx(0.15)  # 20 rows: shown


def test_percent_text_in_each_language():
    assert profiles.pct(0.973, "es") == "97 %"
    assert profiles.pct(0.973, "en") == "97%"
    assert profiles.pct(0.9734, "es", digits=1) == "97,3 %"
    assert profiles.pct(float("nan"), "es") == "—"
    # nothing short of all reads as 100 %, nothing above none as 0 %
    assert profiles.pct(0.998, "es") == "99,8 %"
    assert profiles.pct(0.99999, "en") == "99.9%"
    assert profiles.pct(0.0004, "en") == "0.1%"
    assert profiles.pct(1.0, "en") == "100%" and profiles.pct(0.0, "en") == "0%"


def test_lead_finding_structure_only():
    m = profiles.recording_matrix(CS)
    assert profiles.lead_finding(CS, m, "es") == (
        "Según los libros de códigos del proyecto, que son modelos plausibles de cada registro y "
        "no copias de los registros oficiales (lo que sigue describe el modelo, no está "
        "verificado en la institución): "
        "Ninguna de las 3 instituciones registra situación migratoria. "
        "Solo 2 de 3 guardan un identificador que permite enlazar sus registros de forma exacta "
        "con otra institución (ALFA y BETA). GAMMA no guarda ningún identificador de la persona."
    )


def test_lead_finding_reports_missing_keys_from_the_records():
    recs = records(
        {"ALFA": [{"person_key": "k"}] * 6 + [{}] * 4, "BETA": [{"person_key": "k"}] * 10}
    )
    gated = profiles.gate_matrix(profiles.recording_matrix(CS, recs), CS, "es", k=5).frame
    text = profiles.lead_finding(CS, gated, "en")
    assert "it is missing from 40% of ALFA's rows" in text


def test_completeness_finding_skips_a_derived_age_band():
    m = profiles.recording_matrix(CS)
    text = profiles.completeness_finding(m, "en")
    assert text.startswith("Of 15 fields, 2 are recorded by every institution (region and sex).")
    assert "age band" not in text  # nobody records it, but ALFA's age gives it
    assert "disability" in text


# ------------------------------------------------------------------ charts and alt text
def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_matrix_chart_writes_every_cell_and_marks_not_recorded():
    recs = records(
        {
            "ALFA": [{"sex": "female"}] * 8 + [{}] * 2,
            "BETA": [{"sex": "male"}] * 10,
            "GAMMA": [{"sex": "female"}] * 10,
        }
    )
    gated = profiles.gate_matrix(profiles.recording_matrix(CS, recs), CS, "es", k=5).frame
    fig = profiles.plot_recording_matrix(gated, CS, "es")
    texts = _texts(fig)
    n_not_recorded = int((~gated["recorded"]).sum())
    assert texts.count("—") == n_not_recorded  # one dash per field not recorded
    assert "80 %" in texts  # ALFA's sex
    assert "v 100 %" in texts
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ALFA", "BETA", "GAMMA"]
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == n_not_recorded
    assert ax.get_title(loc="left").startswith("Qué registra cada institución")


def test_matrix_alt_text_summarises_each_institution():
    recs = records({"ALFA": [{"sex": "female"}] * 5 + [{}] * 5, "GAMMA": [{}] * 10})
    gated = profiles.gate_matrix(profiles.recording_matrix(CS, recs), CS, "en", k=5).frame
    alt = profiles.matrix_alt(gated, CS, "en")
    assert "ALFA records 6 of 15 fields" in alt
    assert "Its least complete field is identifier (pseudonymous key) (0%)." in alt
    assert "BETA records 5 of 15 fields" in alt and "It has no rows in this selection." in alt


def test_timeline_numbers_each_change():
    ch = profiles.definition_changes(CS, "es")
    fig = profiles.plot_definition_changes(ch, CS, "es")
    assert "1" in _texts(fig)
    assert profiles.changes_alt(ch, CS, "en").endswith("1. 2015-01-01, BETA, legal classification.")


def test_linkage_chart_marks_exact_pairs():
    fig = profiles.plot_linkage(CS, "en")
    texts = _texts(fig)
    assert texts.count("exact\nRUN") == 2  # ALFA–BETA, both halves of the symmetric matrix
    assert texts.count("prob.\n3 attrib.") == 2  # ALFA–GAMMA
    assert texts.count("prob.\n2 attrib.") == 2  # BETA–GAMMA


def test_display_tables_are_labelled_in_the_page_language():
    scheme = profiles.scheme_table(
        profiles.category_scheme(CS, "classification"), "classification", "es"
    )
    assert scheme.iloc[2, 0] == "(etiqueta que se registra como «sin dato»)"
    assert scheme.iloc[0].tolist()[1:] == ["TRATA", "Trata de personas", "no registra"]
    units = profiles.units_table(profiles.units_of_count(CS, "en"), "en")
    assert units.iloc[2].tolist() == ["GAMMA", "records", "none", "One row per record."]


def test_matrix_chart_passes_the_figure_gate_only_with_its_tables():
    # 3 % of ALFA's 100 rows give the sex: '3 %' looks like a small count unless the chart
    # declares the gated table it was drawn from
    recs = records({"ALFA": [{"sex": "female"}] * 3 + [{}] * 97, "GAMMA": [{"sex": "female"}] * 50})
    gm = profiles.gate_matrix(profiles.recording_matrix(CS, recs), CS, "es", k=5)
    fig = profiles.plot_recording_matrix(gm.frame, CS, "es")
    assert "3 %" in _texts(fig)
    assert disclosure.check_figure(fig, gm.tables) == []
    assert disclosure.check_figure(fig, []) != []


def test_quarantine_sentence_passes_the_gate():
    def inputs(n_read, n_q):
        return profiles.Inputs("synthetic", pd.DataFrame(), pd.DataFrame(index=range(n_q)), n_read)

    assert profiles.quarantine_sentence(inputs(4774, 48), "es").startswith(
        "Se leyeron 4.774 filas; 48 (1,0 %) no cumplieron"
    )
    # 3 quarantined rows are fewer than k = 5: no number is given
    assert profiles.quarantine_sentence(inputs(100, 3), "en", k=5).startswith(
        "100 rows were read; fewer than 5 did not conform"
    )
    assert profiles.quarantine_sentence(inputs(100, 0), "en") == (
        "100 rows were read and all conformed to their codebook."
    )


def test_quarantine_failures_parse_the_reasons_of_dj_quarantine():
    q = pd.DataFrame(
        {
            "institution": ["ALFA", "ALFA", "BETA"],
            "source_file": ["alfa.csv", "alfa.csv", "beta.csv"],
            "source_row": [2, 3, 7],
            "rules": ["x", "y", "z"],
            "reasons": [
                "SEXO (sex): unknown_category ('F/M')",
                "FECHA (event_date): date_in_the_future ('2063-12-06'); INGRESO (report_date), "
                "FECHA (event_date): report_date_before_event_date ('report 2019-12-06, event 2063-12-06')",
                "CAUSA (record_id): duplicate_record_id ('1; 2'); EDAD (age): age_out_of_range (0-110) (157)",
            ],
        }
    )
    ff = profiles.quarantine_failures(q)
    got = sorted(zip(ff["institution"], ff["field"], ff["row_id"], ff["rule"], strict=True))
    assert got == [
        ("ALFA", "event_date", "alfa.csv:3", "date_in_the_future"),
        ("ALFA", "event_date", "alfa.csv:3", "report_date_before_event_date"),
        ("ALFA", "report_date", "alfa.csv:3", "report_date_before_event_date"),
        ("ALFA", "sex", "alfa.csv:2", "unknown_category"),
        ("BETA", "age", "beta.csv:7", "age_out_of_range"),
    ]
    inv = profiles.invalid_counts(ff).set_index(["institution", "field"])["n_invalid"]
    assert inv[("ALFA", "event_date")] == 1  # two rules, one row


def test_page_helpers_publish_codebook_tables_as_metadata():
    ch = profiles.definition_changes(CS, "en")
    pub = profiles.publish_changes(ch, CS, "en")
    assert pub.kind == "metadata" and pub.gate["origin"] == "data/codebooks/trafficking"
    assert pub.table.iloc[0].tolist() == [
        1,
        "2015-01-01",
        "BETA",
        "Legal classification",
        "New typology.",
    ]
    assert (
        profiles.changes_markdown(ch, "en")
        == "1. **2015-01-01**, BETA, legal classification: New typology."
    )
    links = profiles.publish_linkage(CS, "es").table
    assert links.iloc[0].tolist()[:2] == ["ALFA – BETA", "exacto, por la clave seudónima (RUN)"]
    # classification and sex are recorded by two or more institutions; the rest by fewer
    assert profiles.scheme_fields(CS) == ["classification", "sex"]
    assert profiles.page_title(CS, "en") == "How each institution records: Human trafficking"


def test_source_lines_name_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAJUSTA_SYNTHETIC_DIR", str(tmp_path))
    (tmp_path / "metadata.json").write_text('{"synthetic": true, "seed": 77}', encoding="utf-8")
    assert (
        profiles.data_source_line("synthetic", "en")
        == "Source: synthetic data (Data Justa generator, seed 77)"
    )
    assert profiles.matrix_source_line("synthetic", CS, "es").startswith(
        "Fuente: datos sintéticos (generador Data Justa, semilla 77); estructura según"
    )
    private = profiles.data_source_line("private", "en")
    assert "confidential institutional records" in private and "data/" not in private
