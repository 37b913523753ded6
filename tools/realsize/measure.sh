#!/usr/bin/env bash
# Real-size measurements for README "Real models" (tools/realsize/README.md).
#   tools/realsize/measure.sh SD15_FOLDER OUT_DIR [FORMATS] [SIZE]
# SD15_FOLDER: the folder built by ../shared/tools/realscale (sd15-real). For each format (default "fp32 int4 int8 fp16"):
# quantize the folder with `stork quantize` (not fp32), print the UNet's size on disk, then run unetprobe on the UNet
# (session load time against the read time of the same files, time per batch-2 call at SIZE x SIZE, default 256,
# output difference from fp32 on fixed seeded inputs) under /usr/bin/time (peak RSS). One JSON line per format in
# OUT_DIR/probe.jsonl. Run niced on a shared machine.
set -euo pipefail
SRC=$1; OUT=$2; FORMATS=${3:-fp32 int4 int8 fp16}; SIZE=${4:-256}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STORK=${STORK_DLL:-$ROOT/src/Stork.Cli/bin/Release/net10.0/Stork.Cli.dll}
PROBE=${PROBE_DLL:-$OUT/unetprobe-bin/unetprobe.dll}
mkdir -p "$OUT"
[ -f "$PROBE" ] || dotnet build -c Release "$ROOT/tools/realsize/unetprobe" -o "$OUT/unetprobe-bin" >/dev/null
for f in $FORMATS; do
  if [ "$f" = fp32 ]; then dir=$SRC; else
    dir=$OUT/sd15-$f
    [ -d "$dir" ] || /usr/bin/time -f "quantize $f: %e s, peak %M KB" dotnet "$STORK" quantize "$SRC" --to "$dir" --weights "$f"
  fi
  echo "$f unet bytes: $(du -b "$dir/unet" --exclude=config.json -s | cut -f1)"
  ref=(); [ "$f" = fp32 ] && ref=(--save "$OUT/ref-$SIZE.bin") || ref=(--ref "$OUT/ref-$SIZE.bin")
  /usr/bin/time -f "{\"format\": \"$f\", \"peak_rss_kb\": %M, \"wall_s\": %e}" -o "$OUT/time-$f.json" \
    dotnet "$PROBE" "$dir/unet" --size "$SIZE" --runs 2 "${ref[@]}" | tee -a "$OUT/probe.jsonl"
  cat "$OUT/time-$f.json" | tee -a "$OUT/probe.jsonl"
done
