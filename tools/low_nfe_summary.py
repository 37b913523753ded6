"""Summarise tools/stork_low_nfe.sh: per analytic problem and NFE, the best peer, the previous STORK-4 default and the
current one (RMSE to the exact ODE), as a markdown table. Usage: python3 tools/low_nfe_summary.py [DIR]"""
import csv
import sys

DIR = sys.argv[1] if len(sys.argv) > 1 else "docs/results/low-nfe"
PEERS = ["unipc", "dpm++2m", "deis"]
PREV = "stork-4[base=training,taylor=time,corrector=off,eps=1e-3]"
PROBLEMS = ["gmm8-flow", "mixA-flow", "mixB-flow", "gmm8-eps", "mixA-eps", "mixB-eps"]
NFES = [5, 10, 20, 50]

print("| problem | NFE | best peer | previous STORK-4 default | STORK-4 (default now) | now / best peer |")
print("|---|---|---|---|---|---|")
for p in PROBLEMS:
    rows = list(csv.DictReader(open(f"{DIR}/{p}/ode.csv")))
    r = {(row["solver"], int(row["requested_nfe"])): float(row["rmse"]) for row in rows}
    for n in NFES:
        peer = min(PEERS, key=lambda s: r[(s, n)])
        now = r[("stork-4", n)]
        ratio = now / r[(peer, n)]
        mark = "**wins**" if ratio <= 1 else "loses"
        print(f"| {p} | {n} | {peer} {r[(peer, n)]:.2e} | {r[(PREV, n)]:.2e} | {now:.2e} | {ratio:.2f} ({mark}) |")
