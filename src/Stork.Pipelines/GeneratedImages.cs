namespace Stork.Pipelines;

/// <summary>Images as float32 [Count, Height, Width, 3] in [0, 1] (diffusers' <c>output_type="np"</c>).</summary>
public sealed record GeneratedImages(float[] Pixels, int Count, int Height, int Width)
{
    /// <summary>The shape [Count, Height, Width, 3].</summary>
    public int[] Shape => [Count, Height, Width, 3];

    /// <summary>Image <paramref name="index"/>'s pixels, H x W x 3.</summary>
    public ReadOnlySpan<float> Image(int index) => Pixels.AsSpan(index * Height * Width * 3, Height * Width * 3);
}
