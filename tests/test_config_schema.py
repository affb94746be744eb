"""The configuration's JSON Schema: generated from config.py, shipped, and in agreement with the
loader — a configuration the schema accepts loads, and one the loader refuses for a reason JSON
Schema can say is refused by the schema too."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from release_tool import example
from release_tool.config import config_from_mapping
from release_tool.config_schema import (
    SCHEMA_FILE,
    schema,
    schema_text,
    validate_pyproject_plugin,
)
from release_tool.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema())


def section(text: str) -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads(text)["tool"]["release_tool"]
    return table


def test_the_shipped_schema_is_current() -> None:
    """release_tool/config.schema.json (in the wheel) is generated: adding a key updates it."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "run: python -m release_tool.config_schema > release_tool/config.schema.json"
    )


def test_the_docs_schema_is_current() -> None:
    doc = ROOT / "docs" / "config.schema.json"
    if not doc.is_file():
        pytest.skip("no docs folder beside the tests (an installed sdist)")
    assert doc.read_text(encoding="utf-8") == schema_text(), (
        "run: python -m release_tool.config_schema > docs/config.schema.json"
    )


def test_it_is_a_valid_draft_07_schema_with_an_id() -> None:
    jsonschema.Draft7Validator.check_schema(schema())
    plugin = validate_pyproject_plugin("release_tool")
    assert plugin == schema()
    assert plugin["$id"].startswith("https://")  # validate-pyproject needs an $id


def test_the_bundled_example_and_this_repository_validate() -> None:
    own = section((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    validator().validate(own)
    validator().validate(section(example.LIBRARY_PYPROJECT))


# Each case: a [tool.release_tool] body. The loader's and the schema's verdicts must agree.
GOOD = [
    'version_files = ["pkg/__init__.py", "package.json", "sub/package-lock.json"]',
    'version_source = "tag"',
    'version_files = []\nversion_source = "tag"\nsign = true\nindex_timeout = 60',
    'version_files = [{ path = "setup.py", search = "version=\'{version}\'" }]',
    'version_files = [{ path = "VERSION" }, { path = "v.ts", search = "V = {version}", '
    'spelling = "semver" }]',
    'version_files = [{ path = "a.py", kind = "python" }]',
    'version_files = [{ path = "a.txt", kind = "pattern", search = "{version}" }]',
    'version_files = ["a.py"]\n[email]\nto = ["a@example.org"]\nsmtp_port = 25',
    'version_files = ["a.py"]\n[[downstream]]\nrepository = "o/p"\nstrategy = "dispatch"\n'
    'workflow = "up.yml"\ninputs = { version = "{{ version }}" }',
]
BAD = [
    'version_files = ["a.py"]\nbranches = "main"',  # unknown key
    'version_files = ["a.py"]\nsign = "yes"',  # wrong type
    'version_files = ["VERSION"]',  # a name that tells no kind
    'version_files = [{ path = "a", search = "no placeholder" }]',
    'version_files = [{ path = "a.py", kind = "python", search = "v = {version}" }]',
    'version_files = [{ path = "a", spelling = "npm" }]',
    'version_files = [{ path = "a", serch = "{version}" }]',
    'version_files = [{ kind = "pattern" }]',  # no path
    'version_source = "git"',
    'tag_format = "release"',
    "index_timeout = 0",
    'version_files = ["a.py"]\n[email]\nto = []',
    'version_files = ["a.py"]\n[[downstream]]\nrepository = "not a repo"',
    'version_files = ["a.py"]\n[[downstream]]\nrepository = "o/p"\nlables = []',
]


@pytest.mark.parametrize(("body", "good"), [(b, True) for b in GOOD] + [(b, False) for b in BAD])
def test_schema_and_loader_agree(tmp_path: Path, body: str, good: bool) -> None:
    data = tomllib.loads(f'package = "edx-x"\nrepository = "openedx/edx-x"\n{body}\n')
    schema_ok = validator().is_valid(data)
    try:
        config_from_mapping(data, tmp_path)
        loader_ok = True
    except ConfigError:
        loader_ok = False
    assert (schema_ok, loader_ok) == (good, good)
