"""Where the configuration lives: `[tool.release_tool]` in pyproject.toml, or the same keys at
the top level of `release-tool.toml` (a setup.py/setup.cfg project has no pyproject.toml);
never both. Errors name the key path in the file's own terms."""

from __future__ import annotations

import tomllib
from pathlib import Path

import jsonschema
import pytest
from conftest import make_library
from test_release_local import golden, invoke, snapshot

from release_tool import example
from release_tool.config_schema import schema
from release_tool.git_repo import run_git


def own_file(pyproject: str) -> str:
    """The example's [tool.release_tool] tables, as release-tool.toml writes them."""
    section = pyproject[pyproject.index("[tool.release_tool]") :]
    return (
        section.replace("[tool.release_tool]\n", "")
        .replace("[tool.release_tool.", "[")
        .replace("[[tool.release_tool.", "[[")
    )


RELEASE_TOOL_TOML = own_file(example.LIBRARY_PYPROJECT)


@pytest.fixture
def setup_py_library(tmp_path: Path) -> Path:
    """Today's edx-proctoring without a pyproject.toml: the config in release-tool.toml."""
    files: dict[str, str | None] = {**example.library_files(), "pyproject.toml": None}
    files["release-tool.toml"] = RELEASE_TOOL_TOML
    return make_library(tmp_path, files)  # type: ignore[arg-type]


def test_the_example_as_release_tool_toml_is_the_same_configuration() -> None:
    """The fixture's own check: the same keys, only the table names differ."""
    assert "tool" not in RELEASE_TOOL_TOML
    pyproject = tomllib.loads(example.LIBRARY_PYPROJECT)["tool"]["release_tool"]
    assert tomllib.loads(RELEASE_TOOL_TOML) == pyproject
    jsonschema.Draft7Validator(schema()).validate(tomllib.loads(RELEASE_TOOL_TOML))


def test_a_release_tool_toml_project_releases(setup_py_library: Path) -> None:
    """The same release as test_release_local's, byte for byte, with no pyproject.toml."""
    repo = setup_py_library
    assert not (repo / "pyproject.toml").exists()
    code, out, err = invoke(repo, "status")
    assert code == 0, err
    assert "files agree" in out
    code, _, err = invoke(repo, "release", "minor", "--yes")
    assert code == 0, err
    for name in ("edx_proctoring/__init__.py", "package.json", "package-lock.json"):
        assert (repo / name).read_bytes() == golden(name), name
    assert run_git("cat-file", "-t", "v5.3.0", cwd=repo) == "tag"
    origin = Path(run_git("remote", "get-url", "origin", cwd=repo))
    assert run_git("rev-parse", "v5.3.0^{commit}", cwd=origin) == run_git(
        "rev-parse", "HEAD", cwd=repo
    )
    assert (repo / "release-tool.toml").read_text() == RELEASE_TOOL_TOML


def test_both_files_are_refused_naming_both(setup_py_library: Path) -> None:
    repo = setup_py_library
    (repo / "pyproject.toml").write_text(example.LIBRARY_PYPROJECT)
    run_git("add", "pyproject.toml", cwd=repo)
    run_git("commit", "-qm", "chore: pyproject", cwd=repo)
    before = snapshot(repo)
    for command in (("status",), ("plan", "patch"), ("release", "patch", "--yes")):
        code, _, err = invoke(repo, *command)
        assert code == 2, command
        assert (
            "error: configuration in both pyproject.toml ([tool.release_tool]) and "
            "release-tool.toml"
        ) in err
        assert "hint: keep one of them" in err
    assert snapshot(repo) == before


def test_a_pyproject_without_the_section_leaves_release_tool_toml_in_charge(
    setup_py_library: Path,
) -> None:
    """A pyproject.toml kept for other tools (ruff, black) is not a second configuration."""
    repo = setup_py_library
    (repo / "pyproject.toml").write_text("[tool.black]\nline-length = 120\n")
    code, out, err = invoke(repo, "status")
    assert code == 0, err
    assert "edx-proctoring" in out


def test_no_configuration_points_at_init(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    run_git("init", "-q", str(repo), cwd=tmp_path)
    code, _, err = invoke(repo, "status")
    assert code == 2
    assert "error: no pyproject.toml or release-tool.toml in" in err
    assert "release-tool init" in err
    (repo / "pyproject.toml").write_text("[tool.black]\nline-length = 120\n")
    code, _, err = invoke(repo, "status")
    assert code == 2
    missing = "pyproject.toml has no [tool.release_tool] section and there is no release-tool.toml"
    assert f"error: {missing}" in err
    assert "release-tool init" in err


BASE = 'package = "x"\nrepository = "o/r"\nversion_files = ["a.py"]\n'


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            BASE + '[[downstream]]\nrepository = "o/p"\nlables = []\n',
            "release-tool.toml: downstream[0].lables: unknown key",
        ),
        (BASE + 'sign = "yes"\n', "release-tool.toml: sign: expected true or false"),
        (BASE + "branches = 1\n", "release-tool.toml: branches: unknown key"),
        (
            'package = "x"\nrepository = "o/r"\nversion_files = ["../a.py"]\n',
            "release-tool.toml: version_files[0]: '../a.py' is outside the repository",
        ),
        (
            BASE + '[email]\nto = ["not-an-address"]\n',
            "release-tool.toml: email.to: 'not-an-address' is not a valid email address",
        ),
        ('repository = "o/r"\n', "release-tool.toml: package: required key is missing"),
        ('package = "x\n', "release-tool.toml is not valid TOML"),
    ],
)
def test_release_tool_toml_errors_name_the_key_path(
    tmp_path: Path, toml: str, message: str
) -> None:
    repo = tmp_path / "r"
    run_git("init", "-q", str(repo), cwd=tmp_path)
    (repo / "release-tool.toml").write_text(toml)
    code, _, err = invoke(repo, "status")
    assert code == 2
    assert f"error: {message}" in err
