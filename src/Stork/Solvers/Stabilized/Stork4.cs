using Stork.Grids;

namespace Stork.Solvers.Stabilized;

/// <summary>STORK-4: ROCK4 stages.</summary>
public sealed class Stork4 : StorkSolver
{
    /// <summary>STORK-4 with <paramref name="steps"/> steps (one model evaluation each); <paramref name="flowGrid"/> overrides the sigma grid of flow models.</summary>
    public Stork4(ModelSpec model, int steps, StorkOptions options, FlowSigmaOptions? flowGrid = null)
        : base(model, steps, options with { Order = 4 }, flowGrid)
    {
    }

    internal override void RunRecurrence(double t, double h, StageField field, StageBuffers buffers, Span<double> weights) =>
        Rock4Recurrence.Run(Rock4, t, h, field, buffers, Options.Variant == StorkVariant.Upstream, weights);
}
