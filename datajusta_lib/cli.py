"""The ``datajusta`` command line. Each command is a thin wrapper over one library module."""

from __future__ import annotations

import types
from pathlib import Path

import typer
from typer.core import TyperCommand

app = typer.Typer(
    help="Data Justa Notebooks: validate institutional exports, generate synthetic data, render the site.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # help paragraphs are re-flowed as sentences, not cut mid-line
)


@app.command()
def version() -> None:
    """Print the library version."""
    from . import __version__

    typer.echo(__version__)


@app.command("validate-figures")
def validate_figures(
    path: Path = typer.Argument(
        ..., help="A published-figures CSV (same columns as data/published/figures.csv)."
    ),
) -> None:
    """Check a published-figures file against its contract; exit 1 naming every bad row and rule."""
    from .ingest.published import validate_figures as check

    if not path.is_file():
        typer.echo(f"{path}: no such file", err=True)
        raise typer.Exit(code=2)
    report = check(path)
    typer.echo(report.to_text(max_failures=50), err=not report.ok)
    raise typer.Exit(code=0 if report.ok else 1)


@app.command()
def render(
    only: str = typer.Option(
        None,
        help="Re-render only pages whose report id or page name matches this glob (those whose inputs changed; with --force, all of them).",
    ),
    jobs: int = typer.Option(0, help="Parallel notebook executions (0 = number of CPUs)."),
    lang: str = typer.Option(None, help="Re-render only this language (es or en)."),
    source: str = typer.Option("synthetic", help="Records to use: synthetic or private."),
    force: bool = typer.Option(False, help="Re-render the chosen pages even if nothing changed."),
    reports: Path = typer.Option(
        None, help="Report list (default: reports.yaml at the project root)."
    ),
    out: Path = typer.Option(None, help="Site directory (default: outputs/site)."),
    warm_kernels: bool = typer.Option(
        True, help="Fork kernels from a pre-loaded process (faster)."
    ),
) -> None:
    """Execute the notebooks in reports.yaml and build the static site (see docs/rendering.md).

    Unchanged pages are reused; the new site replaces the old one only if it is complete and
    passes its checks. Exits 1 listing each failed page (cell and error), 2 on a bad report list.
    """
    from rich.console import Console

    from .site.plan import ReportsError
    from .site.render import render_site

    try:
        result = render_site(
            only=only,
            jobs=jobs or None,
            lang=lang,
            source=source,
            force=force,
            reports_file=reports,
            site_dir=out,
            warm_kernels=warm_kernels,
            console=Console(highlight=False),
        )
    except (ReportsError, ValueError, RuntimeError) as exc:
        typer.echo(f"render: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except OSError as exc:  # a file the render must write cannot be: one line, no traceback
        typer.echo(f"render: cannot write {exc.filename or ''}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=2) from None
    raise typer.Exit(code=0 if result.ok else 1)


class _PairsCommand(TyperCommand):
    """A command whose ``--param/-p`` takes two values (NAME VALUE), repeatable, which typer
    cannot declare."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for p in self.params:
            if p.name == "param":
                p.nargs = 2  # typer's conversion would turn each pair into one string:
                p.process_value = types.MethodType(_pairs, p)


def _pairs(_param, _ctx, value) -> list[tuple[str, str]]:
    return [(str(name), str(v)) for name, v in value or ()]


@app.command("report", cls=_PairsCommand)
def report_command(
    report: str = typer.Argument(
        ..., help="A report id from reports.yaml (e.g. trafficking) or a notebook path."
    ),
    param: list[str] = typer.Option(
        None,
        "--param",
        "-p",
        metavar="NAME VALUE",
        help="Set a parameter (repeatable). The value all renders one page per allowed value.",
    ),
    sweep: list[str] = typer.Option(
        None, help="Render one page per allowed value of this parameter (same as -p NAME all)."
    ),
    lang: str = typer.Option("both", help="Language of the page: es, en or both."),
    source: str = typer.Option("synthetic", help="Records to use: synthetic or private."),
    out: Path = typer.Option(
        None, help="Folder for the page(s) and their index (default: outputs/reports/...)."
    ),
    jobs: int = typer.Option(0, help="Parallel notebook executions (0 = number of CPUs)."),
    force: bool = typer.Option(False, help="Render again even if nothing changed."),
    reports: Path = typer.Option(
        None, help="Report list (default: reports.yaml at the project root)."
    ),
    help_params: bool = typer.Option(
        False, "--help-params", help="List the report's parameters and allowed values, then exit."
    ),
    dry_run: bool = typer.Option(
        False, help="Check the parameters and list the pages, without rendering them."
    ),
) -> None:
    """Render one report with the parameters you choose, outside the public site.

    The page (one per language, or one per value of a sweep) goes through the same execution,
    disclosure gate, identifier scan and self-containment checks as the site, into a folder
    with its own index that can be shared as it is. Parameters are checked before anything
    runs. Exits 0 when every page rendered, 1 when a page or a check failed, 2 for an unknown
    report or a bad parameter (the message lists what is allowed).
    """
    from rich.console import Console

    from .site import report as rr
    from .site.params import ParameterError, describe, read_specs
    from .site.plan import ReportsError

    pairs = [tuple(p) for p in param or []]
    try:
        if help_params:
            base = rr.resolve(report, reports)
            typer.echo(f"Parameters of {base.id} ({base.notebook_relpath}):")
            typer.echo(describe(read_specs(base.notebook)))
            return
        plan = rr.plan(
            report, pairs, sweep=sweep, lang=lang, source=source, out=out, reports_file=reports
        )
        typer.echo(rr.describe_plan(plan))
        if dry_run:
            return
        result = rr.render(plan, jobs=jobs or None, force=force, console=Console(highlight=False))
    except (ParameterError, ReportsError) as exc:
        typer.echo(f"report: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except (ValueError, RuntimeError) as exc:
        typer.echo(f"report: {exc}", err=True)
        raise typer.Exit(code=2) from None
    for line in rr.where(plan, result):
        typer.echo(line)
    raise typer.Exit(code=0 if result.ok else 1)


@app.command("validate")
def validate_export_command(
    path: Path = typer.Argument(..., help="An institution's export: CSV/TSV/TXT or XLSX."),
    institution: str = typer.Option(
        None, "--institution", "-i", help="Institution id, e.g. FISCALIA (or give --codebook)."
    ),
    case_study: str = typer.Option(
        None, "--case-study", "-c", help="Case study (needed when the institution has several)."
    ),
    quarantine: Path = typer.Option(
        None, help="Where to write rejected rows (.parquet, or .csv with formulas escaped)."
    ),
    max_failures: int = typer.Option(20, help="How many individual failures to list."),
    codebook: Path = typer.Option(
        None,
        "--codebook",
        help="A codebook YAML outside the repository (e.g. from `datajusta codebook init`).",
    ),
) -> None:
    """Check one export against its codebook and the canonical contract (see docs/codebooks.md).

    Reports how the file was read (encoding, delimiter, header row, sheet), rows read, accepted
    and rejected by rule, the first failures with file, row, column and value, and where the
    quarantine went. Exits 0 when every row is accepted, 1 when any row is rejected (or the
    file has no rows), 2 when the file cannot be read or the institution/case study is unknown.
    """
    from .ingest.codebooks import CodebookError
    from .ingest.loading import validate_export
    from .ingest.readers import ReadError

    try:
        result, written = validate_export(path, institution, case_study, quarantine, codebook)
    except (ReadError, CodebookError, LookupError, ValueError) as exc:
        typer.echo(f"validate: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(result.to_text(max_failures=max_failures))
    if written is not None:
        where = "" if quarantine else " (the default place; --quarantine PATH writes elsewhere)"
        typer.echo(
            f"quarantine: {result.n_rejected} rejected rows written to {written}{where}, "
            "readable by you only, identifiers masked"
        )
    raise typer.Exit(code=1 if result.n_rejected or result.n_read == 0 else 0)


@app.command()
def synth(
    seed: int = typer.Option(
        None, help="Random seed (default: synthetic_model.yaml default_seed)."
    ),
    scale: float = typer.Option(1.0, help="Multiplies every true total and calibration target."),
    out: Path = typer.Option(None, help="Output folder (default: data/synthetic)."),
    case_study: list[str] = typer.Option(
        None, "--case-study", "-c", help="Only this case study (repeatable)."
    ),
    if_missing: bool = typer.Option(
        False, help="Do nothing when the folder already holds this version."
    ),
    force: bool = typer.Option(
        False, help="Replace the default world in data/synthetic even if it differs."
    ),
) -> None:
    """Generate the synthetic institutional exports, their metadata and truth (docs/synthetic.md).

    Without --out the world goes to data/synthetic, which the site is rendered from: a different
    world already there is replaced only with --force (or write elsewhere with --out). Exits 2
    on a bad option, a codebook the model does not know or a folder it may not replace.
    """
    from rich.console import Console

    from .ingest.codebooks import CodebookError
    from .synthetic.generator import generate

    console = Console(highlight=False, stderr=True)
    if out is None and not force:
        refusal = _default_world_refusal(seed, scale, case_study or None)
        if refusal:
            typer.echo(f"synth: {refusal}", err=True)
            raise typer.Exit(code=2)
    try:
        with console.status("synthetic data") as status:
            result = generate(
                seed=seed,
                scale=scale,
                out=out,
                case_studies=case_study or None,
                if_missing=if_missing,
                progress=lambda m: status.update(m),
            )
    except (CodebookError, FileExistsError, ValueError, KeyError) as exc:
        typer.echo(f"synth: {exc}", err=True)
        raise typer.Exit(code=2) from None
    m = result.metadata
    if result.skipped:
        typer.echo(
            f"synth: {result.out} is current (seed {m['seed']}, scale {m['scale']}); nothing to do"
        )
        return
    typer.echo(
        f"synth: {result.n_records:,} synthetic records (seed {m['seed']}, scale {m['scale']}) "
        f"written to {result.out} in {result.seconds:.1f} s"
    )
    for cs, info in m["case_studies"].items():
        rows = ", ".join(f"{i} {v['rows']:,}" for i, v in info["institutions"].items())
        typer.echo(f"  {cs}: {rows}")


def _default_world_refusal(seed, scale, case_studies) -> str | None:
    """Why ``synth`` without --out and --force may not replace data/synthetic (None: it may):
    it may regenerate the world it holds (same seed, scale and case studies), not another."""
    import json

    from .core import canon
    from .core.paths import synthetic_dir
    from .synthetic import fingerprint, load_model, model_file
    from .synthetic.generator import is_current

    out = synthetic_dir()
    meta = out / "metadata.json"
    if not meta.is_file():
        return None
    studies = list(case_studies or canon.case_studies())
    seed = int(load_model()["default_seed"] if seed is None else seed)
    if is_current(out, fingerprint(seed, float(scale), studies, model_file(), None)):
        return None
    try:
        held = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        held = {}
    same = (held.get("seed"), held.get("scale"), sorted(held.get("case_studies") or {})) == (
        seed,
        float(scale),
        sorted(studies),
    )
    if same:
        return None  # the same world, regenerated by newer code or codebooks
    held = f"seed {held.get('seed')}, scale {held.get('scale')}" if held else "another world"
    return (
        f"{out} holds the synthetic world the site is rendered from ({held}); it is not "
        f"replaced without --force. Write this one elsewhere with --out DIR (then "
        f"DATAJUSTA_SYNTHETIC_DIR=DIR to use it), or add --force to replace it."
    )


codebook_app = typer.Typer(help="Draft and check codebooks (docs/codebooks.md).")
app.add_typer(codebook_app, name="codebook")


@codebook_app.command("init")
def codebook_init(
    path: Path = typer.Argument(
        ..., help="An export nobody has described yet: CSV/TSV/TXT or XLSX."
    ),
    institution: str = typer.Option(
        ..., "--institution", "-i", help="Institution id, e.g. SENAME."
    ),
    case_study: str = typer.Option(..., "--case-study", "-c", help="Case study of the export."),
    out: Path = typer.Option(None, help="Write the draft here (default: standard output)."),
    force: bool = typer.Option(False, help="Replace --out if it exists."),
) -> None:
    """Draft a codebook from a file's header and values: format, encoding, delimiter, header
    row and date format detected; canonical fields and labels guessed where they can be, a
    REVIEW comment where not. Check the file with it: datajusta validate FILE --codebook DRAFT.

    Exit 0 with the draft, 2 when the file cannot be read or an option is wrong.
    """
    from .ingest.codebook_draft import draft
    from .ingest.readers import ReadError

    try:
        text = draft(path, institution.upper(), case_study).to_yaml()
    except (ReadError, ValueError, LookupError) as exc:
        typer.echo(f"codebook init: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists() and not force:
        typer.echo(f"codebook init: {out} exists (use --force to replace it)", err=True)
        raise typer.Exit(code=2)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"codebook init: draft written to {out}; review the lines marked REVIEW", err=True)


if __name__ == "__main__":
    app()


@app.command("mse")
def mse_command(
    table: Path = typer.Argument(
        ..., help="Capture-history CSV: one 0/1 column per list and a count column."
    ),
    count: str = typer.Option(
        None, help="Name of the count column (default: count, Freq, frequency or n)."
    ),
    selection: str = typer.Option("stepwise", help="stepwise | aic | bic | main"),
    pthresh: float = typer.Option(0.02, help="p-value threshold of the stepwise selection."),
    n_boot: int = typer.Option(1000, help="Bootstrap replicates (0: model-conditional interval)."),
    seed: int = typer.Option(1, help="Seed of the bootstrap random numbers."),
    lang: str = typer.Option("en", help="es | en"),
    method: str = typer.Option("loglinear", help="loglinear | lcmcr (Bayesian latent classes)"),
    chains: int = typer.Option(4, help="lcmcr: number of chains."),
    samples: int = typer.Option(5000, help="lcmcr: kept draws per chain."),
    thinning: int = typer.Option(40, help="lcmcr: keep every n-th sweep."),
    burnin: int = typer.Option(20000, help="lcmcr: sweeps discarded per chain."),
) -> None:
    """Multiple systems estimate of how many are on none of the lists (docs/mse.md).

    Exit 0 with an estimate, 1 for a table that cannot be read as capture histories (the
    message names row, column and rule), 2 for a missing file, 3 when the data do not
    support an estimate (the reason is printed).
    """
    from .mse import estimator as mse
    from .mse.table_input import error_text, read_capture_table
    from .pages import unrecorded_victims as mse_report

    if not table.is_file():
        typer.echo(f"{table}: no such file", err=True)
        raise typer.Exit(code=2)
    if lang not in ("es", "en"):
        typer.echo(f"--lang must be es or en, got {lang!r}", err=True)
        raise typer.Exit(code=2)
    if method not in ("loglinear", "lcmcr"):
        typer.echo(f"--method must be loglinear or lcmcr, got {method!r}", err=True)
        raise typer.Exit(code=2)
    if method == "lcmcr":
        options = dict(method="lcmcr", chains=chains, samples=samples, thinning=thinning)
        options["burnin"] = burnin
    else:
        options = dict(selection=selection, pthresh=pthresh, n_boot=n_boot)
    try:
        df, count = read_capture_table(table, count)
        res = mse.estimate(df, count=count, seed=seed, **options)
    except mse.MSEInputError as exc:
        text = error_text(exc, lang)
        typer.echo(text if text.startswith(str(table)) else f"{table}: {text}", err=True)
        raise typer.Exit(code=1) from None
    if method == "lcmcr":  # exit 3 when the chains do not converge (no figure is printed)
        from .mse import lcmcr as mse_lcmcr

        typer.echo(mse_lcmcr.describe(res, lang))
        raise typer.Exit(code=0 if res.ok else 3)
    typer.echo(mse_report.describe(res, lang))
    notes = mse_report.notes_text(res, lang)
    if notes:
        typer.echo(notes)
    raise typer.Exit(code=0 if res.ok else 3)


@app.command("scan")
def scan_command(
    path: Path = typer.Argument(..., help="A rendered site (or any folder or file) to check."),
    names: bool = typer.Option(True, help="Also look for names of the synthetic population."),
    disclosure: bool = typer.Option(
        True, help="Also run the site-level disclosure check on a folder."
    ),
) -> None:
    """Look for direct identifiers (RUN, e-mail, phone, birth dates, passports, synthetic
    names) and tables that did not pass the disclosure gate (docs/disclosure.md).

    Prints one line per problem (file, line, kind, match). Exit 0 when clean, 1 when anything
    was found, 2 for a missing path.
    """
    from .gate import disclosure as dc
    from .gate import scanner

    if not path.exists():
        typer.echo(f"{path}: no such file or folder", err=True)
        raise typer.Exit(code=2)
    index = scanner.default_name_index() if names else scanner.NameIndex.build([])
    problems = scanner.problems(scanner.scan_path(path, names=index))
    if disclosure and path.is_dir():
        from .gate import linked

        problems += dc.site_check(path) + linked.site_check(path)  # + tables of a page jointly
    for p in problems:
        typer.echo(p)
    typer.echo(f"{len(problems)} problem(s) in {path}", err=True)
    raise typer.Exit(code=1 if problems else 0)


@app.command("encode")
def encode_command(
    path: Path = typer.Argument(..., help="An institution's raw export (as it delivers it)."),
    institution: str = typer.Option(..., help="Institution code (its codebook), e.g. FISCALIA."),
    case_study: str = typer.Option(None, "--case-study", "-c", help="Case study of the codebook."),
    out: Path = typer.Option(..., help="Encoded Parquet file to write."),
    seed: int = typer.Option(None, help="Seed of the randomised-response noise (tests only)."),
) -> None:
    """Encode an export for privacy-preserving linkage (docs/privacy.md): keyed hashes and
    Bloom filters, no direct identifier. Needs the participants' shared key in
    $DATAJUSTA_LINKAGE_KEY (or a file in $DATAJUSTA_LINKAGE_KEY_FILE) unless the export is
    synthetic."""
    from .core.paths import synthetic_dir
    from .ingest import readers
    from .ingest.loading import resolve_case_study
    from .ingest.pseudonymise import MissingKeyError
    from .linkage import encode as enc

    if not path.is_file():
        typer.echo(f"{path}: no such file", err=True)
        raise typer.Exit(code=2)
    synthetic = path.resolve().is_relative_to(synthetic_dir().resolve())
    try:
        cs = resolve_case_study(institution.upper(), case_study, path)
        key = enc.resolve_linkage_key("synthetic" if synthetic else "private")
        df = enc.encode_export(path, institution.upper(), cs, key=key, seed=seed)
    except (MissingKeyError, LookupError, ValueError, readers.ReadError) as e:
        typer.echo(f"{path}: {e}", err=True)
        raise typer.Exit(code=2) from None
    enc.write_encoded(df, out, synthetic=synthetic)
    typer.echo(
        f"encode: {len(df):,} rows of {path.name} ({df['identifiers_held'].iloc[0] if len(df) else 'none'}) -> {out}"
    )


@app.command("link")
def link_command(
    encoded: list[Path] = typer.Argument(..., help="Encoded Parquet files (one per export)."),
    out: Path = typer.Option(..., help="Folder for clusters, pairs, clerical sample, overlaps."),
    engine: str = typer.Option("duckdb", help="duckdb (default) or spark."),
    threshold: float = typer.Option(None, help="Match probability for a link (default: settings)."),
) -> None:
    """Link encoded lists with splink (data/linkage/settings.yaml) and write a cluster id per
    record, match weights, a clerical-review sample, the overlaps between institutions and
    capture histories for `datajusta mse`."""
    import pandas as pd

    from .linkage import link as lk

    missing = [p for p in encoded if not p.is_file()]
    if missing:
        typer.echo(f"{missing[0]}: no such file", err=True)
        raise typer.Exit(code=2)
    if engine not in ("duckdb", "spark"):
        typer.echo(f"--engine must be duckdb or spark, not {engine!r}", err=True)
        raise typer.Exit(code=2)
    frames = [pd.read_parquet(p) for p in encoded]
    bad = [str(p) for p, f in zip(encoded, frames, strict=True) if "id_hash" not in f.columns]
    if bad:
        typer.echo(
            f"{bad[0]}: not an encoded file (no id_hash column; run `datajusta encode`)", err=True
        )
        raise typer.Exit(code=2)
    result = lk.link(pd.concat(frames, ignore_index=True), engine=engine, threshold=threshold)
    written = lk.write_result(result, out)
    typer.echo(
        f"link: {len(result.clusters):,} records, {result.clusters['cluster_id'].nunique():,} "
        f"persons, {len(result.pairs):,} scored pairs in {result.seconds:.1f} s -> {out} "
        f"({', '.join(p.name for p in written)})"
    )
