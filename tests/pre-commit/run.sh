#!/usr/bin/env bash
# End-to-end test of .pre-commit-hooks.yaml with the real pre-commit (from PyPI): a scratch git
# repository with a small Cargo package uses this repository's hook at the commit checked out
# here; a staged buggy file makes the hook fail, a clean one passes.
#
# Needs `pre-commit` on PATH and network access for the one `cargo install` pre-commit runs
# (it builds cargo-maplint in release mode: a few minutes). PRE_COMMIT_HOME lives in the
# scratch directory (set MAPLINT_PRE_COMMIT_HOME to reuse an install between runs).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
rev="$(git -C "$repo" rev-parse HEAD)"
if [ -n "$(git -C "$repo" status --porcelain -- .pre-commit-hooks.yaml Cargo.toml cargo-maplint lint-core)" ]; then
  echo "note: uncommitted changes in $repo are not part of the hook (pre-commit installs commit $rev)" >&2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="${MAPLINT_PRE_COMMIT_HOME:-$work/pre-commit-home}"
export PRE_COMMIT_COLOR=never

proj="$work/project"
mkdir -p "$proj/src"
cd "$proj"
git init -q .
git config user.name maplint
git config user.email maplint@example.invalid
git config commit.gpgsign false
cat > Cargo.toml <<'TOML'
[package]
name = "scratch"
version = "0.1.0"
edition = "2021"
TOML
cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: $repo
    rev: $rev
    hooks:
      - id: maplint
YAML
cat > src/lib.rs <<'RS'
pub mod clean;
RS
cat > src/clean.rs <<'RS'
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Index {
    m: Mutex<HashMap<u32, u32>>,
}

impl Index {
    pub fn once(&self) {
        self.m.lock().unwrap().insert(1, 1);
    }
}
RS
git add .
pre-commit install --install-hooks
echo "== a clean commit passes"
git commit -qm clean
echo "== a buggy file fails the commit"
cat > src/buggy.rs <<'RS'
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Index {
    m: Mutex<HashMap<u32, u32>>,
}

impl Index {
    pub fn again(&self) {
        let g = self.m.lock().unwrap();
        self.m.lock().unwrap().insert(1, 1);
        drop(g);
    }
}
RS
echo "pub mod buggy;" >> src/lib.rs
git add .
set +e
out="$(git commit -qm buggy 2>&1)"
status=$?
set -e
echo "$out"
if [ "$status" -eq 0 ]; then
  echo "pre-commit test: the buggy commit was accepted" >&2
  exit 1
fi
grep -q "maplint::map_lock_reentry" <<<"$out" || { echo "pre-commit test: no map_lock_reentry finding" >&2; exit 1; }
echo "== fixed: the commit passes"
sed -i 's/        let g = self.m.lock().unwrap();/        let mut g = self.m.lock().unwrap();/; s/        self.m.lock().unwrap().insert(1, 1);/        g.insert(1, 1);/' src/buggy.rs
git add .
git commit -qm fixed
# The hook keeps its result cache in target/maplint/cache, which holds its own `.gitignore`: no
# change to the tree for pre-commit, even though this project does not ignore target/.
[ -n "$(ls target/maplint/cache/*.facts 2>/dev/null)" ] || { echo "pre-commit test: no result cache written" >&2; exit 1; }
echo "pre-commit test: passed"
