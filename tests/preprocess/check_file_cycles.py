#!/usr/bin/env python3
"""check_file_cycles: fails when the .c files of a static library call each
other in a circle: X.c -> Y.c when X.c uses a function or object that Y.c
defines (read from `nm` of the archive's members). A circle means a helper
lives in the wrong file: the file that calls the others also serves them.
usage: check_file_cycles.py LIBRARY.a [NM]"""
import subprocess
import sys


def members(lib, nm):
    """{member: (defined symbols, undefined symbols)} from nm's archive output."""
    out = subprocess.run([nm, lib], capture_output=True, text=True, check=True).stdout
    res, cur = {}, None
    for line in out.splitlines():
        if line.endswith(':') and ' ' not in line:
            cur = line[:-1].removesuffix('.o')
            res[cur] = (set(), set())
        elif cur:
            p = line.split()
            if len(p) == 3 and p[1] in 'TDRBC':
                res[cur][0].add(p[2])
            elif len(p) == 2 and p[0] == 'U':
                res[cur][1].add(p[1])
    return res


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
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
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    lib, nm = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else 'nm'
    m = members(lib, nm)
    owner = {s: f for f, (defs, _) in m.items() for s in defs}
    uses = {f: {(owner[s], s) for s in und if s in owner and owner[s] != f} for f, (_, und) in m.items()}
    graph = {f: sorted({g for g, _ in u}) for f, u in uses.items()}
    found = cycles(graph)
    for comp in found:
        print('circle:', ' '.join(comp))
        for f in comp:
            for g, s in sorted(uses[f]):
                if g in comp:
                    print(f'  {f} uses {s} from {g}')
    if found:
        sys.exit(1)
    print(f'no file circles in {lib} ({len(m)} files)')


main()
