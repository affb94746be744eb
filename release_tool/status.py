"""`release-tool status`: where the current version stands, gathered with reads only.

It shows every file's version (and whether they agree) — or, for a project whose version comes
from tags, the last release tag reachable from HEAD — the last release tag (the highest version
among the tags reachable from HEAD), the tags that name no version, and which of the release's
results already exist for the current version — under the tag that exists, in whichever
spelling (`4.18.4` or `v4.18.4`). It never fails on a disagreement or an unreachable remote:
showing those is its job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from release_tool.errors import ReleaseError
from release_tool.project import FileVersion, Project, last_release, other_tags, release_tag
from release_tool.steps.files import last_reachable_release, read_file_versions, version_source
from release_tool.versions import Version


@dataclass(frozen=True)
class StatusReport:
    package: str
    files: tuple[FileVersion, ...]
    agree: bool
    last_tag: str | None
    last_version: str | None
    tag: str | None  # the current version's tag, when the files agree
    done: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (what, state)
    source: str = "files"  # where the current version comes from: "files" or "tag"
    current: str | None = None  # the current version, when there is one
    other_tags: tuple[str, ...] = ()  # tags that name no release version: ignored

    def lines(self) -> list[str]:
        out = [f"{self.package}", ""]
        if self.files:
            width = max(len(f"{f.path} ({f.where})") for f in self.files)
            out += [f"  {f'{f.path} ({f.where})':<{width}}  {f.text}" for f in self.files]
            out.append("")
        if self.source == "tag":
            out.append(
                f"  version from tags: {self.current or 'no release tag reachable from HEAD'}"
                + ("" if self.agree else "; the files follow it at the next release")
            )
        else:
            out.append(
                "  files agree"
                if self.agree
                else "  files DISAGREE: run "
                "`release-tool bump VERSION --sync` to bring them to one version"
            )
        out.append(
            f"  last release tag: {self.last_tag or 'none'}"
            + (f" ({self.last_version})" if self.last_version else "")
        )
        if self.other_tags:
            shown = ", ".join(self.other_tags[:10])
            more = f" and {len(self.other_tags) - 10} more" if len(self.other_tags) > 10 else ""
            out.append(f"  tags that name no version (ignored): {shown}{more}")
        if self.tag:
            out.append(f"  for {self.tag}:")
            name_width = max(len(what) for what, _ in self.done)
            out += [f"    {what:<{name_width}}  {state}" for what, state in self.done]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "files": [
                {"path": f.path, "where": f.where, "line": f.line, "version": f.text}
                for f in self.files
            ],
            "agree": self.agree,
            "last_release": {"tag": self.last_tag, "version": self.last_version},
            "tag": self.tag,
            "done": dict(self.done),
            "version_source": self.source,
            "current": self.current,
            "other_tags": list(self.other_tags),
        }


def collect_status(project: Project) -> StatusReport:
    config, repo = project.config, project.repo
    found = read_file_versions(project)
    source = version_source(project)
    versions = {f.version for f in found}
    reachable = last_reachable_release(project) if source == "tag" else None
    local = repo.local_tags()
    remote_tags: dict[str, str] | None
    try:
        remote_tags = dict(repo.ls_remote(config.remote, project.network_timeout).tags)
    except ReleaseError:
        remote_tags = None
    head = repo.head_sha()
    merged = repo.local_tags(merged="HEAD")
    # A remote tag on HEAD counts too (a clone that has not fetched it).
    merged.update({t: sha for t, sha in (remote_tags or {}).items() if sha == head})
    last = last_release(config, merged)
    if source == "tag":
        agree = versions <= {reachable[1]} if reachable else len(versions) <= 1
        versions = {reachable[1]} if reachable else set()
    else:
        agree = len(versions) == 1
    tag = (
        release_tag(config, next(iter(versions)), local, remote_tags or {})
        if len(versions) == 1
        else None
    )
    if reachable:
        tag = reachable[0]
    done: list[tuple[str, str]] = []
    if tag:
        at = local.get(tag)
        done.append(
            ("local tag", "absent" if at is None else "at HEAD" if at == head else f"on {at[:12]}")
        )
        if remote_tags is None:
            done.append((f"tag on {config.remote}", "unknown (remote unreachable)"))
        else:
            rt = remote_tags.get(tag)
            done.append(
                (
                    f"tag on {config.remote}",
                    "absent" if rt is None else "at HEAD" if rt == head else f"on {rt[:12]}",
                )
            )
        version = next(iter(versions))
        done += remote_status(project, version, tag)
        done += _email_rows(project, version)
    return StatusReport(
        config.package,
        tuple(found),
        agree,
        last[0] if last else None,
        str(last[1]) if last else None,
        tag,
        tuple(done),
        source,
        str(next(iter(versions))) if len(versions) == 1 else None,
        tuple(other_tags(config, {**local, **(remote_tags or {})})),
    )


def remote_status(project: Project, version: Version, tag: str) -> list[tuple[str, str]]:
    """(what, state) rows: the GitHub release, and each downstream's PR. Reads only; a failure
    is shown as the state (status never fails on what it is there to report)."""
    if not project.token:
        return [("github release", "unknown (no GitHub token: set GITHUB_TOKEN)")]
    from release_tool.downstream import downstream_status  # PyGithub only with a token
    from release_tool.steps.base import Remote

    config = project.config
    gh = Remote(project).github()
    try:
        release = gh.release_by_tag(config.repository, tag, drafts=True)
        if release is None:
            state = "absent"
        else:
            kind = "draft" if release.draft else "published"
            pre = " pre-release" if release.prerelease else ""
            state = f"{kind}{pre} {release.html_url}"
    except ReleaseError as exc:
        state = f"unknown ({exc.message})"
    return [("github release", state), *downstream_status(gh, config, version)]


def _email_rows(project: Project, version: Version) -> list[tuple[str, str]]:
    config = project.config.email
    if config is None:
        return []
    from release_tool.email import SENT_RECORD, draft_path_for, sent_record

    draft = draft_path_for(config, project.root, version.pep440)
    sent = sent_record(draft.parent / SENT_RECORD, project.config.package, version.pep440)
    rows = [("email draft", str(draft.relative_to(project.root)) if draft.is_file() else "absent")]
    rows.append(("email sent", f"yes (Message-ID {sent})" if sent else "no"))
    return rows
