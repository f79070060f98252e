"""deploy/systemd: both units pass `systemd-analyze verify`, are hardened, stop in time, and
what they run really runs under their MemoryDenyWriteExecute.

`systemd-analyze verify` checks that every Exec*= binary exists, so it runs on a scratch root
(`--root`): the system's own unit files, the two units, and stubs at the units' binary paths
(/opt/nomic-serve/.venv/bin/...). The e2e tests run those binaries from this checkout's
virtual environment, with the units' own command lines, under the kernel's PR_SET_MDWE (the
restriction systemd's MemoryDenyWriteExecute=yes applies, with prctl or seccomp).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import grpc
import pytest
from PIL import Image

from nomic_serve.config import Settings
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import ServerProcess, free_port
from ..support.reference import REPO_ROOT, unavailable
from ..support.waiting import eventually_sync

SYSTEMD = REPO_ROOT / "deploy" / "systemd"
SERVER, ENVOY = SYSTEMD / "nomic-serve.service", SYSTEMD / "nomic-serve-envoy.service"
UNITS = (SERVER, ENVOY)
INSTALLED_BIN = "/opt/nomic-serve/.venv/bin/"  # where the units expect the project
BIN = Path(sys.executable).parent
# Options every unit sets, with the value it must have ("" is an empty assignment).
HARDENING = {
    "NoNewPrivileges": "yes",
    "DynamicUser": "yes",
    "CapabilityBoundingSet": "",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native",
    "Restart": "always",
    "KillSignal": "SIGTERM",
    "EnvironmentFile": "-/etc/nomic-serve/env",
}
MAX_EXPOSURE = 2.0  # `systemd-analyze security`: 0 (locked down) .. 10 (unprotected)
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
# Turns on MDWE, then becomes the command: exec keeps it, as systemd's does.
MDWE_EXEC = (
    "import ctypes, os, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    f"if libc.prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0):\n"
    "    raise SystemExit(f'PR_SET_MDWE: errno {ctypes.get_errno()}')\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """section -> option -> every value assigned, in order (an option may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        assert not line.endswith("\\"), f"{path.name}: continuation lines are not parsed here"
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def service(path: Path) -> dict[str, list[str]]:
    return parse_unit(path)["Service"]


def seconds(value: str) -> float:
    """A systemd time span: 30, 30s, 1min 30s, 500ms."""
    units = {"": 1, "s": 1, "sec": 1, "ms": 0.001, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value)
    assert parts, value
    return sum(float(n) * units[u] for n, u in parts)


def environment(path: Path, **specifiers: str) -> dict[str, str]:
    """The unit's Environment= assignments, specifiers (%C, %t ...) replaced."""
    variables: dict[str, str] = {}
    for line in service(path).get("Environment", []):
        for assignment in shlex.split(line):
            name, _, value = assignment.partition("=")
            for letter, replacement in specifiers.items():
                value = value.replace(f"%{letter}", replacement)
            variables[name] = value
    return variables


def command(line: str, **specifiers: str) -> list[str]:
    """An Exec*= line as argv: prefixes (-@:+!) dropped, specifiers replaced, the installed
    virtual environment replaced by this checkout's."""
    argv = shlex.split(line.lstrip("-@:+!"))
    for letter, replacement in specifiers.items():
        argv = [arg.replace(f"%{letter}", replacement) for arg in argv]
    return [arg.replace(INSTALLED_BIN, f"{BIN}/", 1) for arg in argv]


def executables() -> set[str]:
    return {
        shlex.split(line.lstrip("-@:+!"))[0]
        for unit in UNITS
        for key, lines in service(unit).items()
        if key.startswith("Exec")
        for line in lines
    }


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if not found:
        unavailable("systemd-analyze not found (Debian: apt-get install systemd)")
    return found


@pytest.fixture(scope="module")
def scratch_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root holding the system's unit files (sysinit.target ...), our units, and stub
    executables where the units expect the project's."""
    systemd_analyze()
    system_units = next(
        (p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()),
        None,
    )
    if system_units is None:
        unavailable("the system's unit files (/usr/lib/systemd/system) are not installed")
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    for executable in executables():
        stub = root / executable.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    return root


def test_units_pass_systemd_analyze_verify(scratch_root: Path) -> None:
    """verify exits 0 even on an unknown option ("ignoring"): any output at all fails."""
    result = subprocess.run(
        [systemd_analyze(), "verify", f"--root={scratch_root}", *(u.name for u in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_units_are_hardened(unit: Path) -> None:
    options = service(unit)
    for option, value in HARDENING.items():
        assert value in options.get(option, []), f"{unit.name}: {option}={value} missing"
    families = " ".join(options["RestrictAddressFamilies"]).split()
    assert set(families) <= {"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"}, families
    assert "@system-service" in options["SystemCallFilter"]
    assert options["ExecStart"][0].startswith(INSTALLED_BIN)


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_exposure_is_low(unit: Path, scratch_root: Path) -> None:
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=true", f"--root={scratch_root}", unit.name],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, result.stdout


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_stop_timeout_outlasts_the_drain(unit: Path) -> None:
    """SIGTERM, SHUTDOWN_DELAY_S of NOT_SERVING, SHUTDOWN_GRACE_S for in-flight RPCs, exit:
    TimeoutStopSec must be longer, or systemd SIGKILLs mid-drain. The server's defaults and the
    unit's own Environment= count (the settings file may raise them: the comment says so)."""
    settings = Settings.from_env(environment(SERVER, C="/var/cache"))
    [kill_signal] = service(unit)["KillSignal"]
    assert kill_signal == "SIGTERM"
    timeout = seconds(service(unit)["TimeoutStopSec"][-1])
    assert timeout > settings.shutdown_delay_s + settings.shutdown_grace_s


def test_envoy_unit_follows_the_server() -> None:
    unit = parse_unit(ENVOY)["Unit"]
    assert SERVER.name in " ".join(unit["Requires"]).split()
    assert SERVER.name in " ".join(unit["After"]).split()
    options = service(ENVOY)
    [runtime] = options["RuntimeDirectory"]
    [render] = options["ExecStartPre"]
    bundle = command(render)[command(render).index("--bundle") + 1]
    assert bundle == f"%t/{runtime}"
    start = command(options["ExecStart"][0])
    assert start[start.index("-c") + 1] == f"{bundle}/envoy.yaml"


# --- what the units run, for real, under MemoryDenyWriteExecute ------------------------------


@pytest.fixture(scope="module")
def mdwe() -> list[str]:
    """The prefix that runs a command under PR_SET_MDWE (Linux 6.3+)."""
    probe = subprocess.run(
        [sys.executable, "-c", MDWE_EXEC, "/bin/true"], capture_output=True, text=True
    )
    if probe.returncode:
        unavailable(f"this kernel has no PR_SET_MDWE: {probe.stderr.strip()}")
    check = "import mmap; mmap.mmap(-1, 4096, prot=7)"  # PROT_READ | WRITE | EXEC
    refused = subprocess.run(
        [sys.executable, "-c", MDWE_EXEC, sys.executable, "-c", check], capture_output=True
    )
    assert refused.returncode != 0, "PR_SET_MDWE did not refuse a writable executable mapping"
    return [sys.executable, "-c", MDWE_EXEC]


def _mdwe_or_not(unit: Path, prefix: list[str]) -> list[str]:
    return prefix if "yes" in service(unit).get("MemoryDenyWriteExecute", []) else []


@pytest.mark.e2e
def test_server_embeds_under_memory_deny_write_execute(
    tmp_path: Path, embedded_cache: Path, vision_model, mdwe: list[str]
) -> None:
    """The server unit's ExecStart and Environment= (the session's embedded-model cache for
    CACHE_DIR, the tiny vision model): text and image inference (ONNX Runtime, tokenizers,
    Pillow) need no writable executable memory, and the SIGTERM drain still exits 0."""
    env = environment(SERVER, C=str(tmp_path))
    env["CACHE_DIR"] = str(embedded_cache)
    env["IMG_MODEL"] = str(vision_model.model)
    [start] = service(SERVER)["ExecStart"]
    server = ServerProcess([*_mdwe_or_not(SERVER, mdwe), *command(start)], tmp_path, env)
    try:
        png = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 30, 90)).save(png, format="PNG")
        with grpc.insecure_channel(server.address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            text = stub.Embed(pb.EmbedRequest(input="hello world"), timeout=30)
            image = stub.ImageEmbed(pb.ImageEmbedRequest(data=png.getvalue()), timeout=30)
        assert len(text.embedding) == 384  # the embedded MiniLM
        assert len(image.embedding) == vision_model.hidden
    finally:
        code, log = server.stop()
    assert code == 0, log


@pytest.mark.e2e
def test_envoy_unit_commands_serve_under_memory_deny_write_execute(
    tmp_path: Path, mdwe: list[str]
) -> None:
    """ExecStartPre renders the bundle into the runtime directory, ExecStart's Envoy (its
    flags as written) serves from it, both under the unit's MemoryDenyWriteExecute."""
    options = service(ENVOY)
    runtime = tmp_path / "run"
    (runtime / options["RuntimeDirectory"][0]).mkdir(parents=True)
    rest_port = free_port()
    env = {
        **os.environ,
        **environment(ENVOY, t=str(runtime)),
        "PORT": str(rest_port),
        "REST_HOST": "127.0.0.1",
        "GRPC_PORT": str(free_port()),
        "ENVOY_ADMIN_PORT": str(free_port()),
    }
    prefix = _mdwe_or_not(ENVOY, mdwe)
    [render] = options["ExecStartPre"]
    subprocess.run([*prefix, *command(render, t=str(runtime))], env=env, check=True, timeout=60)
    [start] = options["ExecStart"]
    envoy = subprocess.Popen(
        [*prefix, *command(start, t=str(runtime))],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def serves() -> bool:
            assert envoy.poll() is None, envoy.stderr.read() if envoy.stderr else ""
            try:
                url = f"http://127.0.0.1:{rest_port}/openapi.json"
                with urllib.request.urlopen(url, timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        eventually_sync(serves, timeout=30)
    finally:
        envoy.terminate()
        envoy.communicate(timeout=30)
    assert envoy.returncode == 0, "Envoy did not exit cleanly on SIGTERM"
