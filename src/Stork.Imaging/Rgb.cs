namespace Stork.Imaging;

/// <summary>An 8-bit RGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb Background { get; } = new(32, 32, 36);

    public static Rgb Text { get; } = new(235, 235, 235);

    public static Rgb Gray(byte v) => new(v, v, v);
}
