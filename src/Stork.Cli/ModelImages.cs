using Stork.Models;
using Stork.Onnx;

namespace Stork.Cli;

/// <summary>What the CLI needs to draw a denoiser's samples: its data range and a display name.</summary>
internal static class ModelImages
{
    /// <summary>The values clean samples span (mapped to [0, 255]), or null for models that are not images.</summary>
    public static (double Min, double Max)? DataRange(IDenoiser denoiser) => denoiser switch
    {
        OnnxDenoiser o => o.Card.DataRange,
        EmpiricalDenoiser e => e.DataRange,
        _ => null,
    };

    public static string Name(IDenoiser denoiser) => denoiser switch
    {
        OnnxDenoiser o => o.Card.Name,
        EmpiricalDenoiser e => $"empirical ({e.Count} images)",
        GaussianMixtureDenoiser => "Gaussian mixture",
        _ => denoiser.GetType().Name,
    };

    /// <summary>The data range for a PNG, or a <see cref="CliException"/> when the model's samples are not images.</summary>
    public static (double Min, double Max) RequireImage(IDenoiser denoiser, string outPath)
    {
        if (DataRange(denoiser) is not { } range || !Imaging.SampleImage.IsImage(denoiser.SampleShape))
        {
            throw new CliException(
                $"--out '{outPath}': {Name(denoiser)} samples of shape [{string.Join(", ", denoiser.SampleShape)}] are not images; write a .npy instead.");
        }

        return range;
    }
}
