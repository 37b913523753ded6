#!/usr/bin/env bash
# Image error of each solver against a converged reference (Euler, 400 steps) on a FLUX.1 model folder, in the
# pipeline's own sigmas. Usage: tools/pipelines/flux_solver_error.sh MODEL_DIR OUT_DIR [extra generate options]
set -euo pipefail
model=$1; out=$2; shift 2
mkdir -p "$out"
cli="dotnet src/Stork.Cli/bin/Release/net10.0/Stork.Cli.dll"
common=(generate --model "$model" --prompt "a watercolor painting of a lighthouse on a rocky coast at sunset" --height 128 --width 128 --seed 3 --count 4 "$@")
$cli "${common[@]}" --scheduler euler --steps 400 --out "$out/reference.npy" >/dev/null
for solver in euler heun dpm++2m unipc deis stork-2 stork-4 "stork-4 --derivative-order 2" "stork-4 --stork-variant upstream"; do
  for nfe in 4 8 16 32; do
    steps=$nfe; [ "$solver" = heun ] && steps=$(( (nfe + 1) / 2 ))
    name=$(echo "$solver" | sed 's/ --stork-variant upstream/_upstream/; s/ --derivative-order 2/_d2/')
    $cli "${common[@]}" --scheduler $solver --steps $steps --out "$out/$name-$nfe.npy" >/dev/null
  done
done
/usr/bin/python3 - "$out" <<'PY'
import sys, glob, os, numpy as np
out = sys.argv[1]
ref = np.load(os.path.join(out, "reference.npy"))
rows = {}
for f in sorted(glob.glob(os.path.join(out, "*-*.npy"))):
    name, nfe = os.path.basename(f)[:-4].rsplit("-", 1)
    rows.setdefault(name, {})[int(nfe)] = float(np.sqrt(np.mean((np.load(f) - ref) ** 2)))
nfes = sorted({n for r in rows.values() for n in r})
print("| solver | " + " | ".join(f"NFE {n}" for n in nfes) + " |")
print("|---|" + "---|" * len(nfes))
for name, r in rows.items():
    print(f"| {name} | " + " | ".join(f"{r[n]:.2e}" if n in r else "" for n in nfes) + " |")
PY
