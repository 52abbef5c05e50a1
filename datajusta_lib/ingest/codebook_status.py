"""Where each codebook's structure comes from (issue 13): ``modelled`` or ``documented``.

The shipped codebooks are plausible models of how each institution records, not copies of
its real register (``docs/codebooks.md``). A statement that rests on a codebook's structure
("X holds no identifier of the person") is a finding about the institution only when the
codebook was read from a document the institution published; otherwise it is a statement
about the model. Each codebook says which, in a ``status`` block:

```yaml
status:
  kind: modelled                 # modelled | documented
  document:                      # documented only: what the structure was read from
    title: "Ficha técnica del registro ..."
    url: https://...
    as_of: "2021-05-01"
  note: {es: "...", en: "..."}   # optional
```

:func:`check` validates the block alone (the codebook schema's ``status`` rules, which
``parse_codebook`` applies with the rest); :func:`status_of` and
:func:`qualifier` give what pages say.
"""

from __future__ import annotations

KINDS = ("modelled", "documented")


def check(status) -> list[str]:
    """Problems with a codebook's ``status`` block (missing = modelled, the safe reading),
    by the ``status`` rules of the codebook schema (``data/schemas/codebook.schema.json``)."""
    if status is None:
        return []
    from .codebooks import dotted_path, schema_problems

    return [f"{dotted_path(p.path)}: {p.message}" for p in schema_problems(status, "status")]


def status_of(cb) -> dict:
    """The codebook's status block, ``{"kind": "modelled"}`` when it declares none."""
    raw = getattr(cb, "raw", {}) or {}
    return raw.get("status") or {"kind": "modelled"}


def kind_of(cb) -> str:
    return status_of(cb)["kind"]


def qualifier(codebooks, lang: str) -> str:
    """The clause every statement resting on these codebooks' structure carries."""
    from ..core.i18n import institution_name, text

    kinds = {cb.institution: kind_of(cb) for cb in codebooks}
    documented = [i for i, k in kinds.items() if k == "documented"]
    if not documented:
        return text("cb_status_all_modelled", lang)
    if len(documented) == len(kinds):
        return text("cb_status_all_documented", lang)
    names = ", ".join(institution_name(i, lang, short=True) for i in documented)
    return text("cb_status_mixed", lang, documented=names)


def label(cb, lang: str) -> str:
    """One codebook's status for a table cell: "modelled" or "documented: <title>"."""
    from ..core.i18n import text

    st = status_of(cb)
    if st["kind"] == "documented":
        return text("cb_status_documented", lang, title=st["document"]["title"])
    return text("cb_status_modelled", lang)


def source_clause(codebooks, lang: str) -> str:
    """The codebooks' status for a source line under a table read from them."""
    from ..core.i18n import institution_name, text

    documented = [cb.institution for cb in codebooks if kind_of(cb) == "documented"]
    if not documented:
        return text("cb_status_source_modelled", lang)
    names = ", ".join(institution_name(i, lang, short=True) for i in documented)
    return text("cb_status_source_mixed", lang, documented=names)
