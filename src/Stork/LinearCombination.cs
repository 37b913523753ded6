using System.Numerics;
using System.Runtime.InteropServices;

namespace Stork;

/// <summary>
/// One pass over a tensor: <c>dst = a0 x0 + a1 x1 + ...</c> with float weights (computed in double by the caller).
/// The destination may alias any input (in-place updates). SIMD via <see cref="Vector{T}"/>; no allocation.
/// </summary>
internal static class LinearCombination
{
    public static void Combine(Span<float> destination, float a0, ReadOnlySpan<float> x0)
    {
        Check(destination, x0);
        System.Numerics.Tensors.TensorPrimitives.Multiply(x0, a0, destination);
    }

    public static void Combine(Span<float> destination, float a0, ReadOnlySpan<float> x0, float a1, ReadOnlySpan<float> x1)
    {
        Check(destination, x0, x1);
        var d = MemoryMarshal.Cast<float, Vector<float>>(destination);
        var v0 = MemoryMarshal.Cast<float, Vector<float>>(x0);
        var v1 = MemoryMarshal.Cast<float, Vector<float>>(x1);
        var w0 = new Vector<float>(a0);
        var w1 = new Vector<float>(a1);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = (w0 * v0[i]) + (w1 * v1[i]);
        }

        for (int i = d.Length * Vector<float>.Count; i < destination.Length; i++)
        {
            destination[i] = (a0 * x0[i]) + (a1 * x1[i]);
        }
    }

    public static void Combine(Span<float> destination, float a0, ReadOnlySpan<float> x0, float a1, ReadOnlySpan<float> x1,
        float a2, ReadOnlySpan<float> x2)
    {
        Check(destination, x0, x1, x2);
        var d = MemoryMarshal.Cast<float, Vector<float>>(destination);
        var v0 = MemoryMarshal.Cast<float, Vector<float>>(x0);
        var v1 = MemoryMarshal.Cast<float, Vector<float>>(x1);
        var v2 = MemoryMarshal.Cast<float, Vector<float>>(x2);
        Vector<float> w0 = new(a0), w1 = new(a1), w2 = new(a2);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = (w0 * v0[i]) + (w1 * v1[i]) + (w2 * v2[i]);
        }

        for (int i = d.Length * Vector<float>.Count; i < destination.Length; i++)
        {
            destination[i] = (a0 * x0[i]) + (a1 * x1[i]) + (a2 * x2[i]);
        }
    }

    public static void Combine(Span<float> destination, float a0, ReadOnlySpan<float> x0, float a1, ReadOnlySpan<float> x1,
        float a2, ReadOnlySpan<float> x2, float a3, ReadOnlySpan<float> x3)
    {
        Check(destination, x0, x1, x2, x3);
        var d = MemoryMarshal.Cast<float, Vector<float>>(destination);
        var v0 = MemoryMarshal.Cast<float, Vector<float>>(x0);
        var v1 = MemoryMarshal.Cast<float, Vector<float>>(x1);
        var v2 = MemoryMarshal.Cast<float, Vector<float>>(x2);
        var v3 = MemoryMarshal.Cast<float, Vector<float>>(x3);
        Vector<float> w0 = new(a0), w1 = new(a1), w2 = new(a2), w3 = new(a3);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = (w0 * v0[i]) + (w1 * v1[i]) + (w2 * v2[i]) + (w3 * v3[i]);
        }

        for (int i = d.Length * Vector<float>.Count; i < destination.Length; i++)
        {
            destination[i] = (a0 * x0[i]) + (a1 * x1[i]) + (a2 * x2[i]) + (a3 * x3[i]);
        }
    }

    public static void Combine(Span<float> destination, float a0, ReadOnlySpan<float> x0, float a1, ReadOnlySpan<float> x1,
        float a2, ReadOnlySpan<float> x2, float a3, ReadOnlySpan<float> x3, float a4, ReadOnlySpan<float> x4)
    {
        Check(destination, x0, x1, x2, x3);
        Check(destination, x4);
        var d = MemoryMarshal.Cast<float, Vector<float>>(destination);
        var v0 = MemoryMarshal.Cast<float, Vector<float>>(x0);
        var v1 = MemoryMarshal.Cast<float, Vector<float>>(x1);
        var v2 = MemoryMarshal.Cast<float, Vector<float>>(x2);
        var v3 = MemoryMarshal.Cast<float, Vector<float>>(x3);
        var v4 = MemoryMarshal.Cast<float, Vector<float>>(x4);
        Vector<float> w0 = new(a0), w1 = new(a1), w2 = new(a2), w3 = new(a3), w4 = new(a4);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = (w0 * v0[i]) + (w1 * v1[i]) + (w2 * v2[i]) + (w3 * v3[i]) + (w4 * v4[i]);
        }

        for (int i = d.Length * Vector<float>.Count; i < destination.Length; i++)
        {
            destination[i] = (a0 * x0[i]) + (a1 * x1[i]) + (a2 * x2[i]) + (a3 * x3[i]) + (a4 * x4[i]);
        }
    }

    private static void Check(Span<float> d, ReadOnlySpan<float> a)
    {
        if (a.Length != d.Length)
        {
            throw new ArgumentException($"length mismatch: {a.Length} vs {d.Length}.");
        }
    }

    private static void Check(Span<float> d, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Check(d, a);
        Check(d, b);
    }

    private static void Check(Span<float> d, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c)
    {
        Check(d, a, b);
        Check(d, c);
    }

    private static void Check(Span<float> d, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, ReadOnlySpan<float> e)
    {
        Check(d, a, b);
        Check(d, c, e);
    }
}
