using Microsoft.ML.OnnxRuntime.Tensors;

namespace Stork.Onnx;

/// <summary>Element type of a model's sample input and output (the card's <c>dtype</c>); converted at the boundary.</summary>
public enum TensorDType
{
    Float32,
    Float16,
}

/// <summary>Parsing <see cref="TensorDType"/>.</summary>
public static class TensorDTypes
{
    public static TensorDType Parse(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "fp32" or "float" => TensorDType.Float32,
        "float16" or "fp16" or "half" => TensorDType.Float16,
        _ => throw new ArgumentException($"unknown dtype '{name}' (expected float32 or float16)."),
    };

    public static TensorElementType ToElementType(this TensorDType t) =>
        t == TensorDType.Float16 ? TensorElementType.Float16 : TensorElementType.Float;

    public static string ToName(this TensorDType t) => t == TensorDType.Float16 ? "float16" : "float32";
}
