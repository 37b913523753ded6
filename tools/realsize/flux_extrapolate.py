#!/usr/bin/python3
"""From fluxprobe measurements of the reduced FLUX.1 folder to the full FLUX.1-schnell (19 double + 38 single blocks,
24-layer T5-XXL): per-block times and bytes, full-model memory and seconds per step per format, and a FLOP count.

usage: flux_extrapolate.py OUT   (reads OUT/flux-probe.jsonl, OUT/flux-real-build.json, OUT/flux-*/ sizes)

Per-block time: the minimum over rounds and calls of the profiler's kernel-time sum of that block (the least
contended figure). Full transformer step = 19 x double + 38 x single + the rest (embedders, final norm, projection:
once per step). Full T5 = 24 x layer (block.1, a layer without the position-bias table) + the rest.
Full weights per format = the measured folder's bytes per parameter x the full parameter count. Full peak = measured
peak + the extra weights resident (x 1.0 for fp32, x 1.15 for int8/int4 as MemoryEstimate counts them): ONNX Runtime
runs the blocks one after the other, so the activations do not grow with the number of blocks.
"""
import json
import os
import sys

FULL_DOUBLE, FULL_SINGLE, FULL_T5 = 19, 38, 24
RESIDENT = {"fp32": 1.0, "int8": 1.15, "int4": 1.15}
# per-token linear parameters of one block (both kinds: 113.2 M) and the attention width, for the FLOP count
D = 3072


def folder_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith("model.onnx"))


def main():
    out = sys.argv[1]
    build = {}
    for line in open(os.path.join(out, "flux-real-build.json")):
        build.update(json.loads(line))
    rows = [json.loads(line) for line in open(os.path.join(out, "flux-probe.jsonl"))]
    pd, ps = build["double_block_parameters"], build["single_block_parameters"]
    pt = build["transformer_parameters"]
    prest = pt - pd - ps
    full_t = prest + FULL_DOUBLE * pd + FULL_SINGLE * ps
    pl, p5 = build["t5_layer_parameters"], build["t5_parameters"]
    nl = round((p5 - 32128 * 4096 - 4096) / pl)
    full_5 = p5 + (FULL_T5 - nl) * pl
    print(f"parameters: transformer measured {pt / 1e6:.1f} M (double block {pd / 1e6:.1f} M, single {ps / 1e6:.1f} M, "
          f"rest {prest / 1e6:.1f} M) -> full {full_t / 1e9:.2f} B; T5 measured {p5 / 1e6:.1f} M ({nl} layers of "
          f"{pl / 1e6:.1f} M) -> full {full_5 / 1e9:.2f} B")
    keys = sorted({(r["part"], r["size"], r["format"]) for r in rows})
    print("\n| part | size | format | on disk | bytes/param | peak RSS (min) | after load | call (min) | "
          "per block (min) | rest | CPU-s per call (min) | CPU-s per block | out rel L2 vs fp32 | max abs | rounds | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for part, size, fmt in keys:
        rs = [r for r in rows if (r["part"], r["size"], r["format"]) == (part, size, fmt)]
        runs = [b for r in rs for b in r["probe"].get("blocks_s", [])]
        mins, cpus = {}, {}
        for b in runs:
            for k, v in b.items():
                mins[k] = min(mins.get(k, 1e9), v)
        # CPU seconds per block: the call's process CPU time (threads sleeping when idle) split by the kernel times
        for r in rs:
            for b, c in zip(r["probe"].get("blocks_s", []), r["probe"].get("cpu_s", [])):
                tot = sum(b.values())
                for k, v in b.items():
                    cpus[k] = min(cpus.get(k, 1e9), c * v / tot)
        call = min(min(r["probe"]["call_s"]) for r in rs)
        cpu = min(min(r["probe"].get("cpu_s", [0])) for r in rs)
        peak = min(r["peak_kb"] for r in rs) * 1024
        after = min(r["probe"]["rss_after_load"] for r in rs)
        nbytes = rs[0]["probe"]["bytes"]
        params = pt if part == "transformer" else p5
        l2 = [r["probe"]["rel_l2"] for r in rs if "rel_l2" in r["probe"]]
        mx = [r["probe"]["max_abs"] for r in rs if "max_abs" in r["probe"]]
        loads = [r["load_before"].split()[0] for r in rs]
        if part == "transformer":
            per = f"double {mins.get('transformer_blocks.0', 0):.2f} s, single {mins.get('single_transformer_blocks.0', 0):.2f} s"
        else:
            per = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(mins.items()) if k != "rest")
        if part == "transformer":
            cper = f"double {cpus.get('transformer_blocks.0', 0):.1f}, single {cpus.get('single_transformer_blocks.0', 0):.1f}"
        else:
            cper = ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpus.items()) if k != "rest")
        print(f"| {part} | {size} | {fmt} | {nbytes / 1e9:.3f} GB | {nbytes / params:.3f} | {peak / 1e9:.2f} GB | "
              f"{after / 1e9:.2f} GB | {call:.2f} s | {per} | {mins.get('rest', 0):.2f} s | {cpu:.1f} | {cper} | "
              f"{(f'{max(l2):.2e}' if l2 else ('0 (reference)' if fmt == 'fp32' else 'no reference'))} | {(f'{max(mx):.2e}' if mx else '')} | {len(rs)} | "
              f"{', '.join(loads)} |")
        summary[(part, size, fmt)] = dict(mins=mins, cpus=cpus, cpu=cpu, call=call, peak=peak, bytes=nbytes, params=params)
    print("\nFull FLUX.1-schnell extrapolated (weights = bytes/param x full parameters; peak = measured peak + extra "
          "weights x resident factor; time = 19 x double + 38 x single + rest, T5 = 24 x layer + rest):\n")
    print("| part | size | format | full weights | full peak (one component loaded) | time per call (step), from the "
          "least contended wall times | CPU-s per call | idle 2-core estimate (CPU-s / 2) | CPU-s per call, blocks of equal cost | "
          "idle 2-core estimate, equal blocks |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (part, size, fmt), s in sorted(summary.items()):
        bpp = s["bytes"] / s["params"]
        full = full_t if part == "transformer" else full_5
        wfull = bpp * full
        peak = s["peak"] + (wfull - s["bytes"]) * RESIDENT[fmt]
        m = s["mins"]
        def full_time(m):
            if part == "transformer":
                return FULL_DOUBLE * m.get("transformer_blocks.0", 0) + FULL_SINGLE * m.get("single_transformer_blocks.0", 0) + m.get("rest", 0)
            return FULL_T5 * m.get("block.1", m.get("block.0", 0)) + m.get("rest", 0)
        t, c = full_time(m), full_time(s["cpus"])
        # Both block kinds do the same FLOPs (113.2 M multiply-adds per token in linear layers, one joint attention), and
        # the profiler's split between them is at the mercy of other jobs: the call's CPU time split evenly instead
        rest = s["cpus"].get("rest", 0)
        n = FULL_DOUBLE + FULL_SINGLE if part == "transformer" else FULL_T5
        k = 2 if part == "transformer" else len([x for x in s["cpus"] if x != "rest"])
        e = (s["cpu"] - rest) / k * n + rest
        print(f"| {part} | {size} | {fmt} | {wfull / 1e9:.1f} GB | {peak / 1e9:.1f} GB | {t:.0f} s | {c:.0f} | {c / 2:.0f} s | {e:.0f} | {e / 2:.0f} s |")
    print("\nFLOPs of one full transformer call (multiply-add = 2 FLOPs; linear layers 2 x 113.2 M x tokens per block "
          "plus attention 4 x tokens^2 x 3072 per block, 57 blocks; embedders and AdaLN once per step are negligible):\n")
    print("| image | text tokens | tokens | TFLOP per step | TFLOP for 4 steps |")
    print("|---|---|---|---|---|")
    per_tok = 2 * 113.2e6
    for size, txt in ((512, 512), (1024, 256), (1024, 512)):
        n = (size // 16) ** 2 + txt
        f = 57 * (per_tok * n + 4 * n * n * D)
        print(f"| {size} x {size} | {txt} | {n} | {f / 1e12:.1f} | {4 * f / 1e12:.1f} |")


if __name__ == "__main__":
    main()
