# shellcheck shell=bash
# Sourced by the deploy scripts: which container engine to run, and how.
# A Docker engine when one answers, else podman. Podman gets the low-limit settings of
# containers.conf beside this file on hosts whose hard limits are below its defaults.
if [ -z "${CONTAINER_ENGINE:-}" ]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
        CONTAINER_ENGINE=docker
    else
        CONTAINER_ENGINE=podman
    fi
fi
if [ "$CONTAINER_ENGINE" = podman ] && [ -z "${CONTAINERS_CONF:-}" ]; then
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt 1048576 ]; then
        export CONTAINERS_CONF
        CONTAINERS_CONF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf"
    fi
fi
