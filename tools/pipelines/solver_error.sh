#!/usr/bin/env bash
# Image RMSE of each solver against a converged reference (Euler, 400 steps) on a text-to-image model folder, from the
# same seeds and prompts, in the pipeline's own sigmas and guidance.
# Usage: tools/pipelines/solver_error.sh MODEL_DIR PROMPT_FILE OUT_DIR "NFE LIST" [extra generate options]
set -euo pipefail
model=$1; prompts=$2; out=$3; nfes=$4; shift 4
mkdir -p "$out"
cli="dotnet src/Stork.Cli/bin/Release/net10.0/Stork.Cli.dll"
common=(generate --model "$model" --prompt-file "$prompts" --seed 3 "$@")
$cli "${common[@]}" --scheduler euler --steps 400 --out "$out/reference.npy" >/dev/null
for solver in euler heun dpm++2m unipc deis stork-2 stork-4 "stork-4 --derivative-order 2" "stork-4 --stork-variant upstream"; do
  for nfe in $nfes; do
    steps=$nfe; [ "$solver" = heun ] && steps=$(( (nfe + 1) / 2 ))
    name=$(echo "$solver" | sed 's/ --stork-variant upstream/ upstream/; s/ --derivative-order 2/ d2/')
    $cli "${common[@]}" --scheduler $solver --steps $steps --out "$out/$(echo "$name" | tr ' ' '_')-$nfe.npy" >/dev/null
  done
done
/usr/bin/python3 - "$out" <<'PY'
import sys, glob, os, numpy as np
out = sys.argv[1]
ref = np.load(os.path.join(out, "reference.npy"))
rows = {}
for f in sorted(glob.glob(os.path.join(out, "*-*.npy"))):
    name, nfe = os.path.basename(f)[:-4].rsplit("-", 1)
    rows.setdefault(name.replace("_", " "), {})[int(nfe)] = float(np.sqrt(np.mean((np.load(f) - ref) ** 2)))
nfes = sorted({n for r in rows.values() for n in r})
print("| solver | " + " | ".join(f"NFE {n}" for n in nfes) + " |")
print("|---|" + "---|" * len(nfes))
for name, r in rows.items():
    best = {n: min(x[n] for x in rows.values() if n in x) for n in nfes}
    print(f"| {name} | " + " | ".join((f"**{r[n]:.2e}**" if r[n] == best[n] else f"{r[n]:.2e}") if n in r else "" for n in nfes) + " |")
PY
