namespace Stork.Pipelines.ImageInputs;

/// <summary>
/// Noise mixed with encoded image latents by the scheduler's rule, in float32 as diffusers computes it:
/// flow models <c>scale_noise</c>, <c>σ · noise + (1 - σ) · x0</c>; noise models <c>add_noise</c>,
/// <c>α · x0 + σ · noise</c> (DDIM/DPM: √ᾱ and √(1 - ᾱ)), divided by α for solvers that keep the sample scaled as
/// diffusers' Euler does (<c>x0 + σ/α · noise</c>).
/// </summary>
internal static class NoiseMixing
{
    /// <summary><c>scale_noise</c>: <paramref name="destination"/> = σ n + (1 - σ) x0, with σ cast to float32 first.</summary>
    public static void Flow(ReadOnlySpan<float> x0, ReadOnlySpan<float> noise, double sigma, Span<float> destination)
    {
        Require(x0, noise, destination);
        float s = (float)sigma;
        float keep = 1f - s;
        for (int i = 0; i < x0.Length; i++)
        {
            destination[i] = (s * noise[i]) + (keep * x0[i]);
        }
    }

    /// <summary><c>add_noise</c>: <paramref name="destination"/> = (α x0 + σ n) · <paramref name="stateScale"/>.</summary>
    public static void Vp(ReadOnlySpan<float> x0, ReadOnlySpan<float> noise, double alpha, double sigma, double stateScale, Span<float> destination)
    {
        Require(x0, noise, destination);
        float a = (float)(alpha * stateScale), s = (float)(sigma * stateScale);
        for (int i = 0; i < x0.Length; i++)
        {
            destination[i] = (a * x0[i]) + (s * noise[i]);
        }
    }

    /// <summary>The inpainting blend after a step: <c>(1 - m) · known + m · latents</c>, in place on <paramref name="latents"/>.</summary>
    public static void Blend(Span<float> latents, ReadOnlySpan<float> known, ReadOnlySpan<float> mask)
    {
        Require(known, mask, latents);
        for (int i = 0; i < latents.Length; i++)
        {
            float m = mask[i];
            latents[i] = ((1f - m) * known[i]) + (m * latents[i]);
        }
    }

    private static void Require(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        if (a.Length != b.Length || a.Length != c.Length)
        {
            throw new ArgumentException($"mixing needs equal lengths (got {a.Length}, {b.Length}, {c.Length}).");
        }
    }
}
