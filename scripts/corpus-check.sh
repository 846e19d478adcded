#!/usr/bin/env bash
# The corpus run: maplint over the ~480 crates pinned by ../shared/corpus (15k files, 248 MB).
# Checks that nothing crashes and that there is no internal error, that lex-first analysis
# finds exactly what parsing every file finds (the findings, and the model of every parsed
# function: examples/model_diff.rs; and the IR of every parsed file with function bodies read
# without syn, as syn reads them: examples/body_diff.rs), that findings from cached per-file facts are a fresh
# analysis's, and prints the wall time and the findings per rule. Not part of `cargo test` (it
# needs the corpus, fetched once with cargo from crates.io).
#
# Usage: scripts/corpus-check.sh [CORPUS_DIR]   (default: target/corpus, fetched if missing)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$repo/target/corpus}"
fetch="$repo/../shared/corpus/fetch.sh"
if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
  echo "== fetching the corpus into $corpus"
  bash "$fetch" "$corpus"
fi
cd "$repo"
cargo build -q --release -p cargo-maplint
bin="$repo/target/release/cargo-maplint"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== lex-first run"
start=$(python3 -c 'import time; print(time.time())')
set +e
"$bin" maplint "$corpus" --no-cache --message-format json --exit-zero > "$out/lex.json" 2> "$out/lex.err"
status=$?
set -e
end=$(python3 -c 'import time; print(time.time())')
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
  echo "corpus-check: cargo-maplint exited with status $status (a crash?)" >&2
  tail -20 "$out/lex.err" >&2
  exit 1
fi
python3 - "$out/lex.json" <<'PY'
import json, sys, collections
counts = collections.Counter()
internal = []
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") != "compiler-message":
        continue
    code = m["message"]["code"]["code"]
    counts[code] += 1
    if code == "maplint::internal_error":
        internal.append(m["message"]["message"])
for code, n in sorted(counts.items()):
    print(f"  {code}: {n}")
if internal:
    print("corpus-check: internal errors:", *internal[:20], sep="\n  ")
    sys.exit(1)
PY
python3 -c "print(f'  wall time: {$end - $start:.1f} s')"

echo "== every file parsed (--parse-all): the same findings"
"$bin" maplint "$corpus" --no-cache --message-format short --exit-zero 2>&1 | grep -v 'parse_error\|^maplint:' | sort > "$out/a.txt" || true
"$bin" maplint "$corpus" --no-cache --message-format short --exit-zero --parse-all 2>&1 | grep -v 'parse_error\|^maplint:' | sort > "$out/b.txt" || true
if ! diff -u "$out/b.txt" "$out/a.txt"; then
  echo "corpus-check: lex-first findings differ from parsing every file" >&2
  exit 1
fi

echo "== every parsed function's model (lock summary, lock events, spawn reachability) as with every file parsed"
cargo run -q --release -p lint-core --example model_diff -- "$corpus" | tail -5

echo "== every parsed file's IR with function bodies read without syn as with syn reading them"
cargo run -q --release -p lint-core --example body_diff -- "$corpus" | tail -5

echo "== cached facts reused for every file: the same findings"
# Fill a scratch cache, drop the result entries (keeping the per-file facts), run again
# (`-vv` for the counts of files parsed; its indented status lines are not findings).
CARGO_TARGET_DIR="$out/target" "$bin" maplint "$corpus" --message-format short --exit-zero > /dev/null 2>&1 || true
rm -f "$out"/target/maplint/cache/*.json
CARGO_TARGET_DIR="$out/target" "$bin" maplint "$corpus" --message-format short --exit-zero -vv 2> "$out/c.err" || true
grep -v 'parse_error\|^maplint:\|^ ' "$out/c.err" | sort > "$out/c.txt" || true
python3 - "$out/c.err" <<'PY'
import re, sys
parsed = reused = 0
for line in open(sys.argv[1]):
    m = re.search(r": (\d+) files? parsed, (\d+) reused from the cache", line)
    if m:
        parsed += int(m.group(1)); reused += int(m.group(2))
print(f"  files parsed again: {parsed}, reused from the cache: {reused}")
PY
if ! diff -u "$out/a.txt" "$out/c.txt"; then
  echo "corpus-check: findings from cached facts differ from a fresh analysis" >&2
  exit 1
fi
echo "corpus-check: passed ($(wc -l < "$out/a.txt") findings)"
