"""Codebooks: the shipped ones pass the contract and differ as institutions do; each kind of
bad codebook is rejected with an error naming the file and the problem."""

from __future__ import annotations

import re
import textwrap

import pandas as pd
import pytest

import datajusta_lib as dj
from datajusta_lib.core import canon
from datajusta_lib.ingest import codebooks
from datajusta_lib.ingest.codebooks import CodebookError, load_codebook

EXPECTED = {
    "protest_violence": {"INDH", "FISCALIA", "MINSAL_PIRO", "DPP", "CARABINEROS"},
    "attempted_femicide": {"FISCALIA", "CARABINEROS", "PDI", "SERNAMEG", "SPD_PAV", "SML"},
    "trafficking": {"FISCALIA", "PDI", "CARABINEROS", "SPD_PAV", "SERMIG", "OSC"},
}


def test_every_institution_of_the_design_has_a_valid_codebook():
    for cs, names in EXPECTED.items():
        assert set(codebooks.institutions(cs)) == names
    every = codebooks.all_codebooks()
    assert len(every) == 17
    for cb in every:
        assert cb.institution in EXPECTED[cb.case_study]
        assert cb.path.parent.name == cb.case_study and cb.path.stem == cb.institution


def test_codebooks_differ_as_institutions_do():
    every = codebooks.all_codebooks()
    ex = [cb.export for cb in every]
    assert {cb.unit_of_count for cb in every} >= {
        "persons",
        "cases",
        "offences",
        "records",
        "complaints",
    }
    assert {cb.identifier_kind for cb in every} == {"RUN", "passport", "none"}
    assert {e.format for e in ex} == {"csv", "xlsx"}
    assert {e.encoding for e in ex if e.format == "csv"} == {"utf-8", "utf-8-sig", "latin-1"}
    assert {e.delimiter for e in ex if e.format == "csv"} == {",", ";", "\t"}
    assert {e.date_format for e in ex} >= {
        "%d-%m-%Y",
        "%d/%m/%y",
        "iso",
        "excel_serial",
        "%d/%m/%Y",
    }
    assert any(e.header_row > 1 for e in ex)
    # no two codebooks record the same set of fields under the same column names
    signatures = [
        tuple(sorted((k, s.original_name) for k, s in cb.recorded.items())) for cb in every
    ]
    assert len(set(signatures)) == len(signatures)
    # each records a different subset: some never record sex, some never age, some no identifier
    assert any(not cb.specs.get("sex") or not cb.specs["sex"].recorded for cb in every)
    assert any("age_band" in cb.recorded for cb in every)


def test_legal_definition_changes_are_dated():
    femicide = {cb.institution: cb for cb in codebooks.all_codebooks("attempted_femicide")}
    for inst in ("FISCALIA", "CARABINEROS", "SERNAMEG", "PDI"):
        assert any(
            ch["date"] == "2020-03-04" and "21.212" in ch["note"]["es"]
            for ch in femicide[inst].definition_changes
        ), inst  # Ley Gabriela
    fiscalia_tp = codebooks.get("FISCALIA", "trafficking")
    mapped = set(fiscalia_tp.specs["classification"].values.values())
    assert {"trafficking_411_quater", "smuggling_411_bis"} <= mapped
    assert any(ch["date"] == "2011-04-08" for ch in fiscalia_tp.definition_changes)


def test_codebook_tables_through_the_public_api():
    cb = dj.codebook("INDH")  # one case study: the codebook itself
    assert cb.institution == "INDH" and cb.case_study == "protest_violence"
    f = cb.fields.set_index("field")
    assert (
        f.loc["person_key", "original_name"] == "RUT"
        and f.loc["person_key", "dtype"] == "identifier"
    )
    assert not f.loc["disability", "recorded"]
    m = cb.mappings
    row = m[(m["field"] == "sex") & (m["original_value"] == "Mujer")]
    assert row["canonical_value"].tolist() == ["female"]
    several = dj.codebook("FISCALIA")
    assert set(several) == set(canon.case_studies())
    assert dj.codebook("fiscalia", "trafficking").unit_of_count == "offences"
    with pytest.raises(LookupError, match="no codebook for institution 'NOPE'"):
        dj.codebook("NOPE")


def test_docs_table_is_current(root):
    doc = (root / "docs" / "codebooks.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- institutions-table.*?-->\n(.*?)<!-- /institutions-table -->", doc, re.S)
    assert m, "docs/codebooks.md lost its institutions-table markers"
    assert m.group(1).strip() == codebooks.institutions_markdown().strip(), (
        "regenerate the table: python -c 'from datajusta_lib import codebooks; "
        "print(codebooks.institutions_markdown())'"
    )


# --------------------------------------------------------------------------------------
# bad codebooks
# --------------------------------------------------------------------------------------
GOOD = """\
institution: TEST
case_study: trafficking
name: {es: Prueba, en: Test}
unit_of_count: persons
identifier_kind: RUN
export: {format: csv, filename: t.csv, encoding: utf-8, delimiter: ";", date_format: "%d-%m-%Y"}
record_id: {original_name: ID}
fields:
  person_key: {recorded: true, original_name: RUN, dtype: identifier}
  event_date: {recorded: true, original_name: FECHA, dtype: date}
  sex: {recorded: true, original_name: SEXO, dtype: category, values: {F: female, M: male}}
  classification:
    recorded: true
    original_name: DELITO
    dtype: category
    values: {TRATA: trafficking_411_quater, TRAFICO: smuggling_411_bis}
  region_code: {recorded: true, original_name: REGION, dtype: category, values: {RM: "13"}}
  nationality: {recorded: true, original_name: NAC, dtype: category, values: {CHILENA: CHL, OTRA: null}}
  age: {recorded: true, original_name: EDAD, dtype: integer}
  gender_identity: {recorded: false}
extra_columns: [NOTAS]
definition_changes:
  - {date: "2011-04-08", field: classification, note: {es: "Ley 20.507", en: "Ley 20.507"}}
"""


def write_cb(tmp_path, text: str):
    folder = tmp_path / "trafficking"
    folder.mkdir(exist_ok=True)
    path = folder / "TEST.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def rejected(tmp_path, text: str, *expected: str) -> str:
    path = write_cb(tmp_path, text)
    with pytest.raises(CodebookError) as exc:
        load_codebook(path)
    msg = str(exc.value)
    assert str(path) in msg
    for e in expected:
        assert e in msg, f"{e!r} not in:\n{msg}"
    return msg


def test_the_good_test_codebook_loads(tmp_path):
    cb = load_codebook(write_cb(tmp_path, GOOD))
    assert cb.specs["nationality"].values["OTRA"] is None
    assert len(cb.mappings) == 7 and cb.fields["field"].is_unique


def test_unmapped_category(tmp_path):
    bad = GOOD.replace("dtype: category, values: {F: female, M: male}", "dtype: category")
    rejected(tmp_path, bad, "fields.sex", "unmapped category")


def test_closed_vocabulary_recorded_as_free_text(tmp_path):
    bad = GOOD.replace("dtype: category, values: {F: female, M: male}", "dtype: string")
    rejected(tmp_path, bad, "fields.sex", "unmapped category", "closed canonical vocabulary")


def test_duplicate_field(tmp_path):
    bad = GOOD.replace("  gender_identity: {recorded: false}", "  sex: {recorded: false}")
    rejected(tmp_path, bad, "duplicate key 'sex'")


def test_duplicate_label_differing_only_in_case(tmp_path):
    bad = GOOD.replace("{F: female, M: male}", "{F: female, M: male, f: female}")
    rejected(tmp_path, bad, "fields.sex", "labels 'F' and 'f' are the same label")


def test_mapping_to_a_non_canonical_value(tmp_path):
    bad = GOOD.replace("{F: female, M: male}", "{F: femenino, M: male}")
    rejected(tmp_path, bad, "maps_to_canonical_value", "field sex, label 'F'", "femenino")


def test_classification_of_another_case_study(tmp_path):
    bad = GOOD.replace("TRAFICO: smuggling_411_bis", "TRAFICO: femicidio_frustrado")
    rejected(tmp_path, bad, "maps_to_canonical_value", "label 'TRAFICO'")


def test_region_that_does_not_exist(tmp_path):
    bad = GOOD.replace('{RM: "13"}', '{RM: "13", XX: "99"}')
    rejected(tmp_path, bad, "maps_to_a_region_code_or_iso3_nationality", "label 'XX'")


def test_nationality_that_is_not_an_iso3_code(tmp_path):
    bad = GOOD.replace("CHILENA: CHL", "CHILENA: Chile")
    rejected(tmp_path, bad, "maps_to_a_region_code_or_iso3_nationality", "label 'CHILENA'")


def test_unknown_field(tmp_path):
    bad = GOOD.replace("  gender_identity: {recorded: false}", "  comuna: {recorded: false}")
    rejected(tmp_path, bad, "fields.comuna: not a canonical RecordModel column")


def test_derived_field_described(tmp_path):
    bad = GOOD.replace("  gender_identity: {recorded: false}", "  source_row: {recorded: false}")
    rejected(tmp_path, bad, "fields.source_row: derived by ingestion")


def test_identifier_recorded_when_the_kind_is_none(tmp_path):
    rejected(
        tmp_path,
        GOOD.replace("identifier_kind: RUN", "identifier_kind: none"),
        "person_key: recorded, but identifier_kind is none",
    )


def test_recorded_field_without_a_column(tmp_path):
    bad = GOOD.replace(
        "age: {recorded: true, original_name: EDAD, dtype: integer}",
        "age: {recorded: true, dtype: integer}",
    )
    rejected(tmp_path, bad, "fields.age: recorded but has no original_name")


def test_column_claimed_twice(tmp_path):
    bad = GOOD.replace("extra_columns: [NOTAS]", "extra_columns: [NOTAS, EDAD]")
    rejected(tmp_path, bad, "column 'EDAD' is claimed twice")


def test_unknown_unit_identifier_format_and_dates(tmp_path):
    bad = (
        GOOD.replace("unit_of_count: persons", "unit_of_count: victims")
        .replace('date_format: "%d-%m-%Y"', 'date_format: "dd-mm-yyyy"')
        .replace('delimiter: ";"', 'delimiter: "|"')
    )
    rejected(
        tmp_path, bad, "unit_of_count: 'victims'", "export.delimiter", "date_format 'dd-mm-yyyy'"
    )


def test_file_name_and_folder_must_match(tmp_path):
    rejected(
        tmp_path,
        GOOD.replace("institution: TEST", "institution: OTHER"),
        "does not match the file name 'TEST.yaml'",
    )
    rejected(
        tmp_path,
        GOOD.replace("case_study: trafficking", "case_study: protest_violence"),
        "does not match the folder 'trafficking'",
    )


def test_definition_change_for_an_undescribed_field_or_bad_date(tmp_path):
    bad = GOOD.replace(
        '{date: "2011-04-08", field: classification', '{date: "08-04-2011", field: procedural_stage'
    )
    rejected(tmp_path, bad, "not an ISO date", "field 'procedural_stage' is not described")


def test_label_equal_to_a_missing_token(tmp_path):
    bad = GOOD.replace("{F: female, M: male}", '{F: female, M: male, "S/I": female}')
    rejected(tmp_path, bad, "label 'S/I' is also a missing-value token")


def test_not_yaml(tmp_path):
    rejected(tmp_path, GOOD + "\n  - : [\n", "not valid YAML")


def test_yes_no_labels_stay_text(tmp_path):
    """YAML 1.1 reads an unquoted No as false; codebooks are read as YAML 1.2 (text)."""
    text = GOOD.replace(
        "  gender_identity: {recorded: false}",
        "  disability: {recorded: true, original_name: DISC, dtype: category, values: {Si: 'yes', No: 'no'}}",
    )
    cb = load_codebook(write_cb(tmp_path, text))
    assert cb.specs["disability"].values == {"Si": "yes", "No": "no"}
    assert cb.specs["person_key"].recorded is True


def test_structural_problems_are_reported_before_mapping_ones(tmp_path):
    bad = GOOD.replace("unit_of_count: persons", "unit_of_count: victims").replace(
        "{F: female, M: male}", "{F: femenino, M: male}"
    )
    msg = rejected(tmp_path, bad, "unit_of_count")
    # the structural problem stops the contract pass; fixing it then shows the mapping one
    assert "problem" in msg
    fixed = bad.replace("unit_of_count: victims", "unit_of_count: persons")
    rejected(tmp_path, fixed, "femenino")


def test_fields_table_passes_the_lead_contract():
    from datajusta_lib.core import contracts

    for cb in codebooks.all_codebooks():
        fields = cb.fields[cb.fields["field"] != codebooks.NAME_FIELD]
        assert contracts.validate(fields, contracts.CodebookFieldModel).ok, cb
        assert contracts.validate(cb.mappings, contracts.CodebookMappingModel).ok, cb
        assert isinstance(cb.fields, pd.DataFrame)
