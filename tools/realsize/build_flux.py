#!/usr/bin/python3
"""FLUX.1-schnell at its real width with fewer blocks and random (seeded) weights, in the Optimum ONNX layout.

usage: build_flux.py OUT [--double N] [--single N] [--t5-layers N] [--only transformer,text_encoder_2,vae_decoder]

Writes OUT/flux-real, a model_index.json folder the project's FLUX.1 pipeline loads:
- transformer: diffusers' own FluxTransformer2DModel (its source from the diffusers mirror, prepared by
  ../shared/tools/realscale/prep_diffusers.sh, imported with ../shared/tools/realscale/stubs.py) with FLUX.1-schnell's
  config (hidden 3072 = 24 heads x 128, MLP 4x, joint_attention_dim 4096, pooled_projection_dim 768, in_channels 64,
  axes_dims_rope (16, 56, 56), no guidance embedding) and N double-stream + N single-stream blocks (default 1 + 1;
  the real model has 19 + 38). torch 1.13 lacks F.scaled_dot_product_attention and nn.RMSNorm: both are shimmed
  below with their textbook definitions (softmax(q k^T / sqrt(d)) v; x / rms(x) * w).
- text_encoder_2: T5EncoderModel (transformers is not installable here, so written out below with HF's parameter
  names) at T5-XXL width: d_model 4096, 64 heads x 64, d_ff 10240 gated-GELU (tanh), RMS layer norms, relative
  position bias (32 buckets, max distance 128, bidirectional, from the first layer), no score scaling; N layers
  (default 2; the real model has 24).
- text_encoder: the CLIP-L encoder of the real-size SD1.5 folder (same architecture as FLUX.1's), hard-linked from
  --clip DIR (default /work/realscale-out/sd15-real/text_encoder).
- vae_decoder: diffusers' AutoencoderKL with FLUX.1's config (16 latent channels, 128/256/512/512, no quant convs).
Signatures as the project's tiny flux-schnell test folder (Optimum's names): transformer hidden_states [b, n, 64],
encoder_hidden_states [b, s, 4096], pooled_projections [b, 768], timestep [b] (sigma; the model multiplies by 1000),
img_ids [n, 3] int64, txt_ids [s, 3] int64 -> out_hidden_states; text_encoder_2 input_ids [b, s] -> last_hidden_state;
vae_decoder latent_sample [b, 16, h, w] -> sample. Opset 17, float32, external data (model.onnx + model.onnx_data).
Json/tokenizer files come from tests/Stork.Tests/Data/pipelines/models/flux-schnell (env STORK_REPO, default: cwd).
"""
import json
import math
import os
import shutil
import sys

REALSCALE = os.environ.get("REALSCALE", "/work/shared/tools/realscale")
sys.path.insert(0, REALSCALE)
import stubs  # noqa: E402,F401
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from build_sd15 import export, write_json  # noqa: E402

if not hasattr(F, "scaled_dot_product_attention"):
    def _sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
        s = scale if scale is not None else 1.0 / math.sqrt(query.shape[-1])
        w = torch.matmul(query * s, key.transpose(-2, -1))
        if attn_mask is not None:
            w = w.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else w + attn_mask
        return torch.matmul(torch.softmax(w, dim=-1), value)
    F.scaled_dot_product_attention = _sdpa

if not hasattr(nn, "RMSNorm"):
    class _RMSNorm(nn.Module):
        def __init__(self, dim, eps=None, elementwise_affine=True):
            super().__init__()
            self.eps = 1e-6 if eps is None else eps
            self.weight = nn.Parameter(torch.ones(dim)) if elementwise_affine else None

        def forward(self, x):
            x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
            return x * self.weight if self.weight is not None else x
    nn.RMSNorm = _RMSNorm

# torch 1.13's ONNX exporter has no aten::unflatten (diffusers' Flux attention splits heads with it): the same as a reshape
def _unflatten(self, dim, sizes):
    dim = dim % self.dim()
    return self.reshape(tuple(self.shape[:dim]) + tuple(sizes) + tuple(self.shape[dim + 1:]))


torch.Tensor.unflatten = _unflatten

# ... and exports an affine-free LayerNorm (FLUX's AdaLayerNorm) as LayerNormalization without its required scale input
# (the checker refuses it; given a constant scale instead, ONNX Runtime 1.31 crashed at ORT_ENABLE_EXTENDED/ALL):
# write that one out (the same function; ONNX Runtime fuses it back into LayerNormalization)
_layer_norm = F.layer_norm


def _layer_norm_with_scale(x, shape, weight=None, bias=None, eps=1e-5):
    if weight is not None or bias is not None or len(shape) != 1:
        return _layer_norm(x, shape, weight, bias, eps)
    mean = x.mean(-1, keepdim=True)
    d = x - mean
    return d / torch.sqrt(d.pow(2).mean(-1, keepdim=True) + eps)


F.layer_norm = _layer_norm_with_scale



def rope_1d(dim, pos, theta=10000.0, use_real=False, linear_factor=1.0, ntk_factor=1.0, repeat_interleave_real=True,
            freqs_dtype=torch.float32):
    """diffusers' get_1d_rotary_pos_embed for FLUX (use_real, repeat_interleave_real), with the interleave written as a
    stack + reshape: torch 1.13 exports repeat_interleave over a dynamic length as a Loop over sequences per axis."""
    assert use_real and repeat_interleave_real and dim % 2 == 0
    freqs = 1.0 / ((theta * ntk_factor) ** (torch.arange(0, dim, 2, dtype=freqs_dtype) / dim)) / linear_factor
    freqs = pos.to(freqs_dtype)[:, None] * freqs[None, :]  # torch.outer(pos, freqs)
    cos, sin = freqs.cos(), freqs.sin()
    return (torch.stack([cos, cos], dim=-1).flatten(1).float(), torch.stack([sin, sin], dim=-1).flatten(1).float())


def flux_class():
    import diffusers.models.transformers.transformer_flux as tf
    tf.get_1d_rotary_pos_embed = rope_1d
    return tf.FluxTransformer2DModel


FLUX_CFG = dict(patch_size=1, in_channels=64, out_channels=None, attention_head_dim=128, num_attention_heads=24,
                joint_attention_dim=4096, pooled_projection_dim=768, guidance_embeds=False, axes_dims_rope=[16, 56, 56])
T5_CFG = dict(d_model=4096, d_kv=64, num_heads=64, d_ff=10240, vocab_size=32128, relative_attention_num_buckets=32,
              relative_attention_max_distance=128, layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu")
VAE_CFG = dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
               up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[128, 256, 512, 512], layers_per_block=2,
               act_fn="silu", latent_channels=16, norm_num_groups=32, sample_size=1024, scaling_factor=0.3611,
               shift_factor=0.1159, use_quant_conv=False, use_post_quant_conv=False, force_upcast=True)


class FluxIO(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, hidden_states, encoder_hidden_states, pooled_projections, timestep, img_ids, txt_ids):
        return self.model(hidden_states=hidden_states, encoder_hidden_states=encoder_hidden_states,
                          pooled_projections=pooled_projections, timestep=timestep, img_ids=img_ids.float(),
                          txt_ids=txt_ids.float(), return_dict=False)[0]


class T5LayerNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.variance_epsilon = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon))


class T5Attention(nn.Module):
    def __init__(self, c, has_bias):
        super().__init__()
        self.h, self.dk, self.c = c["num_heads"], c["d_kv"], c
        inner = self.h * self.dk
        self.q = nn.Linear(c["d_model"], inner, bias=False)
        self.k = nn.Linear(c["d_model"], inner, bias=False)
        self.v = nn.Linear(c["d_model"], inner, bias=False)
        self.o = nn.Linear(inner, c["d_model"], bias=False)
        if has_bias:
            self.relative_attention_bias = nn.Embedding(c["relative_attention_num_buckets"], self.h)

    def bucket(self, rel):
        # transformers' T5Attention._relative_position_bucket, bidirectional
        nb = self.c["relative_attention_num_buckets"] // 2
        buckets = (rel > 0).long() * nb
        rel = rel.abs()
        exact = nb // 2
        large = exact + (torch.log(rel.float() / exact) / math.log(self.c["relative_attention_max_distance"] / exact)
                         * (nb - exact)).long()
        large = torch.minimum(large, torch.full_like(large, nb - 1))
        return buckets + torch.where(rel < exact, rel, large)

    def position_bias(self, n):
        pos = torch.arange(n, dtype=torch.long)
        rel = pos[None, :] - pos[:, None]
        return self.relative_attention_bias(self.bucket(rel)).permute(2, 0, 1).unsqueeze(0)

    def forward(self, x, bias):
        b, n, _ = x.shape
        q = self.q(x).view(b, n, self.h, self.dk).transpose(1, 2)
        k = self.k(x).view(b, n, self.h, self.dk).transpose(1, 2)
        v = self.v(x).view(b, n, self.h, self.dk).transpose(1, 2)
        w = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) + bias, dim=-1)  # T5: no 1/sqrt(d) scaling
        return self.o(torch.matmul(w, v).transpose(1, 2).reshape(b, n, self.h * self.dk))


class T5SelfAttentionLayer(nn.Module):
    def __init__(self, c, has_bias):
        super().__init__()
        self.SelfAttention = T5Attention(c, has_bias)
        self.layer_norm = T5LayerNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, x, bias):
        return x + self.SelfAttention(self.layer_norm(x), bias)


class T5DenseGatedActDense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi_0 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wi_1 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wo = nn.Linear(c["d_ff"], c["d_model"], bias=False)

    def forward(self, x):
        return self.wo(F.gelu(self.wi_0(x), approximate="tanh") * self.wi_1(x))


class T5FFLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(c)
        self.layer_norm = T5LayerNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, x):
        return x + self.DenseReluDense(self.layer_norm(x))


class T5Block(nn.Module):
    def __init__(self, c, has_bias):
        super().__init__()
        self.layer = nn.ModuleList([T5SelfAttentionLayer(c, has_bias), T5FFLayer(c)])

    def forward(self, x, bias):
        return self.layer[1](self.layer[0](x, bias))


class T5Stack(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.block = nn.ModuleList([T5Block(c, i == 0) for i in range(n)])
        self.final_layer_norm = T5LayerNorm(c["d_model"], c["layer_norm_epsilon"])


class T5EncoderIO(nn.Module):
    """T5EncoderModel: shared embedding, encoder.block.*, encoder.final_layer_norm -> last_hidden_state."""

    def __init__(self, c, n):
        super().__init__()
        self.shared = nn.Embedding(c["vocab_size"], c["d_model"])
        self.encoder = T5Stack(c, n)
        with torch.no_grad():  # transformers' T5 _init_weights (factor 1): embedding N(0, 1), q N(0, (d_model d_kv)^-1/2),
            # k, v, wi_0, wi_1 N(0, d_model^-1/2), o N(0, (heads d_kv)^-1/2), wo N(0, d_ff^-1/2), bias table N(0, d_model^-1/2)
            self.shared.weight.normal_(0, 1.0)
            for name, mod in self.named_modules():
                if isinstance(mod, nn.Linear):
                    scale = c["d_kv"] ** -0.5 if name.endswith(".q") else 1.0
                    mod.weight.normal_(0, mod.in_features ** -0.5 * scale)
            self.encoder.block[0].layer[0].SelfAttention.relative_attention_bias.weight.mul_(c["d_model"] ** -0.5)

    def forward(self, input_ids):
        x = self.shared(input_ids)
        bias = self.encoder.block[0].layer[0].SelfAttention.position_bias(input_ids.shape[1])
        for blk in self.encoder.block:
            x = blk(x, bias)
        return self.encoder.final_layer_norm(x)


class VaeDecoderIO(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent_sample):
        return self.vae.decode(latent_sample, return_dict=False)[0]


def params(m):
    return sum(p.numel() for p in m.parameters())


def main():
    out_root = sys.argv[1]
    opts = dict(a.split("=", 1) if "=" in a else (a, "") for a in sys.argv[2:])
    nd, ns = int(opts.get("--double", 1)), int(opts.get("--single", 1))
    nt5 = int(opts.get("--t5-layers", 2))
    only = opts.get("--only", "transformer,text_encoder_2,text_encoder,vae_decoder,files").split(",")
    clip = opts.get("--clip", "/work/realscale-out/sd15-real/text_encoder")
    repo = os.environ.get("STORK_REPO", os.getcwd())
    tiny = os.path.join(repo, "tests/Stork.Tests/Data/pipelines/models/flux-schnell")
    out = os.path.join(out_root, "flux-real")
    os.makedirs(out, exist_ok=True)
    sys.path.insert(0, os.environ.get("DIFFUSERS_SRC", "/tmp/flux-diffusers-src/src"))
    record = {}
    if "transformer" in only:
        FluxTransformer2DModel = flux_class()
        torch.manual_seed(0)
        model = FluxTransformer2DModel(num_layers=nd, num_single_layers=ns, **FLUX_CFG).eval()
        record["transformer_parameters"] = params(model)
        record["double_block_parameters"] = params(model.transformer_blocks[0]) if nd else 0
        record["single_block_parameters"] = params(model.single_transformer_blocks[0]) if ns else 0
        print(record, flush=True)
        n, s = 64, 16  # trace size; every axis below is dynamic
        args = (torch.randn(1, n, 64), torch.randn(1, s, 4096), torch.randn(1, 768), torch.tensor([1.0]),
                torch.zeros(n, 3, dtype=torch.long), torch.zeros(s, 3, dtype=torch.long))
        axes = {"hidden_states": {0: "batch_size", 1: "packed_height_width"},
                "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
                "pooled_projections": {0: "batch_size"}, "timestep": {0: "step"},
                "img_ids": {0: "packed_height_width"}, "txt_ids": {0: "sequence_length"},
                "out_hidden_states": {0: "batch_size", 1: "packed_height_width"}}
        export(FluxIO(model), args, os.path.join(out, "transformer/model.onnx"),
               ["hidden_states", "encoder_hidden_states", "pooled_projections", "timestep", "img_ids", "txt_ids"],
               ["out_hidden_states"], axes, external=True)
        cfg = json.load(open(os.path.join(tiny, "transformer/config.json")))
        cfg.update(FLUX_CFG, num_layers=nd, num_single_layers=ns)
        write_json(os.path.join(out, "transformer/config.json"), cfg)
        del model
    if "text_encoder_2" in only:
        torch.manual_seed(1)
        t5 = T5EncoderIO(T5_CFG, nt5).eval()
        record["t5_parameters"] = params(t5)
        record["t5_layer_parameters"] = params(t5.encoder.block[1 if nt5 > 1 else 0])
        print(record, flush=True)
        export(t5, (torch.zeros(1, 16, dtype=torch.long),), os.path.join(out, "text_encoder_2/model.onnx"),
               ["input_ids"], ["last_hidden_state"],
               {"input_ids": {0: "batch_size", 1: "sequence_length"},
                "last_hidden_state": {0: "batch_size", 1: "sequence_length"}}, external=True)
        cfg = json.load(open(os.path.join(tiny, "text_encoder_2/config.json")))
        cfg.pop("tiny_note", None)
        cfg.update({k: v for k, v in T5_CFG.items() if k != "layer_norm_epsilon"}, num_layers=nt5,
                   _name_or_path="realsize random T5-XXL width")
        write_json(os.path.join(out, "text_encoder_2/config.json"), cfg)
        del t5
    if "vae_decoder" in only:
        from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
        torch.manual_seed(2)
        vae = AutoencoderKL(**VAE_CFG).eval()
        record["vae_decoder_parameters"] = params(vae.decoder)
        export(VaeDecoderIO(vae), (torch.randn(1, 16, 16, 16),), os.path.join(out, "vae_decoder/model.onnx"),
               ["latent_sample"], ["sample"],
               {"latent_sample": {0: "batch_size", 2: "latent_height", 3: "latent_width"},
                "sample": {0: "batch_size", 2: "height", 3: "width"}}, external=True)
        cfg = json.load(open(os.path.join(tiny, "vae_decoder/config.json")))
        cfg.update(VAE_CFG)
        write_json(os.path.join(out, "vae_decoder/config.json"), cfg)
        del vae
    if "text_encoder" in only:
        d = os.path.join(out, "text_encoder")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for f in os.listdir(clip):
            os.link(os.path.join(clip, f), os.path.join(d, f))
    if "files" in only:
        shutil.copy(os.path.join(tiny, "model_index.json"), out)
        for sub in ("scheduler", "tokenizer", "tokenizer_2"):
            shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
            shutil.copytree(os.path.join(tiny, sub), os.path.join(out, sub))
    with open(os.path.join(out_root, "flux-real-build.json"), "a") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
