"""The downstream step: upgrade the released package's pins in each downstream repository.

For each `[[tool.release_tool.downstream]]` entry, with no clone and reads only while planning,
the step reads the base branch a directory at a time through the GitHub API, edits the pin
lines, and plans one action: a commit through the Git Data API and a pull request opened or
updated in place (`strategy = "edit"`), or a run of the downstream's own upgrade workflow
(`strategy = "dispatch"`).

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
- `plan`: the step's plan (`Upgrade`, `plan_downstream`: the `edit` and `dispatch`
  strategies);
- `status`: `downstream_status`, for `release-tool status` (uses `reads` and `pins` only).
"""

from release_tool.downstream.actions import STEP, DownstreamPRAction
from release_tool.downstream.dispatch import DispatchWorkflowAction
from release_tool.downstream.metadata import PackageIndex
from release_tool.downstream.objects import tree_sha_after
from release_tool.downstream.plan import Upgrade, plan_downstream
from release_tool.downstream.status import downstream_status

__all__ = [
    "STEP",
    "DispatchWorkflowAction",
    "DownstreamPRAction",
    "PackageIndex",
    "Upgrade",
    "downstream_status",
    "plan_downstream",
    "tree_sha_after",
]
