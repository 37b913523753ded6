"""Shared training / export code for the Fashion-MNIST UNet denoisers.

Used by train_flow.py (rectified flow, velocity prediction) and train_eps.py
(continuous-time VP, epsilon prediction).
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fashion_data  # noqa: E402
from unet import UNet, count_parameters  # noqa: E402

REPO = os.path.dirname(HERE)
MODELS_DIR = os.path.join(REPO, "models")
OPSET = 17


def base_args(description, default_iters):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--iters", type=int, default=default_iters, help="training iterations (fixed count)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--base", type=int, default=32, help="UNet base width (channels at 28x28; x2, x4 below)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200, help="linear LR warmup iterations")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--models-dir", default=MODELS_DIR)
    p.add_argument("--name", default=None, help="override output base name (e.g. for smoke runs)")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--stop-after", type=int, default=0,
                   help="stop after this many iterations (LR schedule still planned for --iters); 0 = run all")
    p.add_argument("--init-onnx", default=None,
                   help="continue training from the weights of an exported UNet (e.g. models/fashion-flow-unet.onnx); "
                        "the online model and its EMA both start from them")
    p.add_argument("--time-budget-min", type=float, default=0.0,
                   help="stop early (at a multiple of --log-every) once this many minutes of training have "
                        "passed; the iteration reached is recorded so a rerun with --stop-after reproduces it")
    return p


def seed_all(seed, threads):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)


def lr_at(it, iters, lr, warmup):
    """Linear warmup, then cosine decay from lr to 0.1*lr at the last iteration."""
    if it < warmup:
        return lr * (it + 1) / warmup
    p = (it - warmup) / max(1, iters - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * p)))


class EMA:
    """EMA of weights; decay ramps up as min(decay, (1+k)/(10+k)) so early weights fade quickly."""

    def __init__(self, model, decay):
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.k = 0

    @torch.no_grad()
    def update(self, model):
        d = min(self.decay, (1.0 + self.k) / (10.0 + self.k))
        self.k += 1
        for pe, p in zip(self.model.parameters(), model.parameters()):
            pe.mul_(d).add_(p.detach(), alpha=1.0 - d)
        for be, b in zip(self.model.buffers(), model.buffers()):
            be.copy_(b)


def load_onnx_weights(model, onnx_path):
    """Load the weights of a UNet exported by export_unet back into a torch UNet of the same width.

    torch.onnx.export keeps the parameter names, except for the GroupNorm affine parameters: GroupNorm is
    decomposed into InstanceNormalization + Mul + Add at opset 17 and its weight/bias become anonymous
    initializers ``onnx::Mul_N`` / ``onnx::Add_N`` (shape [C,1,1]), numbered in module order. They are matched
    to the GroupNorm parameters in that order, and the result is checked against the model's fixture.
    """
    import onnx
    from onnx import numpy_helper

    m = onnx.load(onnx_path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    sd = model.state_dict()
    anonymous = sorted((n for n in inits if n.startswith("onnx::Mul_") or n.startswith("onnx::Add_")),
                       key=lambda n: int(n.rsplit("_", 1)[1]))
    unnamed = [k for k in sd if k not in inits]
    if len(unnamed) != len(anonymous):
        raise SystemExit(f"{onnx_path}: {len(unnamed)} parameters without a name in the graph, "
                         f"{len(anonymous)} anonymous initializers; not a UNet of this --base width")
    for k in sd:
        src = inits[k] if k in inits else inits[anonymous[unnamed.index(k)]]
        if src.size != sd[k].numel():
            raise SystemExit(f"{onnx_path}: {k} has {src.size} values in the graph, {sd[k].numel()} in the UNet")
        sd[k] = torch.from_numpy(src.copy()).reshape(sd[k].shape)
    model.load_state_dict(sd)
    card_path = os.path.splitext(onnx_path)[0] + ".json"
    with open(card_path) as f:
        card = json.load(f)
    fx = card["fixture"]
    folder = os.path.dirname(onnx_path)
    x, t, out = (np.load(os.path.join(folder, fx[k])) for k in ("x", "t", "out"))
    with torch.no_grad():
        got = model.eval()(torch.from_numpy(x), torch.from_numpy(t)).numpy()
    model.train()
    err = float(np.abs(got - out).max())
    if err > 1e-4:
        raise SystemExit(f"{onnx_path}: reloaded weights reproduce the fixture only to {err:.2e}")
    print(f"[init] weights of {onnx_path} loaded (fixture max diff {err:.1e}); training continues from "
          f"{card['training']['iterations']} iterations", flush=True)
    return card


def train(args, loss_fn, name, wrap=None, extra_info=None):
    """loss_fn(model, x0, gen) -> scalar loss. Returns (ema_model, info dict).

    wrap: optional module factory around the UNet (e.g. an output conversion that is part of the exported graph);
    --init-onnx weights are loaded into the UNet before wrapping. extra_info: recorded in the info (and checkpoint)."""
    seed_all(args.seed, args.threads)
    images, _ = fashion_data.load("train")
    data = torch.from_numpy(fashion_data.to_unit_range(images))  # [60000,1,28,28] in [-1,1]
    n = data.shape[0]
    gen = torch.Generator().manual_seed(args.seed + 1)

    model = UNet(base=args.base)
    init_card = load_onnx_weights(model, args.init_onnx) if args.init_onnx else None
    if wrap is not None:
        model = wrap(model)
    ema = EMA(model, args.ema)
    nparams = count_parameters(model)
    print(f"[{name}] parameters: {nparams}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)

    perm = torch.randperm(n, generator=gen)
    pos = 0
    losses = []
    t0 = time.time()
    tlog = t0
    stop_at = args.stop_after if args.stop_after > 0 else args.iters
    done_iters = 0
    for it in range(stop_at):
        if pos + args.batch > n:
            perm = torch.randperm(n, generator=gen)
            pos = 0
        x0 = data[perm[pos:pos + args.batch]]
        pos += args.batch
        for g in opt.param_groups:
            g["lr"] = lr_at(it, args.iters, args.lr, args.warmup)
        loss = loss_fn(model, x0, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(model)
        losses.append(loss.item())
        if (it + 1) % args.log_every == 0 or it == 0 or it + 1 == stop_at:
            now = time.time()
            k = min(len(losses), args.log_every)
            print(f"[{name}] it {it + 1}/{args.iters} loss(avg last {k}) {np.mean(losses[-k:]):.5f} "
                  f"lr {opt.param_groups[0]['lr']:.2e} elapsed {now - t0:.1f}s "
                  f"s/it {(now - t0) / (it + 1):.3f}", flush=True)
            tlog = now
            if (it + 1) % 500 == 0:
                torch.save({"model": model.state_dict(), "ema": ema.model.state_dict(), "it": it + 1},
                           os.path.join(HERE, f"{name}.partial.pt"))
            if args.time_budget_min > 0 and (now - t0) / 60.0 >= args.time_budget_min and \
                    (it + 1) % args.log_every == 0:
                print(f"[{name}] time budget reached, stopping at iteration {it + 1}", flush=True)
                done_iters = it + 1
                break
        done_iters = it + 1
    wall = time.time() - t0
    final_loss = float(np.mean(losses[-200:]))
    info = {
        "iterations": done_iters,
        "planned_iterations": args.iters,
        "batch": args.batch,
        "base_width": args.base,
        "optimizer": f"AdamW(betas=(0.9,0.999), weight_decay=0), grad-norm clip 1.0, lr linear warmup "
                     f"{args.warmup} it then cosine decay to 0.1*lr",
        "lr": args.lr,
        "warmup": args.warmup,
        "ema": args.ema,
        "seed": args.seed,
        "final_loss": round(final_loss, 6),
        "final_loss_note": "mean training MSE of the online model over the last 200 iterations",
        "wall_minutes": round(wall / 60.0, 2),
        "threads": args.threads,
    }
    info.update(extra_info or {})
    if init_card is not None:
        info["continued_from"] = {"onnx": os.path.relpath(args.init_onnx, REPO),
                                  "iterations": init_card["training"]["iterations"],
                                  "command": init_card["command"],
                                  "final_loss": init_card["training"]["final_loss"],
                                  "note": "continued training: the command under continued_from writes the model "
                                          "this run starts from; run it first, then this card's command"}
        info["total_iterations"] = init_card["training"].get("total_iterations",
                                                             init_card["training"]["iterations"]) + done_iters
    ckpt = os.path.join(HERE, f"{name}.pt")
    torch.save({"model": model.state_dict(), "ema": ema.model.state_dict(), "info": info}, ckpt)
    print(f"[{name}] done: {done_iters} it in {wall / 60:.2f} min, final loss {final_loss:.5f}; saved {ckpt}",
          flush=True)
    return ema.model, info, nparams


def training_command(script, default_iters, info, extra=""):
    """The command that reproduces a run from its info: every setting that differs from its default, then `extra`
    (a script's own options), then the seed and a continuation (--init-onnx) with its learning-rate schedule."""
    planned = info.get("planned_iterations", info["iterations"])
    cmd = f"python3 tools/{script}"
    if planned != default_iters or info["iterations"] != planned:
        cmd += f" --iters {planned}"
    if info["iterations"] != planned:
        cmd += f" --stop-after {info['iterations']}"
    if info.get("base_width", 32) != 32:
        cmd += f" --base {info['base_width']}"
    if info.get("batch", 128) != 128:
        cmd += f" --batch {info['batch']}"
    if info.get("threads", 2) != 2:
        cmd += f" --threads {info['threads']}"
    cmd += extra
    if info.get("seed", 0) != 0:
        cmd += f" --seed {info['seed']}"
    if "continued_from" in info:
        cmd += f" --init-onnx {info['continued_from']['onnx']}"
    if info.get("lr", 1e-3) != 1e-3:
        cmd += f" --lr {info['lr']:g}"
    if info.get("warmup", 200) != 200:
        cmd += f" --warmup {info['warmup']}"
    return cmd


def fixture_inputs():
    x = np.random.RandomState(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    t = np.array([0.7, 0.2], dtype=np.float32)
    return x, t


def export_unet(model, name, models_dir, card_extra, info, nparams, command):
    import onnx

    os.makedirs(models_dir, exist_ok=True)
    model = model.eval()
    onnx_path = os.path.join(models_dir, f"{name}.onnx")
    dummy_x = torch.randn(3, 1, 28, 28)
    dummy_t = torch.rand(3)
    with torch.no_grad():
        torch.onnx.export(model, (dummy_x, dummy_t), onnx_path, opset_version=OPSET,
                          input_names=["x", "t"], output_names=["out"],
                          dynamic_axes={"x": {0: "batch"}, "t": {0: "batch"}, "out": {0: "batch"}},
                          do_constant_folding=True)
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    size_mb = os.path.getsize(onnx_path) / 2 ** 20
    print(f"[{name}] exported {onnx_path} ({size_mb:.2f} MiB), ops: "
          f"{sorted(set(n.op_type for n in m.graph.node))}", flush=True)

    x, t = fixture_inputs()
    with torch.no_grad():
        out = model(torch.from_numpy(x), torch.from_numpy(t)).numpy().astype(np.float32)
        # consistency: batch-of-one evaluation equals batched evaluation
        out1 = model(torch.from_numpy(x[1:2]), torch.from_numpy(t[1:2])).numpy()
    print(f"[{name}] fixture out mean {out.mean():.5f} std {out.std():.5f}; "
          f"batch-1 vs batch-2 max diff {np.abs(out1 - out[1:2]).max():.2e}", flush=True)
    fx = {k: f"{name}.fixture-{k}.npy" for k in ("x", "t", "out")}
    np.save(os.path.join(models_dir, fx["x"]), x)
    np.save(os.path.join(models_dir, fx["t"]), t)
    np.save(os.path.join(models_dir, fx["out"]), out)

    card = {
        "name": name,
        "kind": "denoiser",
        "onnx": f"{name}.onnx",
    }
    card.update(card_extra)
    card.update({
        "inputs": {"sample": "x", "time": "t"},
        "output": "out",
        "layout": "NCHW",
        "sample_shape": [1, 28, 28],
        "dtype": "float32",
        "data_range": [-1.0, 1.0],
        "opset": OPSET,
        "architecture": UNet.describe(info.get("base_width", 32)),
        "parameters": nparams,
        "data": "Fashion-MNIST training set (60,000 images), Debian package dataset-fashion-mnist",
        "training": info,
        "command": command,
        "fixture": fx,
    })
    with open(os.path.join(models_dir, f"{name}.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"[{name}] wrote card {name}.json", flush=True)


def write_pgm(path, imgs_m11, cols=4):
    """imgs in [-1,1], shape [N,1,28,28] -> grayscale PGM grid (for eyeballing only)."""
    imgs = np.clip((imgs_m11[:, 0] + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    n = imgs.shape[0]
    rows = (n + cols - 1) // cols
    grid = np.zeros((rows * 28, cols * 28), dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28] = imgs[i]
    with open(path, "wb") as f:
        f.write(f"P5 {grid.shape[1]} {grid.shape[0]} 255\n".encode())
        f.write(grid.tobytes())


def sample_report(name, samples):
    images, _ = fashion_data.load("train")
    data_mean = fashion_data.to_unit_range(images[:10000]).mean()
    s = samples
    frac = float(np.mean(np.abs(s) <= 1.1))
    print(f"[{name}] sanity: {s.shape[0]} samples, fraction of pixels in [-1.1,1.1]: {frac:.4f}, "
          f"min {s.min():.3f} max {s.max():.3f}, sample pixel mean {s.mean():.4f} vs data mean {data_mean:.4f}, "
          f"sample pixel std {s.std():.4f}", flush=True)
    os.makedirs(os.path.join(HERE, "logs"), exist_ok=True)
    pgm = os.path.join(HERE, "logs", f"{name}-samples.pgm")
    write_pgm(pgm, s)
    print(f"[{name}] wrote {pgm}", flush=True)
