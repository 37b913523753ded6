namespace Stork.Solvers.Standard;

/// <summary>Names of <see cref="GridKind"/> and <see cref="UniPcVariant"/> as users write them (CLI, solver specs).</summary>
public static class GridKindNames
{
    /// <summary>Parses a grid name (case-insensitive); an unknown name is an <see cref="ArgumentException"/>.</summary>
    public static GridKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "native" => GridKind.Native,
        "flow" => GridKind.Flow,
        "uniform-time" or "uniform" => GridKind.UniformTime,
        "logsnr" or "log-snr" => GridKind.LogSnr,
        "karras" => GridKind.Karras,
        _ => throw new ArgumentException($"grid must be native, flow, uniform-time, logsnr or karras (got '{name}')."),
    };

    /// <summary>Parses <c>bh1</c> or <c>bh2</c> (case-insensitive).</summary>
    public static UniPcVariant ParseUniPcVariant(string name) => name.Trim().ToLowerInvariant() switch
    {
        "bh1" => UniPcVariant.Bh1,
        "bh2" => UniPcVariant.Bh2,
        _ => throw new ArgumentException($"UniPC variant must be bh1 or bh2 (got '{name}')."),
    };
}
