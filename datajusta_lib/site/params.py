"""A notebook's declared parameters, and the checks a parameter set passes before any kernel starts.

Each assignment in a notebook's ``parameters`` cell may carry a structured comment::

    region = None  # [region, optional] es: código oficial de región | en: official region code

``[KIND]`` says what the value is; ``, optional`` allows ``None``; ``[KIND: a|b]`` narrows the
allowed values; the help follows in Spanish (``es:``) and English (``en:``). The kinds:

- vocabulary (from ``data/canonical.yaml``, ``data/reference/regions.csv`` and the codebooks):
  ``case_study``; ``region`` (official two-digit code); ``institution`` (one institution code
  with a codebook for the page's case study); ``institutions`` (a list of them); ``date`` (an ISO
  date, ``YYYY-MM-DD``, within the case study's period); ``lang``; ``source``;
- plain: ``str``, ``int``, ``float``, ``bool``.

A parameter without a structured comment is still known (its name and default); its type is
inferred from the default (a string, a number, a boolean; ``None``: anything), with no
vocabulary. ``check_set`` turns a parameter set (from the command line, as text, or from
``reports.yaml``) into typed values, or raises :class:`ParameterError` listing every problem and
what is allowed. ``expand`` turns ``all`` (a sweep) into one parameter set per allowed value.

Everything here reads small files with the standard library (no pandas), so a bad parameter is
reported in a fraction of a second and no kernel ever starts for it.
"""

from __future__ import annotations

import ast
import csv
import difflib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from ..core.paths import codebooks_dir, data_dir, reference_dir

VOCABULARY_KINDS = ("case_study", "region", "institution", "institutions", "date", "lang", "source")
PLAIN_KINDS = ("str", "int", "float", "bool")
KINDS = VOCABULARY_KINDS + PLAIN_KINDS
SWEEP = "all"  # `-p region all`: one page per allowed value
SWEEPABLE = ("case_study", "region", "institution", "institutions")
RESERVED = ("lang", "source")  # set by the renderer (--lang, --source)
_NONE_WORDS = {"none", "null"}
_DECL = re.compile(
    r"^\[\s*(?P<kind>[a-z_]+)\s*(?::\s*(?P<values>[^\],]+?))?\s*(?P<opt>,\s*optional\s*)?\]"
    r"\s*(?:es:\s*(?P<es>.*?)\s*\|\s*en:\s*(?P<en>.*?)\s*)?$"
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ParameterError(ValueError):
    """A parameter set is wrong; ``problems`` lists each problem with what is allowed."""

    def __init__(self, problems: list[str], where: str = ""):
        self.problems = problems
        head = f"{where}:" if where else ""
        sep = "\n  " if len(problems) > 1 else (" " if where else "")
        super().__init__(head + sep + "\n  ".join(problems))


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a notebook, as its ``parameters`` cell declares it."""

    name: str
    kind: str  # one of KINDS, or "any" for an undeclared parameter defaulting to None
    default: object = None
    optional: bool = False
    choices: tuple = ()  # narrower allowed values ([case_study: trafficking])
    help: dict = field(default_factory=dict)  # {es, en}
    declared: bool = False  # False: inferred from the default only

    @property
    def sweepable(self) -> bool:
        if self.choices:
            return self.declared and len(self.choices) > 1
        return self.declared and self.kind in SWEEPABLE


# ----------------------------------------------------------------------------- reading a notebook
def parameters_cell(notebook: Path) -> str | None:
    with open(notebook, encoding="utf-8") as fh:
        nb = json.load(fh)
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src = cell["source"]
            return "".join(src) if isinstance(src, list) else src
    return None


def read_specs(notebook: Path | str) -> dict[str, ParamSpec]:
    """The parameters the notebook's ``parameters`` cell assigns, in order, with their
    declarations (see the module doc). Raises ``ParameterError`` for a malformed declaration."""
    notebook = Path(notebook)
    source = parameters_cell(notebook)
    if source is None:
        raise ParameterError([f"{notebook} has no cell tagged 'parameters'"])
    lines = source.splitlines()
    specs: dict[str, ParamSpec] = {}
    problems = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names or node.value is None:
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            default = None
        comment = _comment(lines[node.end_lineno - 1])
        for name in names:
            try:
                specs[name] = _spec(name, default, comment)
            except ValueError as exc:
                problems.append(f"{notebook.name}, parameters cell, {name}: {exc}")
    if problems:
        raise ParameterError(problems)
    return specs


def _comment(line: str) -> str:
    """The comment at the end of a source line (a ``#`` outside string literals)."""
    import io
    import tokenize

    try:
        for tok in tokenize.generate_tokens(io.StringIO(line + "\n").readline):
            if tok.type == tokenize.COMMENT:
                return tok.string[1:].strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return ""


def _spec(name: str, default, comment: str) -> ParamSpec:
    m = _DECL.match(comment)
    if not comment.startswith("[") or m is None:
        kind = {str: "str", int: "int", float: "float", bool: "bool"}.get(type(default), "any")
        helptext = {"es": comment, "en": comment}
        return ParamSpec(name, kind, default, optional=default is None, help=helptext)
    kind = m["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown kind [{kind}]; kinds: {', '.join(KINDS)}")
    if m["es"] is None:
        raise ValueError("the declaration needs its help: '[kind] es: ... | en: ...'")
    choices = tuple(v.strip() for v in m["values"].split("|")) if m["values"] else ()
    return ParamSpec(
        name,
        kind,
        default,
        optional=bool(m["opt"]),
        choices=choices,
        help={"es": m["es"], "en": m["en"]},
        declared=True,
    )


# ----------------------------------------------------------------------------- the vocabulary
@cache
def _canonical() -> dict:
    with open(data_dir() / "canonical.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def case_studies() -> list[str]:
    return list(_canonical()["case_studies"])


def case_study_period(case_study: str) -> tuple[date, date | None]:
    period = _canonical()["case_studies"][case_study]["period"]
    end = period.get("end")
    return date.fromisoformat(str(period["start"])), (date.fromisoformat(str(end)) if end else None)


@cache
def regions() -> list[tuple[str, str]]:
    """(code, name) of the 16 regions, north to south."""
    with open(reference_dir() / "regions.csv", encoding="utf-8", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["order_north_to_south"]))
    return [(r["code"], r["name"]) for r in rows]


def region_codes() -> list[str]:
    return [code for code, _ in regions()]


def institutions(case_study: str | None) -> list[str]:
    """Institution codes with a codebook for ``case_study`` (every case study when None)."""
    folders = [case_study] if case_study else case_studies()
    found = []
    for cs in folders:
        found += sorted(p.stem for p in (codebooks_dir() / cs).glob("*.yaml"))
    return list(dict.fromkeys(found))


def allowed(spec: ParamSpec, case_study: str | None = None) -> list:
    """Every allowed value of a parameter with a finite vocabulary ([] for the others)."""
    if spec.choices:
        return list(spec.choices)
    return {
        "case_study": case_studies,
        "region": region_codes,
        "lang": lambda: ["es", "en"],
        "source": lambda: ["synthetic", "private"],
        "institution": lambda: institutions(case_study),
        "institutions": lambda: institutions(case_study),
        "bool": lambda: [True, False],
    }.get(spec.kind, list)()


def value_label(name: str, value, lang: str = "es") -> str:
    """How a parameter value reads in a title: region names instead of codes, lists joined."""
    if isinstance(value, list):
        return ", ".join(value_label(name, v, lang) for v in value)
    if name == "region" and str(value) in region_codes():
        from ..core.i18n import text

        try:
            return text(f"region_short_{value}", lang)
        except KeyError:
            return dict(regions())[str(value)]
    if name == "case_study" and value in case_studies():
        return _canonical()["case_studies"][value]["label"][lang]
    return str(value)


# ----------------------------------------------------------------------------- checking values
def _allowed_text(spec: ParamSpec, case_study: str | None) -> str:
    if spec.kind == "region" and not spec.choices:
        listed = ", ".join(f"{c} ({n})" for c, n in regions())
    elif spec.kind == "date":
        start, end = case_study_period(case_study) if case_study else (None, None)
        span = f" from {start} to {end or 'today'}" if start else ""
        listed = f"an ISO date YYYY-MM-DD{span}"
    elif spec.kind in ("int", "float", "str", "any"):
        listed = {"int": "a whole number", "float": "a number", "str": "any text"}.get(
            spec.kind, "any value"
        )
    else:
        listed = ", ".join(map(str, allowed(spec, case_study)))
    if spec.kind == "institutions":
        listed = f"a comma-separated list drawn from {listed}"
    if spec.optional:
        listed += "; or None"
    return listed


def coerce(spec: ParamSpec, value, case_study: str | None = None):
    """The typed value of ``value`` (text from the command line, or a YAML value); raises
    ``ValueError`` saying what is wrong and what is allowed."""
    what = f"{spec.name}={value!r}"
    if value is None or (isinstance(value, str) and value.strip().lower() in _NONE_WORDS):
        if spec.optional or spec.kind == "any":
            return None
        raise ValueError(f"{what}: a value is required; allowed: {_allowed_text(spec, case_study)}")
    kind = spec.kind
    if kind == "any":
        return _literal(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise ValueError(f"{what} is not a boolean; allowed: true, false")
    if kind in ("int", "float"):
        try:
            number = int(str(value)) if kind == "int" else float(str(value))
        except ValueError:
            raise ValueError(f"{what} is not {_allowed_text(spec, case_study)}") from None
        return _in_choices(spec, number, what, case_study)
    if kind == "institutions":
        items = _as_list(value)
        if not items:
            raise ValueError(f"{what}: an empty list; allowed: {_allowed_text(spec, case_study)}")
        vocab = allowed(spec, case_study)
        wrong = [i for i in items if i not in vocab]
        if wrong:
            where = f" in {case_study}" if case_study else ""
            raise ValueError(
                f"{what}: {', '.join(map(repr, wrong))} "
                f"{'is not an institution' if len(wrong) == 1 else 'are not institutions'} "
                f"with a codebook{where}; allowed: {_allowed_text(spec, case_study)}"
            )
        return items
    if isinstance(value, list | dict | tuple):
        raise ValueError(
            f"{what} is not a single value; allowed: {_allowed_text(spec, case_study)}"
        )
    if kind == "region" and isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:02d}"  # YAML reads `region: 05` as the number 5
    text = str(value.isoformat() if isinstance(value, date) else value).strip()
    if kind == "date":
        return _date(spec, text, what, case_study)
    if kind == "str" and not spec.choices:
        return text
    return _in_choices(spec, text, what, case_study)


def _in_choices(spec: ParamSpec, value, what: str, case_study):
    vocab = allowed(spec, case_study)
    if vocab and value not in vocab:
        hint = difflib.get_close_matches(str(value), [str(v) for v in vocab], n=1)
        maybe = f" (did you mean {hint[0]}?)" if hint else ""
        noun = {"region": "an official region code", "case_study": "a case study"}.get(
            spec.kind, "an allowed value"
        )
        if spec.choices:
            noun = "allowed here"
        raise ValueError(f"{what} is not {noun}{maybe}; allowed: {_allowed_text(spec, case_study)}")
    return value


def _date(spec: ParamSpec, text: str, what: str, case_study) -> str:
    try:
        if not _ISO.match(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{what} is not an ISO date; allowed: {_allowed_text(spec, case_study)}"
        ) from None
    if case_study:
        start, end = case_study_period(case_study)
        last = end or date.today()
        if not start <= day <= last:
            raise ValueError(
                f"{what} is outside the period of {case_study} ({start} to {end or 'today'})"
            )
    return day.isoformat()


def _as_list(value) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value]
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            parsed = None
        if isinstance(parsed, list):
            return [str(v).strip() for v in parsed]
    return [v.strip() for v in text.split(",") if v.strip()]


def _literal(value):
    if not isinstance(value, str):
        return value
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


def _case_study_of(specs: dict[str, ParamSpec], given: dict) -> str | None:
    cs = given.get("case_study", specs["case_study"].default if "case_study" in specs else None)
    return cs if cs in case_studies() else None


def check_set(
    specs: dict[str, ParamSpec],
    given: dict,
    *,
    where: str = "",
    reserved: tuple[str, ...] = RESERVED,
) -> dict:
    """``given`` (names to text or YAML values) as typed values, after every check: known name,
    not reserved, right type, inside the vocabulary, dates inside the case study's period and in
    order. Raises ``ParameterError`` listing every problem."""
    problems = []
    known = [n for n in specs if n not in reserved]
    for name in given:
        if name in reserved:
            problems.append(f"{name} is set by the renderer (use --{name}), not as a parameter")
        elif name not in specs:
            hint = difflib.get_close_matches(name, known, n=1)
            maybe = f" (did you mean {hint[0]}?)" if hint else ""
            problems.append(
                f"unknown parameter {name!r}{maybe}; the parameters are: {', '.join(known) or 'none'}"
            )
    out: dict = {}
    # the case study first: institutions and dates are checked against it
    order = sorted(
        (n for n in given if n in specs and n not in reserved), key=lambda n: n != "case_study"
    )
    for name in order:
        try:
            cs = _case_study_of(specs, out)
            out[name] = coerce(specs[name], given[name], cs)
        except ValueError as exc:
            problems.append(str(exc))
    start, end = out.get("period_start"), out.get("period_end")
    if isinstance(start, str) and isinstance(end, str) and start > end:
        problems.append(f"period_start={start} is after period_end={end}")
    if problems:
        raise ParameterError(problems, where)
    return {n: out[n] for n in given if n in out}


def sweep_values(spec: ParamSpec, case_study: str | None) -> list:
    """The values ``all`` stands for (institutions: one institution per page)."""
    values = allowed(spec, case_study)
    return [[v] for v in values] if spec.kind == "institutions" else values


def expand(
    specs: dict[str, ParamSpec],
    given: dict,
    sweep: list[str] | tuple[str, ...] = (),
    *,
    where: str = "",
    reserved: tuple[str, ...] = RESERVED,
) -> list[dict]:
    """Check ``given`` and expand its sweeps (a value ``all``, or a name in ``sweep``) into one
    checked parameter set per combination of values, in vocabulary order."""
    swept = [n for n, v in given.items() if isinstance(v, str) and v.strip().lower() == SWEEP]
    swept += [n for n in sweep if n not in swept]
    problems = []
    for name in swept:
        spec = specs.get(name)
        if spec is not None and name not in reserved and not spec.sweepable:
            problems.append(
                f"{name} cannot be swept ('{SWEEP}'): it has no declared list of values "
                f"(sweepable: {', '.join(n for n, s in specs.items() if s.sweepable) or 'none'})"
            )
    fixed = {n: v for n, v in given.items() if n not in swept}
    try:
        # a swept name that is unknown or reserved is reported by check_set
        wrong = {n: None for n in swept if n not in specs or n in reserved}
        base = check_set(specs, {**fixed, **wrong}, where=where, reserved=reserved)
    except ParameterError as exc:
        problems = exc.problems + problems
    if problems:
        raise ParameterError(problems, where)
    sets = [base]
    for name in sorted(swept, key=lambda n: n != "case_study"):
        sets = [
            {**s, name: v}
            for s in sets
            for v in sweep_values(specs[name], _case_study_of(specs, s))
        ]
    order = list(given) + [n for n in swept if n not in given]
    return [{n: s[n] for n in order if n in s} for s in sets]


# ----------------------------------------------------------------------------- listing
def describe(specs: dict[str, ParamSpec], *, reserved: tuple[str, ...] = RESERVED) -> str:
    """The ``--help-params`` text: each parameter's type, allowed values, default and help."""
    rows = []
    cs = _case_study_of(specs, {})
    for spec in specs.values():
        kind = spec.kind if spec.kind != "any" else "any value"
        head = f"{spec.name}  [{kind}{', optional' if spec.optional else ''}]"
        if spec.name in reserved:
            head += f"  (set with --{spec.name})"
        rows.append(head)
        rows.append(f"    allowed: {_allowed_text(spec, cs)}")
        if spec.kind == "date" and not cs:
            rows[-1] += " (within the chosen case study's period)"
        if spec.kind in ("institution", "institutions") and "case_study" in specs:
            rows[-1] += f" (for {cs}; other case studies have their own institutions)"
        rows.append(f"    default: {spec.default!r}")
        if spec.sweepable:
            rows.append(f"    sweep: -p {spec.name} {SWEEP}  (one page per value)")
        for lg in ("es", "en"):
            if spec.help.get(lg):
                rows.append(f"    {lg}: {spec.help[lg]}")
        if not spec.declared:
            rows.append("    (not declared in the parameters cell: type inferred from the default)")
    return "\n".join(rows)


def expand_report_sets(notebook: Path, sets: list[dict], where: str) -> list[dict]:
    """The parameter sets of a ``reports.yaml`` entry, checked against the notebook's
    declarations; a set with a value ``all`` becomes one set per value (a sweep). Sets without
    a sweep are returned as written (their values are part of the pages' cache keys)."""
    specs = read_specs(notebook)
    out = []
    for j, params in enumerate(sets):
        expanded = expand(specs, params, where=f"{where}: parameter set #{j + 1}")
        if any(isinstance(v, str) and v.strip().lower() == SWEEP for v in params.values()):
            out += expanded
        else:
            out.append(dict(params))
    return out
