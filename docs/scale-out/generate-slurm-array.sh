#!/usr/bin/env bash
# A Slurm job array rendering a prompt file in 8 shards: task i runs `stork generate` on the i-th of 8 contiguous
# blocks of the run's images (prompt-file lines x --count). stork reads SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT
# (less SLURM_ARRAY_TASK_MIN, so --array=1-8 works as well as 0-7); the array must be contiguous (no :step, and
# %limit is fine). Submit with: sbatch docs/scale-out/generate-slurm-array.sh
#SBATCH --job-name=stork-generate
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=24G
#SBATCH --time=02:00:00
#SBATCH --output=logs/stork-%A_%a.log
set -euo pipefail
# The tool, installed once on a shared file system:
#   dotnet tool install Stork.Cli --tool-path "$HOME/.stork-tool" --add-source ./feed --version 0.2.0
STORK=${STORK:-$HOME/.stork-tool/stork}
"$STORK" generate \
  --model "$HOME/models/flux-schnell" \
  --prompt-file prompts.txt --count 4 --seed 0 \
  --out out/image.png --metadata
# PNGs: out/image-<global index>.png, the same names and bytes a single run writes.
# --out out/images.npy instead writes out/images.shard-<i>-of-8.npy per task; concatenating them along the first axis
# in shard order gives the single run's array.
