using System.CommandLine;
using Stork.Imaging;

namespace Stork.Cli;

/// <summary>
/// <c>stork generate</c>'s image inputs (issue 21): the input image (img2img, inpainting, FLUX.1 Fill, Kontext's
/// reference), the mask, the control image and the strength. The files are read and checked before any model loads.
/// </summary>
internal sealed class ImageInputOptionSet
{
    public Option<string?> Image { get; } = new("--image")
    {
        Description = "Input image (PNG or JPEG): img2img on a plain folder, inpainting with --mask, FLUX.1 Fill, or FLUX.1 Kontext's reference image. Resized with PIL's Lanczos filter when its size differs.",
    };

    public Option<string?> Mask { get; } = new("--mask") { Description = "Inpainting mask (PNG or JPEG, white = repaint; binarised at 0.5 as diffusers does)." };

    public Option<string?> ControlImage { get; } = new("--control-image") { Description = "FLUX.1 Control (Canny, Depth) folders: the control image." };

    public Option<double?> Strength { get; } = new("--strength")
    {
        Description = "With --image: how much of the schedule runs, in (0, 1] (defaults as diffusers: FLUX.1 and SD3 0.6, SD1.5 img2img 0.8, SDXL img2img 0.3, SD inpainting 1, SDXL inpainting 0.9999, Fill 1).",
    };

    public IEnumerable<Option> All => [Image, Mask, ControlImage, Strength];

    /// <summary>The files given, by role, for the list of inputs a run reads.</summary>
    public IEnumerable<string?> Paths(ParseResult r) => [r.GetValue(Image), r.GetValue(Mask), r.GetValue(ControlImage)];

    /// <summary>Reads the images given; options that need another are refused here.</summary>
    public (Raster? Image, Raster? Mask, Raster? Control, double? Strength) Read(ParseResult r)
    {
        string? image = r.GetValue(Image), mask = r.GetValue(Mask), control = r.GetValue(ControlImage);
        double? strength = r.GetValue(Strength);
        if (mask is not null && image is null)
        {
            throw new CliException("--mask needs --image (the image to inpaint).");
        }

        if (strength is not null && image is null)
        {
            throw new CliException("--strength needs --image.");
        }

        if (strength is { } s && !(s > 0 && s <= 1))
        {
            throw new CliException($"--strength must be in (0, 1] (got {s}).");
        }

        return (image is null ? null : ImageFile.Read(image, "input image"), mask is null ? null : ImageFile.Read(mask, "mask"),
            control is null ? null : ImageFile.Read(control, "control image"), strength);
    }
}
