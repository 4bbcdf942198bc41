#!/usr/bin/env python3
"""Fails when a module of a workspace crate imports a module that imports it back.

Issue 15's rule: no cycles among a crate's modules. A module's imports are the `crate::a::b`
paths it names (in `use` items and in code) and its `super::` paths; a parent declaring its
child (`mod x;`) is not an import, and `tests` modules (children that exist to test their
parent) are left out. Modules are compared at the depth they are named: `crate::db::postgres`
is the module `db::postgres` when that file exists, else `db`; an item of the crate root
(`crate::Error` in lib.rs) is the root module.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRATES = ["shared", "functions/secret-rotator", "functions/ecs-redeployer",
          "functions/taskdef-validator", "cli", "tests", "bench"]
PATH = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")
RELATIVE_USE = re.compile(r"\buse\s+([a-z_][a-z0-9_]*)::")
USE_GROUP = re.compile(r"\buse\s+crate::\{([^;]*)\};", re.S)


def modules(src: pathlib.Path) -> dict:
    """module path (tuple) -> file."""
    out = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "mod":
            parts = parts[:-1]
        if parts == ["main"] and (src / "lib.rs").exists():
            continue  # the binary: a crate of its own over the library
        if parts in (["lib"], ["main"]):
            parts = []
        if parts and parts[0] == "bin":
            continue
        if "tests" in parts:
            continue
        out[tuple(parts)] = f
    return out


def strip(text: str) -> str:
    """Comments and string literals out, and `#[cfg(test)] mod tests { … }` blocks."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"'(?:\\.|[^'\\])'", "' '", text)  # char literals such as '"'
    text = re.sub(r'\br#+"(?:.|\n)*?"#+', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    m = re.search(r"#\[cfg\(test\)\]\s*mod\s+tests\s*\{", text)
    if m:
        text = text[: m.start()]
    return text


def resolve(mods: dict, base: tuple) -> tuple:
    while base and base not in mods:
        base = base[:-1]
    return base


def graph(src: pathlib.Path) -> dict:
    mods = modules(src)
    edges = {m: set() for m in mods}
    for m, f in mods.items():
        text = strip(f.read_text())
        paths = []
        for head, tail in PATH.findall(text):
            segs = [s for s in tail.split("::") if s]
            if head == "crate":
                paths.append(tuple(segs))
            else:
                up, rest = list(m), list(segs)
                # A file module's `super` is its parent.
                up = up[:-1]
                while rest and rest[0] == "super":
                    up, rest = up[:-1], rest[1:]
                paths.append(tuple(up) + tuple(rest))
        for group in USE_GROUP.findall(text):
            for item in re.split(r"[,\s]+", group):
                item = item.strip("{} ")
                if item and re.match(r"[a-z_][a-z0-9_:]*$", item):
                    paths.append(tuple(item.split("::")))
        # Relative paths in `use` items name the module's own children (`use report::Report;`
        # in lib.rs): an import too, unlike the `mod report;` that declares the child.
        for child in RELATIVE_USE.findall(text):
            if m + (child,) in mods:
                paths.append(m + (child,))
        for p in paths:
            target = resolve(mods, p)
            if target != m:
                edges[m].add(target)
    return edges


def cycles(edges: dict) -> list:
    found = []
    for a, targets in edges.items():
        for b in targets:
            if a in edges.get(b, ()) and (b, a) not in found:
                found.append((a, b))
    # Longer cycles: depth-first search for a path back.
    def reach(start, goal, seen):
        for n in edges.get(start, ()):
            if n == goal:
                return True
            if n not in seen:
                seen.add(n)
                if reach(n, goal, seen):
                    return True
        return False
    for a in edges:
        if reach(a, a, set()) and not any(a in c for c in found):
            found.append((a,))
    return found


def name(m: tuple) -> str:
    return "::".join(m) or "crate root"


def main() -> int:
    bad = 0
    for crate in CRATES:
        src = ROOT / crate / "src"
        edges = graph(src)
        for c in cycles(edges):
            bad += 1
            if len(c) == 2:
                print(f"{crate}: {name(c[0])} and {name(c[1])} import each other")
            else:
                print(f"{crate}: {name(c[0])} is on an import cycle")
        if "--show" in sys.argv:
            for m in sorted(edges):
                print(f"{crate}: {name(m)} -> {', '.join(sorted(name(t) for t in edges[m])) or '-'}")
    if bad:
        print(f"{bad} module cycle(s)")
        return 1
    print("no module imports a module that imports it back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
