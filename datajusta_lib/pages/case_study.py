"""The case-study pages (trafficking, attempted femicide, protest violence), section by section.

A :class:`CasePage` holds one page's selection (case study, institutions, period, region,
language, data source). Each ``*_view`` method computes its counts (``analysis``), passes
them through the disclosure gate, draws the chart from the gated values (``charts``) and
returns a :class:`View` — figure, alt text, the gated tables, a source line and a short note
— that :meth:`CasePage.show` displays. The notebooks hold the narrative and call these.

Gating is per institution, because units of count differ: one table per institution and
section, never a total across institutions. Where counts are small (trafficking), the views
choose coarser periods, macro-zones instead of regions and coarser categories, so that the
page still answers its question instead of showing walls of hidden cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import yaml

from ..analysis import charts
from ..analysis import counts as an
from ..core.canon import case_study_label, regions
from ..core.i18n import check_lang, has_text, institution_name, text, unit_label
from ..gate import disclosure
from ..gate.publish import GatedCounts, PublishedTable, gate_counts, publish_table

STATE_AGENTS = ("carabineros", "pdi", "armed_forces", "gendarmeria", "other_state_agent")


@dataclass
class View:
    """One section of a page, ready to show."""

    figure: object | None
    alt: str
    source: str
    counts: list = field(default_factory=list)  # gated tables the figure was drawn from
    note: str = ""  # Markdown shown under the figure (in the page's language)
    data: pd.DataFrame | None = None  # the gated values drawn (tidy)
    published: PublishedTable | None = None  # real published figures shown beside, with sources


# ------------------------------------------------------------------------ gated frames
def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_")


def gate_series(
    series: pd.Series,
    *,
    name: str,
    label: str,
    count_label: str,
    k: int | None = None,
    link=None,
) -> GatedCounts:
    """Gate one institution's one-way counts (index = categories in display order).
    ``link``: what the counts are, for the page's joint protection (``linked``)."""
    return gate_counts(
        series.astype("int64"), name=name, label=label, count_label=count_label, k=k, link=link
    )


# The records of a page (its selection, undated ones included) counted by several tables:
# the coverage table (dated records per institution), each institution's volumes (by period,
# with an undated row) and its distributions (dated records by region, nationality...). They
# are one system for a reader (issue 14): e.g. undated = volumes total - coverage.
PAGE_RECORDS = "page_records"


def page_link(dimension: str | None, institution: str | None = None, **options):
    """The link of a table of the page's records (``linked.Link``)."""
    from ..gate.linked import Link

    fixed = dict(options.pop("fixed", {}))
    if institution is not None:
        fixed["institution"] = institution
    return Link(PAGE_RECORDS, rows=dimension, fixed=fixed, **options)


def gated_frame(long: pd.DataFrame, key: str, gated: dict, drop_last: int = 0) -> pd.DataFrame:
    """``long`` (institution, unit, <key>, n) with ``n`` replaced by the gated values.

    Adds ``share`` (% of the institution's published total, from the gate) and ``total``;
    institutions without a gated table (field not recorded) keep their rows with n NaN.
    ``drop_last``: rows of the gated tables after those of ``long`` (e.g. undated records).
    """
    out = []
    for inst, d in long.groupby("institution", sort=False):
        d = d.copy()
        g = gated.get(inst)
        if g is None:
            d["n"], d["share"], d["total"] = np.nan, np.nan, np.nan
        else:
            end = len(g.visible) - drop_last
            d["n"] = g.visible.to_numpy(dtype=float)[:end]
            d["share"] = np.asarray(g.shares("grand"), dtype=float)[:end]
            d["total"] = float(g.totals["grand"])
        out.append(d)
    cols = [*long.columns, "share", "total"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def synthetic_seed(source: str) -> int | None:
    """The seed of the synthetic data in use (``metadata.json``), None for real data."""
    import json

    from ..core.paths import synthetic_dir

    meta = synthetic_dir() / "metadata.json"
    if source != "synthetic" or not meta.is_file():
        return None
    return json.loads(meta.read_text(encoding="utf-8")).get("seed")


# -------------------------------------------------------------------------------- page
class CasePage:
    """One case-study page: the selection, its language and source, and its sections."""

    def __init__(
        self,
        case_study: str,
        records: pd.DataFrame,
        *,
        source: str = "synthetic",
        institutions=None,
        period_start=None,
        period_end=None,
        region=None,
        lang: str = "es",
        seed: int | None = None,
        k: int | None = None,
    ):
        self.case_study = case_study
        self.lang = check_lang(lang)
        if source not in ("synthetic", "private"):
            raise ValueError(f"source must be synthetic or private, got {source!r}")
        self.source = source
        self.seed = seed
        self.k = disclosure.resolve_k(k)
        present = set(records.loc[records["case_study"] == case_study, "institution"])
        wanted = list(institutions) if institutions else None
        self.info = an.institution_info(case_study)
        if wanted is None:
            wanted = [i for i in self.info if i in present]
        self.records = records
        self._views: dict = {}
        self.sel = an.select(
            records,
            case_study,
            self.info,
            institutions=wanted,
            period_start=period_start,
            period_end=period_end,
            region=region,
        )

    @classmethod
    def load(cls, case_study: str, *, source: str = "synthetic", **kwargs) -> CasePage:
        """Load the records (``loading.load``) and build the page.

        Rows quarantined at ingestion are not warned about on the page (a warning would
        print to the page's error stream): they are counted in the coverage table instead.
        """
        import warnings

        from ..ingest.loading import load

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*quarantined; see dj\.quarantine")
            records = load(case_study, source=source)
        return cls(case_study, records, source=source, seed=synthetic_seed(source), **kwargs)

    # ------------------------------------------------------------------ page text
    @property
    def institutions(self) -> tuple[str, ...]:
        return self.sel.institutions

    def _t(self, key: str, **values) -> str:
        return text(key, self.lang, **values)

    def _name(self, inst: str) -> str:
        return institution_name(inst, self.lang, short=True)

    def _date(self, ts) -> str:
        return charts._date(ts, self.lang)

    def title(self) -> str:
        return self._t("cs_page_title", case_study=case_study_label(self.case_study, self.lang))

    def source_line(self) -> str:
        if self.source == "synthetic":
            line = (
                self._t("source_line_synthetic", seed=self.seed)
                if self.seed is not None
                else self._t("cs_source_synthetic")
            )
            return line.rstrip(".") + ". " + self._t("cs_source_units")
        return self._t("cs_source_private")

    def region_name(self, code: str) -> str:
        return regions().set_index("code").at[code, "name"]

    def scope(self) -> str:
        """What the page covers, in one paragraph (Markdown)."""
        names = ", ".join(self._name(i) for i in self.institutions) or self._t("cs_none")
        where = (
            self._t("cs_scope_region", region=self.region_name(self.sel.region))
            if self.sel.region
            else self._t("cs_scope_country")
        )
        return (
            self._t(
                "cs_scope",
                institutions=names,
                start=self._date(self.sel.start),
                end=self._date(self.sel.end),
                where=where,
            )
            + " "
            + self._units_clause()
        )

    # ------------------------------------------------------------------ coverage
    def coverage_table(self) -> PublishedTable:
        """Per institution: what one record is (unit of count), the date that places it in
        time, and how many records this page shows. Gated as estimates (rows resting on
        fewer than k records hidden) with no total: units differ between institutions."""
        rows = []
        for inst in self.institutions:
            info = self.info[inst]
            rows.append(
                {
                    self._t("institution"): self._name(inst),
                    self._t("cs_col_unit"): unit_label(info.unit, self.lang),
                    self._t("cs_col_date_basis"): self._t(f"cs_basis_{info.date_basis}"),
                    self._t("cs_col_shown"): int((self.sel.records["institution"] == inst).sum()),
                }
            )
        return publish_table(
            pd.DataFrame(rows),
            name="coverage",
            kind="estimates",
            observed=[self._t("cs_col_shown")],
            k=self.k,
            link=page_link(
                "institution", fixed={"dated": "yes"}, label_column=self._t("institution")
            ),
        )

    # ------------------------------------------------------------------ volumes
    def volumes_view(self, freq: str | None = None) -> View:
        """Records per period and institution, each in its unit (periods chosen so that
        few cells are hidden), with the codebooks' dated changes of definition."""
        freq = an.choose_frequency(self.sel, self.info, self.k, freq)
        long = an.volumes(self.sel, self.info, freq)
        gated, undated = {}, {}
        for inst in self.institutions:
            s = an.counts_series(long, inst, "period")
            # the undated records belong in the same table: its total is every record
            periods = [str(p) for p in s.index]
            s.loc[self._t("cs_undated_row")] = self.sel.undated.get(inst, 0)
            link = page_link(
                "period",
                self._name(inst),
                labels={self._t("cs_undated_row"): {"dated": "no"}},
                groups=(({"dated": "yes"}, tuple(periods)),),
            )
            g = gate_series(
                s,
                name=f"volumes_{_slug(inst)}",
                label=self._t(f"cs_axis_{freq}"),
                count_label=unit_label(self.info[inst].unit, self.lang),
                k=self.k,
                link=link,
            )
            gated[inst] = g
            undated[inst] = float(g.visible.iloc[-1])
        data = gated_frame(long, "period", gated, drop_last=1)
        changes = an.definition_changes(self.info, self.institutions)
        changes = changes[(changes["date"] >= self.sel.start) & (changes["date"] <= self.sel.end)]
        title = self._t(f"cs_title_volumes_{freq}")
        fig = charts.volumes_chart(data, freq=freq, title=title, lang=self.lang, changes=changes)
        alt = charts.volumes_alt(data, freq=freq, title=title, lang=self.lang)
        note = "\n\n".join(
            x for x in (self._undated_note(undated), self._changes_note(changes)) if x
        )
        return View(fig, alt, self.source_line(), list(gated.values()), note, data)

    def _undated_note(self, undated: dict) -> str:
        if not any(v != 0 for v in undated.values()):
            return ""
        listing = "; ".join(
            f"{self._name(i)} {charts.count_text(v, self.lang)}"
            for i, v in undated.items()
            if v != 0
        )
        return self._t("cs_note_undated", listing=listing)

    def _changes_note(self, changes: pd.DataFrame) -> str:
        if changes.empty:
            return ""
        lines = [
            f"- **{self._date(r.date)}** ({', '.join(self._name(i) for i in r.institutions)}): "
            + (r.note_es if self.lang == "es" else r.note_en)
            for r in changes.itertuples()
        ]
        return self._t("cs_changes_intro") + "\n\n" + "\n".join(lines)

    def classification_over_time_view(self, classes: tuple[str, ...], freq: str = "year") -> View:
        """Records per period of the given classifications, per institution recording the
        classification (a period × classification table gated per institution)."""
        return self._memo(
            ("classification_time", tuple(classes), freq),
            lambda: self._classification_over_time(tuple(classes), freq),
        )

    def _classification_over_time(self, classes: tuple[str, ...], freq: str) -> View:
        long = an.volumes(self.sel, self.info, freq, by="classification")
        recording = [i for i in self.institutions if self.info[i].records("classification")]
        long = long[long["institution"].isin(recording)]
        cats = list(classes)
        periods = long.drop_duplicates("period")[["period", "period_start", "partial"]]
        gated, parts = {}, []
        for inst in recording:
            d = long[(long["institution"] == inst) & long["classification"].isin(cats)]
            wide = (
                d.pivot_table(index="period", columns="classification", values="n", aggfunc="sum")
                .reindex(index=periods["period"], columns=cats)
                .fillna(0)
                .astype("int64")
            )
            shown = wide.copy()
            shown.columns = pd.Index(
                [charts.category_label("classification", c, self.lang) for c in cats],
                name=self._t("field_classification"),
            )
            shown.index.name = self._t(f"cs_axis_{freq}")
            g = gate_counts(shown, name=f"classification_time_{_slug(inst)}", k=self.k)
            gated[inst] = g
            vis = pd.DataFrame(g.visible.to_numpy(dtype=float), index=wide.index, columns=cats)
            for c in cats:
                parts.append(
                    periods.assign(
                        institution=inst,
                        unit=self.info[inst].unit,
                        classification=c,
                        n=vis[c].to_numpy(),
                    )
                )
        data = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(
                columns=[
                    "period",
                    "period_start",
                    "partial",
                    "institution",
                    "unit",
                    "classification",
                    "n",
                ]
            )
        )
        changes = an.definition_changes(self.info, recording)
        changes = changes[(changes["date"] >= self.sel.start) & (changes["date"] <= self.sel.end)]
        title = self._t("cs_title_classification_time")
        fig = charts.volumes_chart(
            data, freq=freq, title=title, lang=self.lang, series="classification", changes=changes
        )
        alt = charts.volumes_alt(
            data, freq=freq, title=title, lang=self.lang, series="classification"
        )
        return View(fig, alt, self.source_line(), list(gated.values()), "", data)

    # ------------------------------------------------------------------ distributions
    def _distribution(self, long: pd.DataFrame, key: str, section: str, label: str) -> tuple:
        gated = {}
        for inst in self.institutions:
            d = long[long["institution"] == inst]
            if d.empty or (d[key] == an.NOT_RECORDED).all():
                continue
            s = an.counts_series(long, inst, key)
            s.index = [self._category_label(section, key, v) for v in s.index]
            gated[inst] = gate_series(
                s,
                name=f"{section}_{_slug(inst)}",
                label=label,
                count_label=unit_label(self.info[inst].unit, self.lang),
                k=self.k,
                link=page_link(section, self._name(inst), fixed={"dated": "yes"}),
            )
        return gated_frame(long, key, gated), gated

    def _category_label(self, section: str, key: str, value) -> str:
        if key == "area":
            return charts.area_label(value, self.lang)
        return charts.category_label(section, value, self.lang)

    def regions_view(self, level: str | None = None) -> View:
        """Records per region north to south (or per macro-zone when regional counts are
        too small to publish), per institution, with missing and not recorded shown."""
        if self.sel.region:
            note = self._t("cs_note_region_page", region=self.region_name(self.sel.region))
            return View(None, "", "", [], note, None)
        level = level or an.choose_region_level(self.sel, self.info, self.k)
        long = an.by_region(self.sel, self.info, level)
        data, gated = self._distribution(long, "area", f"{level}s", self._t("field_region_code"))
        title = self._t(f"cs_title_{level}s")
        fig = charts.categories_chart(
            data, field_name="area", key="area", title=title, lang=self.lang
        )
        alt = charts.categories_alt(
            data, field_name="area", key="area", title=title, lang=self.lang
        )
        note = self._t("cs_note_zones") if level == "zone" else ""
        return View(fig, alt, self.source_line(), list(gated.values()), note, data)

    def profile_view(
        self, field_name: str, *, top: int | None = None, coarse: bool | None = None
    ) -> View:
        """The victim attribute ``field_name`` as each institution records it."""
        if field_name == "nationality" and top is None:
            top = 6
        if coarse is None:
            coarse = an.choose_coarse(self.sel, self.info, field_name, self.k, top=top)
        long = an.profile(
            self.sel, self.info, field_name, coarse=coarse, top=None if coarse else top
        )
        return self._category_view(long, field_name, coarse=coarse, top=top)

    def _category_view(self, long, field_name, *, coarse=False, top=None, title_key=None) -> View:
        recorders = [i for i in self.institutions if self.info[i].records(field_name)]
        what = self._t(f"field_{field_name}").lower()
        if not recorders:
            note = self._t("cs_nobody_records", what=what)
            return View(None, note, self.source_line(), [], note, None)
        data, gated = self._distribution(
            long, "category", field_name, self._t(f"field_{field_name}")
        )
        title = self._t(title_key or "cs_title_profile", field=self._t(f"field_{field_name}"))
        fig = charts.categories_chart(data, field_name=field_name, title=title, lang=self.lang)
        alt = charts.categories_alt(data, field_name=field_name, title=title, lang=self.lang)
        notes = []
        if coarse:
            notes.append(self._t("cs_note_coarse", what=what))
        if top and not coarse and (data["category"] == an.OTHER).any():
            notes.append(self._t("cs_note_top", top=top))
        silent = [self._name(i) for i in self.institutions if i not in recorders]
        if silent:
            notes.append(self._t("cs_note_not_recorded", what=what, who=", ".join(silent)))
        return View(fig, alt, self.source_line(), list(gated.values()), " ".join(notes), data)

    def _memo(self, key, build) -> View:
        """One view per key: the lead sentence reads the same gated tables the page shows."""
        if key not in self._views:
            self._views[key] = build()
        return self._views[key]

    def classification_view(self) -> View:
        """How each institution classifies what it records (legal classification)."""

        def build():
            long = an.profile(self.sel, self.info, "classification")
            return self._category_view(long, "classification", title_key="cs_title_classification")

        return self._memo("classification", build)

    def perpetrator_view(self) -> View:
        """The institution (or kind) of the alleged perpetrator, as each institution records it."""

        def build():
            long = an.profile(self.sel, self.info, "perpetrator_type")
            return self._category_view(long, "perpetrator_type", title_key="cs_title_perpetrator")

        return self._memo("perpetrator", build)

    # ------------------------------------------------------------------ funnel
    def funnel_view(self) -> View:
        """The procedural funnel per institution recording the stage (see analysis.funnel)."""
        stages = an.stage_counts(self.sel, self.info)
        insts = list(dict.fromkeys(stages["institution"]))
        if not insts:
            note = self._t("cs_nobody_records", what=self._t("field_procedural_stage").lower())
            return View(None, note, self.source_line(), [], note, None)
        gated, parts = {}, []
        for inst in insts:
            s = an.counts_series(stages, inst, "stage")
            labels = list(s.index)
            s.index = [charts.category_label("procedural_stage", v, self.lang) for v in labels]
            g = gate_series(
                s,
                name=f"stages_{_slug(inst)}",
                label=self._t("field_procedural_stage"),
                count_label=unit_label(self.info[inst].unit, self.lang),
                k=self.k,
            )
            gated[inst] = g
            visible = dict(zip(labels, g.visible.to_numpy(dtype=float), strict=True))
            visible["Total"] = g.totals["grand"]
            f = an.funnel(visible, k=self.k)
            f.insert(0, "unit", self.info[inst].unit)
            f.insert(0, "institution", inst)
            f["share_of_first"] = f["share_of_first"] * 100
            parts.append(f)
        data = pd.concat(parts, ignore_index=True)
        title = self._t("cs_title_funnel")
        fig = charts.funnel_chart(data, title=title, lang=self.lang)
        alt = charts.funnel_alt(data, title=title, lang=self.lang)
        silent = [self._name(i) for i in self.institutions if i not in insts]
        note = self._t("cs_note_funnel")
        if silent:
            note += " " + self._t(
                "cs_note_not_recorded",
                what=self._t("field_procedural_stage").lower(),
                who=", ".join(silent),
            )
        return View(fig, alt, self.source_line(), list(gated.values()), note, data)

    # ------------------------------------------------------------------ published
    def comparison_view(self, figures: pd.DataFrame | None = None) -> View | None:
        """Published figures beside the corresponding records (None when none applies).

        Skipped for a regional page: published figures are national."""
        from ..ingest.published import comparison_table, published_figures

        if self.sel.region:
            return View(None, "", "", [], self._t("cs_note_comparison_region"), None)
        figures = published_figures(self.case_study) if figures is None else figures
        comp = an.published_comparison(
            self.records,
            self.case_study,
            self.info,
            figures,
            institutions=self.institutions,
            period_start=self.sel.start,
            period_end=self.sel.end,
        )
        if comp.empty:
            return View(None, "", "", [], self._t("cs_note_comparison_none"), None)
        gated = []
        parts = []
        for inst, d in comp.groupby("institution", sort=False):  # one table per unit
            s = pd.Series(d["n"].to_numpy(), index=d["figure"].to_list())
            g = gate_series(
                s,
                name=f"records_beside_published_{_slug(inst)}",
                label=self._t("cs_col_figure"),
                count_label=unit_label(self.info[inst].unit, self.lang),
                k=self.k,
            )
            gated.append(g)
            parts.append(d.assign(n=g.visible.to_numpy(dtype=float)))
        data = pd.concat(parts, ignore_index=True)
        ids = list(dict.fromkeys(data["figure"]))
        pub = publish_table(
            comparison_table(figures[figures["id"].isin(ids)], self.lang),
            name="published_beside_records",
            kind="published",
        )
        title = self._t("cs_title_comparison")
        fig = charts.comparison_chart(data, title=title, lang=self.lang, source=self.source)
        alt = charts.comparison_alt(data, title=title, lang=self.lang, source=self.source)
        source = self._t("cs_source_comparison", ids=", ".join(ids)) + " " + self.source_line()
        notes = {
            c["institution"]: c["note"][self.lang]
            for c in an.comparable_figures(self.case_study)
            if c["figure"] in ids
        }
        note = " ".join(dict.fromkeys(notes.values()))
        view = View(fig, alt, source, gated, note, data)
        view.published = pub  # shown as a table with every source under the figure
        return view

    # ------------------------------------------------------------------ findings
    def finding(self) -> str:
        """The page's lead: one sentence from the gated data, as ``data/analysis/
        case_findings.yaml`` declares it for the case study (the units sentence when that one
        cannot be told from what is visible)."""
        if self.sel.records.empty:
            return self._t("no_data")
        spec = finding_spec(self.case_study)
        view = getattr(self, spec["view"])(**spec.get("view_args", {}))
        if view.data is None or view.data.empty:
            return self._units_clause()
        return _FINDINGS[spec["kind"]](self, view.data, spec) or self._units_clause()

    def _units_clause(self) -> str:
        units = list(dict.fromkeys(self.info[i].unit for i in self.institutions))
        return self._t(
            "cs_units_clause",
            n=len(self.institutions),
            m=len(units),
            units=", ".join(unit_label(u, self.lang) for u in units),
        )

    @staticmethod
    def _visible(d: pd.DataFrame, key: str, values) -> float:
        """Sum of the gated counts of ``values`` in one institution's rows (NaN if any hidden)."""
        n = d.loc[d[key].isin(values), "n"].to_numpy(dtype=float)
        if not n.size:
            return 0.0
        return float(n.sum()) if np.isfinite(n).all() else np.nan

    def _share(self, d: pd.DataFrame, values, exclude) -> float:
        """% of an institution's records in ``values`` among those not in ``exclude`` (nor
        missing), from the gated counts the page shows; NaN when any part is hidden."""
        total = d["total"].iloc[0] if len(d) else np.nan
        part = self._visible(d, "category", values)
        out = self._visible(d, "category", [*exclude, an.MISSING])
        base = total - out
        if not (np.isfinite(part) and np.isfinite(base)) or base <= 0:
            return np.nan
        return part / base * 100

    def _largest(self, field_name: str) -> list[str]:
        """Institutions recording ``field_name``, most records first."""
        sizes = self.sel.records["institution"].value_counts()
        rec = [i for i in self.institutions if self.info[i].records(field_name)]
        return sorted(rec, key=lambda i: -int(sizes.get(i, 0)))

    def _share_spread(self, data: pd.DataFrame, spec: dict) -> str:
        shares = {}
        for inst in self._largest(spec["field"]):
            d = data[data["institution"] == inst]
            v = self._share(d, spec["values"], spec.get("exclude", []))
            if np.isfinite(v):
                shares[inst] = v
        if len(shares) < 2:
            return ""
        lo, hi = min(shares, key=shares.get), max(shares, key=shares.get)
        return self._t(
            spec["text"],
            lo=self._name(lo),
            lo_pct=charts.pct(shares[lo], self.lang),
            hi=self._name(hi),
            hi_pct=charts.pct(shares[hi], self.lang),
            clause=self._records_clause(spec),
        )

    def _first_share(self, data: pd.DataFrame, spec: dict) -> str:
        for inst in self._largest(spec["field"]):
            d = data[data["institution"] == inst]
            v = self._share(d, spec["values"], spec.get("exclude", []))
            if np.isfinite(v):
                return self._t(
                    spec["text"],
                    who=self._name(inst),
                    pct=charts.pct(v, self.lang),
                    clause=self._records_clause(spec),
                )
        return ""

    def _share_around_change(self, data: pd.DataFrame, spec: dict) -> str:
        """The share of ``part`` in the full years before the change and in those after it
        (a year that straddles the change belongs to neither)."""
        change_year = pd.Timestamp(spec["change"]).year
        year = pd.to_datetime(data["period_start"]).dt.year
        full = ~data["partial"].astype(bool)
        periods = {"before": (year < change_year) & full, "after": (year > change_year) & full}
        for inst in self._largest(spec["field"]):
            d = data["institution"] == inst
            parts = {}
            for name, when in periods.items():
                rows = data[d & when]
                n = rows["n"].to_numpy(dtype=float)
                if rows.empty or not np.isfinite(n).all() or n.sum() == 0:
                    break
                part = rows.loc[rows[spec["field"]] == spec["part"], "n"].sum()
                years = sorted(set(year[d & when]))
                span = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
                parts[name] = (part / n.sum() * 100, span)
            if len(parts) == 2:
                return self._t(
                    spec["text"],
                    who=self._name(inst),
                    after=charts.pct(parts["after"][0], self.lang),
                    after_years=parts["after"][1],
                    before=charts.pct(parts["before"][0], self.lang),
                    before_years=parts["before"][1],
                    clause=self._records_clause(spec),
                )
        return ""

    def _records_clause(self, spec: dict) -> str:
        """Which institutions record a field, when the finding asks for it ('' otherwise)."""
        clause = spec.get("records_clause")
        if not clause:
            return ""
        who = [self._name(i) for i in self.institutions if self.info[i].records(clause["field"])]
        return self._t(
            clause["text"],
            k=len(who),
            n=len(self.institutions),
            who=", ".join(who) or self._t("cs_none"),
        )

    # ------------------------------------------------------------------ display
    def show(self, view: View | None) -> None:
        """Display a view: the figure with its gated data, then its note."""
        from ..analysis.display import say, show_figure

        if view is None:
            return
        if view.figure is not None:
            show_figure(
                view.figure,
                alt=view.alt,
                source=view.source,
                counts=view.counts,
                lang=self.lang,
                about=self._about(view.counts),
            )
            if view.published is not None:
                from ..analysis.display import show_table

                show_table(
                    view.published,
                    caption=self._t("cs_caption_published"),
                    source=self._t("banner_published"),
                    name=view.published.name,
                    lang=self.lang,
                    kind="published",
                )
        if view.note:
            say(view.note)

    def _about(self, tables) -> dict:
        """Institution and unit of count of each per-institution gated table (for its CSV)."""
        out = {}
        for g in tables:
            for inst in self.institutions:
                if g.name.endswith("_" + _slug(inst)):
                    out[g.name] = {"institution": inst, "unit": self.info[inst].unit}
        return out

    def show_coverage(self) -> None:
        from ..analysis.display import show_table

        t = self.coverage_table()
        show_table(
            t,
            caption=self._t("cs_caption_coverage"),
            source=self.source_line(),
            name=t.name,
            lang=self.lang,
        )


# ---------------------------------------------------------------------- declared findings
_FINDINGS = {
    "share_spread": CasePage._share_spread,
    "first_share": CasePage._first_share,
    "share_around_change": CasePage._share_around_change,
}
_REQUIRED = {
    "share_spread": ("view", "field", "values", "text"),
    "first_share": ("view", "field", "values", "text"),
    "share_around_change": ("view", "field", "part", "change", "text"),
}


@cache
def _findings_file() -> dict:
    from ..core.paths import data_dir

    with open(data_dir() / "analysis" / "case_findings.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def finding_spec(case_study: str) -> dict:
    """The declared lead finding of a case study, checked (``data/analysis/case_findings.yaml``)."""
    where = f"data/analysis/case_findings.yaml: {case_study}"
    spec = _findings_file().get(case_study)
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: no finding declared for this case study")
    kind = spec.get("kind")
    if kind not in _FINDINGS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {sorted(_FINDINGS)}")
    missing = [k for k in _REQUIRED[kind] if k not in spec]
    if missing:
        raise ValueError(f"{where}: a {kind} finding needs {missing}")
    if not callable(getattr(CasePage, spec["view"], None)) or spec["view"].startswith("_"):
        raise ValueError(f"{where}: view {spec['view']!r} is not a view of the case-study page")
    texts = [spec["text"], *([spec["records_clause"]["text"]] if "records_clause" in spec else [])]
    unknown = [t for t in texts if not has_text(t)]
    if unknown:
        raise ValueError(f"{where}: no text {unknown} in data/i18n/")
    return spec
