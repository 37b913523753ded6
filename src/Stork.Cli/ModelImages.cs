using Stork.Models;
using Stork.Onnx;

namespace Stork.Cli;

/// <summary>Drawing a denoiser's samples into <c>--out</c> (<see cref="DenoiserImages"/>).</summary>
internal static class ModelImages
{
    /// <summary>The data range for a PNG, or a <see cref="CliException"/> when the model's samples are not images.</summary>
    public static (double Min, double Max) RequireImage(IDenoiser denoiser, string outPath)
    {
        if (DenoiserImages.DataRange(denoiser) is not { } range || !Imaging.SampleImage.IsImage(denoiser.SampleShape))
        {
            throw new CliException(
                $"--out '{outPath}': {DenoiserImages.Name(denoiser)} samples of shape [{string.Join(", ", denoiser.SampleShape)}] are not images; write a .npy instead.");
        }

        return range;
    }
}
