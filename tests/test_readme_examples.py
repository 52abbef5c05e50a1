"""The README's command examples run as written and do what their comments say.

Every `.venv/bin/datajusta ...` line of the README's bash blocks is run, in order, in a copy of
the project (the data copied, the synthetic world linked read-only, a fresh outputs folder),
with the `datajusta` of this interpreter. Each example has a check of what its comment promises;
a new example without a check fails the test. Two examples are too slow for the test suite and
are run another way, named in ``NOT_RUN_AS_WRITTEN``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.notebook, pytest.mark.xdist_group("render")]

DATAJUSTA = Path(sys.executable).parent / "datajusta"
SWEEP = ".venv/bin/datajusta report trafficking -p region all --lang es"
WHOLE_SITE = ".venv/bin/datajusta render"
# command as written -> how the test runs it instead, and why
NOT_RUN_AS_WRITTEN = {
    SWEEP: "with --dry-run: the 16 real pages take minutes (tests/site/test_render_report.py "
    "renders a 16-region sweep of a small notebook)",
    WHOLE_SITE: "not run: the whole site takes minutes; tests/test_render.py renders sites",
}


def readme_commands(root: Path) -> list[tuple[str, str]]:
    """(command, comment) of every datajusta example in the README's bash blocks, in order."""
    text = (root / "README.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith(".venv/bin/datajusta"):
                command, _, comment = line.partition("  #")
                found.append((command.strip(), comment.strip()))
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory, root):
    world = root / "data" / "synthetic"
    if not (world / "metadata.json").is_file():
        pytest.skip("no synthetic world in data/synthetic (run `datajusta synth --if-missing`)")
    proj = tmp_path_factory.mktemp("readme")
    data = proj / "data"
    data.mkdir()
    for entry in (root / "data").iterdir():
        if entry.is_dir() and entry.name.startswith("synthetic"):
            continue  # the synthetic worlds (data/synthetic_model.yaml is copied)
        if entry.is_dir():
            shutil.copytree(entry, data / entry.name)
        else:
            shutil.copy2(entry, data / entry.name)
    (data / "synthetic").symlink_to(world, target_is_directory=True)
    (proj / "notebooks").symlink_to(root / "notebooks", target_is_directory=True)
    (proj / "reports.yaml").symlink_to(root / "reports.yaml")
    return proj


def run(project: Path, command: str) -> subprocess.CompletedProcess:
    args = shlex.split(command)
    assert args[0] == ".venv/bin/datajusta"
    env = dict(
        os.environ,
        DATAJUSTA_HOME=str(project),
        DATAJUSTA_OUTPUTS=str(project / "outputs"),
        CI="true",
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH")])
        ),
    )
    env.pop("DATAJUSTA_SYNTHETIC_DIR", None)
    return subprocess.run(
        [str(DATAJUSTA), *args[1:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def _manifest_pages(site: Path) -> dict[str, str]:
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    return {p["page"]: p["status"] for p in manifest["pages"] if p.get("in_site")}


def check_synth_if_missing(project, command, done):
    assert done.returncode == 0, done.stderr
    assert "is current" in done.stdout and "nothing to do" in done.stdout


def check_synth_elsewhere(project, command, done):
    world = project / "data" / "synthetic" / "metadata.json"
    assert done.returncode == 0, done.stderr
    other = json.loads((project / "data" / "synthetic-seed1" / "metadata.json").read_text())
    assert other["seed"] == 1 and other["synthetic"] is True
    # "data/synthetic/ is replaced only with --force": the same command without --out refuses
    before = world.read_bytes()
    refused = run(project, command.replace(" --out data/synthetic-seed1", ""))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "not replaced without --force" in refused.stderr
    assert world.read_bytes() == before


def check_validate(project, command, done):
    assert done.returncode == 1, done.stdout + done.stderr  # the comment states exit 1
    assert re.search(r"\d+ rows read, \d+ accepted, [1-9]\d* rejected", done.stdout)
    assert "rejected rows by rule:" in done.stdout


def check_validate_figures(project, command, done):
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 rejected" in done.stdout


def check_mse(project, command, done):
    assert done.returncode == 0, done.stderr
    assert re.search(r"about [\d,]+ persons were recorded by none of them", done.stdout)


def check_render_only(project, command, done):
    site = project / "outputs" / "site"
    assert done.returncode == 0, done.stdout + done.stderr
    chosen = {f"en/published_figures--{cs}.html" for cs in ("protest-violence", "attempted-femicide", "trafficking")}  # fmt: skip
    assert _manifest_pages(site) == dict.fromkeys(chosen, "rendered")
    # "unchanged ones are reused": again, nothing is rendered
    again = run(project, command)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 rendered, 3 reused" in again.stdout or "Site is up to date" in again.stdout
    assert "Rendering" not in again.stdout
    # "--force renders them again"
    forced = run(project, command + " --force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert _manifest_pages(site) == dict.fromkeys(chosen, "rendered")
    assert "3 rendered, 0 reused" in forced.stdout


def check_scan(project, command, done):
    assert done.returncode == 0, done.stdout + done.stderr  # the site just rendered is clean
    assert "0 problem(s) in outputs/site" in done.stderr


def check_help_params(project, command, done):
    assert done.returncode == 0, done.stderr
    for needle in ("region  [region, optional]", "allowed: ", "default: None", "es: ", "en: "):
        assert needle in done.stdout


def check_one_page(project, command, done):
    assert done.returncode == 0, done.stdout + done.stderr
    folder = project / "outputs" / "reports" / "trafficking--13--2019-01-01"
    page = folder / "es" / "trafficking--trafficking--13--2019-01-01.html"
    assert f"page: {page}" in done.stdout and page.is_file()
    assert "Metropolitana" in page.read_text(encoding="utf-8")
    assert not (folder / "en" / "trafficking--trafficking--13--2019-01-01.html").exists()


def check_sweep_dry_run(project, command, done):
    assert done.returncode == 0, done.stdout + done.stderr
    folder = project / "outputs" / "reports" / "trafficking--region-all"
    assert f"16 page(s) of report trafficking into {folder}:" in done.stdout
    assert done.stdout.count(f"{folder}/es/trafficking--trafficking--") == 16


def check_codebook_init(project, command, done):
    assert done.returncode == 0, done.stdout + done.stderr
    draft = (project / "draft.yaml").read_text(encoding="utf-8")
    assert "institution: FISCALIA" in draft and "REVIEW" in draft


def check_validate_with_draft(project, command, done):
    assert done.returncode == 1, done.stdout + done.stderr  # the comment states exit 1
    assert re.search(r"\d+ rows read, \d+ accepted, [1-9]\d* rejected", done.stdout)


def check_mse_lcmcr(project, command, done):
    assert done.returncode == 3, done.stdout + done.stderr  # "no figure is given (exit 3)"
    assert "do not converge" in done.stdout and "No figure is given" in done.stdout


def check_encode(project, command, done):
    assert done.returncode == 0, done.stdout + done.stderr
    out = project / shlex.split(command)[shlex.split(command).index("--out") + 1]
    raw = out.read_bytes()
    assert out.is_file() and b"RUN_VICTIMA" not in raw


def check_link(project, command, done):
    assert done.returncode == 0, done.stdout + done.stderr
    linked = project / "linked"
    for name in ("clusters.parquet", "pairs.parquet", "clerical.parquet", "capture_histories.csv"):
        assert (linked / name).is_file(), name


F = "data/synthetic/trafficking/FISCALIA/trata_trafico_victimas.csv"
CHECKS = {
    ".venv/bin/datajusta synth --if-missing": check_synth_if_missing,
    ".venv/bin/datajusta synth --seed 1 --out data/synthetic-seed1": check_synth_elsewhere,
    ".venv/bin/datajusta validate data/synthetic/trafficking/PDI/BRITRAP_victimas.xlsx --institution PDI": check_validate,
    ".venv/bin/datajusta validate-figures data/published/figures.csv": check_validate_figures,
    ".venv/bin/datajusta mse data/reference/uk_modern_slavery_2013_five_lists.csv": check_mse,
    ".venv/bin/datajusta render --only 'published_figures*' --lang en": check_render_only,
    ".venv/bin/datajusta scan outputs/site": check_scan,
    ".venv/bin/datajusta report trafficking --help-params": check_help_params,
    ".venv/bin/datajusta report trafficking -p region 13 -p period_start 2019-01-01 --lang es": check_one_page,
    SWEEP: check_sweep_dry_run,
    f".venv/bin/datajusta codebook init {F} -i FISCALIA -c trafficking --out draft.yaml": check_codebook_init,
    f".venv/bin/datajusta validate {F} --codebook draft.yaml": check_validate_with_draft,
    ".venv/bin/datajusta mse data/reference/uk_modern_slavery_2013_five_lists.csv --method lcmcr": check_mse_lcmcr,
    f".venv/bin/datajusta encode {F} --institution FISCALIA -c trafficking --out fiscalia.parquet": check_encode,
    ".venv/bin/datajusta encode data/synthetic/trafficking/PDI/BRITRAP_victimas.xlsx --institution PDI -c trafficking --out pdi.parquet": check_encode,
    ".venv/bin/datajusta link fiscalia.parquet pdi.parquet --out linked/": check_link,
}


def test_every_readme_example_has_a_check(root):
    commands = [c for c, _ in readme_commands(root)]
    assert commands, "no datajusta example found in README.md"
    unchecked = [c for c in commands if c not in CHECKS and c not in NOT_RUN_AS_WRITTEN]
    assert not unchecked, f"README examples without a test: {unchecked}"
    assert set(NOT_RUN_AS_WRITTEN) <= set(commands)


def test_the_readme_examples_do_what_their_comments_say(project, root):
    for command, comment in readme_commands(root):
        if command == WHOLE_SITE:
            continue
        written = command + (" --dry-run" if command == SWEEP else "")
        done = run(project, written)
        try:
            CHECKS[command](project, written, done)
        except AssertionError as exc:
            raise AssertionError(f"README: `{command}`  # {comment}\n{exc}") from exc
