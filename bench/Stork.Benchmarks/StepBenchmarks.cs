using BenchmarkDotNet.Attributes;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;

namespace Stork.Benchmarks;

/// <summary>
/// Cost of one solver step beyond the model, against the memory-bandwidth floor (a copy of the same tensor).
/// Each benchmark performs one warm step on a latent of the given shape.
/// </summary>
[MemoryDiagnoser]
public class StepBenchmarks
{
    private float[] _x = [];
    private float[] _out = [];
    private float[] _copy = [];
    private float[] _d1 = [];
    private float[] _d2 = [];
    private ISolver _stork2 = null!;
    private ISolver _stork4 = null!;
    private ISolver _dpm = null!;
    private ISolver _unipc = null!;
    private LiteralRkg2 _literal = null!;

    /// <summary>Latent shapes: MNIST, SD 1.x, Flux, a video latent.</summary>
    [Params("1x28x28", "4x64x64", "16x128x128", "16x21x60x104")]
    public string Shape { get; set; } = "1x28x28";

    public static int Elements(string shape) => shape.Split('x').Select(int.Parse).Aggregate(1, (a, b) => a * b);

    [GlobalSetup]
    public void Setup()
    {
        int n = Elements(Shape);
        _x = GaussianNoise.Create(n, 1);
        _out = GaussianNoise.Create(n, 2);
        _copy = new float[n];
        _d1 = GaussianNoise.Create(n, 3);
        _d2 = GaussianNoise.Create(n, 4);
        var flow = new ModelSpec(Prediction.FlowVelocity, RectifiedFlowSchedule.Instance);
        var settings = new SolverSettings { StorkVariant = StorkVariant.Corrected, DerivativeOrder = 2, Substeps = 50 };
        _stork2 = Warm(SolverRegistry.Create("stork-2", flow, 100_000, settings));
        _stork4 = Warm(SolverRegistry.Create("stork-4", flow, 100_000, settings));
        _dpm = Warm(SolverRegistry.Create("dpm++2m", flow, 100_000, settings));
        _unipc = Warm(SolverRegistry.Create("unipc", flow, 100_000, settings));
        _literal = new LiteralRkg2(n, 50);
    }

    private ISolver Warm(ISolver solver)
    {
        for (int i = 0; i < 8; i++)
        {
            solver.Step(_out, _x);
        }

        return solver;
    }

    private void StepOnce(ISolver solver)
    {
        if (solver.StepIndex >= solver.Times.Count - 2)
        {
            solver.Reset();
            Warm(solver);
        }

        solver.Step(_out, _x);
    }

    /// <summary>The floor: read one tensor, write one.</summary>
    [Benchmark(Baseline = true)]
    public void Copy() => _out.AsSpan().CopyTo(_copy);

    [Benchmark]
    public void Stork2Fused() => StepOnce(_stork2);

    [Benchmark]
    public void Stork4Fused() => StepOnce(_stork4);

    [Benchmark]
    public void Stork2Literal() => _literal.Step(_x, _out, _d1, _d2, 0.5, -0.01);

    [Benchmark]
    public void DpmSolverPlusPlus2M() => StepOnce(_dpm);

    [Benchmark]
    public void UniPc() => StepOnce(_unipc);
}
