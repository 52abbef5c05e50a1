"""Render the report list into the public static site: ``datajusta render``.

One call, ``render_site``, does the whole job:

1. **Plan** (``plan``): read ``reports.yaml``; every (report, parameter set, language) is
   a page. ``only``/``lang`` narrow what is re-rendered; the site always covers the whole list.
2. **Skip what has not changed** (``cache``): a page whose cache key (notebook, parameters,
   report entry, library, environment and data, all content-hashed) is in ``outputs/cache`` is
   reused as it is. If every page is reused and the site already holds exactly these pages, the
   run stops there: the site is up to date.
3. **Execute and convert** (``execute``) the remaining pages in parallel worker processes
   (default: one per CPU), with papermill, in fresh kernels forked from a pre-loaded zygote
   (``kernels``), converting to HTML in-process. A failing page does not stop the others.
4. **Assemble and check** (``output``) a complete new site in a temporary directory:
   pages, downloadable CSVs of their gated tables, the index in each language, ``manifest.json``.
   Then every check in ``SITE_CHECKS`` runs on the whole temporary site; any problem fails the
   render.
5. **Swap** the new site in atomically, only if the checks passed. A failed page keeps its
   previous version in the new site (when there was one), is listed in the manifest as failed
   with the reason, and makes the run exit non-zero.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..core.paths import SITE_ENV, outputs_dir, project_root
from .cache import FileHasher, PageCache, fingerprints, page_inputs, page_key, why_stale
from .plan import Page, load_reports, plan_pages

# Checks run on the complete temporary site before it replaces the published one. Each entry is
# "module:function" (imported when the check runs) or a callable; it receives the temporary site
# directory and returns a list of problems (strings). Any problem fails the render: the previous
# site stays in place and the problems are printed. The data justice guard (issue 6) adds its
# identifier scan and disclosure check here.
SITE_CHECKS: list[str | Callable[[Path], list[str]]] = [
    "datajusta_lib.site.output:check_self_contained",
    "datajusta_lib.gate.disclosure:site_check",
    "datajusta_lib.gate.scanner:site_check",
    "datajusta_lib.gate.linked:site_check",  # tables of one page protected jointly
    "datajusta_lib.open_data.site_check:check_labels",  # real labelled real, synthetic synthetic
]
CELL_TIMEOUT = 1800  # seconds one cell may run before its page fails
KERNEL = "datajusta"


@dataclass
class RenderResult:
    """What a render did. ``ok`` is False if any page failed or a site check found problems."""

    site_dir: Path
    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # previous versions of pages not re-rendered
    failed: dict[str, dict] = field(default_factory=dict)  # page -> failure (cell, error...)
    check_problems: list[str] = field(default_factory=list)
    up_to_date: bool = False
    seconds: float = 0.0
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.check_problems


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def kernel_argv(name: str = KERNEL) -> list[str]:
    """The kernel spec's command line (found without importing jupyter_client)."""
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("kernels"):
        spec = Path(base, name, "kernel.json")
        if spec.is_file():
            return json.loads(spec.read_text(encoding="utf-8"))["argv"]
    raise RuntimeError(
        f"no Jupyter kernel named {name!r}; run `make setup` (it registers the kernel) or "
        f"`python -m ipykernel install --sys-prefix --name {name}`"
    )


def git_commit() -> str:
    import subprocess

    try:
        run = dict(cwd=project_root(), capture_output=True, text=True, check=True)
        head = subprocess.run(["git", "rev-parse", "HEAD"], **run).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], **run
        ).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def render_site(
    *,
    only: str | None = None,
    jobs: int | None = None,
    lang: str | None = None,
    source: str = "synthetic",
    force: bool = False,
    reports_file: Path | str | None = None,
    site_dir: Path | str | None = None,
    site_checks: list | None = None,
    warm_kernels: bool = True,
    cell_timeout: float | None = CELL_TIMEOUT,
    console=None,
    prune_cache: bool = True,
) -> RenderResult:
    """Render the report list into ``site_dir`` (default ``outputs/site``); see the module doc.

    ``only`` is a glob on report ids or page names and ``lang`` a language: together they choose
    the pages to re-render (the others are reused from the cache or kept from the previous site).
    ``force`` re-renders the chosen pages even if unchanged. ``site_checks`` replaces
    ``SITE_CHECKS``. ``warm_kernels=False`` starts every kernel from scratch (slower; for
    comparison). ``console`` is a rich Console for progress and the summary (None: silent).
    ``reports_file`` may also be a list of ``Report`` (ad-hoc reports, ``report``), which
    render with ``prune_cache=False`` so as not to prune the site's cache entries.
    """
    from .output import read_manifest, recover, render_lock

    t0 = time.perf_counter()
    clock = _Clock()
    started = _now()
    outputs = outputs_dir()
    site_dir = Path(site_dir or outputs / "site").absolute()
    checks = list(SITE_CHECKS if site_checks is None else site_checks)
    out = _Printer(console)

    reports = reports_file if isinstance(reports_file, list) else load_reports(reports_file)
    plan = plan_pages(reports, source=source)
    chosen = {p.relpath for p in plan_pages(reports, only=only, lang=lang, source=source)}
    if (only or lang) and not chosen:
        raise ValueError(f"no page matches only={only!r} lang={lang!r}")

    with render_lock(outputs) as lock_notes:
        from .guard import ensure_writable

        ensure_writable(outputs / "cache", site_dir.parent)
        for note in [*lock_notes, *recover(site_dir)]:
            out.note(note)
        fp, nb_sha = _fingerprint_inputs(outputs, reports, source)
        site_readers = {p.relpath for p in plan if "site" in p.report.data}
        inputs, keys = _page_keys(plan, nb_sha, fp, site_readers)
        cache = PageCache(outputs / "cache" / "pages")
        metas = {rel: cache.get(key, fp) for rel, key in keys.items()}
        todo = [p for p in plan if p.relpath in chosen and (force or metas[p.relpath] is None)]
        previous = read_manifest(site_dir)
        site_key = _site_key(keys, fp, checks, source)
        result = RenderResult(site_dir=site_dir)
        clock.mark("plan and hashes")

        if not todo and _up_to_date(previous, site_key, site_dir):
            return _site_unchanged(result, previous, keys, t0, out)

        commit = git_commit()
        clock.mark("git commit")
        n_jobs = jobs or default_jobs()
        done: dict[str, dict] = {}
        if todo:
            out.line(
                f"Rendering {len(todo)} of {len(plan)} pages with {min(n_jobs, len(todo))} workers…"
            )
            tasks = _tasks(todo, inputs, keys, nb_sha, fp, commit, cache, previous, force)
            for t in tasks:
                t.warm, t.cell_timeout = warm_kernels, cell_timeout
            out.total = len(tasks)
            run = dict(
                jobs=n_jobs, warm=warm_kernels, workdir=outputs / "cache", out=out, clock=clock
            )
            done = _execute_site_readers_last(
                tasks, plan, site_readers, keys, metas, previous, cache, site_dir, run
            )
        records = _records(plan, keys, metas, done, previous, cache)
        manifest = _manifest(
            records,
            commit=commit,
            source=source,
            fp=fp,
            started=started,
            options=dict(only=only, lang=lang, force=force, jobs=n_jobs, warm_kernels=warm_kernels),
            site_key=site_key,
            checks=checks,
            clock=clock,
        )
        problems = _publish(site_dir, plan, records, manifest, cache, checks, previous, clock)
        _fill_result(result, records, problems, manifest)
        if prune_cache:
            cache.prune(keep=set(keys.values()))
    result.seconds = time.perf_counter() - t0
    out.summary(result)
    return result


# ----------------------------------------------------------------------------- steps
def _fingerprint_inputs(outputs: Path, reports, source: str):
    """The content fingerprints every page key includes, and each report's notebook hash
    (file hashes are remembered in ``outputs/cache/hashes.json``)."""
    hasher = FileHasher(outputs / "cache" / "hashes.json")
    fp = fingerprints(hasher, source, kernel_argv())
    nb_sha = {r.id: hasher.file(r.notebook) for r in reports}
    hasher.save()
    return fp, nb_sha


def _page_keys(plan: list[Page], nb_sha: dict, fp, site_readers: set[str]):
    """Each page's cache inputs and key: ``(inputs, keys)`` by page path."""
    inputs = {p.relpath: page_inputs(p, nb_sha[p.report.id], fp) for p in plan}
    keys = {rel: page_key(i) for rel, i in inputs.items()}
    # Pages that read the site (the audit) depend on every other page: their key includes
    # the others' keys, so they are re-rendered whenever any other page changes.
    others = hashlib.sha256(
        json.dumps(
            {r: k for r, k in keys.items() if r not in site_readers}, sort_keys=True
        ).encode()
    ).hexdigest()
    for rel in site_readers:
        inputs[rel]["site pages"] = others
        keys[rel] = page_key(inputs[rel])
    return inputs, keys


def _site_unchanged(result: RenderResult, previous: dict, keys: dict, t0: float, out):
    """Nothing to render and the site holds exactly these pages: say so and stop."""
    from .guard import make_public

    site_dir = result.site_dir
    if site_dir.stat().st_mode & 0o755 != 0o755:  # published 0700 by an older version
        make_public(site_dir)
    result.up_to_date = True
    result.reused = sorted(keys)
    result.manifest = previous
    result.seconds = time.perf_counter() - t0
    out.line(
        f"Site is up to date: {len(keys)} pages unchanged ({site_dir}) [{result.seconds:.2f} s]"
    )
    return result


def _execute_site_readers_last(
    tasks, plan, site_readers, keys, metas, previous, cache, site_dir: Path, run: dict
) -> dict[str, dict]:
    """Execute the tasks: first the ordinary pages, then the pages that read the site (the
    audit), against a preview of the new site assembled from the others. ``run``: the
    keyword arguments of ``_execute``."""
    from .output import write_json

    first = [t for t in tasks if t.page.relpath not in site_readers]
    then = [t for t in tasks if t.page.relpath in site_readers]
    done: dict[str, dict] = {}
    if first:
        done = _execute(first, **run)
    if then:
        # The site readers read the new site: the other pages, assembled in a preview.
        others = [p for p in plan if p.relpath not in site_readers]
        preview = _records(others, keys, metas, done, previous, cache)
        with tempfile.TemporaryDirectory(dir=run["workdir"]) as tmp:
            _copy_pages(Path(tmp), preview, others, site_dir, cache)
            write_json(Path(tmp) / "manifest.json", {"render_finished": _now(), "pages": preview})
            for t in then:
                t.env = {SITE_ENV: tmp}
            done |= _execute(then, **run)
    return done


def _manifest(records, *, commit, source, fp, started, options, site_key, checks, clock) -> dict:
    """The site's ``manifest.json`` (``_publish`` adds ``render_finished``); ``timings`` is
    the clock's own dict, so the phases still to come are recorded in it."""
    return {
        "generator": f"datajusta {__version__}",
        "library_version": __version__,
        "commit": commit,
        "source": source,
        "library_fingerprint": fp.library,
        "environment_fingerprint": fp.environment,
        "data_hashes": fp.data,
        "render_started": started,
        "options": options,
        "site_key": site_key,
        "checks": [_check_name(c) for c in checks],
        "timings": clock.times,
        "pages": records,
    }


def _site_key(keys: dict, fp, checks: list, source: str) -> str:
    recipe = {
        "pages": keys,
        "library": fp.library,
        "modules": fp.modules,  # the index and the checks are library code too
        "source": source,
        "checks": [_check_name(c) for c in checks],
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def _up_to_date(previous: dict, site_key: str, site_dir: Path) -> bool:
    if previous.get("site_key") != site_key:
        return False
    if not all(
        (site_dir / f).is_file() for f in ("index.html", "en/index.html", "assets/site.css")
    ):
        return False
    for rec in previous.get("pages", []):
        if (
            rec.get("status") not in ("rendered", "reused")
            or not (site_dir / rec["page"]).is_file()
        ):
            return False
    return True


def _tasks(todo, inputs, keys, nb_sha, fp, commit, cache, previous, force):
    from .execute import PageTask

    before = {r["page"]: r for r in previous.get("pages", [])}
    last = {rel: r.get("seconds") or 0 for rel, r in before.items()}
    mean = sum(last.values()) / len(last) if last else 0
    tasks = [
        PageTask(
            page=p,
            key=keys[p.relpath],
            inputs=inputs[p.relpath],
            reason="forced"
            if force
            else cache.invalid.get(keys[p.relpath])
            or why_stale(before.get(p.relpath), inputs[p.relpath], fp),
            notebook_sha=nb_sha[p.report.id],
            cache_root=cache.root,
            context={"commit": commit, "data_hashes": fp.for_page(p)},
            modules=fp.modules,
        )
        for p in todo
    ]
    # Longest first: the last page to finish decides the wall time.
    return sorted(tasks, key=lambda t: -last.get(t.page.relpath, mean))


def _execute(tasks, *, jobs: int, warm: bool, workdir: Path, out, clock) -> dict[str, dict]:
    """Run the tasks in ``jobs`` forked worker processes; never raises for a page's failure."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from .execute import exporter, failure_info
    from .kernels import Zygote, kernel_launch_split

    can_fork = sys.platform == "linux" and "fork" in mp.get_all_start_methods()
    zygote = None
    split = kernel_launch_split(kernel_argv())
    if warm and can_fork and split:
        zygote = Zygote(split[0], split[1], workdir)  # preloads on its own while we import below
    try:
        # jsonschema (imported by nbformat) compiles rfc3987_syntax's grammars at import (~2 s)
        # to check the "iri" formats, which no notebook schema uses (python-jsonschema/
        # jsonschema#1428); without it those two formats are simply not checked.
        sys.modules.setdefault("rfc3987_syntax", None)
        import papermill  # noqa: F401 - imported once here, inherited by the forked workers

        from ..analysis import display  # noqa: F401 - the table stamps' constants; imports pandas

        for lang in sorted({t.page.lang for t in tasks}):
            exporter(lang)
        clock.mark("import papermill, build exporters")
        if zygote is not None:
            try:
                zygote.wait_ready()
            except RuntimeError as exc:
                out.note(f"{exc}; starting kernels the ordinary way")
                zygote.close()
                zygote = None
        clock.mark("wait for the kernel zygote")
        context = mp.get_context("fork" if can_fork else "spawn")
        done: dict[str, dict] = {}
        with ProcessPoolExecutor(
            max_workers=max(1, min(jobs, len(tasks))),
            mp_context=context,
            initializer=_worker_init,
            initargs=(zygote, os.getpid()),
        ) as pool:
            futures = {pool.submit(_render_page, t): t for t in tasks}
            out.start(len(tasks))
            try:
                for fut in as_completed(futures):
                    task = futures[fut]
                    try:
                        rec = fut.result()
                    except Exception as exc:  # the worker process itself died
                        rec = {
                            "page": task.page.relpath,
                            "status": "failed",
                            "cache_key": task.key,
                            "failure": failure_info(exc, "execute", task.page),
                        }
                    done[rec["page"]] = rec
                    out.page_done(rec)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            finally:
                out.stop()
        clock.mark("execute and convert pages")
        return done
    finally:
        if zygote is not None:
            zygote.close()


def _worker_init(zygote, parent_pid: int | None = None) -> None:
    from .guard import die_with_parent
    from .kernels import use_zygote

    die_with_parent(parent_pid or os.getppid())  # a killed render leaves no orphan workers
    if zygote is not None:
        zygote.detach()  # the parent alone holds the zygote's lifeline pipe
    use_zygote(zygote)


def _render_page(task):
    from .execute import render_page

    return render_page(task)


def _records(plan: list[Page], keys, metas, done, previous, cache) -> list[dict]:
    """The manifest entry of every planned page and where its files come from.

    A page rendered now, or found in the cache, is published from the cache. A page that failed
    now, or was not chosen (``only``/``lang``) and is not in the cache, keeps the version the
    previous site had (``stale``), if any; otherwise it is left out of the site (``in_site``).
    """
    prev = {r["page"]: r for r in previous.get("pages", []) if r.get("in_site")}
    records = []
    for p in plan:
        rel = p.relpath
        new = done.get(rel)
        failed = new is not None and new["status"] != "rendered"
        if new is not None and not failed:
            rec = {**new, "in_site": True, "files_from": "cache"}
        elif new is None and metas[rel] is not None:
            rec = {**metas[rel], "status": "reused", "in_site": True, "files_from": "cache"}
            cache.touch(keys[rel])
        elif rel in prev:
            rec = {
                **prev[rel],
                "status": "failed" if failed else "kept",
                "stale": True,
                "in_site": True,
                "files_from": "previous_site",
            }
        else:
            rec = {"page": rel, "status": "failed" if failed else "not_rendered", "in_site": False}
        if failed:
            rec["failure"] = new["failure"]
            rec["seconds"] = new.get("seconds")
        # A page kept from the previous site keeps the parameters (and source) it was rendered with
        params = rec.get("parameters", p.parameters) if rec.get("stale") else p.parameters
        rec.update(
            report=p.report.id,
            lang=p.lang,
            parameters=params,
            source=params.get("source") if p.uses_records else None,
            notebook=p.report.notebook_relpath,
            wanted_cache_key=keys[rel],
        )
        records.append(rec)
    return records


def _publish(site_dir, plan, records, manifest, cache, checks, previous, clock) -> list[str]:
    """Build the complete site in a temporary directory, check it, swap it in. Returns problems
    (then the old site is untouched)."""
    from ..core.i18n import LANGS
    from .output import build_index, new_tmp_dir, swap_in, write_assets, write_json

    pages = {p.relpath: p for p in plan}
    tmp = new_tmp_dir(site_dir)
    try:
        _copy_pages(tmp, records, plan, site_dir, cache)
        from .links import fix_language_switches

        fix_language_switches(tmp, records, pages)  # a page whose other language is absent
        write_assets(tmp)
        for lg in LANGS:
            index = tmp / ("index.html" if lg == "es" else f"{lg}/index.html")
            index.parent.mkdir(parents=True, exist_ok=True)
            index.write_text(build_index(records, pages, lg, manifest["commit"]), encoding="utf-8")
        clock.mark("assemble the site")
        manifest["render_finished"] = _now()
        write_json(tmp / "manifest.json", manifest)
        problems = run_site_checks(checks, tmp)
        clock.mark("site checks")
        if problems:
            return problems
        from .guard import fsync_tree, make_public

        make_public(tmp)  # mkdtemp made it 0700: a web server under another user must read it
        fsync_tree(tmp)  # on disk before the rename publishes it
        swap_in(tmp, site_dir)
        return []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _copy_pages(dest: Path, records, plan, site_dir: Path, cache) -> None:
    """Copy the pages (and their tables) that ``records`` put in the site into ``dest``."""
    from .output import copy_page

    pages = {p.relpath: p for p in plan}
    for rec in records:
        if not rec["in_site"]:
            continue
        p = pages[rec["page"]]
        if rec["files_from"] == "cache":
            entry = cache.path(rec["cache_key"])
            copy_page(entry / "page.html", entry / "tables", dest, p.relpath, p.slug)
        else:
            src = site_dir / p.lang / "tables" / p.slug
            copy_page(site_dir / p.relpath, src, dest, p.relpath, p.slug)
    from .guard import point_language_switches

    point_language_switches(dest, records, pages)  # only to pages in this site


def run_site_checks(checks: list, site: Path) -> list[str]:
    """Run every check on ``site``; problems are prefixed with the check's name.

    The checks are independent reads of the site, so on Linux all but the first run at the same
    time in forked processes (they may not rely on side effects); the first runs here. A check
    that raises fails the render with its traceback."""
    import multiprocessing as mp

    if len(checks) < 2 or sys.platform != "linux" or default_jobs() < 2:
        return [f"[{_check_name(c)}] {p}" for c in checks for p in _resolve_check(c)(site)]
    context = mp.get_context("fork")
    children = []
    for check in checks[1:]:
        receive, send = context.Pipe(duplex=False)
        proc = context.Process(target=_check_in_child, args=(check, site, send), daemon=True)
        proc.start()
        send.close()
        children.append((check, proc, receive))
    try:
        problems = [f"[{_check_name(checks[0])}] {p}" for p in _resolve_check(checks[0])(site)]
        for check, proc, receive in children:
            try:
                status, payload = receive.recv()
            except EOFError:
                status, payload = (
                    "error",
                    f"the process died (exit code {proc.join() or proc.exitcode})",
                )
            if status == "error":
                raise RuntimeError(f"site check {_check_name(check)} crashed:\n{payload}")
            problems += [f"[{_check_name(check)}] {p}" for p in payload]
        return problems
    finally:
        for _, proc, receive in children:
            receive.close()
            if proc.is_alive():
                proc.terminate()
            proc.join()


def _check_in_child(check, site: Path, send) -> None:
    import traceback

    try:
        send.send(("ok", [str(p) for p in _resolve_check(check)(site)]))
    except BaseException:
        send.send(("error", traceback.format_exc()))
    finally:
        send.close()


def _resolve_check(check) -> Callable[[Path], list[str]]:
    if callable(check):
        return check
    module, _, name = check.partition(":")
    return getattr(importlib.import_module(module), name)


def _check_name(check) -> str:
    return check if isinstance(check, str) else f"{check.__module__}:{check.__qualname__}"


def _fill_result(result: RenderResult, records, problems, manifest) -> None:
    result.manifest = manifest
    result.check_problems = problems
    for rec in records:
        status = rec["status"]
        if status == "rendered":
            result.rendered.append(rec["page"])
        elif status == "reused":
            result.reused.append(rec["page"])
        elif status == "kept":
            result.kept.append(rec["page"])
        elif status == "failed":
            result.failed[rec["page"]] = {
                **rec["failure"],
                "kept_previous": rec["in_site"],
                "report": rec["report"],
                "notebook": rec["notebook"],
            }


# ----------------------------------------------------------------------------- progress and summary
class _Clock:
    """Seconds spent in each phase of a render (written to the manifest as ``timings``)."""

    def __init__(self):
        self.last = time.perf_counter()
        self.times: dict[str, float] = {}

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.times[phase] = round(now - self.last, 3)
        self.last = now


_STAGES = {"execute": "while executing", "convert": "while converting to HTML"}


class _Printer:
    """Progress: one line per finished page, plus a transient bar on an interactive terminal
    (not under CI=true). Silent without a console."""

    def __init__(self, console):
        self.console = console
        self.progress = None
        self.task = None
        self.n = 0
        self.total = 0

    def line(self, msg: str) -> None:
        if self.console is not None:
            self.console.print(msg, highlight=False, markup=False, soft_wrap=True)

    def note(self, msg: str) -> None:
        self.line(f"note: {msg}")

    def start(self, total: int) -> None:
        # Called once per stage (pages that read the site run in a second one): count on.
        self.total = max(self.total, self.n + total)
        c = self.console
        if (
            c is None
            or not c.is_terminal
            or os.environ.get("CI", "").lower() in ("1", "true", "yes")
        ):
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("rendering"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=c,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("pages", total=self.total, completed=self.n)

    def page_done(self, rec: dict) -> None:
        self.n += 1
        mark = "ok  " if rec["status"] == "rendered" else "FAIL"
        extra = f"  [{rec['reason']}]" if rec.get("reason") else ""
        if rec.get("stderr"):
            extra += f" ({len(rec['stderr'])} stderr message(s) kept off the page)"
        self.line(
            f"[{self.n}/{self.total}] {mark} {rec['page']} {rec.get('seconds', 0):.1f} s{extra}"
        )
        if self.progress is not None:
            self.progress.advance(self.task)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def summary(self, r: RenderResult) -> None:
        if self.console is None:
            return
        parts = [f"{len(r.rendered)} rendered", f"{len(r.reused)} reused"]
        if r.kept:
            parts.append(f"{len(r.kept)} kept from the previous site")
        if r.failed:
            parts.append(f"{len(r.failed)} FAILED")
        where = r.site_dir if not r.check_problems else "site NOT updated"
        self.line(f"{', '.join(parts)} → {where} [{r.seconds:.1f} s]")
        for page, f in r.failed.items():
            self.line("")
            self.line(
                f"FAILED {page}  (report {f['report']}, {f['notebook']}, {_STAGES[f['stage']]})"
            )
            if "cell" in f:
                self.line(f"  cell {f['cell']}:")
                for row in f.get("source", "").splitlines():
                    self.line(f"    | {row}")
            self.line(f"  {f['error']}: {f['message']}")
            if f.get("traceback") and os.environ.get("DATAJUSTA_RENDER_TRACEBACK"):
                self.line(f["traceback"])
            self.line(
                "  previous version kept in the site"
                if f["kept_previous"]
                else "  page left out of the site"
            )
        if r.check_problems:
            self.line("")
            self.line("The new site failed its checks; the previous site was left in place:")
            for p in r.check_problems:
                self.line(f"  {p}")
