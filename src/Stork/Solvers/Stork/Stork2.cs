using Stork.Grids;

namespace Stork.Solvers.Stork;

/// <summary>STORK-2: RKG2 stages.</summary>
public sealed class Stork2 : StorkSolver
{
    public Stork2(ModelSpec model, int steps, StorkOptions options, FlowSigmaOptions? flowGrid = null)
        : base(model, steps, options with { Order = 2 }, flowGrid)
    {
    }

    internal override void RunRecurrence(double t, double h, StageField field, StageBuffers buffers, Span<double> weights) =>
        Rkg2Recurrence.Run(Options.Substeps, t, h, field, buffers, Options.Variant == StorkVariant.Upstream, weights);
}
