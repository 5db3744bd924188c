#!/usr/bin/env python3
"""Module boundaries: headers under controller/src/<module>/ are private to that module.

A module that needs another's type includes its public header, plumbline/<module>/x.h, and
every public header sits in the folder of the module that implements it. Prints each
violation with file:line; fails when it checked nothing.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
src = root / "controller" / "src"
public = root / "controller" / "include" / "plumbline"
modules = {p.name for p in src.iterdir() if p.is_dir()}
include = re.compile(r'^\s*#\s*include\s+"([a-z_0-9]+)/([a-z_0-9]+\.h)"')
problems, checked = [], 0

for path in sorted(src.rglob("*")):
    if path.suffix not in (".cc", ".h"):
        continue
    module = path.relative_to(src).parts[0]
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = include.match(line)
        if not m:
            continue
        checked += 1
        owner = m.group(1)
        if owner in modules and owner != module:
            problems.append(f"{path.relative_to(root)}:{number}: includes {owner}'s private "
                            f"header {owner}/{m.group(2)}; make it public as "
                            f"plumbline/{owner}/{m.group(2)}")

for header in sorted(public.iterdir()):
    if header.is_file():
        problems.append(f"{header.relative_to(root)}: a public header outside a module folder")
for folder in sorted(p for p in public.iterdir() if p.is_dir()):
    if folder.name not in modules:
        problems.append(f"{folder.relative_to(root)}: no module controller/src/{folder.name}/")
    checked += sum(1 for _ in folder.glob("*.h"))

for p in problems:
    print(p)
if checked == 0:
    print("checked no include and no header: wrong root?")
    sys.exit(1)
print(f"{checked} includes and public headers checked, {len(problems)} problems")
sys.exit(1 if problems else 0)
