using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Solvers.Standard;

/// <summary>
/// Multistep DPM-Solver++ (DPMSolverMultistepScheduler, algorithm_type dpmsolver++): data prediction, orders 1 to 3,
/// midpoint or heun second-order form, warm-up and lower-order final steps as diffusers. The model output is converted
/// to x0 and kept in a ring of <c>order</c> preallocated buffers; each step is one linear pass.
/// </summary>
public sealed class DpmSolverPlusPlus : StandardSolver
{
    private readonly int _order;
    private readonly DiffusersOptions _options;

    /// <summary>Multistep DPM-Solver++ of order 1 to 3 on <paramref name="grid"/>.</summary>
    public DpmSolverPlusPlus(ModelSpec model, StepGrid grid, int order, DiffusersOptions options)
        : base(model, grid, ValidOrder(order))
    {
        _order = order;
        _options = options;
    }

    /// <summary>The configured order.</summary>
    public int Order => _order;

    internal static int ValidOrder(int order) =>
        order is >= 1 and <= 3 ? order : throw new ArgumentException($"solver order must be 1, 2 or 3 (got {order}).");

    /// <summary>The order step <paramref name="i"/> uses.</summary>
    public int OrderAt(int i)
    {
        int n = Grid.Count;
        bool lowerFinal = i == n - 1 && (_options.EulerAtFinal || (_options.LowerOrderFinal && n < 15) || Grid.EndSigma[n - 1] == 0);
        bool lowerSecond = i == n - 2 && _options.LowerOrderFinal && n < 15;
        return MultistepOrder.At(_order, Taken(i), lowerFinal, lowerSecond);
    }

    /// <inheritdoc />
    protected override void StepCore(int i, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        var g = Grid;
        int ring = _order;
        ConvertInto(Prediction.Sample, i, sample, modelOutput, Buffer(i % ring));
        int order = OrderAt(i);

        double at = g.EndAlpha[i], st = g.EndSigma[i];
        double lt = StepGrid.Lambda(at, st), l0 = StepGrid.Lambda(g.Alpha[i], g.Sigma[i]);
        double h = lt - l0;
        double em1 = ScalarMath.ExpM1(-h);
        double cx = st / g.Sigma[i];
        double w0 = -at * em1, w1 = 0, w2 = 0;
        if (order == 2)
        {
            double r0 = (l0 - StepGrid.Lambda(g.Alpha[i - 1], g.Sigma[i - 1])) / h;
            double k1 = _options.DpmHeun ? at * ((em1 / h) + 1.0) : -0.5 * at * em1;
            w0 += k1 / r0;
            w1 -= k1 / r0;
        }
        else if (order == 3)
        {
            double l1 = StepGrid.Lambda(g.Alpha[i - 1], g.Sigma[i - 1]), l2 = StepGrid.Lambda(g.Alpha[i - 2], g.Sigma[i - 2]);
            double r0 = (l0 - l1) / h, r1 = (l1 - l2) / h;

            // D1_0 = (m0 - m1) / r0, D1_1 = (m1 - m2) / r1; D1 = D1_0 + r0 / (r0 + r1) (D1_0 - D1_1); D2 = (D1_0 - D1_1) / (r0 + r1).
            double kd1 = at * ((em1 / h) + 1.0);
            double kd2 = -at * (((em1 + h) / (h * h)) - 0.5);
            double a = kd1 * (1.0 + (r0 / (r0 + r1))) + (kd2 / (r0 + r1)); // weight of D1_0
            double b = -(kd1 * r0 / (r0 + r1)) - (kd2 / (r0 + r1)); // weight of D1_1
            w0 += a / r0;
            w1 += (-a / r0) + (b / r1);
            w2 -= b / r1;
        }

        ReadOnlySpan<float> M(int k) => Buffer((i - k + (3 * ring)) % ring);
        switch (order)
        {
            case 1:
                LinearCombination.Combine(sample, (float)cx, sample, (float)w0, M(0));
                break;
            case 2:
                LinearCombination.Combine(sample, (float)cx, sample, (float)w0, M(0), (float)w1, M(1));
                break;
            default:
                LinearCombination.Combine(sample, (float)cx, sample, (float)w0, M(0), (float)w1, M(1), (float)w2, M(2));
                break;
        }
    }
}
