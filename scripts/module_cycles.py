#!/usr/bin/env python3
"""Fails when a crate's modules import each other in a circle.

Each source file is a module; `crate::a::b` (in a path or a `use`) and `super::x` are edges to
the deepest module file they name. Edges between a module and its own submodules or parent are
not counted (a parent declares its children; a child may use its parent's items). Comments and
`#[cfg(test)] mod tests` bodies are skipped. Prints every circle (a strongly connected
component) with its edges, and exits 1 if there is one.

    scripts/module_cycles.py middleware-core middleware-builtin middleware-contrib example-site
"""
import os
import re
import sys
from collections import defaultdict


def modules(root):
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            parts = os.path.relpath(path, root)[:-3].split("/")
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            if any("test" in p for p in parts):
                continue
            files[tuple(parts)] = path
    return files


def edges(files):
    graph = defaultdict(set)

    def resolve(path):
        for i in range(len(path), 0, -1):
            if tuple(path[:i]) in files:
                return tuple(path[:i])
        return None

    for module, path in files.items():
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"#\[cfg\(test\)\]\s*mod tests[\s\S]*", "", text)
        text = "\n".join(l for l in text.split("\n") if not l.strip().startswith("//"))
        refs = [m.group(1).split("::") for m in re.finditer(r"crate::((?:\w+::)*\w+)", text)]
        for m in re.finditer(r"use crate::((?:\w+::)*)\{([^}]*)\}", text):
            base = m.group(1).strip(":").split("::") if m.group(1) else []
            refs += [base + x.split("::") for x in re.findall(r"(\w+(?:::\w+)*)", m.group(2))]
        for m in re.finditer(r"\bsuper::((?:\w+::)*\w+)", text):
            refs.append(list(module[:-1]) + m.group(1).split("::"))
        for ref in refs:
            target = resolve([p for p in ref if p != "self"])
            if target and target != module and module[: len(target)] != target:
                if target[: len(module)] != module:
                    graph[module].add(target)
    return graph


def circles(nodes, graph):
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in nodes:
        if v not in index:
            visit(v)
    return found


def main(crates):
    failed = False
    for crate in crates:
        files = modules(os.path.join(crate, "src"))
        graph = edges(files)
        found = circles(list(files), graph)
        print(f"{crate}: {len(files)} modules, {len(found)} import circles")
        for component in found:
            failed = True
            members = set(component)
            for v in component:
                targets = sorted("::".join(t) for t in graph[v] & members)
                print(f"  {'::'.join(v) or 'lib'} -> {', '.join(targets)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
