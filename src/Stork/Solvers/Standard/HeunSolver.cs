using Stork.Predictions;

namespace Stork.Solvers.Standard;

/// <summary>
/// Heun (FlowMatchHeunDiscreteScheduler; HeunDiscreteScheduler's rule on other schedules): for a grid of N nodes,
/// an Euler predictor and a trapezoidal corrector between consecutive nodes, then a final Euler step from the last node
/// to the terminal. <see cref="Times"/> lists both evaluations of every step (2N - 1 in all); Step is called once per
/// evaluation. Flow models integrate the velocity in sigma, others epsilon in sigma / alpha.
/// </summary>
public sealed class HeunSolver : StandardSolver
{
    private readonly double[] _times;

    /// <summary>Heun steps on <paramref name="grid"/> (two model evaluations per interval, the last interval Euler).</summary>
    public HeunSolver(ModelSpec model, StepGrid grid)
        : base(model, grid, 3)
    {
        int n = grid.Count;
        _times = new double[(2 * n) - 1];
        _times[0] = grid.Times[0];
        for (int j = 1; j < n; j++)
        {
            _times[(2 * j) - 1] = grid.Times[j];
            _times[2 * j] = grid.Times[j];
        }
    }

    /// <inheritdoc />
    public override IReadOnlyList<double> Times => _times;

    /// <inheritdoc />
    protected override void StepCore(int i, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        var g = Grid;
        var target = FlowSpace ? Prediction.FlowVelocity : Prediction.Epsilon;
        float[] d0 = Buffer(0), start = Buffer(1);
        if (i % 2 == 0)
        {
            // Predictor (Euler) from node j; the last one is the final Euler step to the terminal.
            int j = i / 2;
            ConvertInto(target, j, sample, modelOutput, d0);
            sample.CopyTo(start);
            if (FlowSpace)
            {
                LinearCombination.Combine(sample, 1f, sample, (float)(g.EndSigma[j] - g.Sigma[j]), d0);
            }
            else
            {
                var (cx, ce) = EulerSolver.Coefficients(g.Alpha[j], g.Sigma[j], g.EndAlpha[j], g.EndSigma[j]);
                LinearCombination.Combine(sample, (float)cx, sample, (float)ce, d0);
            }

            return;
        }

        // Corrector: the step from node j - 1 to node j with the mean of both derivatives.
        int to = (i + 1) / 2, from = to - 1;
        var d1 = As(target, to, sample, modelOutput, Buffer(2));
        if (FlowSpace)
        {
            float half = (float)(0.5 * (g.EndSigma[from] - g.Sigma[from]));
            LinearCombination.Combine(sample, 1f, start, half, d0, half, d1);
        }
        else
        {
            var (cx, ce) = EulerSolver.Coefficients(g.Alpha[from], g.Sigma[from], g.EndAlpha[from], g.EndSigma[from]);
            LinearCombination.Combine(sample, (float)cx, start, (float)(0.5 * ce), d0, (float)(0.5 * ce), d1);
        }
    }
}
