using System.Diagnostics;
using Stork.Models;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Sampling;

/// <summary>
/// Several fixed-step solvers at several step counts from the same noise (<c>stork compare</c>): rows are solvers,
/// columns step counts. Every solver is built at <see cref="Create"/>, so a bad combination fails before any sampling.
/// </summary>
public sealed class SolverComparison
{
    private readonly IDenoiser _denoiser;
    private readonly ISolver[,] _grid;

    private SolverComparison(IDenoiser denoiser, string[] solvers, int[] steps, ISolver[,] grid)
    {
        _denoiser = denoiser;
        Solvers = solvers;
        Steps = steps;
        _grid = grid;
    }

    /// <summary>The solvers, one row each.</summary>
    public IReadOnlyList<string> Solvers { get; }

    /// <summary>The step counts, one column each.</summary>
    public IReadOnlyList<int> Steps { get; }

    /// <summary>Model evaluations of every cell together.</summary>
    public int TotalEvaluations => (int)Math.Min(int.MaxValue, _grid.Cast<ISolver>().Sum(s => (long)s.Times.Count));

    /// <summary>Model evaluations of the cell (row <paramref name="row"/>, column <paramref name="column"/>).</summary>
    public int Evaluations(int row, int column) => _grid[row, column].Times.Count;

    /// <summary>Builds every (solver, step count) pair; an adaptive integrator is an <see cref="ArgumentException"/>.</summary>
    public static SolverComparison Create(IDenoiser denoiser, IReadOnlyList<string> solvers, IReadOnlyList<int> steps, SolverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(solvers);
        ArgumentNullException.ThrowIfNull(steps);
        if (solvers.FirstOrDefault(SolverRegistry.IsAdaptive) is { } adaptive)
        {
            throw new ArgumentException($"{adaptive} is an adaptive integrator that chooses its own evaluations; a comparison row needs a fixed-step solver.", nameof(solvers));
        }

        var spec = ModelSpec.Of(denoiser);
        var grid = new ISolver[solvers.Count, steps.Count];
        for (int i = 0; i < solvers.Count; i++)
        {
            for (int j = 0; j < steps.Count; j++)
            {
                grid[i, j] = SolverRegistry.Create(solvers[i], spec, steps[j], settings);
            }
        }

        return new SolverComparison(denoiser, [.. solvers], [.. steps], grid);
    }

    /// <summary>
    /// Runs every cell, row by row, each from a copy of <paramref name="noise"/> (batch x sample size); reports every
    /// evaluation of every cell against <see cref="TotalEvaluations"/> and honours cancellation between evaluations.
    /// </summary>
    public ComparisonCell[,] Run(ReadOnlySpan<float> noise, IProgress<StepInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        var cells = new ComparisonCell[Solvers.Count, Steps.Count];
        var overall = progress is null ? null : new Overall(progress, TotalEvaluations);
        for (int i = 0; i < Solvers.Count; i++)
        {
            for (int j = 0; j < Steps.Count; j++)
            {
                float[] x = noise.ToArray();
                var clock = Stopwatch.StartNew();
                Sampler.Run(_denoiser, _grid[i, j], x, overall, cancellationToken);
                cells[i, j] = new ComparisonCell(x, _grid[i, j].Times.Count, clock.Elapsed.TotalSeconds);
            }
        }

        return cells;
    }

    // Each cell's evaluations counted on, against the total of the grid.
    private sealed class Overall(IProgress<StepInfo> progress, int total) : IProgress<StepInfo>
    {
        private int _done;

        public void Report(StepInfo value) => progress.Report(value with { Evaluation = ++_done, Total = total });
    }
}

/// <summary>One cell of a <see cref="SolverComparison"/>: the samples, the model evaluations made and the seconds taken.</summary>
public sealed record ComparisonCell(float[] Samples, int Evaluations, double Seconds);
