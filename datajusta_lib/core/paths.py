"""Where things live. One place, so notebooks, the CLI and tests agree.

The project root is found from ``DATAJUSTA_HOME`` if set, else by walking up from the
current directory to the folder holding ``data/canonical.yaml``, else from this package's
location (an editable install lives inside the repository).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_MARKER = Path("data") / "canonical.yaml"


@cache
def project_root() -> Path:
    env = os.environ.get("DATAJUSTA_HOME")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if (folder / _MARKER).is_file():
                return folder
    raise FileNotFoundError(
        "Cannot find the Data Justa project root (a folder with data/canonical.yaml). "
        "Run from inside the repository or set DATAJUSTA_HOME."
    )


def data_dir() -> Path:
    return project_root() / "data"


def published_dir() -> Path:
    return data_dir() / "published"


def codebooks_dir() -> Path:
    return data_dir() / "codebooks"


def reference_dir() -> Path:
    return data_dir() / "reference"


def private_dir() -> Path:
    return data_dir() / "private"


def synthetic_dir() -> Path:
    """Generated synthetic exports; 'synthetic' is in the path on purpose."""
    return Path(os.environ.get("DATAJUSTA_SYNTHETIC_DIR", data_dir() / "synthetic"))


def outputs_dir() -> Path:
    return Path(os.environ.get("DATAJUSTA_OUTPUTS", project_root() / "outputs"))


# Set by the renderer for pages that read the site (the audit): the new site being assembled.
SITE_ENV = "DATAJUSTA_SITE"


def site_dir() -> Path:
    """The rendered site a page reads: the one being built during a render, else the last one."""
    return Path(os.environ.get(SITE_ENV) or outputs_dir() / "site")


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def site_templates_dir() -> Path:
    """The site's templates and stylesheet (package data of ``datajusta_lib.site``): the
    renderer builds pages from them and notebooks in JupyterLab borrow the same stylesheet."""
    return Path(__file__).resolve().parent.parent / "site" / "templates"
