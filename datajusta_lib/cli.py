"""The ``datajusta`` command line. Each command is a thin wrapper over one library module."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Data Justa Notebooks: validate institutional exports, generate synthetic data, render the site.",
    no_args_is_help=True,
    add_completion=False,
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
    from .published import validate_figures as check

    if not path.is_file():
        typer.echo(f"{path}: no such file", err=True)
        raise typer.Exit(code=2)
    report = check(path)
    typer.echo(report.to_text(max_failures=50), err=not report.ok)
    raise typer.Exit(code=0 if report.ok else 1)


@app.command()
def render(
    only: str = typer.Option(
        None, help="Re-render only pages whose report id or page name matches this glob."
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

    from .render import render_site
    from .render_plan import ReportsError

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
    raise typer.Exit(code=0 if result.ok else 1)


@app.command("validate")
def validate_export_command(
    path: Path = typer.Argument(..., help="An institution's export: CSV/TSV/TXT or XLSX."),
    institution: str = typer.Option(
        ..., "--institution", "-i", help="Institution id, e.g. FISCALIA."
    ),
    case_study: str = typer.Option(
        None, "--case-study", "-c", help="Case study (needed when the institution has several)."
    ),
    quarantine: Path = typer.Option(
        None, help="Where to write rejected rows (.parquet, or .csv with formulas escaped)."
    ),
    max_failures: int = typer.Option(20, help="How many individual failures to list."),
) -> None:
    """Check one export against its codebook and the canonical contract (see docs/codebooks.md).

    Reports how the file was read (encoding, delimiter, header row, sheet), rows read, accepted
    and rejected by rule, the first failures with file, row, column and value, and where the
    quarantine went. Exits 0 when every row is accepted, 1 when any row is rejected (or the
    file has no rows), 2 when the file cannot be read or the institution/case study is unknown.
    """
    from .codebooks import CodebookError
    from .loading import validate_export
    from .readers import ReadError

    try:
        result, written = validate_export(path, institution, case_study, quarantine)
    except (ReadError, CodebookError, LookupError, ValueError) as exc:
        typer.echo(f"validate: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(result.to_text(max_failures=max_failures))
    if written is not None:
        typer.echo(f"quarantine: {result.n_rejected} rejected rows written to {written}")
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
) -> None:
    """Generate the synthetic institutional exports, their metadata and truth (docs/synthetic.md).

    Exits 2 on a bad option, a codebook the model does not know or a folder it may not replace.
    """
    from rich.console import Console

    from .codebooks import CodebookError
    from .synthetic import generate

    console = Console(highlight=False, stderr=True)
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


if __name__ == "__main__":
    app()


@app.command("mse")
def mse_command(
    table: Path = typer.Argument(
        ..., help="Capture-history CSV: one 0/1 column per list and a count column."
    ),
    count: str = typer.Option("count", help="Name of the count column."),
    selection: str = typer.Option("stepwise", help="stepwise | aic | bic | main"),
    pthresh: float = typer.Option(0.02, help="p-value threshold of the stepwise selection."),
    n_boot: int = typer.Option(1000, help="Bootstrap replicates (0: model-conditional interval)."),
    seed: int = typer.Option(1, help="Seed of the bootstrap random numbers."),
    lang: str = typer.Option("en", help="es | en"),
) -> None:
    """Multiple systems estimate of how many are on none of the lists (docs/mse.md).

    Exit 0 with an estimate, 1 for a table that cannot be read as capture histories (the
    message names row, column and rule), 2 for a missing file, 3 when the data do not
    support an estimate (the reason is printed).
    """
    import pandas as pd

    from . import mse, mse_report

    if not table.is_file():
        typer.echo(f"{table}: no such file", err=True)
        raise typer.Exit(code=2)
    try:
        res = mse.estimate(
            pd.read_csv(table),
            count=count,
            selection=selection,
            pthresh=pthresh,
            n_boot=n_boot,
            seed=seed,
        )
    except mse.MSEInputError as exc:
        typer.echo(f"{table}: {exc}", err=True)
        raise typer.Exit(code=1) from None
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
    from . import disclosure as dc
    from . import scanner

    if not path.exists():
        typer.echo(f"{path}: no such file or folder", err=True)
        raise typer.Exit(code=2)
    index = scanner.default_name_index() if names else scanner.NameIndex.build([])
    problems = scanner.problems(scanner.scan_path(path, names=index))
    if disclosure and path.is_dir():
        problems += dc.site_check(path)
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
    from . import readers
    from .linkage import encode as enc
    from .loading import resolve_case_study
    from .paths import synthetic_dir
    from .pseudonymise import MissingKeyError

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
    typer.echo(f"encode: {len(df):,} rows of {path.name} ({df['identifiers_held'].iloc[0] if len(df) else 'none'}) -> {out}")


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
        typer.echo(f"{bad[0]}: not an encoded file (no id_hash column; run `datajusta encode`)", err=True)
        raise typer.Exit(code=2)
    result = lk.link(pd.concat(frames, ignore_index=True), engine=engine, threshold=threshold)
    written = lk.write_result(result, out)
    typer.echo(
        f"link: {len(result.clusters):,} records, {result.clusters['cluster_id'].nunique():,} "
        f"persons, {len(result.pairs):,} scored pairs in {result.seconds:.1f} s -> {out} "
        f"({', '.join(p.name for p in written)})"
    )
