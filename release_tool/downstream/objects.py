"""Git object ids computed locally: the sha of a blob, and of a root tree once files are replaced.

Pure (no requests): it lets the plan decide whether an open PR's commit already holds the edits
from the few non-recursive trees on the changed paths, whatever the repository's size.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Mapping

from release_tool.github_api import TreeEntry


def git_blob_sha(data: bytes) -> str:
    """The object id git gives a blob with this content."""
    return _git_object_sha("blob", data)


def _git_object_sha(kind: str, data: bytes) -> str:
    # SHA-1 is git's object naming here, not a security measure.
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def tree_sha_after(entries: Iterable[TreeEntry], changes: Mapping[str, bytes]) -> str:
    """The sha of the root tree listed by `entries` once the files in `changes` are replaced.

    `entries` (paths from the root) must list every directory on a changed path completely,
    the root included: a recursive listing does, and so do the non-recursive listings of just
    those directories. Only the trees on the changed paths are rebuilt; every other tree keeps
    the sha GitHub listed.
    """
    children: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for entry in entries:
        parent, name = posixpath.split(entry.path)
        children.setdefault(parent, {})[name] = (entry.mode, entry.sha)
        if entry.type == "tree":
            children.setdefault(entry.path, {})
    dirty: set[str] = set()
    for path, data in changes.items():
        parent, name = posixpath.split(path)
        mode = children.get(parent, {}).get(name, ("100644", ""))[0]
        children.setdefault(parent, {})[name] = (mode, git_blob_sha(data))
        while True:
            dirty.add(parent)
            if not parent:
                break
            parent = posixpath.dirname(parent)
    for directory in sorted(dirty, key=lambda d: d.count("/") + bool(d), reverse=True):
        sha = _tree_object_sha(children[directory])
        if directory:
            parent, name = posixpath.split(directory)
            children[parent][name] = ("040000", sha)
        else:
            return sha
    return _tree_object_sha(children[""])


def _tree_object_sha(items: Mapping[str, tuple[str, str]]) -> str:
    def sort_key(name: str) -> bytes:
        # git sorts a tree's entries by name, comparing a subtree's name as if it ended in '/'.
        is_tree = items[name][0] in ("040000", "40000")
        return (name + "/" if is_tree else name).encode()

    body = b"".join(
        f"{items[name][0].lstrip('0')} {name}".encode() + b"\0" + bytes.fromhex(items[name][1])
        for name in sorted(items, key=sort_key)
    )
    return _git_object_sha("tree", body)
