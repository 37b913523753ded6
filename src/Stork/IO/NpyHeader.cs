namespace Stork.IO;

/// <summary>The validated header of a <c>.npy</c> file: shape, dtype (e.g. <c>&lt;f4</c>) and where the data starts.</summary>
public sealed record NpyHeader(int[] Shape, string DType, long DataOffset)
{
    /// <summary>Number of elements (the product of the shape; at most <see cref="NpyFile.MaxElements"/>).</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The dtype's kind: f (float), i (signed), u (unsigned), b (bool).</summary>
    public char Kind => DType[1];

    /// <summary>Bytes per element.</summary>
    public int ItemSize => int.Parse(DType.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>True for big-endian data.</summary>
    public bool BigEndian => DType[0] == '>';

    /// <summary>True for float32 and float64.</summary>
    public bool IsFloat => Kind == 'f';
}
