"""The bundled example pair: an edx-proctoring-shaped library and an edx-platform-shaped downstream.

Pure content (file trees and a short history), in the shapes `real-world.md` records, so the
sandbox can seed them, `rehearse --example` can release them, and the tests can build
repositories from them. Writing them into git happens in `git_repo.build_repository`.

Two eras of the downstream:

* **uv** (today, what `rehearse --example` releases into): `pyproject.toml` requiring
  `edx-proctoring>=2.0.1`, `uv.lock`, and `requirements/edx/base.txt`, a `uv export` under a
  `# GENERATED FILE, DO NOT EDIT DIRECTLY.` header. The lock is made by uv against the package
  index the example is served with (its URL is in every lock entry), so its text is built at
  run time by `release_tool.sandbox.example_index`; here are its inputs (`UV_PYPROJECT`,
  `EXPORT_HEADER`, `EXPORT_ARGS`) and the library config that relocks it
  (`RELOCK_LIBRARY_PYPROJECT`).
* **pip-tools** (before Aug 2026; `downstream_files()`): four compiled files pinning the
  package, upgraded by the `edit` strategy (`LIBRARY_PYPROJECT`, what `seed_example` and the
  tests' sandbox hold).

The library's unreleased work adds a dependency (`NEW_DEPENDENCY` in `requirements/base.in`,
which the real setup.py reads as its install_requires): releasing it moves the downstream's
lock by more than one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LIBRARY = "openedx/edx-proctoring"
DOWNSTREAM = "openedx/edx-platform"
LIBRARY_BRANCH = "master"
DOWNSTREAM_BRANCH = "master"
CURRENT_VERSION = "5.2.0"


@dataclass(frozen=True)
class Commit:
    """One commit of an example history: files written (None deletes), and tags put on it."""

    message: str
    files: Mapping[str, str | None]
    tags: tuple[str, ...] = ()
    date: str = "2025-03-20T12:00:00+00:00"


@dataclass(frozen=True)
class ExampleRepo:
    full_name: str
    branch: str
    history: tuple[Commit, ...] = field(default_factory=tuple)


EDIT_DOWNSTREAM = f"""\
[[tool.release_tool.downstream]]
repository = "{DOWNSTREAM}"
base = "{DOWNSTREAM_BRANCH}"
strategy = "edit"
files = ["requirements/edx/*.txt"]
labels = ["dependencies"]
reviewers = ["edx-platform-reviewer"]
# The example's compiled files are edited in place (strategy "edit"), and the example's
# releases are never published to an index to compare their dependencies on.
allow_generated = true
check_dependencies = false
"""

# The uv-era downstream: re-locked by its own resolver (strategy detected from its uv.lock).
EXPORT_ARGS = ("--no-dev",)
RELOCK_DOWNSTREAM = f"""\
[[tool.release_tool.downstream]]
repository = "{DOWNSTREAM}"
base = "{DOWNSTREAM_BRANCH}"
exports = [{{ output = "requirements/edx/base.txt", args = ["--no-dev"] }}]
labels = ["dependencies"]
reviewers = ["edx-platform-reviewer"]
"""

LIBRARY_PYPROJECT_HEAD = f"""\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[tool.release_tool]
package = "edx-proctoring"
repository = "{LIBRARY}"
branch = "{LIBRARY_BRANCH}"
tag_format = "v{{version}}"
version_files = ["edx_proctoring/__init__.py", "package.json", "package-lock.json"]
changelog = "CHANGELOG.rst"

[tool.release_tool.email]
to = ["release-notifications@edx.org"]
from = "Open edX Release Bot <release-bot@example.org>"

"""
# The pip-tools era: the downstream's compiled files are edited (the tests' sandbox).
LIBRARY_PYPROJECT = LIBRARY_PYPROJECT_HEAD + EDIT_DOWNSTREAM
# The uv era: the downstream is re-locked (`rehearse --example`).
RELOCK_LIBRARY_PYPROJECT = LIBRARY_PYPROJECT_HEAD + RELOCK_DOWNSTREAM

INIT_PY = """\
\"\"\"
The exam proctoring subsystem for the Open edX platform.
\"\"\"

# Be sure to update the version number in edx_proctoring/package.json
__version__ = '{version}'
"""

# Today's package.json: 2-space indent, a "//" comment key above "version" on line 4, and no
# final newline.
PACKAGE_JSON = """\
{{
  "name": "@edx/edx-proctoring",
  "//": "Be sure to update the version number in edx_proctoring/__init__.py",
  "version": "{version}",
  "main": "edx_proctoring/static/index.js",
  "repository": {{
    "type": "git",
    "url": "git://github.com/openedx/edx-proctoring"
  }},
  "devDependencies": {{
    "@edx/eslint-config": "5.2.0",
    "jasmine-core": "^3.99.1"
  }}
}}"""

# Lockfile v3: the package's version twice, and a dependency that carries the same string.
PACKAGE_LOCK = """\
{{
  "name": "@edx/edx-proctoring",
  "version": "{version}",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {{
    "": {{
      "name": "@edx/edx-proctoring",
      "version": "{version}",
      "devDependencies": {{
        "@edx/eslint-config": "5.2.0",
        "jasmine-core": "^3.99.1"
      }}
    }},
    "node_modules/@edx/eslint-config": {{
      "version": "5.2.0",
      "dev": true
    }},
    "node_modules/jasmine-core": {{
      "version": "3.99.1",
      "dev": true
    }}
  }}
}}
"""

SETUP_PY = """\
import re
from setuptools import setup


def get_version(*file_paths):
    with open("edx_proctoring/__init__.py", encoding="utf8") as f:
        version_match = re.search(r"^__version__ = ['\\"]([^'\\"]*)['\\"]", f.read(), re.M)
    return version_match.group(1)


setup(name="edx-proctoring", version=get_version())
"""

CHANGELOG_HEAD = """\
Change Log
----------

..
   All enhancements and patches to edx-proctoring will be documented
   in this file.  It adheres to the structure of https://keepachangelog.com/ ,
   but in reStructuredText instead of Markdown (for ease of incorporation into
   Sphinx documentation and the PyPI description).

.. There should always be an "Unreleased" section for changes pending release.

Unreleased
~~~~~~~~~~
"""

# The released sections, with the irregularities of the real file: an unpadded date, a header
# with no date, underlines not matched to the header's length.
CHANGELOG_RELEASED = """\
[5.2.0] - 2025-03-20
~~~~~~~~~~~~~~~~~~~~~
* Add a "retry" action for proctored exam attempts in an error state
* Drop Python 3.8 support

[5.1.2] - 2025-02-10
~~~~~~~~~~~~~~~~~~~~
* Fix exam submit email content

[5.1.1] - 2024-11-8
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
* Fix the onboarding status panel for learners without a verified name

[4.17.0]
~~~~~~~~~~~~~~~~~~~~
* Upgrade requirements
"""

UNRELEASED_ENTRIES = """\
* Send the proctoring review email in the learner's preferred language
* Fix a crash when an exam's due date is removed while an attempt is open

"""


# What the library's released versions require (requirements/base.in, read by setup.py), and
# the dependency its unreleased work adds.
DEPENDENCIES = ("Django", "django-model-utils", "edx-when")
NEW_DEPENDENCY = "jsonfield"


def library_files(
    version: str = CURRENT_VERSION,
    *,
    lock_version: str | None = None,
    unreleased: str = UNRELEASED_ENTRIES,
    pyproject: str = LIBRARY_PYPROJECT,
) -> dict[str, str]:
    """The library's tree; `lock_version` makes the lockfile stale, as it is in real life.
    With unreleased entries, `requirements/base.in` also has the new dependency."""
    requirements = [*DEPENDENCIES, *([NEW_DEPENDENCY] if unreleased else [])]
    return {
        "pyproject.toml": pyproject,
        "setup.py": SETUP_PY,
        "README.rst": "edx-proctoring\n==============\n\nProctoring subsystem for Open edX.\n",
        "edx_proctoring/__init__.py": INIT_PY.format(version=version),
        "package.json": PACKAGE_JSON.format(version=version),
        "package-lock.json": PACKAGE_LOCK.format(version=lock_version or version),
        "CHANGELOG.rst": CHANGELOG_HEAD + "\n" + unreleased + CHANGELOG_RELEASED,
        "requirements/base.in": "".join(f"{name}\n" for name in requirements),
    }


def library_repo(pyproject: str = LIBRARY_PYPROJECT) -> ExampleRepo:
    """The library with a history: a bare tag, a `v` tag and the non-version tags of real life.
    `pyproject` is its pyproject.toml (`RELOCK_LIBRARY_PYPROJECT` for the uv era)."""
    old = library_files("5.1.2", unreleased="", pyproject=pyproject)
    return ExampleRepo(
        full_name=LIBRARY,
        branch=LIBRARY_BRANCH,
        history=(
            Commit(
                "Initial commit",
                {"README.rst": old["README.rst"]},
                tags=("release-2015-07-29",),
                date="2015-07-29T12:00:00+00:00",
            ),
            Commit(
                "feat: exam submit email (#1201)",
                old,
                tags=("5.1.2", "npmv1.0.0"),
                date="2025-02-10T12:00:00+00:00",
            ),
            Commit(
                "feat: retry action for errored attempts (#1210)",
                library_files(unreleased="", pyproject=pyproject),
                tags=("v5.2.0",),
            ),
            Commit(
                "fix: learner language in review email (#1214)",
                library_files(pyproject=pyproject),
            ),
        ),
    )


# --- the downstream --------------------------------------------------------------------------

COMPILED_HEADER = """\
#
# This file is autogenerated by pip-compile with Python 3.11
# by the following command:
#
#    make upgrade
#
"""


def _compiled(source: str, version: str, extra: str = "") -> str:
    """A pip-tools >= 5.5 compiled file pinning edx-proctoring, as edx-platform has them."""
    return (
        COMPILED_HEADER
        + f"""\
django==4.2.20
    # via
    #   -r requirements/edx/{source}
    #   edx-proctoring
    #   edx-when
edx-proctoring==5.2.0
    # via
    #   -r requirements/edx/{source}
    #   edx-proctoring-proctortrack
edx-proctoring-proctortrack==1.2.1
    # via -r requirements/edx/{source}
edx-when==2.5.1
    # via
    #   -r requirements/edx/{source}
    #   edx-proctoring
{extra}"""
    ).replace("edx-proctoring==5.2.0", f"edx-proctoring=={version}")


def downstream_files(version: str = CURRENT_VERSION) -> dict[str, str]:
    """edx-platform's requirements in the pip-tools era: four compiled files pin the package,
    kernel.in bounds it."""
    return {
        "README.rst": "edx-platform\n============\n\nThe Open edX platform.\n",
        "requirements/edx/kernel.in": (
            "-c ../constraints.txt\n\nDjango\nedx-proctoring>=2.0.1\n"
            "edx-proctoring-proctortrack\nedx-when\n"
        ),
        "requirements/edx/base.txt": _compiled("kernel.in", version),
        "requirements/edx/development.txt": _compiled(
            "testing.txt", version, "pytest==8.3.5\n    # via -r testing\n"
        ),
        "requirements/edx/testing.txt": _compiled("base.txt", version),
        "requirements/edx/doc.txt": _compiled("base.txt", version),
        "requirements/constraints.txt": (
            "# Version constraints for pip-installation.\n"
            "#\n# edx-proctoring is not constrained: it is released often.\n"
            "Django<5.0\n"
        ),
    }


def downstream_repo() -> ExampleRepo:
    return ExampleRepo(
        full_name=DOWNSTREAM,
        branch=DOWNSTREAM_BRANCH,
        history=(Commit("chore: upgrade edx-proctoring to 5.2.0 (#36210)", downstream_files()),),
    )


# --- the downstream, uv era ------------------------------------------------------------------

UV_PYPROJECT = """\
[project]
name = "openedx-platform"
version = "0.1.0"
description = "The Open edX platform."
requires-python = ">=3.11"
dependencies = [
    "Django",
    "edx-proctoring>=2.0.1",
    "edx-proctoring-proctortrack",
    "edx-when",
]

[dependency-groups]
testing = ["pytest"]

[tool.uv]
package = false
# Managed by scripts/constraints: see requirements/constraints.txt for the reasons.
constraint-dependencies = ["Django<5.0"]
"""

EXPORT_HEADER = """\
# GENERATED FILE, DO NOT EDIT DIRECTLY.
# Run `make compile-requirements` to regenerate it from uv.lock.
"""

# The packages on the example's index: (name, version, requirements). The library's released
# versions require `DEPENDENCIES`; `NEW_DEPENDENCY` exists on the index before the release.
INDEX_PACKAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("asgiref", "3.8.1", ()),
    ("sqlparse", "0.5.3", ()),
    ("Django", "4.2.20", ("asgiref>=3.6,<4", "sqlparse>=0.3.1")),
    ("Django", "5.1.7", ("asgiref>=3.8.1,<4", "sqlparse>=0.3.1")),
    ("django-model-utils", "5.0.0", ("Django>=3.2",)),
    ("edx-when", "2.5.1", ("Django",)),
    ("edx-proctoring", "5.1.2", DEPENDENCIES),
    ("edx-proctoring", "5.2.0", DEPENDENCIES),
    ("edx-proctoring-proctortrack", "1.2.1", ("edx-proctoring>=2.0",)),
    (NEW_DEPENDENCY, "3.1.0", ("Django>=2.2",)),
    ("pytest", "8.3.5", ()),
)


def uv_downstream_repo(lock: str, export: str) -> ExampleRepo:
    """The downstream's history into the uv era: its pip-tools requirements, then the move to
    uv (`lock` and `export` are uv's output for `UV_PYPROJECT`; see the module docstring)."""
    legacy = downstream_files()
    moved: dict[str, str | None] = {
        path: None
        for path in legacy
        if path.startswith("requirements/edx/") and path != "requirements/edx/base.txt"
    }
    moved.update(
        {
            "pyproject.toml": UV_PYPROJECT,
            "uv.lock": lock,
            "requirements/edx/base.txt": EXPORT_HEADER + export,
        }
    )
    return ExampleRepo(
        full_name=DOWNSTREAM,
        branch=DOWNSTREAM_BRANCH,
        history=(
            Commit("chore: upgrade edx-proctoring to 5.2.0 (#36210)", legacy),
            Commit("build: move from pip-tools to uv (#37112)", moved),
        ),
    )
