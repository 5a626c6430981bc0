#!/usr/bin/env python3
"""Prints the module import graph of a crate's src/ and fails when two modules import
each other (directly or around a cycle). A module "imports" another when its code names
a path into it: `crate::a::b`, `super::x`, or `child::item` for a child it declares.

Usage: scripts/module-graph.py crates/nod-server/src [--edges]
"""
import os
import re
import sys


def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def main():
    root = sys.argv[1]
    modules = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".rs"):
                p = os.path.join(dirpath, f)
                modules[module_of(root, p)] = p
    edges = set()
    for mod, path in modules.items():
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"(?s)#\[cfg\(test\)\]\s*mod tests \{.*", "", text)
        text = re.sub(r"//[^\n]*", "", text)
        children = set(re.findall(r"^\s*(?:pub(?:\([a-z]+\))? )?mod ([a-z_0-9]+);", text, re.M))
        refs = []
        for m in re.finditer(r"\bcrate::((?:[a-z_0-9]+::)*[a-z_0-9]+)", text):
            refs.append(tuple(m.group(1).split("::")))
        for m in re.finditer(r"\bsuper::((?:[a-z_0-9]+::)*[a-zA-Z_0-9]+)", text):
            parent = mod[:-1]
            refs.append(parent + tuple(m.group(1).split("::")))
        for m in re.finditer(r"(?<![:\w])([a-z_0-9]+)::", text):
            if m.group(1) in children:
                refs.append(mod + (m.group(1),))
        # `use crate::{a, b::c}` groups
        for m in re.finditer(r"\bcrate::\{([^}]*)\}", text):
            for item in m.group(1).split(","):
                item = item.strip()
                if item:
                    refs.append(tuple(item.split("::")))
        for ref in refs:
            target = ()
            for i in range(len(ref), 0, -1):
                if ref[:i] in modules:
                    target = ref[:i]
                    break
            if target != mod:
                edges.add((mod, target))
    name = lambda m: "::".join(m) or "crate"
    graph = {m: set() for m in modules}
    for a, b in edges:
        graph[a].add(b)
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    cycles = [c for c in sccs if len(c) > 1]
    if "--edges" in sys.argv:
        for a, b in sorted(edges):
            print(f"{name(a)} -> {name(b)}")
    print(f"{root}: {len(modules)} modules, {len(edges)} imports, {len(cycles)} cycles")
    for c in cycles:
        print("  cycle: " + ", ".join(sorted(name(m) for m in c)))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
