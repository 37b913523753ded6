#!/usr/bin/env python3
"""Export a diffusers Qwen-Image checkpoint to the ONNX layout Stork.NET's QwenImagePipeline reads.

UNTESTED: written against diffusers' QwenImageTransformer2DModel / AutoencoderKLQwenImage and transformers'
Qwen2_5_VLForConditionalGeneration APIs (diffusers 0.35-0.36, transformers 4.5x), but never run on the real
weights here (no weights, no network). See docs/text-to-image-qwen.md for what was and was not verified.

Layout written (see docs/text-to-image-qwen.md):
  model_index.json                        _class_name QwenImagePipeline
  scheduler/scheduler_config.json         copied
  tokenizer/                              copied (vocab.json, merges.txt, tokenizer_config.json, ...)
  text_encoder/model.onnx + config.json   input_ids, attention_mask int64 [B, L] -> last_hidden_state [B, L, 3584]
  transformer/model.onnx + config.json    hidden_states [B, S, 64], encoder_hidden_states [B, T, 3584],
                                          encoder_hidden_states_mask int64 [B, T], timestep [B] (sigma),
                                          img_ids int64 [S, 3], txt_ids int64 [T, 3] -> out_hidden_states [B, S, 64]
  vae_decoder/model.onnx + config.json    latent_sample [B, 16, 1, h, w] -> sample [B, 3, 1, 8h, 8w] in [-1, 1]

The transformer's rotary tables (QwenEmbedRope, built from the Python list img_shapes) are replaced by tables built
from the position-id inputs: angle = ids[:, axis] * theta^(-2i/d_axis), the same numbers QwenEmbedRope's complex
tables hold for the centred (scale_rope) positions that the C# pipeline feeds. Complex tensors do not export, so
apply_rotary_emb_qwen is replaced by its real (cos, sin) form on interleaved pairs, which is the same rotation.

Usage:
  python export_qwen_image.py --checkpoint Qwen/Qwen-Image --out qwen-image-onnx [--dtype fp16|fp32] [--opset 17]
"""

import argparse
import inspect
import json
import os
import shutil

import torch

import diffusers.models.transformers.transformer_qwenimage as tq
from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel


def rotary_real(x, freqs_cis, use_real=True, use_real_unbind_dim=-1):
    """apply_rotary_emb_qwen(use_real=False) with freqs given as (cos, sin) [S, D/2]: adjacent pairs rotated."""
    cos, sin = freqs_cis
    cos = cos.repeat_interleave(2, dim=-1)[None, :, None, :]  # x is [B, S, H, D]
    sin = sin.repeat_interleave(2, dim=-1)[None, :, None, :]
    x_real, x_imag = x.float().reshape(*x.shape[:-1], -1, 2).unbind(-1)
    x_rotated = torch.stack([-x_imag, x_real], dim=-1).flatten(3)
    return (x.float() * cos + x_rotated * sin).to(x.dtype)


class IdsRope(torch.nn.Module):
    """Stands in for transformer.pos_embed: returns the (cos, sin) tables the wrapper computed from the ids."""

    def __init__(self, theta, axes_dim):
        super().__init__()
        self.theta = theta
        self.axes_dim = list(axes_dim)
        inv = [1.0 / torch.pow(float(theta), torch.arange(0, d, 2, dtype=torch.float32) / d) for d in self.axes_dim]
        for k, f in enumerate(inv):
            self.register_buffer(f"inv_freq_{k}", f, persistent=False)
        self.tables = None

    def angles(self, ids):
        ids = ids.reshape(-1, 3).float()
        parts = [ids[:, k : k + 1] * getattr(self, f"inv_freq_{k}")[None, :] for k in range(3)]
        a = torch.cat(parts, dim=-1)  # [N, sum(d)/2]
        return torch.cos(a), torch.sin(a)

    def forward(self, *args, **kwargs):
        return self.tables


class TransformerExport(torch.nn.Module):
    def __init__(self, transformer):
        super().__init__()
        self.transformer = transformer
        cfg = transformer.config
        self.rope = IdsRope(10000, cfg.axes_dims_rope)
        transformer.pos_embed = self.rope
        self.params = set(inspect.signature(transformer.forward).parameters)

    def forward(self, hidden_states, encoder_hidden_states, encoder_hidden_states_mask, timestep, img_ids, txt_ids):
        self.rope.tables = (self.rope.angles(img_ids), self.rope.angles(txt_ids))
        kwargs = dict(
            hidden_states=hidden_states,
            encoder_hidden_states=encoder_hidden_states,
            encoder_hidden_states_mask=encoder_hidden_states_mask,
            timestep=timestep,
            img_shapes=[(1, 1, 1)],  # ignored: the rotary tables come from the ids
            return_dict=False,
        )
        if "txt_seq_lens" in self.params:
            kwargs["txt_seq_lens"] = [encoder_hidden_states.shape[1]]
        return self.transformer(**kwargs)[0]


class TextEncoderExport(torch.nn.Module):
    """The language model of Qwen2.5-VL on text only; its output is hidden_states[-1] (after the final norm)."""

    def __init__(self, model):
        super().__init__()
        inner = model.model
        self.lm = getattr(inner, "language_model", inner)

    def forward(self, input_ids, attention_mask):
        # Qwen2.5-VL's get_rope_index for text only: cumsum(mask) - 1, padding set to 1, the same on all three axes.
        pos = attention_mask.long().cumsum(-1) - 1
        pos = pos.masked_fill(attention_mask == 0, 1)
        position_ids = pos.unsqueeze(0).expand(3, -1, -1)
        out = self.lm(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False, return_dict=True)
        return out.last_hidden_state


class VaeDecoderExport(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent_sample):
        return self.vae.decode(latent_sample, return_dict=False)[0]  # _decode clamps to [-1, 1]


def export(module, args, path, input_names, output_names, dynamic_axes, opset):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset, do_constant_folding=True, dynamo=False)
    import onnx

    model = onnx.load(path, load_external_data=True)
    for f in os.listdir(os.path.dirname(path)):
        if f != "model.onnx" and f != "config.json":
            os.remove(os.path.join(os.path.dirname(path), f))  # torch's per-tensor external files
    big = sum(len(t.raw_data) for t in model.graph.initializer) > 1_800_000_000  # protobuf's 2 GiB limit
    onnx.save_model(model, path, save_as_external_data=big, all_tensors_to_one_file=True, location="model.onnx_data")


def write_config(folder, config):
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(dict(config), f, indent=2, default=str)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="diffusers Qwen-Image folder or hub id")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["fp32", "fp16"], default="fp32")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--skip", nargs="*", default=[], choices=["text_encoder", "transformer", "vae_decoder"])
    a = ap.parse_args()
    dtype = torch.float16 if a.dtype == "fp16" else torch.float32
    tq.apply_rotary_emb_qwen = rotary_real  # the attention processor looks it up in this module at call time

    from huggingface_hub import snapshot_download

    src = a.checkpoint if os.path.isdir(a.checkpoint) else snapshot_download(a.checkpoint, allow_patterns=["*.json", "*.txt", "tokenizer/*", "scheduler/*"])
    os.makedirs(a.out, exist_ok=True)
    shutil.copytree(os.path.join(src, "scheduler"), os.path.join(a.out, "scheduler"), dirs_exist_ok=True)
    shutil.copytree(os.path.join(src, "tokenizer"), os.path.join(a.out, "tokenizer"), dirs_exist_ok=True)
    index = json.load(open(os.path.join(src, "model_index.json")))
    index["_class_name"] = "QwenImagePipeline"
    json.dump(index, open(os.path.join(a.out, "model_index.json"), "w"), indent=2)

    if "transformer" not in a.skip:
        tr = QwenImageTransformer2DModel.from_pretrained(a.checkpoint, subfolder="transformer", torch_dtype=dtype).eval()
        cfg = tr.config
        B, S, T = 1, 64, 16
        args = (torch.randn(B, S, cfg.in_channels, dtype=dtype), torch.randn(B, T, cfg.joint_attention_dim, dtype=dtype),
                torch.ones(B, T, dtype=torch.int64), torch.full((B,), 0.5, dtype=dtype),
                torch.zeros(S, 3, dtype=torch.int64), torch.arange(T, dtype=torch.int64)[:, None].repeat(1, 3) + 4)
        path = os.path.join(a.out, "transformer", "model.onnx")
        export(TransformerExport(tr), args, path,
               ["hidden_states", "encoder_hidden_states", "encoder_hidden_states_mask", "timestep", "img_ids", "txt_ids"],
               ["out_hidden_states"],
               {"hidden_states": {0: "batch_size", 1: "packed_height_width"},
                "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
                "encoder_hidden_states_mask": {0: "batch_size", 1: "sequence_length"},
                "timestep": {0: "step"}, "img_ids": {0: "packed_height_width"}, "txt_ids": {0: "sequence_length"},
                "out_hidden_states": {0: "batch_size", 1: "packed_height_width"}}, a.opset)
        write_config(os.path.dirname(path), cfg)
        del tr

    if "text_encoder" not in a.skip:
        from transformers import Qwen2_5_VLForConditionalGeneration

        te = Qwen2_5_VLForConditionalGeneration.from_pretrained(a.checkpoint, subfolder="text_encoder", torch_dtype=dtype).eval()
        path = os.path.join(a.out, "text_encoder", "model.onnx")
        L = 48
        export(TextEncoderExport(te), (torch.randint(0, 1000, (1, L)), torch.ones(1, L, dtype=torch.int64)), path,
               ["input_ids", "attention_mask"], ["last_hidden_state"],
               {"input_ids": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "sequence_length"},
                "last_hidden_state": {0: "batch_size", 1: "sequence_length"}}, a.opset)
        write_config(os.path.dirname(path), te.config.to_dict())
        del te

    if "vae_decoder" not in a.skip:
        vae = AutoencoderKLQwenImage.from_pretrained(a.checkpoint, subfolder="vae", torch_dtype=dtype).eval()
        path = os.path.join(a.out, "vae_decoder", "model.onnx")
        export(VaeDecoderExport(vae), (torch.randn(1, vae.config.z_dim, 1, 16, 16, dtype=dtype),), path,
               ["latent_sample"], ["sample"],
               {"latent_sample": {0: "batch_size", 3: "latent_height", 4: "latent_width"},
                "sample": {0: "batch_size", 3: "height", 4: "width"}}, a.opset)
        write_config(os.path.dirname(path), vae.config)


if __name__ == "__main__":
    main()
