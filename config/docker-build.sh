#!/bin/sh
# Builds the release binary the container image ships: `cargo build --release --locked`,
# stripped, checked to run, copied to OUT_DIR/klamm. The Dockerfile's build stage runs exactly
# this script (with --target for a static musl binary); protocol-tests/clients/test_docker.py
# runs it too (for the host target, since no Docker engine runs on our machines), so the image's
# build steps are tested without Docker.
#
# It lives in config/ because config/ is what the image is made from (the Dockerfile copies
# config/klamm.toml from here too); protocol-tests/ is test-only and not part of the build.
#
# Usage: config/docker-build.sh [--target TRIPLE] OUT_DIR
set -eu

target=""
if [ "${1:-}" = "--target" ]; then
    target="$2"
    shift 2
fi
out="${1:?usage: docker-build.sh [--target TRIPLE] OUT_DIR}"
cd "$(dirname "$0")/.."

if [ -n "$target" ]; then
    cargo build --release --locked --target "$target"
    bin="target/$target/release/klamm"
else
    cargo build --release --locked
    bin="target/release/klamm"
fi

mkdir -p "$out"
cp "$bin" "$out/klamm"
strip "$out/klamm"
"$out/klamm" --version
case "$target" in
    *-musl)
        # The final image has no libc: the binary must be fully static.
        if command -v ldd >/dev/null 2>&1 && ldd "$out/klamm" 2>&1 | grep -q '=>'; then
            echo "docker-build.sh: $out/klamm is dynamically linked" >&2
            exit 1
        fi
        ;;
esac
echo "docker-build.sh: $out/klamm ($(wc -c < "$out/klamm") bytes)"
