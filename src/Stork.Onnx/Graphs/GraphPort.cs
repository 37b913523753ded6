using Microsoft.ML.OnnxRuntime.Tensors;

namespace Stork.Onnx;

/// <summary>A bound input or output: its name in the graph, element type and dimensions (-1 for a dynamic axis).</summary>
public sealed record GraphPort(string Logical, string Name, TensorElementType ElementType, int[] Dimensions)
{
    /// <summary>The number of axes.</summary>
    public int Rank => Dimensions.Length;

    /// <summary>The fixed size of axis <paramref name="axis"/>, or null when it is dynamic.</summary>
    public int? Fixed(int axis) => axis < Dimensions.Length && Dimensions[axis] > 0 ? Dimensions[axis] : null;

    /// <summary>True for float32, float16, bfloat16 and float64.</summary>
    public bool IsFloat => ElementType is TensorElementType.Float or TensorElementType.Float16 or TensorElementType.BFloat16 or TensorElementType.Double;

    /// <summary>True for int32 and int64.</summary>
    public bool IsInteger => ElementType is TensorElementType.Int32 or TensorElementType.Int64;

    /// <summary>The port as messages name it: name, element type, dimensions.</summary>
    public string Describe() => $"{Name} {ElementType} [{string.Join(", ", Dimensions.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
}
