using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Stork.Onnx;

/// <summary>
/// A tensor in a graph's own element type (float32, float16, bfloat16, float64, int32 or int64) over a managed array
/// that an <see cref="OrtValue"/> pins: filled from float or integer spans and read back as float, so the network
/// receives exactly the values a Python pipeline casts to the graph's dtype. Allocated once, reused every step.
/// </summary>
public sealed class GraphTensor : IDisposable
{
    private readonly float[]? _f32;
    private readonly Float16[]? _f16;
    private readonly BFloat16[]? _bf16;
    private readonly double[]? _f64;
    private readonly int[]? _i32;
    private readonly long[]? _i64;

    /// <summary>Allocates a tensor of <paramref name="type"/> and <paramref name="shape"/>, zeroed.</summary>
    public GraphTensor(TensorElementType type, long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"tensor dimension {d} is negative.");
            }

            count = checked(count * d);
        }

        int n = checked((int)count);
        Type = type;
        Shape = shape;
        Length = n;
        Value = type switch
        {
            TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(_f32 = new float[n], shape),
            TensorElementType.Float16 => OrtValue.CreateTensorValueFromMemory(_f16 = new Float16[n], shape),
            TensorElementType.BFloat16 => OrtValue.CreateTensorValueFromMemory(_bf16 = new BFloat16[n], shape),
            TensorElementType.Double => OrtValue.CreateTensorValueFromMemory(_f64 = new double[n], shape),
            TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(_i32 = new int[n], shape),
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(_i64 = new long[n], shape),
            _ => throw new NotSupportedException($"tensor element type {type} is not supported."),
        };
    }

    /// <summary>The element type.</summary>
    public TensorElementType Type { get; }

    /// <summary>The shape.</summary>
    public long[] Shape { get; }

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>The ONNX Runtime value over the tensor's memory.</summary>
    public OrtValue Value { get; }

    /// <summary>True for the floating-point element types.</summary>
    public bool IsFloat => _f32 is not null || _f16 is not null || _bf16 is not null || _f64 is not null;

    /// <summary>Writes float values (cast to the element type; integer types refuse them).</summary>
    public void SetFloats(ReadOnlySpan<float> source)
    {
        RequireLength(source.Length);
        if (_f32 is not null)
        {
            source.CopyTo(_f32);
        }
        else if (_f16 is not null)
        {
            for (int i = 0; i < source.Length; i++)
            {
                _f16[i] = (Float16)source[i];
            }
        }
        else if (_bf16 is not null)
        {
            for (int i = 0; i < source.Length; i++)
            {
                _bf16[i] = (BFloat16)source[i];
            }
        }
        else if (_f64 is not null)
        {
            for (int i = 0; i < source.Length; i++)
            {
                _f64[i] = source[i];
            }
        }
        else
        {
            throw new InvalidOperationException($"a {Type} tensor cannot take float values.");
        }
    }

    /// <summary>Writes float values at <paramref name="offset"/> (cast to the element type; integer types refuse them).</summary>
    public void SetSlice(int offset, ReadOnlySpan<float> source)
    {
        if (offset < 0 || offset + source.Length > Length)
        {
            throw new ArgumentException($"a slice of {source.Length} at {offset} does not fit a tensor of {Length} values.");
        }

        if (_f32 is not null)
        {
            source.CopyTo(_f32.AsSpan(offset));
        }
        else if (_f16 is not null)
        {
            for (int i = 0; i < source.Length; i++)
            {
                _f16[offset + i] = (Float16)source[i];
            }
        }
        else if (_bf16 is not null)
        {
            for (int i = 0; i < source.Length; i++)
            {
                _bf16[offset + i] = (BFloat16)source[i];
            }
        }
        else if (_f64 is not null)
        {
            for (int i = 0; i < source.Length; i++)
            {
                _f64[offset + i] = source[i];
            }
        }
        else
        {
            throw new InvalidOperationException($"a {Type} tensor cannot take float values.");
        }
    }

    /// <summary>Sets every element to <paramref name="value"/>, cast to the element type as torch's <c>.to(dtype)</c> would.</summary>
    public void Fill(double value)
    {
        if (_f32 is not null)
        {
            Array.Fill(_f32, (float)value);
        }
        else if (_f16 is not null)
        {
            Array.Fill(_f16, (Float16)(float)value);
        }
        else if (_bf16 is not null)
        {
            Array.Fill(_bf16, (BFloat16)(float)value);
        }
        else if (_f64 is not null)
        {
            Array.Fill(_f64, value);
        }
        else if (_i32 is not null)
        {
            Array.Fill(_i32, checked((int)value));
        }
        else
        {
            Array.Fill(_i64!, checked((long)value));
        }
    }

    /// <summary>
    /// Writes <paramref name="source"/> at the start and zeroes the rest (a last chunk smaller than a fixed batch);
    /// float types only.
    /// </summary>
    public void SetPadded(ReadOnlySpan<float> source)
    {
        SetSlice(0, source);
        if (source.Length < Length)
        {
            var zeros = new float[Length - source.Length];
            SetSlice(source.Length, zeros);
        }
    }

    /// <summary>
    /// <see cref="Fill"/>, but an integer element type gets the value rounded half to even (a model card's integer
    /// timestep) rather than truncated.
    /// </summary>
    public void FillRounded(double value) => Fill(_i32 is not null || _i64 is not null ? Math.Round(value, MidpointRounding.ToEven) : value);

    /// <summary>Reads the first <c>destination.Length</c> values as float (a last chunk smaller than a fixed batch).</summary>
    public void CopyPrefixTo(Span<float> destination)
    {
        if (destination.Length == Length)
        {
            CopyTo(destination);
            return;
        }

        var all = new float[Length];
        CopyTo(all);
        all.AsSpan(0, destination.Length).CopyTo(destination);
    }

    /// <summary>Writes integer values (token ids, positions) in the element type; float types get them as floats.</summary>
    public void SetIntegers(ReadOnlySpan<long> source)
    {
        RequireLength(source.Length);
        for (int i = 0; i < source.Length; i++)
        {
            long v = source[i];
            if (_i64 is not null)
            {
                _i64[i] = v;
            }
            else if (_i32 is not null)
            {
                _i32[i] = checked((int)v);
            }
            else if (_f32 is not null)
            {
                _f32[i] = v;
            }
            else if (_f16 is not null)
            {
                _f16[i] = (Float16)(float)v;
            }
            else if (_bf16 is not null)
            {
                _bf16[i] = (BFloat16)(float)v;
            }
            else
            {
                _f64![i] = v;
            }
        }
    }

    /// <summary>Reads the values as float.</summary>
    public void CopyTo(Span<float> destination) => ReadFloats(Value, destination);

    /// <summary>Reads a float tensor produced by a graph (any floating element type) into <paramref name="destination"/>.</summary>
    public static void ReadFloats(OrtValue value, Span<float> destination)
    {
        var info = value.GetTensorTypeAndShape();
        if (info.ElementCount != destination.Length)
        {
            throw new InvalidDataException($"a graph output has {info.ElementCount} values where {destination.Length} were expected.");
        }

        switch (info.ElementDataType)
        {
            case TensorElementType.Float:
                value.GetTensorDataAsSpan<float>().CopyTo(destination);
                break;
            case TensorElementType.Float16:
                var h = value.GetTensorDataAsSpan<Float16>();
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)h[i];
                }

                break;
            case TensorElementType.BFloat16:
                var b = value.GetTensorDataAsSpan<BFloat16>();
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)b[i];
                }

                break;
            case TensorElementType.Double:
                var d = value.GetTensorDataAsSpan<double>();
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)d[i];
                }

                break;
            default:
                throw new InvalidDataException($"a graph output has element type {info.ElementDataType}; a floating-point tensor was expected.");
        }
    }

    private void RequireLength(int length)
    {
        if (length != Length)
        {
            throw new ArgumentException($"{length} values given for a tensor of {Length}.");
        }
    }

    /// <summary>Releases the value.</summary>
    public void Dispose() => Value.Dispose();
}
