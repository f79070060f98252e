#!/usr/bin/env bash
# `make image` / `make image-gpu`: builds nomic-serve:cpu or nomic-serve:gpu from this checkout
# with a Docker engine when one answers, else with podman. Extra arguments go to `build`.
set -euo pipefail
flavour=${1:?usage: build.sh cpu|gpu [build arguments...]}
shift
cd "$(dirname "$0")/../.."
# shellcheck source=deploy/podman/engine.sh
source deploy/podman/engine.sh
file=deploy/docker/Dockerfile
[ "$flavour" = gpu ] && file=deploy/docker/Dockerfile.gpu
base=$(sed -n 's/^FROM \([^ ]*\) AS build$/\1/p' "$file")
args=(build -f "$file" -t "nomic-serve:$flavour")
if [ "$CONTAINER_ENGINE" = podman ]; then
    # Docker's image format keeps HEALTHCHECK (OCI's has no such field); host networking
    # for pip; a base image already here is used as it is (registries may be unreachable).
    args+=(--format docker --network host)
    if podman image exists "$base"; then args+=(--pull=never); fi
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
