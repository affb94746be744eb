"""release_tool: one pipeline for a library release.

    recover → preflight → bump → commit → tag → push ──► github-release → wait-for-index
    → downstream → email

planned first and shown in full, then applied; a re-run after a failure converges instead of
duplicating. A map of the package, top layer first (import-linter enforces the layers:
`[tool.importlinter]` in pyproject.toml):

- `cli/` — the only package that reads argv and the environment, prints and picks exit codes
  (`app` the group, `commands/` one module per command family, `run` exceptions → exit
  codes, `console` the output, `show` plans and results, `options` the arguments).
- `rehearsal`, `status`, `init` — the whole pipeline against the sandbox; where a version
  stands; a starting configuration from what the repository shows.
- `apply` — applies a plan's actions in order with an explicit `plan.RunState`, under the
  release lock; rolls back before the push. A dry run never imports it.
- `pipeline` — walks `steps.REGISTRY` and plans every selected step; the one place
  --skip/--only/--local are read.
- `steps/` — one module per step (`recover`, `preflight`, `bump`, `commit`, `tag`, `push`,
  `github_release`, `wait_for_index`, `downstream`, `email`), each `plan(ctx) -> StepPlan`.
- features — `downstream/` (the PR, no clone), `email/` (notes → HTML, message, SMTP,
  actions), `github_api` (the only PyGithub user), `index_wait`, `resolvers/` (uv, pip-tools),
  `gha` (GitHub Actions output).
- `project` — the leaf model: `Project`, `Bump`, `ReleaseRequest`, `Facts`, tag helpers.
- `git_repo` — the only module that runs git; the release lock and its crash journal.
- editors — `files/` (one editor per version-file kind), `changelog`, `rendering` (Jinja2).
- `plan` — `Action` (describe, details, data, apply), `Outcome`, `RunState`, `StepPlan`,
  `ReleasePlan`.
- `config`, `versions`, `errors` — the typed configuration, the version model, the one
  exception family.
- `sandbox/` — the embedded GitHub and package index; it stands apart from the product.
"""

__version__ = "0.1.0"
