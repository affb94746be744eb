"""Pytest fixtures for everything that talks to GitHub: the sandbox, and the contract check.

- `sandbox`: a started `Sandbox` in `tmp_path`, on a free port, seeded with the example pair
  (`openedx/edx-proctoring`, `openedx/edx-platform`). Token `sandbox-token-maintainer` is user
  `maintainer`, granted write on both; token `sandbox-token-outsider` is user `outsider`, with
  no grant (it may read, fork, and open pull requests from its fork). `edx-platform-reviewer`
  (seeded) and `second-reviewer` are collaborators of edx-platform, so reviews may be requested
  from them. The `contract` observer is
  always attached, and `git fsck --strict` must pass on every repository when the test ends.
  A test module that sets `SANDBOX_INDEX = True` gets a sandbox that also serves a package
  index over `sandbox.index.directory` (empty until the test publishes into it) at
  `sandbox.index_url`.
- `contract`: validates every response body the sandbox sends, and every request body it
  accepts, against GitHub's OpenAPI description (`tests/data/openapi-subset.json`); the test
  fails at teardown if anything did not conform.
- `github_client`: a factory for PyGithub clients pointed at the sandbox, without throttling or
  hidden retries (a test sees exactly the response the sandbox sent).

Plugin module: conftest.py lists it in `pytest_plugins`.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from release_tool.sandbox import Exchange, Sandbox, seed_example

MAINTAINER = "maintainer"
MAINTAINER_TOKEN = "sandbox-token-maintainer"
OUTSIDER = "outsider"
OUTSIDER_TOKEN = "sandbox-token-outsider"
LIBRARY = "openedx/edx-proctoring"
DOWNSTREAM = "openedx/edx-platform"
TOKENS = {MAINTAINER_TOKEN: MAINTAINER, OUTSIDER_TOKEN: OUTSIDER}
REVIEWER = "edx-platform-reviewer"  # a collaborator of DOWNSTREAM, seeded with the example
GRANTS = ((MAINTAINER, LIBRARY), (MAINTAINER, DOWNSTREAM), ("second-reviewer", DOWNSTREAM))

SPEC_PATH = Path(__file__).parent / "data" / "openapi-subset.json"

# Operations the sandbox serves beyond the subset, with the component schema their success
# response has (None: GitHub's schema for it is not in the subset, so only errors are checked).
_EXTRA: dict[tuple[str, str], str | None] = {
    ("GET", "/users/{username}"): "public-user",
    ("PATCH", "/repos/{owner}/{repo}"): "full-repository",
    ("GET", "/repos/{owner}/{repo}/git/refs"): "git-ref[]",
    ("GET", "/repos/{owner}/{repo}/git/refs/{ref}"): "git-ref",
    ("GET", "/repos/{owner}/{repo}/git/tags/{tag_sha}"): "git-tag",
    ("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}"): None,
    ("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"): None,
    ("GET", "/repos/{owner}/{repo}/actions/runs"): None,
    ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}"): None,
    ("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"): None,
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}"): None,
    # GitHub Apps (not in the subset).
    ("GET", "/app"): None,
    ("GET", "/app/installations"): None,
    ("GET", "/app/installations/{installation_id}"): None,
    ("GET", "/repos/{owner}/{repo}/installation"): None,
    ("POST", "/app/installations/{installation_id}/access_tokens"): None,
    # Served on the uploads host (`/api/uploads/...`).
    ("POST", "/repos/{owner}/{repo}/releases/{release_id}/assets"): "release-asset",
    ("GET", "/repos/{owner}/{repo}/releases/{release_id}/assets"): "release-asset[]",
    ("GET", "/repos/{owner}/{repo}/releases/assets/{asset_id}"): "release-asset",
    ("PATCH", "/repos/{owner}/{repo}/releases/assets/{asset_id}"): "release-asset",
}

# Session totals, for the summary line at the end of the run.
TOTALS = {"responses": 0, "requests": 0, "unchecked": 0}


@functools.cache
def _spec() -> dict[str, Any]:
    return dict(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


@functools.cache
def _validator(schema_json: str) -> Any:
    """A validator for one schema, with `#/components/...` resolving inside the document."""
    root = {"components": _spec()["components"], "allOf": [json.loads(schema_json)]}
    return OAS30Validator(root, format_checker=oas30_format_checker)


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = _spec()["components"][kind][name]
    return node


def _component(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def schema_errors(schema: dict[str, Any], body: Any) -> list[str]:
    """Violations of `body` against one schema of the document ([] means valid)."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = []
    for error in validator.iter_errors(body):
        path = list(error.absolute_path)
        # Known quirk: GitHub sends `head.repo: null` once a pull request's fork is deleted,
        # although the schemas declare it non-nullable.
        if path[-2:] == ["head", "repo"] and error.instance is None:
            continue
        # Known quirk: some error responses are a oneOf of schemas with no required property
        # (basic-error, repository-rule-violation-error), so every body matches all branches.
        if error.validator == "oneOf" and "is valid under each of" in error.message:
            continue
        errors.append(f"{path}: {error.message[:300]}")
    return errors


class Contract:
    """The observer that checks each exchange against the contract, and remembers failures."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.responses_checked = 0
        self.requests_checked = 0
        self.unchecked: list[str] = []

    def __call__(self, exchange: Exchange) -> None:
        where = f"{exchange.method} {exchange.path} → {exchange.status}"
        try:
            problems = self.check(exchange)
        except Exception as exc:  # a broken check must fail the test, not vanish in a thread
            problems = [f"contract check crashed: {exc!r}"]
        self.violations += [f"{where}: {p}" for p in problems]

    def check(self, exchange: Exchange) -> list[str]:
        problems = self._check_response(exchange)
        problems += self._check_request(exchange)
        return problems

    def _operation(self, exchange: Exchange) -> dict[str, Any] | None:
        if exchange.operation is None:
            return None
        path_item = _spec()["paths"].get(exchange.operation, {})
        found = path_item.get(exchange.method.lower())
        return found if isinstance(found, dict) else None

    def _check_response(self, exchange: Exchange) -> list[str]:
        status, body = exchange.status, exchange.body
        problems = []
        # GitHub's error bodies always carry both, whatever the schema requires.
        complete = isinstance(body, dict) and {"message", "documentation_url"} <= body.keys()
        if status >= 400 and not complete:
            problems.append(f"error body lacks message/documentation_url: {body!r:.200}")
        schema = self._response_schema(exchange)
        if schema is None:
            if body is not None and status < 400:
                self.unchecked.append(f"{exchange.method} {exchange.operation} {status}")
                TOTALS["unchecked"] += 1
            return problems
        if body is None:
            return [*problems, "the contract documents a JSON body, none was sent"]
        self.responses_checked += 1
        TOTALS["responses"] += 1
        return problems + schema_errors(schema, body)

    def _response_schema(self, exchange: Exchange) -> dict[str, Any] | None:
        status = exchange.status
        op = self._operation(exchange)
        if op is None:
            extra = _EXTRA.get((exchange.method, exchange.operation or ""))
            if status >= 400 or status in (301, 307):
                return _component("validation-error" if status == 422 else "basic-error")
            if extra and extra.endswith("[]"):
                return {"type": "array", "items": _component(extra.removesuffix("[]"))}
            return _component(extra) if extra else None
        response = op["responses"].get(str(status))
        if response is None:
            # A renamed repository's redirect, which GitHub sends on any of its operations.
            if status >= 400 or status in (301, 307):  # not listed: GitHub's error shape
                return _component("validation-error" if status == 422 else "basic-error")
            if exchange.body is not None:
                return {"not": {}, "description": f"status {status} is not documented"}
            return None
        content = _deref(response).get("content", {}).get("application/json")
        if content is None:
            return None
        schema: dict[str, Any] = content["schema"]
        # Known quirk: a directory listing is an array, which the oneOf's discriminator cannot
        # handle; validate it against the directory schema itself.
        if exchange.operation == "/repos/{owner}/{repo}/contents/{path}" and isinstance(
            exchange.body, list
        ):
            return _component("content-directory")
        return schema

    def _check_request(self, exchange: Exchange) -> list[str]:
        """A request body the sandbox *accepted* must conform: otherwise either the client
        sends what GitHub would refuse, or the sandbox is more lenient than GitHub."""
        if exchange.request_body is None or exchange.status >= 400:
            return []
        op = self._operation(exchange)
        if op is None or "requestBody" not in op:
            return []
        content = _deref(op["requestBody"])["content"].get("application/json")
        if content is None:
            return []
        self.requests_checked += 1
        TOTALS["requests"] += 1
        return [f"request {e}" for e in schema_errors(content["schema"], exchange.request_body)]


@pytest.fixture
def contract() -> Iterator[Contract]:
    checker = Contract()
    yield checker
    if checker.violations:
        pytest.fail(
            "the sandbox broke GitHub's contract:\n  " + "\n  ".join(checker.violations),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def _seeded_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example pair, built once per session; each test gets a copy of it."""
    root = tmp_path_factory.mktemp("sandbox-seed") / "root"
    with pytest.MonkeyPatch.context() as patch:
        # Session-scoped, so conftest's per-test git isolation is not in force yet.
        patch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        seed_example(root)
    return root


@pytest.fixture
def sandbox(
    request: pytest.FixtureRequest, tmp_path: Path, _seeded_root: Path, contract: Contract
) -> Iterator[Sandbox]:
    root = tmp_path / "sandbox"
    shutil.copytree(_seeded_root, root, symlinks=True)
    index = None
    if getattr(request.module, "SANDBOX_INDEX", False):
        index = tmp_path / "index"
        index.mkdir()
    with Sandbox(root, tokens=TOKENS, grants=GRANTS, observer=contract, index=index) as running:
        yield running
    broken = fsck_problems(running)
    if broken:
        pytest.fail(
            "git fsck failed on the sandbox's repositories:\n" + "\n".join(broken), pytrace=False
        )


def fsck_problems(sandbox: Sandbox) -> list[str]:
    """`git fsck --strict` over every repository of the sandbox: whatever the API wrote must be
    sound git."""
    problems = []
    for full_name in sandbox.repositories():
        result = subprocess.run(
            ["git", "fsck", "--strict", "--no-progress"],
            cwd=sandbox.repository_path(full_name),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            problems.append(f"{full_name}: {result.stdout}{result.stderr}".strip())
    return problems


@pytest.fixture
def github_client(sandbox: Sandbox) -> Callable[..., Any]:
    """`github_client(token=MAINTAINER_TOKEN, **kwargs)` → a `github.Github` on the sandbox.

    No throttling, and `retry=None` unless given: PyGithub's default retry would hide a fault
    (retrying a 5xx) or sleep an hour (waiting out a rate limit)."""
    import github

    def make(token: str | None = MAINTAINER_TOKEN, **kwargs: Any) -> Any:
        kwargs.setdefault("retry", None)
        auth = github.Auth.Token(token) if token else None
        return github.Github(
            base_url=sandbox.api_url,
            auth=auth,
            seconds_between_requests=0,
            seconds_between_writes=0,
            **kwargs,
        )

    return make


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TOTALS["responses"]:
        terminalreporter.write_line(
            f"sandbox contract: {TOTALS['responses']} responses and {TOTALS['requests']} "
            f"request bodies validated against GitHub's OpenAPI description "
            f"({TOTALS['unchecked']} responses of operations outside the subset unchecked)"
        )
