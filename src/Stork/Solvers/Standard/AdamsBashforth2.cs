using Stork.Predictions;

namespace Stork.Solvers.Standard;

/// <summary>
/// Adams-Bashforth 2 with variable steps: <c>x' = x + h ((1 + r) d - r d_prev)</c>, <c>r = h / (2 h_prev)</c>, Euler on the
/// first step. On flow models <c>d</c> is the velocity and the variable sigma; on noise models the same update runs on
/// <c>x / alpha</c> in <c>rho = sigma / alpha</c> with epsilon (<c>d(x / alpha) / d rho = eps</c>), as Euler does.
/// </summary>
public sealed class AdamsBashforth2(ModelSpec model, StepGrid grid) : StandardSolver(model, grid, 2)
{
    /// <inheritdoc />
    protected override void StepCore(int i, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        var g = Grid;

        // This step's derivative is copied (not borrowed: As() may return the model output itself) to serve the next step.
        var d = Buffer(i % 2);
        ConvertInto(FlowSpace ? Prediction.FlowVelocity : Prediction.Epsilon, i, sample, modelOutput, d);
        double rho = Rho(g.Sigma[i], g.Alpha[i]), h = Rho(g.EndSigma[i], g.EndAlpha[i]) - rho;
        double scale = FlowSpace ? 1 : g.EndAlpha[i] / g.Alpha[i], aNext = FlowSpace ? 1 : g.EndAlpha[i];
        if (i == 0)
        {
            LinearCombination.Combine(sample, (float)scale, sample, (float)(aNext * h), d);
            return;
        }

        double r = h / (2 * (rho - Rho(g.Sigma[i - 1], g.Alpha[i - 1])));
        LinearCombination.Combine(sample, (float)scale, sample, (float)(aNext * h * (1 + r)), d, (float)(-aNext * h * r), Buffer((i - 1) % 2));
    }

    /// <summary>The integration variable: sigma on flow models, sigma / alpha on noise models.</summary>
    private double Rho(double sigma, double alpha) => FlowSpace ? sigma : sigma / alpha;
}
