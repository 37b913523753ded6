using Stork.Models;

namespace Stork.Onnx;

/// <summary>What drawing a denoiser's samples needs: the values clean samples span and a name to show.</summary>
public static class DenoiserImages
{
    /// <summary>The values clean samples span (drawn as 0 to 255), or null for models that are not images.</summary>
    public static (double Min, double Max)? DataRange(IDenoiser denoiser) => denoiser switch
    {
        OnnxDenoiser o => o.Card.DataRange,
        EmpiricalDenoiser e => e.DataRange,
        _ => null,
    };

    /// <summary>The model's name: its card's, or what kind of model it is.</summary>
    public static string Name(IDenoiser denoiser) => denoiser switch
    {
        OnnxDenoiser o => o.Card.Name,
        EmpiricalDenoiser e => $"empirical ({e.Count} images)",
        GaussianMixtureDenoiser => "Gaussian mixture",
        null => throw new ArgumentNullException(nameof(denoiser)),
        _ => denoiser.GetType().Name,
    };
}
