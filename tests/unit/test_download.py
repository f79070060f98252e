"""The model downloader against a real local HTTP server that misbehaves on demand."""

import hashlib
import io
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nomic_serve.errors import DownloadError
from nomic_serve.models import catalog, download
from nomic_serve.models.catalog import TEXT_REPO, VISION_REPO, ModelFile
from nomic_serve.models.download import Options, download_file, main

REVISION = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Behaviour:
    """Misbehaviour for one URL path; the counted kinds switch off once spent."""

    drop_after: int | None = None  # close the connection after N body bytes...
    drops: int = 1  # ...this many times
    stall_after_once: int | None = None  # go silent after N body bytes
    ignore_range: bool = False
    redirect: bool = False  # 302 to /cdn/<path>
    status: int | None = None  # always answer with this error
    fail_once: int | None = None  # answer with this error once


@dataclass
class Hub:
    """Files served as /<repo>/resolve/<revision>/<path>, and a log of what was asked."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    behaviour: dict[str, Behaviour] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)

    def add(self, entry: ModelFile, content: bytes, behaviour: Behaviour | None = None) -> None:
        self.files[_path(entry)] = content
        self.behaviour[_path(entry)] = behaviour or Behaviour()


def _path(entry: ModelFile) -> str:
    return f"/{entry.repo}/resolve/{entry.revision}/{entry.path}"


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            hub.requests.append((self.path, self.headers["Range"]))
            path = self.path.removeprefix("/cdn")
            act = hub.behaviour.get(path, Behaviour())
            if act.redirect and not self.path.startswith("/cdn"):
                self.send_response(302)
                self.send_header("Location", f"/cdn{path}")
                self.end_headers()
            elif path not in hub.files or act.status:
                self.send_error(act.status or 404)
            elif act.fail_once:
                code, act.fail_once = act.fail_once, None  # before answering: retries are instant
                self.send_error(code)
            else:
                self._send(hub.files[path], act)

        def _send(self, content: bytes, act: Behaviour) -> None:
            first = int(re.findall(r"\d+", self.headers["Range"] or "0")[0])
            if first and not act.ignore_range:
                if first >= len(content):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(content)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header(
                    "Content-Range", f"bytes {first}-{len(content) - 1}/{len(content)}"
                )
            else:
                first = 0
                self.send_response(200)
            body = content[first:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(self._cut(body, act))

        def _cut(self, body: bytes, act: Behaviour) -> bytes:
            if act.drop_after is not None and act.drops:
                body, act.drops = body[: act.drop_after], act.drops - 1
                self.close_connection = True
            elif act.stall_after_once is not None:
                self.wfile.write(body[: act.stall_after_once])
                self.wfile.flush()
                body, act.stall_after_once = b"", None
                time.sleep(0.5)
                self.close_connection = True
            return body

    return Handler


@pytest.fixture(autouse=True)
def _local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HF_ENDPOINT", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Hub(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(state)  # the URL needs the bound port first
    server.block_on_close = False  # a stalled handler must not hold up the teardown
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _entry(content: bytes, name: str = "model.onnx", pinned: bool = True) -> ModelFile:
    sha = hashlib.sha256(content).hexdigest() if pinned else None
    size = len(content) if pinned else None
    return ModelFile(TEXT_REPO, REVISION, f"onnx/{name}", f"models/txt/{name}", size, sha)


def _content(size: int = 300_000) -> bytes:
    return bytes(range(256)) * (size // 256) + b"tail"


def _options(hub: Hub, force: bool = False, timeout: float = 2.0, retries: int = 2) -> Options:
    return Options(hub.url, force, timeout, retries, backoff=0.0)


def test_downloads_and_verifies(hub: Hub, tmp_path: Path) -> None:
    content = _content()
    entry = _entry(content)
    hub.add(entry, content)
    dest = download_file(entry, tmp_path, _options(hub))
    assert dest == tmp_path / "models/txt/model.onnx"
    assert dest.read_bytes() == content
    assert not dest.with_name("model.onnx.part").exists()


def test_prints_computed_sha_when_unpinned(hub: Hub, tmp_path: Path) -> None:
    content = _content(1000)
    entry = _entry(content, pinned=False)
    hub.add(entry, content)
    out = io.StringIO()
    download_file(entry, tmp_path, _options(hub), out)
    assert f"sha256 {hashlib.sha256(content).hexdigest()}" in out.getvalue()


def test_dropped_connection_resumes_with_range(hub: Hub, tmp_path: Path) -> None:
    content = _content()
    entry = _entry(content)
    hub.add(entry, content, Behaviour(drop_after=100_000))
    dest = download_file(entry, tmp_path, _options(hub), io.StringIO())
    assert dest.read_bytes() == content
    assert hub.requests == [(_path(entry), None), (_path(entry), "bytes=100000-")]


def test_stalled_connection_times_out_and_resumes(hub: Hub, tmp_path: Path) -> None:
    content = _content()
    entry = _entry(content)
    hub.add(entry, content, Behaviour(stall_after_once=50_000))
    dest = download_file(entry, tmp_path, _options(hub, timeout=0.2), io.StringIO())
    assert dest.read_bytes() == content
    assert hub.requests[-1] == (_path(entry), "bytes=50000-")


def test_transient_server_error_is_retried(hub: Hub, tmp_path: Path) -> None:
    content = _content(1000)
    entry = _entry(content)
    hub.add(entry, content, Behaviour(fail_once=503))
    assert download_file(entry, tmp_path, _options(hub), io.StringIO()).read_bytes() == content
    assert len(hub.requests) == 2


def test_gives_up_after_bounded_retries(hub: Hub, tmp_path: Path) -> None:
    entry = _entry(_content(1000))
    hub.add(entry, b"", Behaviour(status=503))
    with pytest.raises(DownloadError, match="giving up after 3 failed attempts"):
        download_file(entry, tmp_path, _options(hub), io.StringIO())
    assert len(hub.requests) == 3


def _write_part(tmp_path: Path, data: bytes) -> Path:
    part = tmp_path / "models/txt/model.onnx.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(data)
    return part


def test_resumes_a_part_left_by_an_earlier_run(hub: Hub, tmp_path: Path) -> None:
    content = _content()
    entry = _entry(content)
    hub.add(entry, content)
    _write_part(tmp_path, content[:123_456])
    assert download_file(entry, tmp_path, _options(hub)).read_bytes() == content
    assert hub.requests == [(_path(entry), "bytes=123456-")]


def test_server_ignoring_range_restarts_from_zero(hub: Hub, tmp_path: Path) -> None:
    content = _content()
    entry = _entry(content)
    hub.add(entry, content, Behaviour(ignore_range=True))
    _write_part(tmp_path, content[:1000])
    assert download_file(entry, tmp_path, _options(hub)).read_bytes() == content


def test_range_survives_a_redirect(hub: Hub, tmp_path: Path) -> None:
    content = _content()
    entry = _entry(content)
    hub.add(entry, content, Behaviour(redirect=True))
    _write_part(tmp_path, content[:1000])
    assert download_file(entry, tmp_path, _options(hub)).read_bytes() == content
    assert hub.requests == [(_path(entry), "bytes=1000-"), (f"/cdn{_path(entry)}", "bytes=1000-")]


@pytest.mark.parametrize("pinned", [True, False])
def test_416_with_a_complete_part_finishes_it(hub: Hub, tmp_path: Path, pinned: bool) -> None:
    content = _content(1000)
    entry = _entry(content, pinned=pinned)
    hub.add(entry, content)
    _write_part(tmp_path, content)
    assert download_file(entry, tmp_path, _options(hub), io.StringIO()).read_bytes() == content
    assert len(hub.requests) == 1


def test_416_with_an_oversized_part_restarts(hub: Hub, tmp_path: Path) -> None:
    content = _content(1000)
    entry = _entry(content)
    hub.add(entry, content)
    _write_part(tmp_path, b"x" * 5000)
    assert download_file(entry, tmp_path, _options(hub)).read_bytes() == content
    assert hub.requests == [(_path(entry), "bytes=5000-"), (_path(entry), None)]


@pytest.mark.parametrize(
    ("served", "problem"),
    [
        (b"y" * 1000, "sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}"),
        (b"y" * 999, "size mismatch: expected 1000 bytes, got 999"),
    ],
)
def test_mismatch_fails_and_leaves_nothing(
    hub: Hub, tmp_path: Path, served: bytes, problem: str
) -> None:
    entry = _entry(b"x" * 1000)
    hub.add(entry, served)
    with pytest.raises(DownloadError, match=rf"models/txt/model\.onnx: {problem}"):
        download_file(entry, tmp_path, _options(hub), io.StringIO())
    assert list((tmp_path / "models/txt").iterdir()) == []


def test_missing_file_is_a_clear_error(hub: Hub, tmp_path: Path) -> None:
    entry = _entry(b"x")
    with pytest.raises(DownloadError, match=r"models/txt/model\.onnx: HTTP 404 .* for http://"):
        download_file(entry, tmp_path, _options(hub), io.StringIO())
    assert len(hub.requests) == 1


def test_present_verified_file_is_skipped(hub: Hub, tmp_path: Path) -> None:
    content = _content(1000)
    entry = _entry(content)
    hub.add(entry, content)
    download_file(entry, tmp_path, _options(hub), io.StringIO())
    out = io.StringIO()
    download_file(entry, tmp_path, _options(hub), out)
    assert len(hub.requests) == 1
    assert "already present" in out.getvalue()


def test_present_corrupt_file_is_replaced(hub: Hub, tmp_path: Path) -> None:
    content = _content(1000)
    entry = _entry(content)
    hub.add(entry, content)
    dest = tmp_path / entry.dest
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"z" * 1000)
    assert download_file(entry, tmp_path, _options(hub), io.StringIO()).read_bytes() == content


def test_force_downloads_again_from_scratch(hub: Hub, tmp_path: Path) -> None:
    content = _content(1000)
    entry = _entry(content)
    hub.add(entry, content)
    download_file(entry, tmp_path, _options(hub), io.StringIO())
    (tmp_path / "models/txt/model.onnx.part").write_bytes(b"stale")
    download_file(entry, tmp_path, _options(hub, force=True), io.StringIO())
    assert hub.requests == [(_path(entry), None), (_path(entry), None)]


def test_final_path_never_holds_partial_data(hub: Hub, tmp_path: Path) -> None:
    old, new = b"old model", _content()
    entry = _entry(new)
    # Every attempt restarts (no Range support) and dies at the same byte: no progress.
    hub.add(entry, new, Behaviour(drop_after=100_000, drops=99, ignore_range=True))
    dest = tmp_path / entry.dest
    dest.parent.mkdir(parents=True)
    dest.write_bytes(old)
    with pytest.raises(DownloadError):
        download_file(entry, tmp_path, _options(hub, force=True, retries=0), io.StringIO())
    assert dest.read_bytes() == old
    assert dest.with_name("model.onnx.part").read_bytes() == new[:100_000]


def test_progress_goes_to_stderr(
    hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = _content()
    entry = _entry(content)
    hub.add(entry, content)
    download_file(entry, tmp_path, _options(hub))
    err = capsys.readouterr().err
    assert "models/txt/model.onnx: 0.3 MB / 0.3 MB (100%)" in err
    assert "MB/s\n" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_one_line_on_a_tty(hub: Hub, tmp_path: Path) -> None:
    content = _content()
    entry = _entry(content)
    hub.add(entry, content)
    out = _Terminal()
    download_file(entry, tmp_path, _options(hub), out)
    assert "\rmodels/txt/model.onnx: 0.3 MB / 0.3 MB (100%)" in out.getvalue()


@pytest.fixture
def fake_catalog(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[ModelFile, ...]]:
    text = _entry(b"text model", "model_quantized.onnx")
    vision = ModelFile(VISION_REPO, REVISION, "config.json", "models/img/config.json")
    hub.add(text, b"text model")
    hub.add(vision, b"{}")
    sets = {"default": (text, vision)}
    monkeypatch.setattr(catalog, "SETS", sets)
    return sets


def test_cli_downloads_the_set(hub: Hub, tmp_path: Path, fake_catalog: object) -> None:
    assert main(["--base-url", hub.url, "--dest-root", str(tmp_path)]) == 0
    assert (tmp_path / "models/txt/model_quantized.onnx").read_bytes() == b"text model"
    assert (tmp_path / "models/img/config.json").read_bytes() == b"{}"


def test_cli_only_one_modality(hub: Hub, tmp_path: Path, fake_catalog: object) -> None:
    assert main(["--base-url", hub.url, "--dest-root", str(tmp_path), "--only", "vision"]) == 0
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [tmp_path / "models/img/config.json"]


def test_cli_reads_hf_endpoint(
    hub: Hub, tmp_path: Path, fake_catalog: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    assert main(["--dest-root", str(tmp_path)]) == 0


def test_cli_failure_is_one_line_and_exit_1(
    hub: Hub, tmp_path: Path, fake_catalog: object, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.files.clear()
    assert main(["--base-url", hub.url, "--dest-root", str(tmp_path)]) == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert re.fullmatch(r"error: models/txt/model_quantized\.onnx: HTTP 404 .*", last)


def test_catalog_is_pinned() -> None:
    for entry in catalog.SETS["all"]:
        assert re.fullmatch(r"[0-9a-f]{40}", entry.revision)
        assert entry.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        assert entry.dest.startswith(("models/txt/", "models/img/"))
    assert set(catalog.SETS["default"]) < set(catalog.SETS["all"])
    assert download.select(catalog.SETS["default"], "vision")[0].repo == VISION_REPO
