"""The `gpu` extra brings every library ONNX Runtime's CUDA provider links to, but the driver.

No GPU is needed: the extra's nvidia-* wheels are installed into a scratch folder (about
2 GB, from PyPI), the server's own loader loads them in a fresh interpreter, and the dynamic
linker is then asked to resolve the CUDA provider's libraries: everything must resolve except
libcuda.so.1, which the NVIDIA driver installs on a GPU host.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import onnxruntime
import pytest
from packaging.requirements import Requirement

pytestmark = pytest.mark.e2e

PROVIDER = Path(onnxruntime.__file__).parent / "capi" / "libonnxruntime_providers_cuda.so"
DRIVER = "libcuda.so.1"


@pytest.fixture(scope="module")
def gpu_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The nvidia-* packages the `gpu` extra resolves to, installed into a scratch folder."""
    extra = [
        str(Requirement(line)).split(";")[0]
        for line in importlib.metadata.requires("nomic-serve") or []
        if Requirement(line).marker
        and Requirement(line).marker.evaluate({"extra": "gpu"})
        and not Requirement(line).marker.evaluate({"extra": ""})
    ]
    assert extra, "nomic-serve declares no gpu extra"
    folder = tmp_path_factory.mktemp("gpu")
    report = folder / "report.json"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "install", "--dry-run", "--ignore-installed", "--report", str(report), *extra],
        check=True,
        timeout=600,
    )
    resolved = json.loads(report.read_text())["install"]
    nvidia = [
        f"{item['metadata']['name']}=={item['metadata']['version']}"
        for item in resolved
        if item["metadata"]["name"].startswith("nvidia-")
    ]
    assert nvidia, "the gpu extra resolved to no nvidia-* package"
    target = folder / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), *nvidia], check=True, timeout=1200
    )
    return target


def test_the_gpu_extra_provides_every_cuda_library_but_the_driver(gpu_wheels: Path) -> None:
    assert PROVIDER.is_file(), "onnxruntime-gpu's CUDA provider is missing"
    script = f"""
import ctypes, json, re
from nomic_serve.core.inference import load_cuda_libraries
loaded = [str(p) for p in load_cuda_libraries()]
needed = re.findall(r"\\(NEEDED\\).*\\[(.+)\\]", __import__("subprocess").run(
    ["readelf", "-d", {str(PROVIDER)!r}], capture_output=True, text=True, check=True).stdout)
maps = open("/proc/self/maps").read()
print(json.dumps({{"loaded": loaded, "needed": needed, "mapped": sorted(set(
    re.findall(r"/([^/\\s]+\\.so[.0-9]*)\\n", maps)))}}))
"""
    env = {"PYTHONPATH": str(gpu_wheels), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["loaded"], "the server's loader found none of the extra's libraries"
    system = {"libdl.so.2", "librt.so.1", "libpthread.so.0", "libstdc++.so.6", "libm.so.6"}
    system |= {"libgcc_s.so.1", "libc.so.6", "ld-linux-x86-64.so.2", DRIVER}
    cuda = [name for name in found["needed"] if name not in system]
    assert cuda, found["needed"]
    missing = [name for name in cuda if name not in found["mapped"]]
    assert not missing, f"the gpu extra does not provide {missing}"
