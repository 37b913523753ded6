namespace Stork.Solvers.Stork;

/// <summary>Options of a STORK solver (upstream names in brackets).</summary>
public sealed record StorkOptions
{
    /// <summary>2 (RKG2 stages) or 4 (ROCK4 stages) [solver_order].</summary>
    public int Order { get; init; } = 4;

    /// <summary>The arithmetic: the authors' code (<see cref="StorkVariant.Upstream"/>) or the method as published.</summary>
    public StorkVariant Variant { get; init; } = StorkVariant.Upstream;

    /// <summary>Stabilised Runge-Kutta stages per step [s]. STORK-4 uses the smallest tabulated ROCK4 degree &gt;= it.</summary>
    public int Substeps { get; init; } = 50;

    /// <summary>Order of the Taylor expansion of the model output used by the virtual stages [derivative_order].</summary>
    public int DerivativeOrder { get; init; } = 1;

    /// <summary>Noise models: the time the integration stops at, as a fraction of the schedule's T [stopping_eps].</summary>
    public double StoppingEps { get; init; } = 1e-2;

    /// <summary>Corrected variant on noise models: evaluation times uniform in time or in log-SNR (upstream: uniform).</summary>
    public NoiseGrid NoiseGrid { get; init; } = NoiseGrid.UniformTime;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Order is not (2 or 4))
        {
            throw new ArgumentException($"STORK order must be 2 or 4 (got {Order}).");
        }

        int minS = Order == 2 ? 2 : 1;
        int maxS = Order == 2 ? 10_000 : Rock4.Rock4Table.Default.MaxDegree;
        if (Substeps < minS || Substeps > maxS)
        {
            throw new ArgumentException(Order == 4
                ? $"STORK-4 sub-steps must be between 1 and {maxS}, the largest degree of the ROCK4 table (got {Substeps})."
                : $"STORK-2 sub-steps must be between 2 and {maxS} (got {Substeps}).");
        }

        int maxD = Variant == StorkVariant.Upstream ? 2 : 3;
        if (DerivativeOrder < 1 || DerivativeOrder > maxD)
        {
            throw new ArgumentException(Variant == StorkVariant.Upstream
                ? $"upstream STORK supports derivative order 1 or 2 (got {DerivativeOrder}); its order-3 formulas are wrong, use --stork-variant corrected."
                : $"derivative order must be 1, 2 or 3 (got {DerivativeOrder}).");
        }

        if (!(StoppingEps > 0 && StoppingEps < 1))
        {
            throw new ArgumentException($"stopping eps must be in (0, 1) (got {StoppingEps}).");
        }
    }
}
