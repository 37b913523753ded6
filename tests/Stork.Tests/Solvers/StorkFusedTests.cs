using Stork.Grids;
using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Stabilized;

namespace Stork.Tests.Solvers;

public class StorkFusedTests
{
    public static TheoryData<string, int, int, int, int, string> Configs() => new()
    {
        // variant (corrected+corrector: with the corrector; corrected-t: Taylor in t), order, substeps, derivative order, steps, model
        { "upstream", 4, 5, 1, 8, "flow" },
        { "upstream", 4, 14, 2, 9, "flow" },
        { "upstream", 2, 7, 1, 8, "flow" },
        { "upstream", 2, 50, 2, 10, "flow" },
        { "upstream", 4, 24, 1, 10, "eps" },
        { "upstream", 4, 9, 2, 12, "eps" },
        { "corrected", 4, 5, 1, 8, "flow" },
        { "corrected", 4, 12, 3, 9, "flow" },
        { "corrected", 2, 6, 2, 8, "flow" },
        { "corrected", 2, 20, 3, 8, "flow" },
        { "corrected", 4, 8, 2, 10, "eps" },
        { "corrected", 4, 8, 3, 10, "v" },
        { "corrected", 2, 10, 2, 10, "eps" },
        { "corrected", 4, 6, 2, 10, "eps-cosine" },
        { "corrected-t", 4, 8, 2, 10, "eps" },
        { "corrected-t", 2, 10, 3, 10, "v" },
        { "corrected+corrector", 4, 5, 1, 8, "flow" },
        { "corrected+corrector", 4, 12, 2, 9, "flow" },
        { "corrected+corrector", 2, 6, 2, 8, "flow" },
        { "corrected+corrector", 4, 8, 2, 10, "eps" },
        { "corrected+corrector", 4, 8, 1, 10, "v" },
        { "corrected+corrector", 2, 10, 2, 10, "eps-cosine" },
        { "corrected-x0", 4, 8, 2, 10, "eps" },
        { "corrected-x0", 4, 8, 3, 10, "v" },
        { "corrected-x0", 2, 10, 2, 10, "eps-cosine" },
        { "corrected-x0", 4, 5, 1, 8, "flow" },
        { "corrected-x0", 4, 12, 2, 9, "flow" },
        { "corrected-x0+corrector", 4, 8, 2, 10, "eps" },
        { "corrected-x0+corrector", 4, 12, 2, 9, "flow" },
    };

    internal static IDenoiser Model(string kind)
    {
        var mixture = GaussianMixture.Load(Golden.PathOf("stork", "gmm8.json"));
        return kind switch
        {
            "flow" => new GaussianMixtureDenoiser(mixture, RectifiedFlowSchedule.Instance, Prediction.FlowVelocity),
            "eps" => new GaussianMixtureDenoiser(mixture, new VpLinearSchedule(0.1, 20), Prediction.Epsilon),
            "v" => new GaussianMixtureDenoiser(mixture, new VpLinearSchedule(0.1, 20), Prediction.VPrediction),
            _ => new GaussianMixtureDenoiser(mixture, new VpCosineSchedule(), Prediction.Epsilon),
        };
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void FusedStepEqualsTheLiteralStageRecurrence(string variant, int order, int substeps, int derivativeOrder, int steps, string kind)
    {
        var model = Model(kind);
        var options = new StorkOptions
        {
            Order = order,
            Variant = variant == "upstream" ? StorkVariant.Upstream : StorkVariant.Corrected,
            Substeps = substeps,
            DerivativeOrder = derivativeOrder,
            Corrector = variant.EndsWith("+corrector", StringComparison.Ordinal) ? CorrectorMode.On : CorrectorMode.Off,
            DataPrediction = variant.StartsWith("corrected-x0", StringComparison.Ordinal),
        };
        if (variant == "corrected-t")
        {
            options = options with { TaylorVariable = TaylorVariable.Time };
        }

        var solver = StorkSolver.Create(ModelSpec.Of(model), steps, options, new FlowSigmaOptions { Shift = 2.0 });
        var noise = GaussianNoise.Create(6 * 8, seed: 3);
        var fused = (float[])noise.Clone();
        Sampler.Run(model, solver, fused);

        var literal = new LiteralStork(model, options, solver.Times.ToArray(), solver.TerminalTime)
            .Run(noise.Select(v => (double)v).ToArray());
        double err = Golden.RelativeL2(fused, literal);
        Assert.True(err < 2e-5, $"fused vs literal relative L2 {err:E3}");
    }

    [Theory]
    [InlineData(4, 1, "flow")]
    [InlineData(4, 2, "eps")]
    [InlineData(2, 2, "flow")]
    [InlineData(4, 3, "flow")]
    public void StepAllocatesNothingOnceWarmAndHoldsAtMostDerivativeOrderPlusTwoBuffers(int order, int derivativeOrder, string kind)
    {
        var model = Model(kind);
        var variant = derivativeOrder == 3 ? StorkVariant.Corrected : StorkVariant.Upstream;
        var options = new StorkOptions { Order = order, Variant = variant, Substeps = 20, DerivativeOrder = derivativeOrder };
        var solver = StorkSolver.Create(ModelSpec.Of(model), 12, options);
        int n = 64 * 8;
        var x = GaussianNoise.Create(n, 1);
        var output = new float[n];
        for (int i = 0; i < 4; i++)
        {
            model.Predict(x, solver.Times[i], output);
            solver.Step(output, x);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 4; i < 11; i++)
        {
            solver.Step(output, x);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(solver.BufferCount <= derivativeOrder + 2, $"{solver.BufferCount} buffers");
    }
}
