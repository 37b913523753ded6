#!/usr/bin/env bash
# `stork bench quality` on 50,000 samples in 8 Slurm array tasks, then one merge:
#   jid=$(sbatch --parsable docs/scale-out/bench-quality-slurm-array.sh)
#   sbatch --dependency=afterok:"$jid" --wrap "$HOME/.stork-tool/stork bench merge --out-dir bench-quality"
# Task i solves every cell (solver x NFE) on the i-th contiguous block of the run's --chunk blocks of samples and
# writes bench-quality/quality.shard-<i>-of-8.json (feature sums and outer-product sums, squared errors, time); the
# merge writes quality.csv / quality.md / fd.png / rmse.png, with the Frechet distance of the single-machine run.
# Every task must be given the same options (they are part of the run's key, which the merge checks).
#SBATCH --job-name=stork-bench-quality
#SBATCH --array=0-7
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=04:00:00
#SBATCH --output=logs/stork-bench-%A_%a.log
set -euo pipefail
STORK=${STORK:-$HOME/.stork-tool/stork}
"$STORK" bench quality --samples 50000 --chunk 250 --rmse-samples 256 \
  --solvers euler,dpm++2m,unipc,stork-2,stork-4 --nfe 5,8,10,15,20,30,50 \
  --out-dir bench-quality
