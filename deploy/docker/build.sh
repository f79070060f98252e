#!/usr/bin/env bash
# `make image` / `make image-gpu` / `make image-rest` / `make image-gpu-rest`: builds
# nomic-serve:cpu, :gpu, :cpu-rest or :gpu-rest from this checkout (a -rest image on top of the
# server image of its flavour, which must be built first), with a Docker engine when one
# answers, else with podman. Extra arguments go to `build`.
set -euo pipefail
flavour=${1:?usage: build.sh cpu|gpu|cpu-rest|gpu-rest [build arguments...]}
shift
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/podman/engine.sh
source deploy/podman/engine.sh
args=(build -t "nomic-serve:$flavour")
case "$flavour" in
    cpu) file=deploy/docker/Dockerfile ;;
    gpu) file=deploy/docker/Dockerfile.gpu ;;
    cpu-rest | gpu-rest)
        file=deploy/docker/Dockerfile.rest
        args+=(--build-arg "BASE=nomic-serve:${flavour%-rest}") ;;
    *) echo "unknown flavour $flavour" >&2; exit 2 ;;
esac
args+=(-f "$file")
# The images the FROM lines name (the -rest file's ARG as passed above).
bases=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' "$file" | sed "s|\${BASE}|nomic-serve:${flavour%-rest}|")
if [ "$CONTAINER_ENGINE" = podman ]; then
    # Docker's image format keeps HEALTHCHECK (OCI's has no such field); host networking
    # for pip; a base image already here is used as it is (registries may be unreachable).
    args+=(--format docker --network host)
    present=yes
    for image in $bases; do podman image exists "$image" || present=no; done
    if [ "$present" = yes ]; then args+=(--pull=never); fi
    # A CA bundle pip is told to trust on this machine (PIP_CERT, or pip's own configuration)
    # is trusted in the build too.
    cert=${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}
    if [ -n "$cert" ] && [ -f "$cert" ]; then
        args+=(-v "$cert:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt)
    fi
fi
"$CONTAINER_ENGINE" "${args[@]}" "$@" .
size=$("$CONTAINER_ENGINE" image inspect --format '{{.Size}}' "nomic-serve:$flavour")
echo "nomic-serve:$flavour: $((size / 1000000)) MB"
