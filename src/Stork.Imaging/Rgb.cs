namespace Stork.Imaging;

/// <summary>An 8-bit RGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    /// <summary>The background colour of figures and grids.</summary>
    public static Rgb Background { get; } = new(32, 32, 36);

    /// <summary>The text colour of figures and grids.</summary>
    public static Rgb Text { get; } = new(235, 235, 235);

    /// <summary>The gray of level <paramref name="v"/> (0 black, 255 white).</summary>
    public static Rgb Gray(byte v) => new(v, v, v);
}
