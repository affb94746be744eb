"""The sandbox package index over HTTP: PEP 503 HTML, PEP 691 JSON, PEP 658/714 metadata,
hashes, name normalisation, a directory read per request; pip and uv install from it; the tiny
wheels and sdists are deterministic and the sdist builds offline into the same wheel."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from index_support import hermetic_env

from release_tool import sandbox as sb
from release_tool.sandbox import wheels
from release_tool.sandbox.index import JSON_TYPE, IndexServer, negotiate

JSON_ACCEPT = {"Accept": JSON_TYPE}


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def index(index_dir: Path) -> Iterator[IndexServer]:
    with IndexServer(index_dir) as server:
        yield server


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_html_page_links_each_file_with_its_sha256_and_metadata_hash(
    index: IndexServer, index_dir: Path
) -> None:
    wheel, sdist = wheels.publish(
        index_dir, "Edx.Proctoring", "5.3.0", ["pyjwt>=2"], requires_python=">=3.11"
    )
    status, headers, body = get(index.url + "edx-proctoring/")
    assert status == 200
    assert headers["Content-Type"].startswith("application/vnd.pypi.simple.v1+html")
    page = body.decode()
    links = re.findall(r'<a href="([^"#]+)#sha256=([0-9a-f]{64})"([^>]*)>([^<]+)</a>', page)
    assert [name for _, _, _, name in links] == [wheel.name, sdist.name]
    for href, digest, attributes, name in links:
        assert digest == hashlib.sha256((index_dir / name).read_bytes()).hexdigest()
        status, _, data = get(urllib.parse.urljoin(index.url + "edx-proctoring/", href))
        assert status == 200 and hashlib.sha256(data).hexdigest() == digest
        assert 'data-requires-python="&gt;=3.11"' in attributes or name == sdist.name
    # PEP 658/714: the wheel announces its metadata under both names, with the file's hash.
    wheel_attributes = links[0][2]
    status, _, metadata = get(index.url.replace("/simple/", "/files/") + wheel.name + ".metadata")
    assert status == 200
    with zipfile.ZipFile(wheel) as archive:
        assert metadata == archive.read("edx_proctoring-5.3.0.dist-info/METADATA")
    digest = hashlib.sha256(metadata).hexdigest()
    assert f'data-dist-info-metadata="sha256={digest}"' in wheel_attributes
    assert f'data-core-metadata="sha256={digest}"' in wheel_attributes
    assert b"Requires-Dist: pyjwt>=2" in metadata
    # An sdist has no separate metadata file.
    assert "data-core-metadata" not in links[1][2]
    assert get(index.url.replace("/simple/", "/files/") + sdist.name + ".metadata")[0] == 404


def test_json_page_by_content_negotiation(index: IndexServer, index_dir: Path) -> None:
    wheels.publish(index_dir, "lib", "1.0")
    wheels.publish(index_dir, "lib", "1.10", ["newdep"], sdist=False)
    wheels.publish(index_dir, "lib", "1.2", sdist=False)
    status, headers, body = get(index.url + "lib/", JSON_ACCEPT)
    assert status == 200 and headers["Content-Type"] == JSON_TYPE
    assert headers["Vary"] == "Accept"
    page = json.loads(body)
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "lib"
    assert page["versions"] == ["1.0", "1.2", "1.10"]  # PEP 440 order, not text order
    by_name = {f["filename"]: f for f in page["files"]}
    wheel = by_name["lib-1.10-py3-none-any.whl"]
    assert (
        wheel["hashes"]["sha256"]
        == hashlib.sha256((index_dir / wheel["filename"]).read_bytes()).hexdigest()
    )
    assert wheel["size"] == (index_dir / wheel["filename"]).stat().st_size
    assert wheel["core-metadata"] == wheel["dist-info-metadata"]
    _, _, metadata = get(urllib.parse.urljoin(index.url + "lib/", wheel["url"]) + ".metadata")
    assert wheel["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
    assert by_name["lib-1.0.tar.gz"]["core-metadata"] is False
    # The project list, in JSON and in HTML.
    _, _, root = get(index.url, JSON_ACCEPT)
    assert json.loads(root)["projects"] == [{"name": "lib"}]
    _, _, root_html = get(index.url)
    assert b'<a href="lib/">lib</a>' in root_html


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", "application/vnd.pypi.simple.v1+html"),
        ("*/*", "application/vnd.pypi.simple.v1+html"),
        ("text/html", "text/html"),
        (f"text/html;q=0.5, {JSON_TYPE}", JSON_TYPE),
        (
            f"{JSON_TYPE};q=0.1, application/vnd.pypi.simple.v1+html;q=0.9",
            "application/vnd.pypi.simple.v1+html",
        ),
        (
            f"application/vnd.pypi.simple.latest+json, {JSON_TYPE};q=0.2, text/html;q=0.01",
            JSON_TYPE,
        ),
        ("application/xml", None),
        (f"{JSON_TYPE};q=0", None),
    ],
)
def test_negotiation_follows_pep_691(accept: str, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_unacceptable_type_is_406_and_format_parameter_wins(
    index: IndexServer, index_dir: Path
) -> None:
    wheels.publish(index_dir, "lib", "1.0")
    assert get(index.url + "lib/", {"Accept": "application/xml"})[0] == 406
    status, headers, _ = get(index.url + "lib/?format=" + JSON_TYPE, {"Accept": "text/html"})
    assert status == 200 and headers["Content-Type"] == JSON_TYPE


def test_names_are_normalised_and_redirected(index: IndexServer, index_dir: Path) -> None:
    wheels.publish(index_dir, "My_Lib.Extra", "1.0")
    _, _, root = get(index.url, JSON_ACCEPT)
    assert json.loads(root)["projects"] == [{"name": "my-lib-extra"}]
    for spelling in ("My_Lib.Extra/", "my-lib-extra", "MY--lib__extra/"):
        request = urllib.request.Request(index.url + spelling, headers=JSON_ACCEPT)
        with urllib.request.urlopen(request, timeout=10) as response:  # follows the 301
            assert response.url == index.url + "my-lib-extra/"
            assert json.load(response)["name"] == "my-lib-extra"
    assert ("GET", "/simple/My_Lib.Extra/", 301) in index.requests
    assert get(index.url + "nothing-here/")[0] == 404


def test_a_file_published_later_is_listed(index: IndexServer, index_dir: Path) -> None:
    wheels.publish(index_dir, "lib", "1.0")
    _, _, before = get(index.url + "lib/", JSON_ACCEPT)
    assert json.loads(before)["versions"] == ["1.0"]
    wheels.publish(index_dir, "lib", "1.1")
    wheels.publish(index_dir, "newdep", "0.1")
    _, _, after = get(index.url + "lib/", JSON_ACCEPT)
    assert json.loads(after)["versions"] == ["1.0", "1.1"]
    assert get(index.url + "newdep/")[0] == 200
    # A half-written file (hidden while written) and other files are not listed.
    (index_dir / ".lib-1.2-py3-none-any.whl.123.tmp").write_bytes(b"partial")
    (index_dir / "README.txt").write_text("not a distribution\n")
    _, _, again = get(index.url + "lib/", JSON_ACCEPT)
    assert json.loads(again)["versions"] == ["1.0", "1.1"]


def test_yanked_sidecar_marks_the_file_yanked(index: IndexServer, index_dir: Path) -> None:
    wheel, _ = wheels.publish(index_dir, "lib", "1.0")
    (index_dir / f"{wheel.name}.yanked").write_text("broken metadata\n")
    _, _, body = get(index.url + "lib/", JSON_ACCEPT)
    files = {f["filename"]: f for f in json.loads(body)["files"]}
    assert files[wheel.name]["yanked"] == "broken metadata"
    assert "yanked" not in files["lib-1.0.tar.gz"]
    _, _, page = get(index.url + "lib/")
    assert b'data-yanked="broken metadata"' in page


def test_only_listed_files_are_served(index: IndexServer, index_dir: Path) -> None:
    wheels.publish(index_dir, "lib", "1.0")
    (index_dir.parent / "secret.whl").write_text("outside the index")
    files = index.url.replace("/simple/", "/files/")
    assert get(files + "..%2Fsecret.whl")[0] == 404
    assert get(files + "../secret.whl")[0] == 404
    assert get(files + "lib-1.0-py3-none-any.whl")[0] == 200
    assert get(index.url.replace("/simple/", "/other/"))[0] == 404


def test_pip_and_uv_install_from_the_index(
    index: IndexServer, index_dir: Path, tmp_path: Path
) -> None:
    wheels.publish(index_dir, "lib", "1.0", ["newdep>=1"], extras={"fast": ["speedup"]})
    wheels.publish(index_dir, "newdep", "1.0")
    wheels.publish(index_dir, "speedup", "2.0")
    env = hermetic_env(tmp_path)
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--target", str(tmp_path / "pip"),
         "--index-url", index.url, "lib"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr
    assert (tmp_path / "pip" / "newdep" / "__init__.py").is_file()
    # Only the sdists: pip builds each with its in-tree backend, offline.
    sdists = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--target", str(tmp_path / "sdists"),
         "--no-binary", ":all:", "--index-url", index.url, "lib"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert sdists.returncode == 0, sdists.stderr
    assert "lib-1.0.tar.gz" in sdists.stdout
    uv = subprocess.run(
        [_uv(), "pip", "install", "--target", str(tmp_path / "uv"), "--index-url", index.url,
         "lib[fast]"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert uv.returncode == 0, uv.stderr
    assert (tmp_path / "uv" / "speedup" / "__init__.py").is_file()
    # uv reads PEP 658 metadata instead of downloading each wheel to resolve.
    assert ("GET", "/files/lib-1.0-py3-none-any.whl.metadata", 200) in index.requests


def test_builds_are_deterministic_and_the_sdist_builds_the_same_wheel(tmp_path: Path) -> None:
    project = wheels.project("lib", "1.1", ["newdep>=1.0"], requires_python=">=3.8")
    assert wheels.wheel_bytes(project) == wheels.wheel_bytes(project)
    assert wheels.sdist_bytes(project) == wheels.sdist_bytes(project)
    sdist = wheels.build_sdist(tmp_path / "dist", project)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "-w",
         str(tmp_path / "built"), str(sdist)],
        env=hermetic_env(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    rebuilt = (tmp_path / "built" / wheels.wheel_filename(project)).read_bytes()
    assert rebuilt == wheels.wheel_bytes(project)
    with zipfile.ZipFile(tmp_path / "built" / wheels.wheel_filename(project)) as archive:
        record = archive.read("lib-1.1.dist-info/RECORD").decode()
    assert "lib/__init__.py,sha256=" in record


def test_bad_project_input_is_a_usage_error() -> None:
    from release_tool.errors import UsageError

    with pytest.raises(UsageError, match="cannot build lib"):
        wheels.project("lib", "not a version")
    with pytest.raises(UsageError, match="cannot build lib"):
        wheels.project("lib", "1.0", ["bad requirement !!"])


def test_the_sandbox_serves_the_index_beside_the_api(tmp_path: Path, index_dir: Path) -> None:
    wheels.publish(index_dir, "lib", "1.0")
    with sb.Sandbox(tmp_path / "root", index=index_dir) as sandbox:
        assert sandbox.index_url == f"{sandbox.url}/simple/"
        status, _, body = get(sandbox.index_url + "lib/", JSON_ACCEPT)
        assert status == 200 and json.loads(body)["versions"] == ["1.0"]
        assert get(f"{sandbox.api_url}/rate_limit")[0] == 200
        wheels.publish(index_dir, "lib", "1.1")
        _, _, again = get(sandbox.index_url + "lib/", JSON_ACCEPT)
        assert json.loads(again)["versions"] == ["1.0", "1.1"]
        # Faults hit the index as they hit the API.
        sandbox.add_fault("GET /simple/* 503 1")
        assert get(sandbox.index_url + "lib/")[0] == 503
        assert get(sandbox.index_url + "lib/")[0] == 200
        assert ("GET", "/simple/lib/", 200) in sandbox.requests
    with sb.Sandbox(tmp_path / "root2") as plain:
        assert get(f"{plain.url}/simple/")[0] == 404
        with pytest.raises(RuntimeError):
            _ = plain.index_url


def test_serve_command_serves_an_index(tmp_path: Path, index_dir: Path) -> None:
    import os
    import signal

    wheels.publish(index_dir, "lib", "1.0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "release_tool", "sandbox", "serve", "--root",
         str(tmp_path / "root"), "--index", str(index_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        api = proc.stdout.readline().strip()
        status, _, body = get(api.removesuffix("/api/v3") + "/simple/lib/", JSON_ACCEPT)
        assert status == 200 and json.loads(body)["name"] == "lib"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert "package index: http://127.0.0.1:" in err


def _uv() -> str:
    import uv

    return uv.find_uv_bin()
