namespace Stork.Solvers.Standard;

/// <summary>UniPC's B(h) (diffusers' <c>solver_type</c>): bh1 = h, bh2 = e^h - 1.</summary>
public enum UniPcVariant
{
    Bh1,
    Bh2,
}
