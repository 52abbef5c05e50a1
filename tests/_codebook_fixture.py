"""Three small hand-made codebooks for the profile and territorial tests.

Expected values in the tests are worked out by hand from these files, not from the project's
real codebooks (which may change as institutions are described better).
"""

from __future__ import annotations

from pathlib import Path

ALFA = """
institution: ALFA
case_study: trafficking
name: {es: Alfa, en: Alfa}
unit_of_count: persons
identifier_kind: RUN
export: {format: csv, filename: alfa.csv, encoding: utf-8, delimiter: ";", date_format: iso}
record_id: {original_name: ID}
fields:
  person_key: {recorded: true, original_name: RUN, dtype: identifier}
  event_date: {recorded: true, original_name: FECHA, dtype: date}
  region_code:
    recorded: true
    original_name: REGION
    dtype: category
    values: {RM: "13", ARICA: "15", MAGALLANES: "12"}
    notes: {es: "Región del hecho.", en: "Region of the event."}
  sex: {recorded: true, original_name: SEXO, dtype: category, values: {F: female, M: male}}
  age: {recorded: true, original_name: EDAD, dtype: integer}
  classification:
    recorded: true
    original_name: DELITO
    dtype: category
    values: {TRATA: trafficking_411_quater, TRAFICO: smuggling_411_bis}
notes: {es: "Una fila por persona.", en: "One row per person."}
"""

BETA = """
institution: BETA
case_study: trafficking
name: {es: Beta, en: Beta}
unit_of_count: cases
identifier_kind: RUN
export: {format: csv, filename: beta.csv, encoding: utf-8, delimiter: ";", date_format: iso}
record_id: {original_name: CAUSA}
fields:
  person_key: {recorded: true, original_name: RUT, dtype: identifier}
  report_date: {recorded: true, original_name: INGRESO, dtype: date}
  region_code: {recorded: true, original_name: REG, dtype: category, values: {"13": "13", "15": "15"}}
  sex: {recorded: true, original_name: SEXO, dtype: category, values: {Mujer: female, Hombre: male}}
  classification:
    recorded: true
    original_name: TIPO
    dtype: category
    values: {"Trata de personas": trafficking_411_quater, "Otro": null}
definition_changes:
  - {date: "2015-01-01", field: classification, note: {es: "Nueva tipología.", en: "New typology."}}
notes: {es: "Una fila por causa.", en: "One row per case."}
"""

GAMMA = """
institution: GAMMA
case_study: trafficking
name: {es: Gamma, en: Gamma}
unit_of_count: records
identifier_kind: none
export: {format: csv, filename: gamma.csv, encoding: utf-8, delimiter: ";", date_format: iso}
record_id: {original_name: FOLIO}
fields:
  person_key: {recorded: false}
  region_code: {recorded: true, original_name: REGION, dtype: category, values: {RM: "13"}}
  sex: {recorded: true, original_name: SEXO, dtype: category, values: {F: female}}
  age_band: {recorded: true, original_name: TRAMO, dtype: category, values: {"18-29": "18-29"}}
  nationality: {recorded: true, original_name: NAC, dtype: category, values: {CHILENA: CHL}}
notes: {es: "Una fila por registro.", en: "One row per record."}
"""


def write_codebooks(root: Path) -> Path:
    folder = root / "codebooks" / "trafficking"
    folder.mkdir(parents=True)
    for name, body in (("ALFA", ALFA), ("BETA", BETA), ("GAMMA", GAMMA)):
        (folder / f"{name}.yaml").write_text(body.lstrip(), encoding="utf-8")
    return root / "codebooks"
