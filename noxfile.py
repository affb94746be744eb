"""Sessions: tests, lint, typecheck, release, rehearse, bench.

Each session installs the tool non-editably into its own environment, so what is tested,
released and measured is what `pip install` gives a user (templates included).
"""

from __future__ import annotations

import glob

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (real git, the sandbox, a loopback SMTP server)."""
    session.install(".[test]")
    session.run("pytest", "-n", "auto", "--dist", "loadfile", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format); the layer contracts (import-linter); the workflows, the example
    workflows and the action (action.yml): schema (check-jsonschema) and security (zizmor)."""
    session.install(".", "ruff", "import-linter", "check-jsonschema", "zizmor")
    session.run("ruff", "check", "release_tool", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "release_tool", "tests", "benchmarks", "noxfile.py")
    session.run("lint-imports")
    # session.run does not expand globs; the schema check wants each file named. The example
    # workflows in docs/examples are held to the same rules as the real ones.
    workflows = sorted(glob.glob(".github/workflows/*.yml") + glob.glob("docs/examples/*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml")
    # --offline: no GitHub token in CI or on a laptop; findings below medium are advice.
    zizmor = ["zizmor", "--offline", "--min-severity", "medium"]
    session.run(*zizmor, ".github/workflows/", "action.yml", *glob.glob("docs/examples/*.yml"))


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the tests and the benchmarks (pyproject's [tool.mypy])."""
    session.install(".[dev]")
    session.run("mypy")


@nox.session
def release(session: nox.Session) -> None:
    """The real release from a maintainer's machine: nox -s release -- BUMP [options]."""
    if not session.posargs:
        session.error("usage: nox -s release -- BUMP [--dry-run] [--yes] …")
    session.install(".")
    session.run("release-tool", "release", *session.posargs, external=False)


@nox.session
def rehearse(session: nox.Session) -> None:
    """The full pipeline against the embedded sandbox: nox -s rehearse -- [BUMP|--example]."""
    session.install(".")
    session.run("release-tool", "rehearse", *(session.posargs or ["--example"]))


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against tbump and bump-my-version; writes benchmarks/results/."""
    # tbump 6.10+ pins tomlkit<0.12, which release-tool cannot share an environment with.
    session.install(".", "tbump==6.9.0", "bump-my-version==1.8.1")
    session.run("python", "benchmarks/run.py", *session.posargs)
