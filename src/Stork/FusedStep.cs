using System.Numerics;
using System.Runtime.InteropServices;

namespace Stork;

/// <summary>
/// The one pass of a multistep update: reads the model output, stores its converted value
/// <c>u = cp * output + cx * x</c> for later steps, and updates the sample
/// <c>x = w[0] x + w[1] u + w[2] h1 + w[3] h2 + w[4] h3</c> from up to three stored outputs, element by element.
/// Weights are computed in double by the caller; the arithmetic is float32 SIMD; no allocation.
/// </summary>
internal static class FusedStep
{
    public static void StoreAndCombine(Span<float> sample, Span<float> store, ReadOnlySpan<float> output, double cx, double cp,
        ReadOnlySpan<double> w, ReadOnlySpan<float> h1, ReadOnlySpan<float> h2, ReadOnlySpan<float> h3)
    {
        int history = w.Length - 2;
        if (history < 0 || history > 3 || store.Length != sample.Length || output.Length != sample.Length
            || (history >= 1 && h1.Length != sample.Length) || (history >= 2 && h2.Length != sample.Length)
            || (history >= 3 && h3.Length != sample.Length))
        {
            throw new ArgumentException("fused step: mismatched lengths or more than three stored outputs.");
        }

        float fcx = (float)cx, fcp = (float)cp;
        float w0 = (float)w[0], w1 = (float)w[1];
        float w2 = history >= 1 ? (float)w[2] : 0f, w3 = history >= 2 ? (float)w[3] : 0f, w4 = history >= 3 ? (float)w[4] : 0f;
        var vx = MemoryMarshal.Cast<float, Vector<float>>(sample);
        var vs = MemoryMarshal.Cast<float, Vector<float>>(store);
        var vo = MemoryMarshal.Cast<float, Vector<float>>(output);
        Vector<float> cxv = new(fcx), cpv = new(fcp), w0v = new(w0), w1v = new(w1), w2v = new(w2), w3v = new(w3), w4v = new(w4);
        int n = vx.Length;
        switch (history)
        {
            case 0:
                for (int i = 0; i < n; i++)
                {
                    var x = vx[i];
                    var u = (cpv * vo[i]) + (cxv * x);
                    vs[i] = u;
                    vx[i] = (w0v * x) + (w1v * u);
                }

                break;
            case 1:
                {
                    var a = MemoryMarshal.Cast<float, Vector<float>>(h1);
                    for (int i = 0; i < n; i++)
                    {
                        var x = vx[i];
                        var u = (cpv * vo[i]) + (cxv * x);
                        vs[i] = u;
                        vx[i] = (w0v * x) + (w1v * u) + (w2v * a[i]);
                    }

                    break;
                }

            case 2:
                {
                    var a = MemoryMarshal.Cast<float, Vector<float>>(h1);
                    var b = MemoryMarshal.Cast<float, Vector<float>>(h2);
                    for (int i = 0; i < n; i++)
                    {
                        var x = vx[i];
                        var u = (cpv * vo[i]) + (cxv * x);
                        vs[i] = u;
                        vx[i] = (w0v * x) + (w1v * u) + (w2v * a[i]) + (w3v * b[i]);
                    }

                    break;
                }

            default:
                {
                    var a = MemoryMarshal.Cast<float, Vector<float>>(h1);
                    var b = MemoryMarshal.Cast<float, Vector<float>>(h2);
                    var c = MemoryMarshal.Cast<float, Vector<float>>(h3);
                    for (int i = 0; i < n; i++)
                    {
                        var x = vx[i];
                        var u = (cpv * vo[i]) + (cxv * x);
                        vs[i] = u;
                        vx[i] = (w0v * x) + (w1v * u) + (w2v * a[i]) + (w3v * b[i]) + (w4v * c[i]);
                    }

                    break;
                }
        }

        for (int i = n * Vector<float>.Count; i < sample.Length; i++)
        {
            float x = sample[i];
            float u = (fcp * output[i]) + (fcx * x);
            store[i] = u;
            float r = (w0 * x) + (w1 * u);
            if (history >= 1)
            {
                r += w2 * h1[i];
            }

            if (history >= 2)
            {
                r += w3 * h2[i];
            }

            if (history >= 3)
            {
                r += w4 * h3[i];
            }

            sample[i] = r;
        }
    }
}
