#!/usr/bin/env python3
"""Writes models/fashion-flux/vae_encoder/ (issue 21: image inputs need Optimum's vae_encoder).

fashion-flux's autoencoder is fixed and lossless (tools/train_fashion_flux.py): the decoder is a 4x4 depth-to-space of
the 16 latent channels to one gray channel, replicated to RGB; the training encoder was the inverse space-to-depth of
the gray image. This graph is that encoder with Optimum's signature: `sample` f32 [B, 3, H, W] in [-1, 1] ->
`latent_parameters` f32 [B, 32, H/4, W/4], the posterior mean (channels 0-15: space-to-depth of the mean of R, G, B,
exact for the gray images the model makes) and a log-variance of 0 (channels 16-31). With one channel, ONNX's
SpaceToDepth is torch's pixel_unshuffle. Standard library only: the ONNX protobuf is written field by field (opset 17,
IR version 8), so it runs where no onnx package is installed.

    python3 tools/make_fashion_flux_vae_encoder.py
"""
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "fashion-flux")


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def s(num, text):
    return field(num, 2, text.encode())


def msg(num, *parts):
    return field(num, 2, b"".join(parts))


def attr_int(name, value):
    return msg(5, s(1, name), field(3, 0, value), field(20, 0, 2))  # AttributeProto INT


def attr_ints(name, values):
    return msg(5, s(1, name), *[field(8, 0, v) for v in values], field(20, 0, 7))  # AttributeProto INTS


def node(op, inputs, outputs, name, *attrs):
    return msg(1, *[s(1, i) for i in inputs], *[s(2, o) for o in outputs], s(3, name), s(4, op), *attrs)


def value_info(num, name, dims):
    shape = b"".join(msg(1, s(2, d) if isinstance(d, str) else field(1, 0, d)) for d in dims)
    tensor = msg(1, field(1, 0, 1), msg(2, shape))  # elem_type FLOAT, shape
    return msg(num, s(1, name), msg(2, tensor))


graph = b"".join([
    node("ReduceMean", ["sample"], ["gray"], "gray", attr_ints("axes", [1]), attr_int("keepdims", 1)),
    node("SpaceToDepth", ["gray"], ["mean"], "space_to_depth", attr_int("blocksize", 4)),
    node("Sub", ["mean", "mean"], ["logvar"], "log_variance_zero"),
    node("Concat", ["mean", "logvar"], ["latent_parameters"], "parameters", attr_int("axis", 1)),
    s(2, "fashion_flux_vae_encoder"),
    value_info(11, "sample", ["batch_size", 3, "sample_height", "sample_width"]),
    value_info(12, "latent_parameters", ["batch_size", 32, "sample_height / 4", "sample_width / 4"]),
])
model = field(1, 0, 8) + s(2, "stork tools/make_fashion_flux_vae_encoder.py") + msg(7, graph) + msg(8, s(1, ""), field(2, 0, 17))

out = os.path.join(ROOT, "vae_encoder")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "model.onnx"), "wb") as f:
    f.write(model)
config = json.load(open(os.path.join(ROOT, "vae_decoder", "config.json")))
config["fashion_flux_note"] = ("fixed lossless autoencoder: the encoder is the 4x4 space-to-depth of the mean of R, G, B "
                               "(exact for gray images), log-variance 0; written by tools/make_fashion_flux_vae_encoder.py")
json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
print(f"wrote {out}/model.onnx ({len(model)} bytes) and config.json")
