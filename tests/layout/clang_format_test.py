#!/usr/bin/env python3
"""Every C++ file of the project is as clang-format (the checkout's .clang-format) writes it.

Runs `clang-format --dry-run -Werror` over the C++ sources and headers of controller/, tests/,
bench/ and fuzz/ (the files git tracks, or every *.cc/*.h there outside a Git checkout),
prints each file that differs and the command that fixes it; fails when clang-format is
missing or when it checked nothing.
"""
import pathlib
import re
import shutil
import subprocess
import sys

root = pathlib.Path(sys.argv[1])
folders = ("controller", "tests", "bench", "fuzz")
tool = shutil.which("clang-format")
if tool is None:
    sys.exit("clang-format is not installed (scripts/install-deps installs it)")
listed = subprocess.run(["git", "-C", str(root), "ls-files", "--", "*.cc", "*.h"],
                        capture_output=True, text=True)
if listed.returncode == 0:
    files = [f for f in listed.stdout.split() if f.split("/")[0] in folders]
else:
    files = [str(p.relative_to(root)) for folder in folders for p in (root / folder).rglob("*")
             if p.suffix in (".cc", ".h")]
if not files:
    sys.exit("no C++ file found: nothing was checked")
run = subprocess.run([tool, "--dry-run", "-Werror", *sorted(files)], cwd=root,
                     capture_output=True, text=True)
bad = sorted({m.group(1) for m in re.finditer(r"^(.+?):\d+:\d+: error", run.stderr, re.M)})
if run.returncode != 0 and not bad:
    sys.exit(f"clang-format failed: {run.stderr[:2000]}")
for f in bad:
    print(f"{f}: not clang-formatted (fix: clang-format -i {f})")
print(f"checked {len(files)} files, {len(bad)} not formatted")
sys.exit(1 if bad else 0)
