"""Codebooks: the shipped ones pass the contract and differ as institutions do; each kind of
bad codebook is rejected with an error naming the file and the problem."""

from __future__ import annotations

import json
import re
import textwrap

import pandas as pd
import pytest
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

import datajusta_lib as dj
from datajusta_lib.core import canon, contracts
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
    rejected(
        tmp_path,
        bad,
        "fields.region_code.values.XX: field region_code, label 'XX' maps to '99'",
        "not a region code of data/reference/regions.csv (rule maps_to_a_region_code)",
    )


def test_nationality_that_is_not_an_iso3_code(tmp_path):
    bad = GOOD.replace("CHILENA: CHL", "CHILENA: Chile")
    rejected(
        tmp_path,
        bad,
        "fields.nationality.values.CHILENA: a nationality maps to an ISO 3166-1 alpha-3 code",
        "(got 'Chile')",
    )


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
        tmp_path,
        bad,
        "unit_of_count: 'victims' is not one of",
        "export.delimiter: must be one of ',', ';', '\\t' (got '|')",
        "export.date_format: must be 'iso', 'excel_serial' or a strftime pattern",
        "(got 'dd-mm-yyyy')",
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


# --------------------------------------------------------------------------------------
# the published schema (data/schemas/codebook.schema.json)
# --------------------------------------------------------------------------------------
def _schema(root) -> dict:
    return json.loads((root / "data/schemas/codebook.schema.json").read_text(encoding="utf-8"))


def test_the_schema_is_draft_2020_12_and_every_shipped_codebook_follows_it(root):
    """Checked with jsonschema alone (as an editor would), not through the library."""
    schema = _schema(root)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    files = sorted((root / "data/codebooks").rglob("*.yaml"))
    assert len(files) == 17
    for path in files:
        errors = [e.message for e in validator.iter_errors(codebooks.read_yaml(path))]
        assert not errors, f"{path}: {errors}"
    assert codebooks.schema_path() == root / "data/schemas/codebook.schema.json"


def _ref(prop: dict) -> str | None:
    refs = [prop.get("$ref")] + [p.get("$ref") for p in prop.get("allOf", [])]
    return next((r.removeprefix("#/$defs/") for r in refs if r), None)


def test_the_schema_describes_every_key_and_names_the_canonical_fields(root):
    schema = _schema(root)
    fields = schema["properties"]["fields"]["properties"]
    derived = {k for k, v in fields.items() if _ref(v) == "derivedField"}
    assert derived == set(codebooks.DERIVED_FIELDS)
    assert set(fields) - derived == set(codebooks.DESCRIBABLE_FIELDS)
    assert {"identifier", "date", "integer", "category"} <= set(contracts.CODEBOOK_DTYPES)
    for name in codebooks.DESCRIBABLE_FIELDS:
        kind = _ref(fields[name]).removesuffix("Field")
        assert kind == codebooks.FIELD_DTYPES.get(name, "category"), name
        assert (kind == "category") == (name in codebooks.CATEGORY_FIELDS), name
        assert fields[name].get("description"), name
    # every key of the document says what it is (itself or through its definition)
    for key, prop in schema["properties"].items():
        target = schema["$defs"].get(_ref(prop) or "", {})
        assert prop.get("description") or target.get("description"), key


def test_the_schema_means_the_same_to_a_draft_7_editor(root, tmp_path):
    """VS Code's YAML extension implements draft 7: no keyword of the schema may be one it
    ignores ($ref with siblings, 2019+ keywords), and it must give the same verdicts."""
    schema = _schema(root)

    def walk(node):
        if isinstance(node, dict):
            assert not ("$ref" in node and len(node) > 1), node
            newer = {"$dynamicRef", "$anchor", "unevaluatedProperties", "unevaluatedItems"}
            newer |= {"prefixItems", "dependentRequired", "dependentSchemas", "$recursiveRef"}
            assert not newer & set(node), node
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    draft7 = Draft7Validator(schema, format_checker=FormatChecker())
    for path in sorted((root / "data/codebooks").rglob("*.yaml")):
        assert draft7.is_valid(codebooks.read_yaml(path)), path
    for old, new in [
        ('delimiter: ";"', 'delimiter: "|"'),
        ("  gender_identity: {recorded: false}", "  comuna: {recorded: false}"),
        ("dtype: category, values: {F: female, M: male}", "dtype: category"),
        ("CHILENA: CHL", "CHILENA: Chile"),
    ]:
        doc = codebooks.read_yaml(write_cb(tmp_path, GOOD.replace(old, new)))
        assert not draft7.is_valid(doc), new


def test_each_problem_names_file_line_place_and_rule(tmp_path):
    bad = GOOD.replace('delimiter: ";"', 'delimiter: "|"').replace(
        "  age: {recorded: true, original_name: EDAD, dtype: integer}",
        "  age: {recorded: true, original_name: EDAD, dtype: integer, colour: red}",
    )
    msg = rejected(tmp_path, bad)
    path = tmp_path / "trafficking" / "TEST.yaml"
    assert msg.splitlines()[0] == f"codebook {path}: 2 problem(s)"
    assert msg.splitlines()[1:] == [
        f"  - {path}:6: export.delimiter: must be one of ',', ';', '\\t' (got '|')",
        f"  - {path}:19: fields.age.colour: unknown key (allowed: recorded, original_name, "
        "dtype, values, date_format, notes)",
    ]


def test_every_structural_problem_is_reported_at_once(tmp_path):
    bad = (
        GOOD.replace("institution: TEST", "institution: test")
        .replace("identifier_kind: RUN", "identifier_kind: rut")
        .replace("format: csv", "format: ods")
        .replace("record_id: {original_name: ID}", "record_id: {name: ID}")
        .replace("  age: {recorded: true, original_name: EDAD, dtype: integer}", "  age: 34")
        .replace("extra_columns: [NOTAS]", "extra_columns: NOTAS")
    )
    msg = rejected(
        tmp_path,
        bad,
        ":1: institution: must be an upper-case id",
        ":5: identifier_kind: must be one of 'RUN', 'passport', 'none' (got 'rut')",
        ":6: export.format: must be one of 'csv', 'xlsx' (got 'ods')",
        ":7: record_id: needs original_name",
        ":7: record_id.name: unknown key",
        ":19: fields.age: must be a mapping",
        ":21: extra_columns: must be a list or empty (null) (got 'NOTAS')",
    )
    assert "7 problem(s)" in msg


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # keys the parser rejected before the schema, each still rejected
        ("extra_columns: [NOTAS]", "extra_columns: [NOTAS]\ncolour: red", "colour: unknown key"),
        ("case_study: trafficking", "case_study: trata", "case_study: 'trata' is not one of"),
        ("name: {es: Prueba, en: Test}", "name: {es: Prueba}", "name: must give 'es' and 'en'"),
        ("filename: t.csv, ", "", "export.filename: missing (required)"),
        ("encoding: utf-8, ", "", "export: a CSV export must give its encoding"),
        ("encoding: utf-8", "encoding: cp1252", "export.encoding: must be one of"),
        ("format: csv,", "format: csv, decimal: ';',", "export.decimal: must be one of '.', ','"),
        ("format: csv,", "format: csv, header_row: 0,", "export.header_row: must be a 1-based row"),
        ("format: csv,", "format: xlsx, sheet: [a],", "export.sheet: must be a sheet name"),
        ('date_format: "%d-%m-%Y"', 'date_format: "%d-%m"', "export.date_format: must be 'iso'"),
        (
            "{original_name: ID}",
            "{original_name: ID, pattern: '(['}",
            "is not a regular expression",
        ),
        ("{original_name: ID}", "{original_name: ' '}", "record_id.original_name: must name a col"),
        (
            "extra_columns:",
            "missing_tokens: [1]\nextra_columns:",
            "missing_tokens[0]: must be text",
        ),
        ("fields:\n", "fields: {}\nx:\n", "fields: must not be empty"),
        ("{recorded: false}", "{recorded: no}", "fields.gender_identity.recorded: 'recorded' must"),
        ("{recorded: false}", "[false]", "fields.gender_identity: must be a mapping"),
        (
            "EDAD, dtype: integer",
            "EDAD, dtype: number",
            "fields.age.dtype: dtype must be 'integer'",
        ),
        ("EDAD, dtype: integer", "EDAD", "fields.age: recorded but has no dtype"),
        ("FECHA, dtype: date}", "FECHA, dtype: category}", "fields.event_date.dtype: dtype must"),
        ("EDAD, dtype: integer", "EDAD, dtype: integer, date_format: iso", "not a date"),
        ("EDAD, dtype: integer", "EDAD, dtype: integer, values: {A: x}", "not a category"),
        ("values: {F: female, M: male}", "values: [F, M]", "fields.sex.values: must be a mapping"),
        ("{F: female, M: male}", "{F: female, M: 1}", "fields.sex.values.M: a label maps to text"),
        ("{F: female, M: male}", "{F: female, 2.5: male}", "a label must be text (quote it"),
        ("identifier_kind: RUN", "identifier_kind: passport\n", None),
        (
            "extra_columns:",
            "status:\n  kind: documented\n  document: {title: x, url: 'https://x', as_of: '2021-05-01'}"
            "\nextra_columns:",
            None,
        ),
        (
            "  person_key: {recorded: true, original_name: RUN, dtype: identifier}\n",
            "",
            "identifier_kind: RUN, but fields.person_key is not recorded",
        ),
        (
            "definition_changes:\n  - {",
            "definition_changes:\n  - 3\n  - {",
            "[0]: must be a mapping",
        ),
        ('note: {es: "Ley 20.507", en: "Ley 20.507"}', "note: x", "note: must give 'es' and 'en'"),
        ("definition_changes:", "definition_changes: {}\nx:", "definition_changes: must be a list"),
        ("DELITO\n", "DELITO\n    recorded: false\n", "duplicate key 'recorded'"),
        # rules the schema adds: keys and shapes the parser let through unchecked
        ("{original_name: ID}", "{original_name: ID, patern: x}", "record_id.patern: unknown key"),
        ("field: classification,", "field: classification, by: x,", "[0].by: unknown key"),
        ("{recorded: false}", "{recorded: false, notes: x}", "notes: must give 'es' and 'en'"),
        ("extra_columns:", "notes: [x]\nextra_columns:", "notes: must give 'es' and 'en'"),
        ("format: csv,", "format: csv, header_row: 2.0,", "must be a 1-based row number (got 2.0)"),
        ("{recorded: false}", "{recorded: false, dtype: string}", "dtype: unmapped category"),
        ("{recorded: false}", "{recorded: false, date_format: iso}", "not a date"),
        ("{recorded: false}", "{recorded: false, values: {}}", "values: must not be empty"),
        ("{recorded: false}", "{recorded: false, values: {A: x}}", "'values' given without dtype"),
        (
            "format: csv, filename: t.csv, encoding: utf-8",
            "format: xlsx, filename: t.xlsx, encoding: cp1252",
            "export.encoding: must be one of",
        ),
        (
            "extra_columns:",
            "status: {kind: documented, document: {title: x, url: y, page: 3}}\nextra_columns:",
            "status.document.page: unknown key",
        ),
    ],
)
def test_each_bad_key_is_named_with_its_rule(tmp_path, old, new, expected):
    assert old in GOOD
    if expected is None:  # a control: the replacement alone is a good codebook
        load_codebook(write_cb(tmp_path, GOOD.replace(old, new)))
        return
    rejected(tmp_path, GOOD.replace(old, new, 1), expected)


def test_labels_and_dates_are_read_as_yaml_1_2_text(tmp_path):
    """Unquoted dates stay text (no YAML 1.1 timestamps); integer labels are text labels."""
    text = GOOD.replace('{date: "2011-04-08"', "{date: 2011-04-08").replace(
        '{RM: "13"}', '{RM: "13", 13: "13"}'
    )
    cb = load_codebook(write_cb(tmp_path, text))
    assert cb.raw["definition_changes"][0]["date"] == "2011-04-08"
    assert cb.definition_changes[0]["date"] == "2011-04-08"
    assert cb.specs["region_code"].values == {"RM": "13", "13": "13"}
    rejected(tmp_path, text.replace("{date: 2011-04-08", "{date: 2011-02-30"), "not an ISO date")


def test_meaning_is_checked_beside_a_broken_structure_but_never_on_it(tmp_path):
    """A meaning check runs when what it reads passed the schema, and only then."""
    bad = GOOD.replace("unit_of_count: persons", "unit_of_count: victims").replace(
        "  age: {recorded: true, original_name: EDAD, dtype: integer}", "  age: 34"
    )
    msg = rejected(tmp_path, bad, "unit_of_count: 'victims'", "fields.age: must be a mapping")
    assert "claimed twice" not in msg  # reads every field: skipped, not crashed
    assert codebooks.semantic_problems(["not", "a", "mapping"], tmp_path / "X.yaml", [()]) == []


def test_a_bad_codebook_is_a_clear_exit_2_on_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from datajusta_lib.cli import app

    path = write_cb(tmp_path, GOOD.replace('delimiter: ";"', 'delimiter: "|"'))
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "x.csv"), "--codebook", str(path)])
    assert res.exit_code == 2, res.output
    assert f"{path}:6: export.delimiter: must be one of" in res.output


def test_the_docs_publish_the_schema(root):
    doc = (root / "docs" / "codebooks.md").read_text(encoding="utf-8")
    assert "data/schemas/codebook.schema.json" in doc
    assert "# yaml-language-server: $schema=" in doc
