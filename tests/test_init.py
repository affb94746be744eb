"""`release-tool init` on repositories shaped like the five target libraries of real-world.md
(none has a pyproject.toml): it writes a configuration that `status` and `plan` use at once."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from release_tool import example
from release_tool.cli import cli
from release_tool.git_repo import build_repository, run_git
from release_tool.init import (
    discover,
    github_repository,
    package_name,
    starting_config,
    tag_format_from,
    version_files,
)

SETUP_PY = """\
import os
import re

from setuptools import find_packages, setup


def get_version(*file_paths):
    filename = os.path.join(os.path.dirname(__file__), *file_paths)
    version_file = open(filename).read()
    version_match = re.search(r"^__version__ = ['\\"]([^'\\"]*)['\\"]", version_file, re.M)
    return version_match.group(1)


VERSION = get_version("{package_dir}", "__init__.py")

setup(
    name="{name}",
    version=VERSION,
    packages=find_packages(exclude=["tests"]),
)
"""

# Changelogs in the heading styles of real-world.md, each with notes under Unreleased.
RST_TILDE = """\
Change Log
----------

Unreleased
~~~~~~~~~~
* Next change

[{version}] - 2025-02-10
{tildes}
* Last change
"""
RST_DASH_LEVEL = """\
Change Log
==========

Unreleased
----------
* Next change

[{version}] - 2025-04-25
{dashes}
* Last change
"""
RST_UNBRACKETED = """\
Change Log
==========

Unreleased
----------
* Next change

{version} - 2024-07-16
{dashes}
* Last change
"""


@dataclass(frozen=True)
class Shape:
    """One target library: its files, its tags (oldest first) and what init must find."""

    repository: str
    name: str  # setup.py name=
    package_dir: str
    version: str  # as __init__.py writes it
    tags: tuple[str, ...]
    changelog: str | None
    extra: tuple[tuple[str, str], ...] = ()
    init_prefix: str = ""
    # expectations
    tag_format: str = "v{version}"
    npm: bool = False
    underline: str = "~"
    next_tag: str = ""

    def files(self) -> dict[str, str]:
        files = {
            "setup.py": SETUP_PY.format(package_dir=self.package_dir, name=self.name),
            f"{self.package_dir}/__init__.py": (
                f'"""{self.name}."""\n{self.init_prefix}\n__version__ = \'{self.version}\'\n'
            ),
            "tests/__init__.py": "",
            "README.rst": f"{self.name}\n",
            **dict(self.extra),
        }
        if self.changelog:
            heading = f"[{self.version}] - 2025-02-10"
            files["CHANGELOG.rst"] = self.changelog.format(
                version=self.version, tildes="~" * len(heading), dashes="-" * len(heading)
            )
        return files


def package_json(version: str) -> str:
    return (
        '{\n  "name": "edx-ora2",\n  "//": "keep in step with openassessment/__init__.py",\n'
        f'  "version": "{version}",\n  "private": true\n}}'
    )


def lockfile(version: str) -> str:
    return (
        f'{{\n  "name": "edx-ora2",\n  "version": "{version}",\n  "lockfileVersion": 3,\n'
        f'  "packages": {{\n    "": {{\n      "name": "edx-ora2",\n      "version": "{version}"\n'
        "    }\n  }\n}\n"
    )


SHAPES = {
    "edx-when": Shape(
        "openedx/edx-when",
        "edx-when",
        "edx_when",
        "2.6.0",
        ("2.3.0", "2.4.0", "2.4.1", "v2.5.0", "v2.5.1", "v2.6.0"),
        RST_TILDE,
        next_tag="v2.6.1",
    ),
    "completion": Shape(
        "openedx/completion",
        "edx-completion",
        "completion",
        "4.9",  # two parts, as once in the real file
        ("4.1.0", "v4.2.0", "v4.8.0"),
        RST_DASH_LEVEL,
        underline="-",
        next_tag="v4.9.1",
    ),
    "edx-name-affirmation": Shape(
        "openedx/edx-name-affirmation",
        "edx-name-affirmation",
        "edx_name_affirmation",
        "2.4.1",
        ("2.3.7", "2.4.0", "2.4.1"),
        RST_TILDE,
        tag_format="{version}",
        next_tag="2.4.2",
    ),
    "xblock-lti-consumer": Shape(
        "openedx/xblock-lti-consumer",
        "lti-consumer-xblock",
        "lti_consumer",
        "9.8.1",
        ("9.5.0", "9.6.0", "v9.7.0", "9.8.0", "v9.8.1"),
        RST_UNBRACKETED,
        init_prefix="from .apps import LTIConsumerApp\nfrom .lti_xblock import LtiConsumerXBlock\n",
        tag_format="{version}",  # mixed: the bare spelling is the majority of the latest five
        underline="-",
        next_tag="9.8.2",
    ),
    "edx-ora2": Shape(
        "openedx/edx-ora2",
        "ora2",
        "openassessment",
        "6.18.0",
        ("v6.17.0", "v6.18.0"),
        None,  # no changelog
        extra=(("package.json", package_json("6.18.0")), ("package-lock.json", lockfile("6.18.0"))),
        npm=True,
        next_tag="v6.18.1",
    ),
}


def invoke(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-C", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


def clone_of(tmp_path: Path, repository: str, files: dict[str, str], tags: tuple[str, ...]) -> Path:
    """A clone whose `origin` is `https://github.com/<repository>.git`, redirected by git's
    `insteadOf` to a bare repository beside it (no network: real pushes land there)."""
    history = [
        example.Commit(f"chore: release {tag}", {"RELEASED": tag}, tags=(tag,)) for tag in tags
    ]
    history.append(example.Commit("feat: the next change", files))
    origin = tmp_path / "origin.git"
    build_repository(origin, example.ExampleRepo(repository, "master", tuple(history)))
    work = tmp_path / repository.split("/")[1]
    url = f"https://github.com/{repository}.git"
    run_git("clone", "-q", str(origin), str(work), cwd=tmp_path)
    run_git("remote", "set-url", "origin", url, cwd=work)
    run_git("config", f"url.{origin}.insteadOf", url, cwd=work)
    return work


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_init_then_status_and_plan_on_the_target_libraries(tmp_path: Path, name: str) -> None:
    shape = SHAPES[name]
    repo = clone_of(tmp_path, shape.repository, shape.files(), shape.tags)
    code, out, err = invoke(repo, "init")
    assert code == 0, err
    written = (repo / "release-tool.toml").read_text()
    assert out.strip() == written.strip()  # it prints what it wrote
    assert "Wrote release-tool.toml" in err
    assert not (repo / "pyproject.toml").exists()
    config = tomllib.loads(written)
    expected_files = [f"{shape.package_dir}/__init__.py"]
    if shape.npm:
        expected_files += ["package.json", "package-lock.json"]
    assert config == {
        "package": shape.name,
        "repository": shape.repository,
        "branch": "master",
        "tag_format": shape.tag_format,
        "version_files": expected_files,
        **({"changelog": "CHANGELOG.rst"} if shape.changelog else {}),
    }
    if shape.changelog:
        assert f"underlined with '{shape.underline}'" in written
    else:
        assert "no changelog found" in written

    code, out, err = invoke(repo, "status")
    assert code == 0, err
    assert f"{shape.package_dir}/__init__.py (__version__)  {shape.version}" in out
    assert "files agree" in out
    assert f"last release tag: {shape.tags[-1]}" in out

    plan: tuple[str, ...] = ("plan", "patch", "--local")
    if not shape.changelog:  # no notes anywhere: said, and allowed by the flag it names
        code, _, err = invoke(repo, *plan)
        assert code == 2
        assert "no release notes" in err and "--allow-empty-notes" in err
        plan = (*plan, "--allow-empty-notes")
    code, out, err = invoke(repo, *plan)
    assert code == 0, err
    assert f"annotated tag {shape.next_tag}" in out
    assert f"+__version__ = '{shape.next_tag.lstrip('v')}'" in out


def test_a_release_right_after_init_publishes_the_patch(tmp_path: Path) -> None:
    """edx-name-affirmation: bare tags, so the release is tagged bare, and pushed."""
    shape = SHAPES["edx-name-affirmation"]
    repo = clone_of(tmp_path, shape.repository, shape.files(), shape.tags)
    assert invoke(repo, "init")[0] == 0
    code, _, err = invoke(repo, "release", "patch", "--local", "--yes")
    assert code == 0, err
    assert "__version__ = '2.4.2'" in (repo / "edx_name_affirmation/__init__.py").read_text()
    assert run_git("rev-parse", "2.4.2^{commit}", cwd=repo) == run_git(
        "rev-parse", "HEAD", cwd=repo
    )
    assert "2.4.2" in run_git("ls-remote", "--tags", "origin", cwd=repo)
    changed = run_git("diff", "--name-only", "HEAD~1", "HEAD", cwd=repo).splitlines()
    assert changed == ["CHANGELOG.rst", "edx_name_affirmation/__init__.py"]


def test_ora2_files_that_disagree_are_listed_and_said(tmp_path: Path) -> None:
    """edx-ora2 as it was: __init__.py 7.1.0, package.json 6.18.0, lockfile 6.17.0."""
    shape = SHAPES["edx-ora2"]
    files = {
        **shape.files(),
        "openassessment/__init__.py": "__version__ = '7.1.0'\n",
        "package.json": package_json("6.18.0"),
        "package-lock.json": lockfile("6.17.0"),
    }
    repo = clone_of(tmp_path, shape.repository, files, shape.tags)
    code, _, err = invoke(repo, "init")
    assert code == 0, err
    written = (repo / "release-tool.toml").read_text()
    assert (
        "NOTE: the version files disagree today (openassessment/__init__.py 7.1.0, "
        "package.json 6.18.0, package-lock.json 6.17.0)"
    ) in written
    assert "--sync" in written
    code, out, _ = invoke(repo, "status")
    assert code == 0
    assert "DISAGREE" in out or "disagree" in out
    code, _, err = invoke(repo, "plan", "patch", "--local")
    assert code == 2
    assert "version files disagree" in err


OLD_SETUP_PY = """\
from setuptools import setup

setup(
    name='edx-when',
    version='1.2.3',
    packages=['edx_when'],
    python_requires='>=3.8',
)
"""
OLD_SETUP_CFG = """\
[metadata]
name = edx-name-affirmation
version = 0.4.0
description = Name affirmation

[options]
python_requires = >=3.8

[tool:pytest]
target-version = 1.0
"""


def test_setup_py_and_setup_cfg_versions_become_pattern_entries(tmp_path: Path) -> None:
    """Before 2021-2022 several libraries kept the version only in setup.py or setup.cfg."""
    for folder, files, entry in (
        ("py", {"setup.py": OLD_SETUP_PY}, {"path": "setup.py", "search": "version='{version}'"}),
        (
            "cfg",
            {"setup.cfg": OLD_SETUP_CFG},
            {"path": "setup.cfg", "search": "version = {version}"},
        ),
    ):
        (tmp_path / folder).mkdir()
        repo = clone_of(tmp_path / folder, "openedx/lib", files, ("1.0.0",))
        code, _, err = invoke(repo, "init")
        assert code == 0, err
        config = tomllib.loads((repo / "release-tool.toml").read_text())
        assert config["version_files"] == [entry]
        assert config["package"] in ("edx-when", "edx-name-affirmation")
        code, out, err = invoke(repo, "status")
        assert code == 0, err
        assert "files agree" in out


def test_setup_py_is_parsed_never_executed(tmp_path: Path) -> None:
    setup = "open('EXECUTED', 'w').close()\n" + OLD_SETUP_PY
    repo = clone_of(tmp_path, "openedx/edx-when", {"setup.py": setup}, ())
    code, _, err = invoke(repo, "init")
    assert code == 0, err
    assert not (repo / "EXECUTED").exists()
    assert 'package = "edx-when"' in (repo / "release-tool.toml").read_text()


PYPROJECT = """\
# The project's own comment, kept.
[project]
name = "edx-when"
version = "3.0.0"

[tool.ruff]
line-length = 100"""  # no final newline


def test_a_pyproject_project_gets_the_section_appended_byte_for_byte(tmp_path: Path) -> None:
    repo = clone_of(tmp_path, "openedx/edx-when", {"pyproject.toml": PYPROJECT}, ("v2.9.0",))
    code, out, err = invoke(repo, "init")
    assert code == 0, err
    assert "Wrote [tool.release_tool] into pyproject.toml" in err
    assert not (repo / "release-tool.toml").exists()
    text = (repo / "pyproject.toml").read_text()
    assert text.startswith(PYPROJECT + "\n\n[tool.release_tool]\n")
    assert out.strip() == text[len(PYPROJECT) :].strip()
    section = tomllib.loads(text)["tool"]["release_tool"]
    assert section["version_files"] == ["pyproject.toml"]
    assert tomllib.loads(text)["tool"]["ruff"] == {"line-length": 100}
    run_git("commit", "-qam", "chore: release-tool configuration", cwd=repo)
    code, out, err = invoke(repo, "status")
    assert code == 0, err
    assert "pyproject.toml ([project] version)  3.0.0" in out


def test_a_version_derived_from_tags_is_said(tmp_path: Path) -> None:
    """setuptools-scm in pyproject.toml, or use_scm_version in setup.py: version_source = tag."""
    scm = (
        '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n\n'
        '[project]\nname = "edx-when"\ndynamic = ["version"]\n\n[tool.setuptools_scm]\n'
    )
    legacy = "from setuptools import setup\n\nsetup(name='edx-when', use_scm_version=True)\n"
    for folder, files in (("pyproject", {"pyproject.toml": scm}), ("setup", {"setup.py": legacy})):
        (tmp_path / folder).mkdir()
        repo = clone_of(tmp_path / folder, "openedx/edx-when", files, ("v2.9.0",))
        code, _, err = invoke(repo, "init")
        assert code == 0, err
        target = "pyproject.toml" if folder == "pyproject" else "release-tool.toml"
        text = (repo / target).read_text()
        config = tomllib.loads(text)
        config = config["tool"]["release_tool"] if folder == "pyproject" else config
        assert config["version_source"] == "tag"
        assert config["version_files"] == []
        run_git("add", "-A", cwd=repo)
        run_git("commit", "-qm", "chore: configure", cwd=repo)
        run_git("push", "-q", "origin", "master", cwd=repo)
        code, out, err = invoke(repo, "plan", "minor", "--local", "--allow-empty-notes")
        assert code == 0, err
        assert "annotated tag v2.10.0" in out


def test_init_refuses_when_a_configuration_exists(library: Path) -> None:
    """The example library has [tool.release_tool]: init writes nothing, exit 2."""
    before = (library / "pyproject.toml").read_bytes()
    code, _, err = invoke(library, "init")
    assert code == 2
    assert "a configuration exists already: [tool.release_tool] in pyproject.toml" in err
    assert (library / "pyproject.toml").read_bytes() == before
    assert not (library / "release-tool.toml").exists()
    code, out, err = invoke(library, "init", "--dry-run")
    assert code == 0, err
    assert "[tool.release_tool]" in out
    assert "it refuses while [tool.release_tool] in pyproject.toml exists" in err
    assert (library / "pyproject.toml").read_bytes() == before


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    shape = SHAPES["completion"]
    repo = clone_of(tmp_path, shape.repository, shape.files(), shape.tags)
    code, out, err = invoke(repo, "init", "--dry-run")
    assert code == 0, err
    assert 'package = "edx-completion"' in out
    assert "Dry run: init would write release-tool.toml." in err
    assert not (repo / "release-tool.toml").exists()
    assert invoke(repo, "status")[0] == 2  # still no configuration


def test_a_remote_that_is_not_on_github_is_said_and_credentials_never_shown(
    tmp_path: Path,
) -> None:
    repo = clone_of(tmp_path, "openedx/edx-when", SHAPES["edx-when"].files(), ("v2.6.0",))
    run_git(
        "remote", "set-url", "origin", "https://bot:s3cr3t-t0ken@gitlab.example.org/x/y", cwd=repo
    )
    code, out, err = invoke(repo, "init")
    assert code == 0, err
    written = (repo / "release-tool.toml").read_text()
    assert 'repository = "OWNER/NAME"' in written
    assert "NOTE: 'origin' is not a GitHub repository (https://gitlab.example.org/x/y)" in written
    assert "s3cr3t" not in out + err + written


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/openedx/edx-when.git", "openedx/edx-when"),
        ("https://github.com/openedx/edx-when", "openedx/edx-when"),
        ("https://github.com/openedx/edx-when/", "openedx/edx-when"),
        ("https://x-access-token:abc@github.com/openedx/edx-ora2.git", "openedx/edx-ora2"),
        ("git@github.com:openedx/xblock-lti-consumer.git", "openedx/xblock-lti-consumer"),
        ("ssh://git@github.com/openedx/completion.git", "openedx/completion"),
        ("ssh://git@github.com:22/openedx/completion", "openedx/completion"),
        ("git://github.com/edx/edx-proctoring.git", "edx/edx-proctoring"),
        ("https://gitlab.com/openedx/edx-when.git", None),
        ("https://github.com/openedx", None),
        ("/srv/git/edx-when.git", None),
        ("https://github.com.evil.org/openedx/edx-when.git", None),
    ],
)
def test_github_repository_from_the_remote_url(url: str, expected: str | None) -> None:
    assert github_repository(url) == expected


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ((), "v{version}"),
        (("release-2015-07-29", "npmv1.0.0"), "v{version}"),  # no release tag
        (("4.13.2", "4.14.0", "4.18.4"), "{version}"),
        (("1.0.0", "2.0.0", "3.0.0", "v3.1.0", "v3.2.0", "v3.3.0", "v3.4.0"), "v{version}"),
        (("1.0.0", "1.1.0", "v1.2.0", "1.3.0", "v1.4.0"), "{version}"),
        (("1.0.0", "v1.1.0"), "v{version}"),  # a tie: the latest release's spelling
        (("v1.0.0", "1.1.0"), "{version}"),
    ],
)
def test_tag_format_follows_the_latest_release_tags(tags: tuple[str, ...], expected: str) -> None:
    assert tag_format_from(tags)[0] == expected


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(text.encode())
    return root


def test_the_package_name_comes_from_pyproject_then_setup_cfg_then_setup_py(
    tmp_path: Path,
) -> None:
    setup_py = "from setuptools import setup\nNAME = 'from-setup-py'\nsetup(name=NAME)\n"
    write_tree(tmp_path, {"setup.py": setup_py})
    assert package_name(tmp_path) == ("from-setup-py", "setup.py name=")
    write_tree(tmp_path, {"setup.cfg": "[metadata]\nname = from-setup-cfg\n"})
    assert package_name(tmp_path) == ("from-setup-cfg", "setup.cfg [metadata] name")
    write_tree(tmp_path, {"pyproject.toml": '[project]\nname = "from-pyproject"\n'})
    assert package_name(tmp_path) == ("from-pyproject", "pyproject.toml [project] name")


def test_only_files_a_release_can_edit_are_listed(tmp_path: Path) -> None:
    """The package named after the project wins over other packages; tests are never it; a
    `__version__` read at run time, a package.json without a version and a VERSION file that
    holds more than the version are left out."""
    write_tree(
        tmp_path,
        {
            "src/edx_when/__init__.py": "__version__ = '1.4.0'\n",
            "src/edx_when/VERSION": "1.4.0\n",
            "helpers/__init__.py": "__version__ = '0.1.0'\n",
            "tests/__init__.py": "__version__ = '9.9.9'\n",
            "dynamic/__init__.py": "from importlib.metadata import version\n"
            "__version__ = version('edx-when')\n",
            "package.json": '{"name": "x", "private": true}\n',
            "VERSION": "version 1.4.0, see the docs\n",
        },
    )
    found = version_files(tmp_path, "edx-when", [])
    assert [(f.path, f.version, f.entry()) for f in found] == [
        ("src/edx_when/__init__.py", "1.4.0", "src/edx_when/__init__.py"),
        ("src/edx_when/VERSION", "1.4.0", {"path": "src/edx_when/VERSION"}),
    ]
    # No package is named after the project: every package that holds a literal version.
    assert [f.path for f in version_files(tmp_path, "other-name", [])] == [
        "helpers/__init__.py",
        "src/edx_when/__init__.py",
        "src/edx_when/VERSION",
    ]


def test_outside_a_git_repository_init_still_proposes(tmp_path: Path) -> None:
    write_tree(tmp_path, {"setup.py": OLD_SETUP_PY})
    found = discover(tmp_path)
    assert found.package == "edx-when"
    assert found.repository is None and found.branch == "main"
    start = starting_config(tmp_path, found)
    assert 'repository = "OWNER/NAME"' in start.section
    assert "NOTE: 'origin' is not a GitHub repository (no such remote)" in start.section


def test_a_crlf_pyproject_keeps_its_line_endings(tmp_path: Path) -> None:
    text = '[project]\r\nname = "edx-when"\r\nversion = "1.0.0"\r\n'
    write_tree(tmp_path, {"pyproject.toml": text})
    start = starting_config(tmp_path, discover(tmp_path))
    assert start.text.startswith(text + "\r\n[tool.release_tool]\r\n")
    assert "\n" not in start.text.replace("\r\n", "")


def test_quiet_prints_the_final_line_and_json_the_document(tmp_path: Path) -> None:
    shape = SHAPES["edx-when"]
    repo = clone_of(tmp_path, shape.repository, shape.files(), shape.tags)
    code, out, err = invoke(repo, "init", "--dry-run", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["path"] == "release-tool.toml" and document["written"] is False
    assert tomllib.loads(document["text"])["package"] == "edx-when"
    assert document["notes"] == []
    code, out, err = invoke(repo, "init", "-q")
    assert code == 0, err
    assert out == ""
    assert err.strip() == (
        "Wrote release-tool.toml: check it, commit it, then run `release-tool status`."
    )
    assert (repo / "release-tool.toml").is_file()
