namespace Stork.Pipelines.ImageInputs;

/// <summary>
/// Values the image-input pipelines concatenate to every image's latents before the denoiser sees them, the same for
/// each image of a run: the 9-channel UNet's mask and masked-image latents (channel axis of [C, h, w]), FLUX.1 Fill's
/// masked-image latents and mask blocks and FLUX.1 Control's control latents (feature axis of the packed [S, 64]), and
/// FLUX.1 Kontext's reference-image tokens (token axis of [S, 64], whose outputs are cut off again).
/// </summary>
/// <param name="Values">One image's extra values, C order of <paramref name="ItemShape"/>.</param>
/// <param name="ItemShape">Their shape: the latents' item shape except on <paramref name="Axis"/>.</param>
/// <param name="Axis">The axis of the item shape (no batch axis) they are concatenated on.</param>
/// <param name="CutOutput">The denoiser's output has the extended shape too and only the latents' part is kept (Kontext).</param>
internal sealed record SampleExtension(float[] Values, int[] ItemShape, int Axis, bool CutOutput)
{
    /// <summary>The denoiser's item shape: <paramref name="sampleShape"/> with the extension on <see cref="Axis"/>.</summary>
    public int[] Extend(IReadOnlyList<int> sampleShape)
    {
        if (sampleShape.Count != ItemShape.Length || Axis < 0 || Axis >= ItemShape.Length
            || Enumerable.Range(0, ItemShape.Length).Any(a => a != Axis && ItemShape[a] != sampleShape[a]))
        {
            throw new ArgumentException(
                $"extra denoiser inputs [{string.Join(", ", ItemShape)}] cannot be joined to latents [{string.Join(", ", sampleShape)}] on axis {Axis}.");
        }

        var shape = sampleShape.ToArray();
        shape[Axis] += ItemShape[Axis];
        return shape;
    }

    /// <summary>Writes one image's latents joined with the extension into <paramref name="destination"/>.</summary>
    public void Join(ReadOnlySpan<float> latents, IReadOnlyList<int> sampleShape, Span<float> destination)
    {
        int outer = 1;
        for (int a = 0; a < Axis; a++)
        {
            outer *= sampleShape[a];
        }

        int innerLatents = latents.Length / outer, innerExtra = Values.Length / outer;
        int at = 0;
        for (int o = 0; o < outer; o++)
        {
            latents.Slice(o * innerLatents, innerLatents).CopyTo(destination[at..]);
            at += innerLatents;
            Values.AsSpan(o * innerExtra, innerExtra).CopyTo(destination[at..]);
            at += innerExtra;
        }
    }
}
