"""The data justice audit, on hand-made codebooks and records whose answers are worked out by hand."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
import yaml

from datajusta_lib.gate import disclosure as dc
from datajusta_lib.gate.publish import gate_counts, gated_sources
from datajusta_lib.ingest import codebooks as cbm
from datajusta_lib.pages import audit as au

ALFA = """
institution: ALFA
case_study: trafficking
name: {es: Alfa, en: Alfa}
unit_of_count: persons
identifier_kind: RUN
export: {format: csv, filename: alfa.csv, encoding: utf-8, delimiter: ";", date_format: iso}
record_id: {original_name: RUC}
fields:
  person_key: {recorded: true, original_name: RUN, dtype: identifier}
  person_name: {recorded: true, original_name: NOMBRE, dtype: identifier}
  event_date: {recorded: true, original_name: FECHA, dtype: date}
  region_code: {recorded: true, original_name: REGION, dtype: category, values: {RM: "13", ARICA: "15"}}
  sex: {recorded: true, original_name: SEXO, dtype: category, values: {F: female, M: male}}
  age: {recorded: true, original_name: EDAD, dtype: integer}
  disability: {recorded: true, original_name: DISCAPACIDAD, dtype: category, values: {"SI": "yes", "NO": "no"}}
  classification:
    recorded: true
    original_name: DELITO
    dtype: category
    values: {TRATA: trafficking_411_quater, TRAFICO: smuggling_411_bis}
extra_columns: [TIPO_EXPLOTACION, OBSERVACIONES]
notes: {es: "Se pide el consentimiento informado de la víctima.", en: "Informed consent is asked of the victim."}
"""

BETA = """
institution: BETA
case_study: trafficking
name: {es: Beta, en: Beta}
unit_of_count: cases
identifier_kind: passport
export: {format: csv, filename: beta.csv, encoding: utf-8, delimiter: ";", date_format: iso}
record_id: {original_name: CASO}
fields:
  person_key: {recorded: true, original_name: PASAPORTE, dtype: identifier}
  region_code: {recorded: true, original_name: REG, dtype: category, values: {"13": "13", "15": "15"}}
  nationality: {recorded: true, original_name: NAC, dtype: category, values: {PERUANA: PER, BOLIVIANA: BOL}}
  migrant_status: {recorded: true, original_name: SITUACION, dtype: category, values: {REGULAR: regular}}
  classification:
    recorded: true
    original_name: TIPO
    dtype: category
    values: {"Trata de personas": trafficking_411_quater}
"""

PURPOSES = {
    "trafficking": {
        "purpose": {"es": "Contar.", "en": "Count."},
        "needed": {
            "event_date": {"why": {"es": "t", "en": "t"}},
            "region_code": {"why": {"es": "r", "en": "r"}},
            "sex": {"why": {"es": "s", "en": "s"}},
            "age_band": {"why": {"es": "a", "en": "a"}, "finer": ["age"]},
            "migrant_status": {"why": {"es": "m", "en": "m"}},
            "person_key": {"why": {"es": "k", "en": "k"}},
        },
    }
}


@pytest.fixture(autouse=True)
def handmade(monkeypatch, tmp_path):
    monkeypatch.delenv(dc.K_ENV, raising=False)
    books = [
        cbm.parse_codebook(yaml.safe_load(t), tmp_path / "trafficking" / f"{n}.yaml")
        for n, t in (("ALFA", ALFA), ("BETA", BETA))
    ]
    monkeypatch.setattr(au, "_codebooks", lambda case_study: books)
    monkeypatch.setattr(au, "purposes", lambda: PURPOSES)
    return books


def key(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def records(n_alfa: int = 12, n_beta: int = 8) -> pd.DataFrame:
    rows = []
    for i in range(n_alfa):
        rows.append(
            {
                "institution": "ALFA",
                "case_study": "trafficking",
                "record_id": f"A{i}",
                "person_key": key(i),
                "event_date": pd.Timestamp("2019-01-01") + pd.Timedelta(days=40 * i),
                "report_date": pd.NaT,
                "region_code": "13" if i < 10 else "15",
                "classification_recorded": "TRATA",
                "classification": "trafficking_411_quater",
                "sex": "female" if i % 2 else "male",
                "gender_identity": None,
                "age": 15 if i == 0 else 30,
                "age_band": None,
                "nationality": None,
                "migrant_status": None,
                "indigenous_people": None,
                "disability": "no",
                "perpetrator_type": None,
                "procedural_stage": None,
                "source_file": "alfa.csv",
                "source_row": i + 2,
                "source_sheet": None,
            }
        )
    for i in range(n_beta):
        rows.append(
            {
                "institution": "BETA",
                "case_study": "trafficking",
                "record_id": f"B{i}",
                "person_key": key(100 + i),
                "event_date": pd.NaT,
                "report_date": pd.NaT,
                "region_code": "13",
                "classification_recorded": "Trata",
                "classification": "trafficking_411_quater",
                "sex": None,
                "gender_identity": None,
                "age": pd.NA,
                "age_band": None,
                "nationality": "PER" if i < 7 else "BOL",
                "migrant_status": "regular",
                "indigenous_people": None,
                "disability": None,
                "perpetrator_type": None,
                "procedural_stage": None,
                "source_file": "beta.csv",
                "source_row": i + 2,
                "source_sheet": None,
            }
        )
    df = pd.DataFrame(rows).astype({"age": "Int64"})
    df.attrs["ingestion"] = [
        {
            "institution": "ALFA",
            "n_read": n_alfa + 2,
            "n_accepted": n_alfa,
            "n_rejected": 2,
            "n_lines": n_alfa + 3,
            "n_blank": 1,
            "n_continuation": 0,
        },
        {
            "institution": "BETA",
            "n_read": n_beta,
            "n_accepted": n_beta,
            "n_rejected": 0,
            "n_lines": n_beta,
        },
    ]
    return df


# ----------------------------------------------------------------------------- minimum data
def test_fields_collected_against_fields_needed():
    alfa, beta = au.field_findings("trafficking")
    assert alfa.institution == "ALFA"
    assert alfa.delivered == 1 + 8 + 2  # record id, eight recorded fields, two extra columns
    assert alfa.needed == ("event_date", "region_code", "sex", "age_band", "person_key")
    assert alfa.finer == ("age",)  # an exact age where a band is enough
    assert alfa.excess == ("classification", "disability")
    assert alfa.dropped == ("person_name", "TIPO_EXPLOTACION", "OBSERVACIONES")
    assert alfa.missing == ("migrant_status",)
    assert beta.missing == ("event_date", "sex", "age_band")
    assert beta.excess == ("classification", "nationality")
    assert beta.finer == () and beta.dropped == ()


def test_fields_table_is_metadata_in_both_languages():
    es = au.fields_table("trafficking", "es")
    assert es.kind == "metadata" and es.gate["passed"]
    row = es.table.iloc[0]
    assert row["Institución"] == "ALFA" and row["Más detalle del necesario"] == "Edad"
    assert "Nombre" in row["Descartados al ingresar"]
    en = au.fields_table("trafficking", "en")
    assert en.table.iloc[1]["Needed but not recorded"] == "Date of the event, Sex, Age band"


# ----------------------------------------------------------------------------- sensitive fields
def test_sensitive_categories_and_their_evidence():
    f = au.sensitive_findings("trafficking")
    got = {(r.institution, r.category): r.evidence for r in f.itertuples()}
    assert ("field", "person_key") in got[("ALFA", "identity")]
    assert ("record_id", "RUC") in got[("ALFA", "identity")]
    assert ("field", "disability") in got[("ALFA", "health")]
    assert ("column", "TIPO_EXPLOTACION") in got[("ALFA", "sexual_and_gender_violence")]
    assert ("field", "age") in got[("ALFA", "children")]
    assert ("identifier", "passport") in got[("BETA", "migration_status")]
    assert ("BETA", "health") not in got and ("ALFA", "migration_status") not in got


def test_sensitive_table_marks_fields_the_purpose_does_not_need():
    t = au.sensitive_table("trafficking", "en").table
    health = t[(t["Institution"] == "ALFA") & (t["Sensitive category"] == "Health")].iloc[0]
    assert health["Fields not needed"] == "Disability"
    migration = t[
        (t["Institution"] == "BETA") & (t["Sensitive category"] == "Migration status")
    ].iloc[0]
    assert migration["Fields not needed"] == "Nationality"  # migrant status is needed


def test_children_counts_from_age_and_band():
    df = records()
    df.loc[df.index[-1], "age_band"] = "14-17"
    counts = au.children_counts(df)
    assert counts.loc["ALFA"].tolist() == [1, 11, 0]
    assert counts.loc["BETA"].tolist() == [1, 0, 7]
    g = au.children_table(df, "es")
    assert dc.check_counts_csv(g.csv, g.gate) == []
    assert dc.SUPPRESSED in g.table.to_numpy()  # a single child is never shown as 1


# ----------------------------------------------------------------------------- consent, purpose, retention
def test_governance_not_recorded_is_the_finding():
    g = au.governance_findings("trafficking").set_index("institution")
    assert g.loc["ALFA", "consent"] == "mentioned_in_notes"
    assert g.loc["ALFA", "retention"] == "not_recorded"
    assert (g.loc["BETA"] == "not_recorded").all()
    t = au.governance_table("trafficking", "es").table
    assert t.iloc[1]["Consentimiento"] == "no registrado"


# ----------------------------------------------------------------------------- identifiers
def test_identifier_findings():
    df = records()
    df.loc[0, "person_key"] = None
    f = au.identifier_findings("trafficking", df).set_index("institution")
    assert f.loc["ALFA", "with_key"] == 11 and f.loc["ALFA", "records"] == 12
    assert bool(f.loc["ALFA", "keys_are_hashes"]) and bool(f.loc["ALFA", "names_delivered"])
    assert f.loc["BETA", "identifier_kind"] == "passport"
    t = au.identifier_table("trafficking", df, "en")
    assert t.kind == "estimates"
    assert t.table.iloc[0]["With a pseudonymous key (%)"] == pytest.approx(91.7)


# ----------------------------------------------------------------------------- re-identification
def test_reidentification_by_hand():
    risk = {r.institution: r for r in au.reidentification("trafficking", records())}
    alfa, beta = risk["ALFA"], risk["BETA"]
    assert alfa.quasi_identifiers == ("region_code", "sex", "age_band")
    # region 13: five women (a class of 5), four men of 30 (a class of 4) and one boy of 15
    # (alone); region 15: one man and one woman, each alone
    assert alfa.unique == 3 and alfa.below_k == 3 + 4
    assert beta.quasi_identifiers == ("region_code", "nationality")
    assert beta.unique == 1 and beta.below_k == 1
    assert beta.sensitive == "migrant_status" and beta.min_l == 1 and beta.homogeneous == 8
    gated = au.reidentification_counts(list(risk.values()), 5, "en")
    assert dc.check_counts_csv(gated.csv, gated.gate) == []
    # ALFA 3 | 4 | 5 and BETA 1 | 0 | 7: every small cell hidden, and enough others with them
    table = gated.table.set_index("Institution")
    assert table.loc["ALFA"].tolist() == [dc.SUPPRESSED] * 3 + [12]
    assert table.loc["BETA", "In groups of 2 to 4"] == 0
    assert "Total" not in table.index  # institutions count different units: no total row
    assert gated.totals["columns"]["In groups of 5 or more"] == 12  # known to the gate only


def test_reidentification_figure_is_drawn_from_the_gated_counts():
    import matplotlib.pyplot as plt

    risk = au.reidentification("trafficking", records(40, 30))
    gated = au.reidentification_counts(risk, 5, "es")
    fig = au.reidentification_figure(gated, "es")
    try:
        assert gated_sources(fig, gated) == [gated]
    finally:
        plt.close(fig)
    assert "ALFA" in au.reidentification_alt(gated, "es")


# ----------------------------------------------------------------------------- disclosure risk
def test_breakdown_risk_by_hand():
    f = au.breakdown_risk(records()).set_index(["institution", "dimension"])
    region = f.loc[("ALFA", "region_code")]
    # 10 records in region 13, 2 in region 15: the 2 are hidden, and the 10 to protect them
    assert (
        region["categories"],
        region["primary"],
        region["secondary"],
        region["records_hidden"],
    ) == (2, 1, 1, 12)
    assert ("BETA", "sex") not in f.index  # nothing recorded, nothing published
    t = au.breakdown_table(records(), "es")
    assert t.kind == "estimates"


def test_published_tables_read_back_from_the_site(tmp_path):
    from datajusta_lib.analysis.display import table_html

    site = tmp_path / "site"
    (site / "es").mkdir(parents=True)
    g = gate_counts(pd.Series({"a": 3, "b": 10, "c": 12}, name="n"), name="by_region")
    page = site / "es" / "x--trafficking.html"
    page.write_text(
        table_html(g.table, caption="c", source="s", name=g.name, lang="es", published=g)
    )
    manifest = {
        "render_finished": "2026-01-01T00:00:00Z",
        "pages": [
            {
                "page": "es/x--trafficking.html",
                "in_site": True,
                "parameters": {"case_study": "trafficking"},
            }
        ],
    }
    (site / "manifest.json").write_text(json.dumps(manifest))
    t = au.site_tables("trafficking", site)
    assert t.iloc[0][["table", "kind", "k", "hidden_primary", "hidden_secondary"]].tolist() == [
        "by_region",
        "counts",
        5,
        1,
        1,
    ]
    assert au.site_tables("protest_violence", site).empty
    assert "2026-01-01" in au.site_tables_note("trafficking", "en", site)


# ----------------------------------------------------------------------------- ingestion and checklist
def test_ingestion_counts_and_gate():
    df = records()
    f = au.ingestion_counts(df)
    assert f.to_dict("records")[0] == {
        "institution": "ALFA",
        "read": 14,
        "accepted": 12,
        "rejected": 2,
    }
    g = au.ingestion_table(df, "en")
    assert dc.check_counts_csv(g.csv, g.gate) == []


def statuses(items) -> dict:
    return {it.key: it.status for it in items}


def test_checklist_statuses_come_from_the_evidence(tmp_path):
    items = au.checklist(
        "trafficking", records(), "synthetic", "es", site=tmp_path, check_site=False
    )
    s = statuses(items)
    assert s["minimum_data"] == "attention"
    assert s["sensitive_needed"] == "attention"  # disability and nationality are not needed
    assert s["identifiers_pseudonymised"] == "met"
    assert s["rejected_kept"] == "met"
    assert s["lineage"] == "met"
    assert s["consent_recorded"] == "attention"  # only mentioned in ALFA's notes
    assert s["retention_recorded"] == "not_recorded"
    assert s["accountability_channel"] == "not_recorded"
    assert s["microdata_not_published"] == "met"
    for lang in ("es", "en"):
        table = au.checklist_table(items, lang).table
        assert len(table) == len(items) and table.notna().all().all()
        assert au.checklist_summary(items, lang)


def test_checklist_catches_an_identifier_and_lost_rows(tmp_path):
    df = records()
    df.loc[3, "person_key"] = "12.345.678-5"
    df.loc[4, "classification_recorded"] = "contactar a ana@example.cl"
    df.attrs["ingestion"][0]["n_rejected"] = 1  # 12 + 1 != 14
    s = statuses(
        au.checklist("trafficking", df, "synthetic", "en", site=tmp_path, check_site=False)
    )
    assert s["identifiers_pseudonymised"] == "not_met"
    assert s["rejected_kept"] == "not_met"


def test_counts_in_sentences_never_show_a_small_number():
    assert au._fewer(3, 5, "es") == "menos de 5"
    assert au._fewer(0, 5, "en") == "0"
    assert au._fewer(1234, 5, "es") == "1.234"
    assert au.num(12.345, "es") == "12,3"


def test_every_checklist_sentence_exists_in_both_languages(root):
    labels = yaml.safe_load((root / "data/i18n/gate.yaml").read_text(encoding="utf-8"))
    for name, entry in labels.items():
        assert set(entry) == {"es", "en"}, name
        fields_es = set(__import__("re").findall(r"{(\w+)}", entry["es"]))
        fields_en = set(__import__("re").findall(r"{(\w+)}", entry["en"]))
        assert fields_es == fields_en, name
    for key in [k for k in labels if k.startswith("item_")]:
        item = key.removeprefix("item_")
        assert any(k.startswith(f"evidence_{item}_") for k in labels), item
