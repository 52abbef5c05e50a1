"""The open-data readers, the series contract and comuna matching (data/open/)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from frictionless import Package

import datajusta_lib as dj
from datajusta_lib.open_data import contract, eye_trauma, geo, readers


def _total(t, **where):
    for col, val in where.items():
        t = t[t[col] == val]
    return t["value"].sum()


# ------------------------------------------------------------------ data packages
@pytest.mark.parametrize("source", sorted(p.name for p in (geo.open_dir()).iterdir() if p.is_dir()))
def test_each_source_has_a_valid_datapackage_with_provenance(source):
    path = geo.open_dir() / source / "datapackage.json"
    report = Package(str(path)).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])
    meta = json.loads(path.read_text())["datajusta"]
    for key in (
        "publishers",
        "repository",
        "commit",
        "licence_as_stated",
        "unit",
        "period",
        "geography",
        "caveats",
        "refresh",
    ):
        assert meta[key], f"{source}: {key} empty"
    assert len(meta["commit"]) == 40


def test_unstated_licences_say_so():
    for source in ("ds_pjud", "listado_victimas", "indh_mapa", "cut_comunas"):
        meta = readers.source_meta(source)
        assert meta["licenses"][0]["name"] == "not-stated"
        assert meta["datajusta"]["licence_as_stated"].startswith("not stated")


# ------------------------------------------------------------------ readers
def test_femicidios_reader_rows_and_totals():
    r = readers.read_source("femicidios_chile")
    t = r.table
    assert len(t) == 1262
    sern = t[t["dataset"] == "sernameg_femicidios_consumados_frustrados_region_anio"]
    assert _total(sern, phenomenon="femicide_frustrated") == 1799
    assert _total(sern, phenomenon="femicide_completed") == 504
    red = t[t["institution"] == "RED_CHILENA"]
    assert red["value"].sum() == 883  # the 883 femicides Red Chilena recorded 2010-2024
    y2019 = red[red["period_start"].dt.year == 2019]
    assert y2019["value"].sum() == 65
    assert y2019[y2019["detail"].str.contains("registrado_sernameg=Si;")]["value"].sum() == 45


def test_nuble_before_2018_is_set_aside_with_its_reason_and_biobio_says_it_includes_it():
    r = readers.read_source("femicidios_chile")
    assert len(r.set_aside) == 12  # Ñuble 2013-2018, completed and frustrated
    assert r.set_aside["reason"].str.contains("created in Sep 2018").all()
    assert (r.set_aside["value"] == 0).all()
    t = r.table
    bio = t[
        (t["region_code"] == "08")
        & (t["period_start"].dt.year <= 2018)
        & (t["institution"] == "SERNAMEG")
    ]
    assert len(bio) and bio["note"].str.contains("including Ñuble").all()
    assert not (
        (t["region_code"] == "16")
        & (t["period_start"].dt.year < 2019)
        & (t["institution"] == "SERNAMEG")
    ).any()


def test_cead_reader_rows_and_totals():
    t = readers.read_source("delincuencia_chile").table
    assert len(t) == 11505
    year = t[t["dataset"] == "cead_casos_policiales_region_anio_seleccion"]
    fem = (
        year[year["phenomenon"] == "femicide"].groupby(year["period_start"].dt.year)["value"].sum()
    )
    assert fem[2019] == 53 and fem[2020] == 31 and fem[2010] == 0
    dis = (
        year[year["phenomenon"] == "public_disorder"]
        .groupby(year["period_start"].dt.year)["value"]
        .sum()
    )
    assert (dis[2018], dis[2019], dis[2020]) == (15784, 23248, 8612)
    # the monthly file adds up to the yearly one
    month = t[
        (t["dataset"] == "cead_region_mes_seleccion") & (t["phenomenon"] == "public_disorder")
    ]
    assert month[month["period_start"].dt.year == 2019]["value"].sum() == 23248
    assert _total(t, dataset="cead_femicidios_comuna_mes_nonzero") == 559


def test_pjud_reader_rows_and_totals():
    t = readers.read_source("ds_pjud").table
    assert len(t) == 18892
    jg = t[(t["institution"] == "PJUD_GARANTIA") & (t["unit"] == "court_cases")]
    apremios = jg[jg["phenomenon"] == "apremios_ilegitimos"].groupby("period_start")["value"].sum()
    assert apremios[pd.Timestamp("2019-11-01")] == 620
    assert apremios[pd.Timestamp("2019-10-01")] == 220
    fem = jg[jg["phenomenon"] == "femicide_completed_and_attempted"]
    assert fem[fem["period_start"].dt.year == 2019]["value"].sum() == 176
    trata = t[t["phenomenon"] == "trafficking_411_quater"]
    assert _total(trata, unit="court_cases") == 172 and _total(trata, unit="sentences") == 94
    assert set(t["institution"]) == {"PJUD_GARANTIA", "PJUD_TOP"}


def test_listado_victimas_reader_rows_and_totals():
    r = readers.read_source("listado_victimas")
    t = r.table
    assert len(t) == 2876
    acc = t[t["dataset"] == "indh_acciones_region_institucion_figura"]
    assert _total(acc, unit="victims", phenomenon="victims_in_legal_actions") == 2832
    assert _total(acc, unit="legal_actions") == 2568  # cells, not distinct actions (2,351)
    assert _total(acc, phenomenon="eye_trauma_victims_in_legal_actions") == 153
    assert _total(t, institution="PACTO") == 487
    assert _total(t, institution="PVI") == 985
    assert _total(t, institution="CDE", unit="suits") == 329
    # the INDH's eye-injury outcomes match its Oct 2020 balance on vision loss (32)
    inj = t[t["dataset"] == "indh_victimas_region_consecuencia_sexo"]
    assert inj[inj["category"].str.startswith("Pérdida de visión")]["value"].sum() == 32


def test_indh_comunas_inconsistent_with_their_region_are_reported_not_dropped():
    r = readers.read_source("listado_victimas")
    un = r.unmatched.set_index("name")
    assert {"Osorno", "Talca", "Valparaíso", "Puerto Aysén"} == set(un.index)
    assert un.loc["Talca", "reason"] == "the comuna of that name is in region 07"
    t = r.table
    kept = t[
        (t["dataset"] == "indh_victimas_comuna_mes")
        & (t["geo_name"] == "Talca")
        & (t["region_code"] == "08")
    ]
    assert len(kept) and (kept["geo_level"] == "comuna_not_stated").all()
    # nothing lost: victims by comuna add up to all victims
    assert (
        _total(t, dataset="indh_victimas_comuna_mes", phenomenon="victims_in_legal_actions") == 2832
    )


def test_indh_map_reader_matches_every_comuna():
    r = readers.read_source("indh_mapa")
    assert r.table["value"].sum() == 2438
    assert r.unmatched.empty
    assert (r.table["geo_level"] == "comuna").all()
    estacion = r.table[r.table["geo_name"] == "Estacion Central"]
    assert set(estacion["comuna_code"]) == {"13106"}


def test_open_series_filters_and_never_mixes_case_studies():
    af = dj.open_series("attempted_femicide")
    assert set(af["case_study"]) == {"attempted_femicide"}
    assert {"SERNAMEG", "RED_CHILENA", "CEAD", "PJUD_GARANTIA"} <= set(af["institution"])
    tp = dj.open_series("trafficking", unit="sentences")
    assert set(tp["unit"]) == {"sentences"}
    with pytest.raises(ValueError, match="unknown case study"):
        dj.open_series("femicide")
    with pytest.raises(ValueError, match="unknown open-data source"):
        dj.open_series(source="nope")


# ------------------------------------------------------------------ comuna matching
@pytest.mark.parametrize(
    "name, code",
    [
        ("Estacion Central", "13106"),
        ("Estación Central", "13106"),
        ("ESTACIÓN CENTRAL", "13106"),
        ("Coihaique", "11101"),  # old spelling
        ("Llay-Llay", "05703"),
        ("Marchigüe", "06204"),
        ("Padre de las Casas", "09112"),
        ("Puerto Aysén", "11201"),  # a town: its comuna
        ("Ñuñoa", "13120"),
        ("Nunoa", "13120"),
        ("Chillán", "16101"),
    ],
)
def test_comuna_names_match_cut_codes(name, code):
    assert geo.match_comunas(pd.Series([name])).codes.iloc[0] == code


def test_unmatched_comuna_names_are_reported_with_their_rows():
    m = geo.match_comunas(pd.Series(["Atlantis", "Atlantis", "Santiago", "Sin información", None]))
    assert m.codes.isna().tolist() == [True, True, False, True, True]
    assert m.codes.iloc[2] == "13101"
    assert m.unmatched.to_dict("records") == [
        {"name": "Atlantis", "reason": "no comuna of that name", "rows": 2}
    ]


def test_indh_comuna_matching_agrees_with_the_collecting_repositorys_codes():
    df = pd.read_csv(geo.open_dir() / "listado_victimas/indh_victimas_comuna_mes.csv", dtype=str)
    codes = geo.match_comunas(df["comuna1"]).codes
    theirs = df["cut_comuna"].where(df["cut_comuna"] != "Sin información")
    assert (codes.fillna("-") == theirs.fillna("-")).all()


@pytest.mark.parametrize(
    "name, code",
    [
        ("Libertador Gral. Bernardo O'Higgins", "06"),
        ("O’HIGGINS", "06"),
        ("Bio Bio", "08"),
        ("Región Metropolitana", "13"),
        ("MAULE\xa0", "07"),
        ("Punta Arenas", "12"),
        ("Aysén del General Carlos Ibáñez del Campo", "11"),
        ("SIN INFORMACIÓN", None),
    ],
)
def test_region_names(name, code):
    assert geo.region_code(name) == code


def test_an_unknown_region_name_is_an_error():
    with pytest.raises(KeyError, match="not a region name"):
        geo.region_code("Atlántida")


def test_population_of_women_2019():
    pop = geo.population("country", sex="female")
    assert int(pop.loc[pop["year"] == 2019, "population"].iloc[0]) == 9_683_077
    reg = geo.population("region", sex="female")
    assert len(reg[reg["year"] == 2019]) == 16


# ------------------------------------------------------------------ the contract
def _good_row(**over):
    row = {
        "source": "test",
        "dataset": "t",
        "publisher": "P",
        "institution": "SERNAMEG",
        "case_study": "attempted_femicide",
        "phenomenon": "femicide_frustrated",
        "category": None,
        "detail": None,
        "unit": "victims",
        "period_start": "2019-01-01",
        "period_end": "2019-12-31",
        "granularity": "year",
        "geo_level": "region",
        "region_code": "13",
        "comuna_code": None,
        "geo_name": None,
        "sex": None,
        "age_band": None,
        "value": 3,
        "note": None,
        "source_url": "https://www.sernameg.gob.cl/",
        "as_of": "2024-12-13",
    }
    row.update(over)
    return row


def test_contract_accepts_a_good_row():
    out = contract.check_series(pd.DataFrame([_good_row()]), source="x.csv")
    assert len(out) == 1


@pytest.mark.parametrize(
    "over, rule",
    [
        ({"value": -1}, "greater_than_or_equal_to"),
        ({"value": 2.5}, "count_is_a_whole_number"),
        ({"unit": "cases"}, "isin"),
        ({"period_end": "2018-12-31"}, "period_end_not_before_period_start"),
        ({"region_code": None}, "region_level_needs_region_code"),
        ({"geo_level": "comuna", "comuna_code": None}, "comuna_level_needs_comuna_code"),
        ({"comuna_code": "08101"}, "comuna_code_within_its_region"),
        ({"source_url": "sernameg"}, "str_matches"),
        ({"region_code": "17"}, "isin"),
        ({"sex": "F"}, "isin"),
        ({"case_study": "femicide"}, "isin"),
    ],
)
def test_contract_rejects_bad_rows_with_reasons(over, rule):
    df = pd.DataFrame([_good_row(), _good_row(**over, dataset="bad")])
    report = contract.validate_series(df, source="x.csv")
    assert len(report.accepted) == 1 and len(report.rejected) == 1
    assert report.failures["rule"].str.contains(rule).any(), report.failures
    with pytest.raises(contract.SeriesContractError, match=r"x\.csv.*1 rejected"):
        contract.check_series(df, source="x.csv")


def test_contract_names_file_line_column_and_rule(tmp_path):
    df = pd.DataFrame([_good_row(), _good_row(value=-5, dataset="b")]).assign(source_row=[2, 3])
    with pytest.raises(contract.SeriesContractError) as err:
        contract.check_series(df, source="data/open/x/y.csv")
    text = str(err.value)
    assert "data/open/x/y.csv, row 3, column value: rule greater_than_or_equal_to(0)" in text


def test_contract_rejects_two_rows_for_the_same_cell():
    df = pd.DataFrame([_good_row(), _good_row(value=4)])
    with pytest.raises(ValueError, match="unique_cell"):
        contract.check_series(df, source="x.csv")


def test_a_reader_refuses_an_unknown_category(tmp_path, monkeypatch):
    src = geo.open_dir() / "delincuencia_chile"
    dest = tmp_path / "data" / "open" / "delincuencia_chile"
    dest.mkdir(parents=True)
    for f in src.iterdir():
        (dest / f.name).write_bytes(f.read_bytes())
    df = pd.read_csv(dest / "cead_region_mes_seleccion.csv")
    df.loc[5, "delito"] = "Trata"
    df.to_csv(dest / "cead_region_mes_seleccion.csv", index=False)
    monkeypatch.setattr(readers, "open_dir", lambda: tmp_path / "data" / "open")
    with pytest.raises(
        ValueError,
        match=r"cead_region_mes_seleccion\.csv: column delito: unknown values \['Trata'\]",
    ):
        readers.read_delincuencia_chile()


# ------------------------------------------------------------------ eye trauma
def test_eye_trauma_histories_are_the_440_persons():
    ch = eye_trauma.capture_histories()
    assert len(ch) == 7 and ch["count"].sum() == 440
    sizes = {lst: int(ch.loc[ch[lst] == 1, "count"].sum()) for lst in eye_trauma.LISTS}
    assert sizes == {"INDH": 151, "PVI": 101, "PACTO": 360}


def test_eye_trauma_estimate_exceeds_the_observed_with_an_interval():
    res = eye_trauma.estimate(n_boot=200, seed=1)
    assert res.ok
    lo, hi = res.interval
    assert 440 < lo < res.total < hi
    assert 500 < res.total < 700  # the original study's 3-list pairwise estimates: 322-617


# ------------------------------------------------------------------ the open-data index
def test_sentence_index_for_apremios_and_tortura_against_all_offences():
    from datajusta_lib.open_data import measures

    idx = measures.sentence_index((2019, 2021)).loc["Chile"]
    assert (idx["cases_apremios_tortura"], idx["sentences_apremios_tortura"]) == (6527, 39)
    assert (idx["cases_all"], idx["sentences_all"]) == (2032161, 252946)
    assert idx["index_apremios_tortura"] < idx["index_all"] / 10


def test_registered_share_index():
    from datajusta_lib.open_data import measures

    share = measures.registered_share()
    assert share.loc[2019, "red_chilena"] == 65 and share.loc[2019, "registered_sernameg"] == 45
    assert round(share.loc[2019, "share"], 1) == 69.2
    assert share.index.min() == 2012  # the field exists from 2012


def test_cde_stages_are_grouped_and_unknown_ones_refused():
    from datajusta_lib.open_data import measures

    suits = measures.cde_suits()
    assert suits.to_numpy().sum() == 329
    assert measures.cde_stage("DIscusión") == measures.cde_stage("Contestación ")
    with pytest.raises(ValueError, match="unknown stage"):
        measures.cde_stage("Casación")


def test_femicide_rates_per_100000_women_2019_2023():
    from datajusta_lib.open_data import measures

    counts = measures.region_counts(
        "attempted_femicide",
        institution="SERNAMEG",
        phenomenon="femicide_frustrated",
        dataset=measures.SERNAMEG_DS,
    )
    rates = measures.region_rates(counts, (2019, 2023), sex="female").set_index("region_code")
    assert rates["n"].sum() == 109 + 151 + 164 + 180 + 259
    assert rates.loc["13", "rate"] == pytest.approx(100_000 * 195 / rates.loc["13", "population"])
    assert len(rates) == 16


def test_every_open_data_text_exists_in_both_languages(root):
    import re

    import yaml

    texts = yaml.safe_load((root / "data/i18n/open_data.yaml").read_text(encoding="utf-8"))[
        "open_data"
    ]
    assert all(
        set(v) == {"es", "en"} and all(s.strip() for s in v.values()) for v in texts.values()
    )
    used = set()
    for path in [
        *root.glob("datajusta_lib/open_data/*.py"),
        root / "notebooks/open_data_index.ipynb",
    ]:
        used |= set(
            re.findall(r"""\bt\(\s*\\?["']([a-z0-9_]+)\\?["']""", path.read_text(encoding="utf-8"))
        )
    prefixes = {u for u in used if u.endswith("_")}  # t("s_" + unit)
    assert all(any(k.startswith(p) for k in texts) for p in prefixes)
    assert used and not sorted(used - prefixes - set(texts))
