#!/usr/bin/env bash
# Real code stays real code. Checks with `cargo check` (crates.io is needed for the demo's and
# the fixtures' dependencies) that:
#  1. the demo crate compiles (`rejected/` holds the code rustc refuses; nothing includes it);
#  2. after `cargo maplint --fix --unsafe-fixes` it still compiles, and some findings were fixed;
#  3. every fixture with a `.fixed` file compiles after its fixes whenever it compiled before
#     (a fixture rustc rejects, such as a std guard held across an `.await` in `tokio::spawn`,
#     is reported and skipped).
# Usage: scripts/check-compiles.sh [CARGO_MAPLINT_BINARY]   (default: target/debug/cargo-maplint)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$repo/target/debug/cargo-maplint}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$work/target"

echo "== the demo compiles"
mkdir "$work/demo"
(cd "$repo/fixtures/projects/demo" && tar --exclude=./target -cf - .) | tar -xf - -C "$work/demo"
cargo check -q --manifest-path "$work/demo/Cargo.toml"

echo "== the demo compiles after --fix --unsafe-fixes"
set +e
"$bin" maplint --manifest-path "$work/demo/Cargo.toml" --fix --unsafe-fixes --allow-no-vcs \
  --message-format short --color never 2> "$work/fix.log"
set -e
grep -q "^maplint: fixed [1-9][0-9]* findings" "$work/fix.log" || { cat "$work/fix.log" >&2; echo "nothing was fixed" >&2; exit 1; }
grep "^maplint: fixed" "$work/fix.log"
cargo check -q --manifest-path "$work/demo/Cargo.toml"

echo "== fixed fixtures compile when their originals do"
crate="$work/fixtures"
mkdir -p "$crate/src"
failed=0
for fixed in "$repo"/fixtures/rules/*/*.fixed; do
  orig="${fixed%.fixed}.rs"
  edition=2021
  if grep -q '^// edition:2024' "$orig"; then edition=2024; fi
  cat > "$crate/Cargo.toml" <<TOML
[package]
name = "fixture-check"
version = "0.0.0"
edition = "$edition"
publish = false

[dependencies]
dashmap = "6"
parking_lot = "0.12"
tokio = { version = "1", features = ["rt", "sync", "macros", "time"] }
log = "0.4"
futures = "0.3"

[workspace]
TOML
  name="${orig#"$repo"/}"
  printf '#![allow(warnings)]\n#[path = "%s"]\nmod fixture;\n' "$orig" > "$crate/src/lib.rs"
  if ! cargo check -q --manifest-path "$crate/Cargo.toml" 2> /dev/null; then
    echo "  skipped (rustc rejects the original): $name"
    continue
  fi
  printf '#![allow(warnings)]\n#[path = "%s"]\nmod fixture;\n' "$fixed" > "$crate/src/lib.rs"
  if cargo check -q --manifest-path "$crate/Cargo.toml" 2> "$work/err.log"; then
    echo "  ok: ${name%.rs}.fixed"
  else
    echo "  FAILED: ${name%.rs}.fixed" >&2
    cat "$work/err.log" >&2
    failed=1
  fi
done
exit "$failed"
