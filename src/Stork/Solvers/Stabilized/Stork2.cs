using Stork.Grids;

namespace Stork.Solvers.Stabilized;

/// <summary>STORK-2: RKG2 stages.</summary>
public sealed class Stork2 : StorkSolver
{
    /// <summary>STORK-2 with <paramref name="steps"/> steps (one model evaluation each); <paramref name="flowGrid"/> overrides the sigma grid of flow models.</summary>
    public Stork2(ModelSpec model, int steps, StorkOptions options, FlowSigmaOptions? flowGrid = null)
        : base(model, steps, options with { Order = 2 }, flowGrid)
    {
    }

    internal override void RunRecurrence(double t, double h, StageField field, StageBuffers buffers, Span<double> weights) =>
        Rkg2Recurrence.Run(Options.Substeps, t, h, field, buffers, Options.Variant == StorkVariant.Upstream, weights);
}
