using System.Numerics.Tensors;
using Stork.Predictions;

namespace Stork.Solvers.Standard;

/// <summary>
/// DDIM with eta = 0 (DDIMScheduler): <c>x0 = (x - sigma eps) / alpha</c>, optionally clipped to
/// [-clip_sample_range, clip_sample_range], then <c>x' = alpha' x0 + sigma' eps</c>. Without clipping this is one
/// linear pass. On flow models (rectified flow) the same step in (x0, eps) form, the flow Euler step when unclipped.
/// </summary>
public sealed class DdimSolver : StandardSolver
{
    private readonly double? _clip;

    /// <summary>DDIM (eta 0) on <paramref name="grid"/>; <paramref name="clipSampleRange"/> clips the data prediction when set.</summary>
    public DdimSolver(ModelSpec model, StepGrid grid, double? clipSampleRange)
        : base(model, grid, 2)
    {
        if (clipSampleRange is { } c && !(c > 0))
        {
            throw new ArgumentException($"clip_sample_range must be positive (got {c}).");
        }

        _clip = clipSampleRange;
    }

    /// <inheritdoc />
    protected override void StepCore(int i, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        var g = Grid;
        double a = g.Alpha[i], s = g.Sigma[i], a1 = g.EndAlpha[i], s1 = g.EndSigma[i];
        if (FlowSpace)
        {
            FlowStep(i, s, s1, modelOutput, sample);
            return;
        }

        var eps = As(Prediction.Epsilon, i, sample, modelOutput, Buffer(0));
        if (_clip is not { } c)
        {
            var (cx, ce) = EulerSolver.Coefficients(a, s, a1, s1);
            LinearCombination.Combine(sample, (float)cx, sample, (float)ce, eps);
            return;
        }

        // x0 from the epsilon diffusers uses (the model's own for an epsilon model), clipped.
        float[] x0 = Buffer(1);
        LinearCombination.Combine(x0, (float)(1.0 / a), sample, (float)(-s / a), eps);
        TensorPrimitives.Min(x0, (float)c, x0);
        TensorPrimitives.Max(x0, (float)-c, x0);
        LinearCombination.Combine(sample, (float)a1, x0, (float)s1, eps);
    }

    // Rectified flow (alpha = 1 - sigma): x0 = x - sigma v and eps = x + (1 - sigma) v stay finite at sigma = 1, where
    // x / alpha does not; unclipped, x' = (1 - sigma') x0 + sigma' eps = x + (sigma' - sigma) v is the flow Euler step.
    private void FlowStep(int i, double s, double s1, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        var v = As(Prediction.FlowVelocity, i, sample, modelOutput, Buffer(0));
        if (_clip is not { } c)
        {
            LinearCombination.Combine(sample, 1f, sample, (float)(s1 - s), v);
            return;
        }

        float[] x0 = Buffer(1);
        LinearCombination.Combine(x0, 1f, sample, (float)-s, v);
        TensorPrimitives.Min(x0, (float)c, x0);
        TensorPrimitives.Max(x0, (float)-c, x0);

        // eps = x + (1 - s) v, written into the sample: x' = (1 - s') x0 + s' eps.
        LinearCombination.Combine(sample, 1f, sample, (float)(1.0 - s), v);
        LinearCombination.Combine(sample, (float)(1.0 - s1), x0, (float)s1, sample);
    }
}
