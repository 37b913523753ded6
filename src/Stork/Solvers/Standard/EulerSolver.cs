using Stork.Predictions;

namespace Stork.Solvers.Standard;

/// <summary>
/// Euler: FlowMatchEulerDiscreteScheduler on flow models (<c>x += (sigma' - sigma) v</c>); on other schedules
/// EulerDiscreteScheduler's step, Euler on <c>x / alpha</c> in <c>sigma / alpha</c> with epsilon (the same as DDIM, eta 0).
/// </summary>
public sealed class EulerSolver : StandardSolver
{
    /// <summary>Euler steps on <paramref name="grid"/>.</summary>
    public EulerSolver(ModelSpec model, StepGrid grid)
        : base(model, grid, 1)
    {
    }

    /// <inheritdoc />
    protected override void StepCore(int i, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        var g = Grid;
        if (FlowSpace)
        {
            var v = As(Prediction.FlowVelocity, i, sample, modelOutput, Buffer(0));
            LinearCombination.Combine(sample, 1f, sample, (float)(g.EndSigma[i] - g.Sigma[i]), v);
            return;
        }

        var eps = As(Prediction.Epsilon, i, sample, modelOutput, Buffer(0));
        var (cx, ce) = Coefficients(g.Alpha[i], g.Sigma[i], g.EndAlpha[i], g.EndSigma[i]);
        LinearCombination.Combine(sample, (float)cx, sample, (float)ce, eps);
    }

    /// <summary>
    /// One first-order step from (a, s) to (a', s') with epsilon: <c>x' = a' (x / a + (s'/a' - s/a) eps)
    /// = (a'/a) x + (s' - a' s / a) eps</c>.
    /// </summary>
    internal static (double Cx, double Ce) Coefficients(double a, double s, double aNext, double sNext) =>
        (aNext / a, sNext - (aNext * s / a));
}
