#!/usr/bin/env bash
# Fetches packages of generated code for the memory and speed benchmark (`cargo bench -p
# cargo-maplint --bench cli` with MAPLINT_BENCH_PACKAGES): `windows` 0.48.0, 172 MB of
# generated bindings in 1,367 files, through cargo itself (nothing is compiled).
#
# Usage: scripts/fetch-generated.sh DEST   (then MAPLINT_BENCH_PACKAGES=DEST/windows-0.48.0)
set -euo pipefail
dest="${1:?usage: fetch-generated.sh DEST}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<'TOML'
[package]
name = "generated-code"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
windows = { version = "=0.48.0", default-features = false }
TOML
: > "$work/src/lib.rs"
# Only `windows` itself: its own dependencies are small and already in the main corpus.
cargo vendor --versioned-dirs --manifest-path "$work/Cargo.toml" "$work/vendor" >/dev/null
rm -rf "$dest/windows-0.48.0"
cp -r "$work/vendor/windows-0.48.0" "$dest/"
echo "$dest/windows-0.48.0"
