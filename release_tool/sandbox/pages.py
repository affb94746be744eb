"""Small HTML pages for the sandbox's web URLs, so that what a rehearsal prints opens in a browser.

GitHub's API hands out `html_url`s; the sandbox answers them with plain pages (no script):

- `/OWNER/NAME`: the repository: branches, tags, releases, pull requests;
- `/OWNER/NAME/tree/REF`: a tag or a branch: its commit, the tag's message, the files;
- `/OWNER/NAME/releases/tag/TAG`: the release, its notes rendered from Markdown;
- `/OWNER/NAME/pull/N`: the pull request: title, state, branches, labels, reviewers, body
  and the diff;
- any page added with `Sandbox.add_page` (a rehearsal's email draft: `email_html`).

Markdown is rendered with raw HTML disabled, and every other text is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from urllib.parse import unquote

from release_tool.sandbox.access import is_full_name
from release_tool.sandbox.state import State
from release_tool.sandbox.store import GitError, GitStore

MAX_FILES = 300  # files listed on a tree page
MAX_DIFF = 400_000  # characters of a PR's diff shown

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 60em; padding: 0 1em; color: #1f2328; }
header { border-bottom: 1px solid #d0d7de; margin-bottom: 1em; color: #59636e; }
h1 { font-size: 1.6em; } code, pre { font-family: ui-monospace, Menlo, monospace; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; border-radius: 6px; }
.label { background: #0969da; color: #fff; border-radius: 1em; padding: 0 .6em; }
.add { color: #116329; background: #e6ffec; display: block; }
.del { color: #82071e; background: #ffebe9; display: block; }
.hunk { color: #0550ae; display: block; }
dt { font-weight: 600; } dd { margin: 0 0 .6em 0; }
.body { border: 1px solid #d0d7de; border-radius: 6px; padding: 0 1em; }
"""


@dataclass(frozen=True)
class Page:
    status: int
    html: str


def document(title: str, body: str, where: str = "") -> str:
    """A whole page around `body` (already HTML)."""
    crumb = f"<header>release-tool sandbox · {html.escape(where)}</header>" if where else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{crumb}<main>{body}</main></body></html>\n"
    )


def markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark", {"html": False}).render(text))


def _e(text: object) -> str:
    return html.escape(str(text))


def _link(href: str, text: str) -> str:
    return f'<a href="{_e(href)}">{_e(text)}</a>'


def render(store: GitStore, state: State, extra: dict[str, str], path: str) -> Page | None:
    """The page for a web `path`, or None when it is not one of the sandbox's pages."""
    if path in extra:
        return Page(200, extra[path])
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if len(parts) < 2:
        return None
    full_name = "/".join(parts[:2])
    if not is_full_name(full_name):
        return None
    found = store.canonical(full_name)
    if found is None:
        return None
    rest = parts[2:]
    if not rest:
        return Page(200, _repository(store, state, found))
    if rest[0] == "tree" and len(rest) >= 2:
        return _tree(store, found, "/".join(rest[1:]))
    if rest[:2] == ["releases", "tag"] and len(rest) >= 3:
        return _release(state, found, "/".join(rest[2:]))
    if rest[0] == "pull" and len(rest) == 2 and rest[1].isdigit():
        return _pull(store, state, found, int(rest[1]))
    return None


def _not_found(what: str, where: str) -> Page:
    return Page(404, document("Not found", f"<h1>Not found</h1><p>{_e(what)}</p>", where))


def _repository(store: GitStore, state: State, full_name: str) -> str:
    base = f"/{full_name}"
    branches = [r.removeprefix("refs/heads/") for r, _, _ in store.refs(full_name, "refs/heads/")]
    tags = [r.removeprefix("refs/tags/") for r, _, _ in store.refs(full_name, "refs/tags/")]
    items = [
        ("Default branch", _e(store.default_branch(full_name))),
        ("Branches", ", ".join(_link(f"{base}/tree/{b}", b) for b in branches) or "none"),
        ("Tags", ", ".join(_link(f"{base}/tree/{t}", t) for t in tags) or "none"),
        (
            "Releases",
            ", ".join(
                _link(f"{base}/releases/tag/{r.tag_name}", r.name or r.tag_name)
                + (" (draft)" if r.draft else "")
                for r in state.releases(full_name)
            )
            or "none",
        ),
        (
            "Pull requests",
            ", ".join(
                _link(f"{base}/pull/{p.number}", f"#{p.number} {p.title}") + f" ({p.state})"
                for p in state.pulls(full_name)
            )
            or "none",
        ),
    ]
    body = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in items)
    return document(full_name, f"<h1>{_e(full_name)}</h1><dl>{body}</dl>", full_name)


def _tree(store: GitStore, full_name: str, ref: str) -> Page:
    commit_sha = store.resolve_commit(full_name, ref)
    if commit_sha is None:
        return _not_found(f"{ref} is not a branch, tag or commit of {full_name}", full_name)
    commit = store.commit(full_name, commit_sha)
    items = [("Commit", f"<code>{_e(commit_sha)}</code>")]
    tag_ref = store.ref(full_name, f"refs/tags/{ref}")
    if tag_ref is not None and tag_ref[1] == "tag":
        tag = store.tag(full_name, tag_ref[0])
        if tag is not None:
            items.append(("Tag message", f"<pre>{_e(tag.message)}</pre>"))
    if commit is not None:
        items.append(("Commit message", f"<pre>{_e(commit.message)}</pre>"))
    names = store.git(full_name, "ls-tree", "-r", "--name-only", "-z", commit_sha).decode()
    files = [n for n in names.split("\0") if n]
    shown = "".join(f"<li><code>{_e(n)}</code></li>" for n in files[:MAX_FILES])
    more = f"<p>and {len(files) - MAX_FILES} more</p>" if len(files) > MAX_FILES else ""
    body = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in items)
    title = f"{full_name} at {ref}"
    page = (
        f"<h1>{_link('/' + full_name, full_name)} at <code>{_e(ref)}</code></h1>"
        f"<dl>{body}</dl><h2>Files ({len(files)})</h2><ul>{shown}</ul>{more}"
    )
    return Page(200, document(title, page, full_name))


def _release(state: State, full_name: str, tag: str) -> Page:
    found = [r for r in state.releases(full_name) if r.tag_name == tag]
    if not found:
        return _not_found(f"no release for {tag} in {full_name}", full_name)
    release = next((r for r in found if not r.draft), found[0])
    flags = [f for f, on in (("draft", release.draft), ("pre-release", release.prerelease)) if on]
    meta = (
        f"<p>Tag {_link(f'/{full_name}/tree/{tag}', tag)} · by {_e(release.author)}"
        + (f" · {', '.join(flags)}" if flags else "")
        + "</p>"
    )
    body = f"<div class='body'>{markdown(release.body or '')}</div>"
    title = release.name or tag
    page = f"<h1>{_e(title)}</h1>{meta}<h2>Release notes</h2>{body}"
    return Page(200, document(f"{title} · {full_name}", page, full_name))


def _pull(store: GitStore, state: State, full_name: str, number: int) -> Page:
    pull = state.pull(full_name, number)
    if pull is None:
        return _not_found(f"no pull request #{number} in {full_name}", full_name)
    head = pull.head_ref if pull.head_repo == full_name else f"{pull.head_repo}:{pull.head_ref}"
    items = [
        ("State", _e(pull.state)),
        ("Author", _e(pull.user)),
        ("Branches", f"<code>{_e(head)}</code> → <code>{_e(pull.base_ref)}</code>"),
        ("Labels", " ".join(f"<span class='label'>{_e(x)}</span>" for x in pull.labels) or "none"),
        ("Reviewers", _e(", ".join(pull.reviewers)) or "none"),
    ]
    meta = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in items)
    diff = _diff(store, full_name, pull.head_repo, pull.base_ref, pull.head_sha)
    page = (
        f"<h1>{_e(pull.title)} <small>#{number}</small></h1><dl>{meta}</dl>"
        f"<h2>Description</h2><div class='body'>{markdown(pull.body or '')}</div>"
        f"<h2>Files changed</h2>{diff}"
    )
    return Page(200, document(f"{pull.title} · {full_name}#{number}", page, full_name))


def _diff(store: GitStore, full_name: str, head_repo: str, base_ref: str, head: str) -> str:
    base = store.ref(full_name, f"refs/heads/{base_ref}")
    text = None
    for repo in dict.fromkeys((full_name, head_repo)):
        if base is None or not store.exists(repo):
            continue
        try:
            text = store.git(repo, "diff", f"{base[0]}...{head}").decode(errors="replace")
            break
        except GitError:
            continue
    if text is None:
        return "<p>(the diff is not available)</p>"
    if len(text) > MAX_DIFF:
        text = text[:MAX_DIFF] + "\n… (cut)"
    lines = []
    for line in text.splitlines():
        kind = ""
        if line.startswith("+") and not line.startswith("+++"):
            kind = "add"
        elif line.startswith("-") and not line.startswith("---"):
            kind = "del"
        elif line.startswith("@@"):
            kind = "hunk"
        # A block span ends its own line; a plain line needs its newline.
        lines.append(f"<span class='{kind}'>{_e(line)}</span>" if kind else _e(line) + "\n")
    return f"<pre class='diff'>{''.join(lines)}</pre>"


def email_html(message: bytes) -> str:
    """An .eml draft as a page: its headers and its text part."""
    parsed = BytesParser(policy=policy.default).parsebytes(message)
    headers = "".join(
        f"<dt>{_e(name)}</dt><dd>{_e(parsed[name])}</dd>"
        for name in ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID")
        if parsed[name]
    )
    plain = parsed.get_body(("plain",))
    text = plain.get_content() if plain is not None else ""
    subject = str(parsed["Subject"] or "(no subject)")
    page = f"<h1>{_e(subject)}</h1><dl>{headers}</dl><h2>Text</h2><pre>{_e(text)}</pre>"
    return document(f"Email draft: {subject}", page, "email draft")
