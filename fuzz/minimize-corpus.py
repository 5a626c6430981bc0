#!/usr/bin/env python3
"""Keeps fuzz/corpus/TARGET small: the hand-written seeds (seed-*) and, picked greedily,
the inputs that add the most coverage edges, up to MAX files in all (default 48).

    python3 minimize-corpus.py TARGET [EXTRA_CORPUS_DIR ...] [--max N]

It asks libFuzzer (`cargo fuzz run TARGET -- -merge=1`, what `cargo fuzz cmin` runs, with
edges only: -use_counters=0) which edges each input covers, then chooses; an input
that adds no edge is never kept. Prints the edges the kept files cover out of all."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

args = sys.argv[1:]
limit = 48
if "--max" in args:
    i = args.index("--max")
    limit = int(args[i + 1])
    del args[i : i + 2]
target, extra = args[0], args[1:]
here = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, "corpus", target)

with tempfile.TemporaryDirectory() as tmp:
    control = os.path.join(tmp, "control")
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    subprocess.run(
        ["cargo", "+nightly", "fuzz", "run", target, out, corpus, *extra, "--",
         "-merge=1", "-use_counters=0", f"-merge_control_file={control}",
         "-rss_limit_mb=2048"],
        cwd=here, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    lines = open(control).read().splitlines()
    count = int(lines[0])
    files = lines[2 : 2 + count]
    cov = {}
    for line in lines[2 + count :]:
        if line.startswith("COV "):
            parts = line.split()
            cov[int(parts[1])] = set(parts[2:])
    every = set().union(*cov.values()) if cov else set()
    seeds = [i for i, f in enumerate(files)
             if os.path.dirname(f) == corpus and os.path.basename(f).startswith("seed-")]
    chosen, covered = list(seeds), set()
    for i in seeds:
        covered |= cov.get(i, set())
    while len(chosen) < limit:
        best = max(cov, key=lambda i: len(cov[i] - covered), default=None)
        if best is None or not cov[best] - covered:
            break
        chosen.append(best)
        covered |= cov[best]
    data = {i: open(files[i], "rb").read() for i in chosen}

for name in os.listdir(corpus):
    if not name.startswith("seed-"):
        os.remove(os.path.join(corpus, name))
for i in chosen:
    if i not in seeds:
        name = hashlib.sha1(data[i]).hexdigest()
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(data[i])
print(f"{target}: {len(chosen)} files ({len(seeds)} seeds) cover {len(covered)} of "
      f"{len(every)} edges the {len(files)} inputs cover")
