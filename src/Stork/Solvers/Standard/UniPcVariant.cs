namespace Stork.Solvers.Standard;

/// <summary>UniPC's B(h) (diffusers' <c>solver_type</c>): bh1 = h, bh2 = e^h - 1.</summary>
public enum UniPcVariant
{
    /// <summary>B(h) = h.</summary>
    Bh1,
    /// <summary>B(h) = e^h - 1.</summary>
    Bh2,
}
