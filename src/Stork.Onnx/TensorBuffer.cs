using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Stork.Onnx;

/// <summary>
/// A preallocated tensor (managed array pinned by an <see cref="OrtValue"/>) of float32, float16, float64 or int64,
/// filled from and read into float spans: the fp16 / fp32 conversion at the model boundary.
/// </summary>
internal sealed class TensorBuffer : IDisposable
{
    private readonly float[]? _f32;
    private readonly Float16[]? _f16;
    private readonly double[]? _f64;
    private readonly long[]? _i64;

    public TensorBuffer(TensorElementType type, long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            count = checked(count * d);
        }

        int n = checked((int)count);
        Shape = shape;
        Type = type;
        Value = type switch
        {
            TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(_f32 = new float[n], shape),
            TensorElementType.Float16 => OrtValue.CreateTensorValueFromMemory(_f16 = new Float16[n], shape),
            TensorElementType.Double => OrtValue.CreateTensorValueFromMemory(_f64 = new double[n], shape),
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(_i64 = new long[n], shape),
            _ => throw new NotSupportedException($"tensor element type {type} is not supported."),
        };
        Length = n;
    }

    public TensorElementType Type { get; }

    public long[] Shape { get; }

    public int Length { get; }

    public OrtValue Value { get; }

    /// <summary>Copies <paramref name="source"/> to the start of the buffer and zeroes the rest.</summary>
    public void CopyFrom(ReadOnlySpan<float> source)
    {
        if (_f32 is not null)
        {
            source.CopyTo(_f32);
            _f32.AsSpan(source.Length).Clear();
            return;
        }

        if (_f16 is not null)
        {
            for (int i = 0; i < source.Length; i++)
            {
                _f16[i] = (Float16)source[i];
            }

            _f16.AsSpan(source.Length).Clear();
            return;
        }

        throw new InvalidOperationException("only float32 and float16 buffers hold samples.");
    }

    /// <summary>Copies the first <c>destination.Length</c> values out as float32.</summary>
    public void CopyTo(Span<float> destination)
    {
        if (_f32 is not null)
        {
            _f32.AsSpan(0, destination.Length).CopyTo(destination);
            return;
        }

        if (_f16 is not null)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (float)_f16[i];
            }

            return;
        }

        throw new InvalidOperationException("only float32 and float16 buffers hold samples.");
    }

    /// <summary>Sets every element to <paramref name="value"/> (the time input); only int64 rounds.</summary>
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
        else if (_f64 is not null)
        {
            Array.Fill(_f64, value);
        }
        else
        {
            Array.Fill(_i64!, (long)Math.Round(value, MidpointRounding.ToEven));
        }
    }

    public void Dispose() => Value.Dispose();
}
