"""The downstream step: upgrade the released package's pins in each downstream repository.

For each `[[tool.release_tool.downstream]]` entry, with no clone and reads only while planning,
the step reads the base branch a directory at a time through the GitHub API and plans one
action: a commit through the Git Data API and a pull request opened or updated in place, of
the files the downstream's own resolver re-resolved (`strategy = "relock"`, uv or pip-tools)
or of the pin lines edited (`strategy = "edit"`); or a run of the downstream's own upgrade
workflow (`strategy = "dispatch"`).

The package, from the bottom up (a module imports only those above it in this list):

- `objects`: git object ids computed locally (a blob's, a root tree's after edits);
- `reads`: where an entry's change goes (`resolve_target`: the repository under its
  canonical name, or the token user's fork) and the base commit's files, read a directory
  at a time (`BaseFiles`);
- `metadata`: the library on its package index (`PackageIndex`: listed yet, waiting, the
  dependencies a release declares) and the `edit` strategy's `DependencyCheck`;
- `pins`: which files pin the package and how they change (`read_pins`, `FileChange`), and
  the tree the PR's commit must have (`expected_tree`);
- `review`: what the PR tells reviewers (every skipped release's notes, a major jump) and
  who may review it;
- `actions`: the frozen actions that write (`DownstreamPRAction`: tree, commit, branch, PR,
  labels, reviewers);
- `dispatch`: the `dispatch` strategy (`plan_dispatch`, `DispatchWorkflowAction`: the
  workflow run, followed to its PR);
- `upgrade`: what is rolled out (`Upgrade`);
- `pr`: what is rolled out (`Upgrade`), the PR's texts, and `pr_action` (the PR action for a
  set of file changes, an open PR checked for being current);
- `relock`: the `relock` strategy (lock inputs, the resolver, `RelockAction` when it must
  resolve at apply time);
- `plan`: the step's plan (`plan_downstream`: choosing the strategy, `edit`, `dispatch` and
  `relock`);
- `status`: `downstream_status`, for `release-tool status` (reads only: `reads`, `pins`, and
  `relock` to read what a relocked downstream locks).
"""

from release_tool.downstream.actions import STEP, DownstreamPRAction
from release_tool.downstream.dispatch import DispatchWorkflowAction
from release_tool.downstream.metadata import PackageIndex
from release_tool.downstream.objects import tree_sha_after
from release_tool.downstream.plan import RelockSettings, Upgrade, plan_downstream
from release_tool.downstream.relock import RelockAction
from release_tool.downstream.status import downstream_status

__all__ = [
    "STEP",
    "DispatchWorkflowAction",
    "DownstreamPRAction",
    "PackageIndex",
    "RelockAction",
    "RelockSettings",
    "Upgrade",
    "downstream_status",
    "plan_downstream",
    "tree_sha_after",
]
