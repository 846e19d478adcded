#!/usr/bin/env python3
"""Real bugs, before and after their fix: does maplint find each one, and go silent on the fix?

Each entry of scripts/realbugs.txt names a crate published on crates.io, the last version with
a known map bug (a deadlock, a race) and the first version with its fix, the rule that should
report it and the file it is in. The script downloads both versions from crates.io (the
`.crate` archives, nothing else: no dependencies, no build), runs `cargo maplint` on each by
path, and prints, per entry, whether the bug was found in the buggy version and whether the
fixed version is silent in that file.

Each entry also records what the current release does (`found` or `missed`): the script exits
with status 1 when a `found` entry is no longer found, or when a fixed version gets a finding
of the rule in that file, so a change to the model that loses a real bug shows up here. Not
part of `cargo test` (it needs the network, like the corpora).

Usage: scripts/realbugs.py [--bin PATH] [--dest DIR]
   (default binary: target/release/cargo-maplint, built first; default DEST: target/realbugs)
"""

import argparse
import io
import json
import pathlib
import subprocess
import sys
import tarfile
import urllib.request

REPO = pathlib.Path(__file__).resolve().parent.parent
LIST = REPO / "scripts" / "realbugs.txt"


def entries():
    """(crate, buggy, fixed, rule, path, expect, reference) for each line of the list."""
    out = []
    for raw in LIST.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 6)
        if len(fields) < 6:
            sys.exit(f"realbugs.txt: expected 6 or 7 fields: {raw}")
        crate, buggy, fixed, rule, path, expect = fields[:6]
        if expect not in ("found", "missed"):
            sys.exit(f"realbugs.txt: the sixth field is `found` or `missed`: {raw}")
        out.append((crate, buggy, fixed, rule, path, expect, fields[6] if len(fields) > 6 else ""))
    return out


def fetch(crate, version, dest):
    """The unpacked source of crate@version under dest (downloaded once)."""
    root = dest / f"{crate}-{version}"
    if root.is_dir():
        return root
    url = f"https://static.crates.io/crates/{crate}/{crate}-{version}.crate"
    with urllib.request.urlopen(url, timeout=60) as response:
        data = response.read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(dest, filter="data")
    return root


def findings(binary, root):
    """(rule, path relative to root) of every finding in root."""
    run = subprocess.run(
        [str(binary), "maplint", str(root), "--no-cache", "--message-format", "json", "--exit-zero"],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode not in (0, 1):
        sys.exit(f"cargo-maplint failed on {root} (status {run.returncode}):\n{run.stderr[-2000:]}")
    out = []
    for line in run.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") != "compiler-message":
            continue
        code = message["message"]["code"]["code"].removeprefix("maplint::")
        spans = message["message"]["spans"]
        primary = next((s for s in spans if s.get("is_primary")), spans[0] if spans else None)
        if primary is None:
            continue
        file = pathlib.Path(primary["file_name"])
        try:
            file = file.resolve().relative_to(root.resolve())
        except ValueError:
            pass
        out.append((code, str(file), primary["line_start"]))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", type=pathlib.Path)
    parser.add_argument("--dest", type=pathlib.Path, default=REPO / "target" / "realbugs")
    args = parser.parse_args()
    binary = args.bin
    if binary is None:
        subprocess.run(["cargo", "build", "-q", "--release", "-p", "cargo-maplint"], cwd=REPO, check=True)
        binary = REPO / "target" / "release" / "cargo-maplint"
    args.dest.mkdir(parents=True, exist_ok=True)
    regressions = 0
    for crate, buggy, fixed, rule, path, expect, reference in entries():
        hits = [f for f in findings(binary, fetch(crate, buggy, args.dest)) if f[0] == rule and f[1] == path]
        after = [f for f in findings(binary, fetch(crate, fixed, args.dest)) if f[0] == rule and f[1] == path]
        found = "found" if hits else "missed"
        lines = ",".join(str(h[2]) for h in hits)
        print(f"{crate} {buggy} -> {fixed}: {rule} in {path}: {found}{' (lines ' + lines + ')' if hits else ''}"
              f"; fixed version: {'silent' if not after else 'still reported at ' + ','.join(str(a[2]) for a in after)}"
              f"{'  [expected ' + expect + ']' if found != expect else ''}  {reference}")
        if (expect == "found" and not hits) or after:
            regressions += 1
    if regressions:
        print(f"realbugs: {regressions} regression(s)", file=sys.stderr)
        sys.exit(1)
    print("realbugs: as expected")


if __name__ == "__main__":
    main()
