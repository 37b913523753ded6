using Stork.Predictions;

namespace Stork.Solvers.Standard;

/// <summary>
/// DEIS (DEISMultistepScheduler, log-rho): epsilon extrapolated by Lagrange polynomials in log(sigma / alpha) and
/// integrated exactly in rho = sigma / alpha; orders 1 to 3 with diffusers' warm-up and lower-order final steps.
/// The terminal may be the clean end (rho = 0).
/// </summary>
public sealed class DeisSolver : StandardSolver
{
    private readonly int _order;
    private readonly bool _lowerOrderFinal;

    /// <summary>DEIS (multistep, order 1 to 3) on <paramref name="grid"/>.</summary>
    public DeisSolver(ModelSpec model, StepGrid grid, int order, bool lowerOrderFinal)
        : base(model, grid, DpmSolverPlusPlus.ValidOrder(order))
    {
        _order = order;
        _lowerOrderFinal = lowerOrderFinal;
    }

    /// <summary>The solver order (before warm-up and lower-order final steps lower it).</summary>
    public int Order => _order;

    /// <summary>
    /// The order step <paramref name="i"/> uses. A last step to the clean end (rho = 0) is first order, as
    /// DPM-Solver++'s with <c>final_sigmas_type = zero</c>: in log rho that step is infinitely long, and a higher order
    /// adds rho_0 times the extrapolated slope of epsilon, which does not vanish as the steps shrink (the RMSE of DEIS
    /// levelled off near 6.5e-4 on gmm8 under the epsilon card's trained range).
    /// </summary>
    public int OrderAt(int i)
    {
        int n = Grid.Count;
        bool lower = _lowerOrderFinal && n < 15;
        bool final = i == n - 1 && (lower || Grid.EndSigma[n - 1] == 0);
        return MultistepOrder.At(_order, Taken(i), final, i == n - 2 && lower);
    }

    /// <inheritdoc />
    protected override void StepCore(int i, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        var g = Grid;
        int ring = _order;
        ConvertInto(Prediction.Epsilon, i, sample, modelOutput, Buffer(i % ring));
        int order = OrderAt(i);
        double at = g.EndAlpha[i], a0 = g.Alpha[i];
        double rt = g.EndSigma[i] / at, r0 = g.Sigma[i] / a0;
        ReadOnlySpan<float> M(int k) => Buffer((i - k + (3 * ring)) % ring);
        double cx = at / a0;
        switch (order)
        {
            case 1:
                LinearCombination.Combine(sample, (float)cx, sample, (float)(-at * (r0 - rt)), M(0));
                break;
            case 2:
                {
                    double r1 = g.Sigma[i - 1] / g.Alpha[i - 1];
                    double c1 = Ind2(rt, r0, r1) - Ind2(r0, r0, r1);
                    double c2 = Ind2(rt, r1, r0) - Ind2(r0, r1, r0);
                    LinearCombination.Combine(sample, (float)cx, sample, (float)(at * c1), M(0), (float)(at * c2), M(1));
                    break;
                }

            default:
                {
                    double r1 = g.Sigma[i - 1] / g.Alpha[i - 1], r2 = g.Sigma[i - 2] / g.Alpha[i - 2];
                    double c1 = Ind3(rt, r0, r1, r2) - Ind3(r0, r0, r1, r2);
                    double c2 = Ind3(rt, r1, r2, r0) - Ind3(r0, r1, r2, r0);
                    double c3 = Ind3(rt, r2, r0, r1) - Ind3(r0, r2, r0, r1);
                    LinearCombination.Combine(sample, (float)cx, sample, (float)(at * c1), M(0), (float)(at * c2), M(1), (float)(at * c3), M(2));
                    break;
                }
        }
    }

    // Antiderivatives in rho of the Lagrange basis polynomials in log rho (0 at rho = 0, their limit).
    private static double Ind2(double t, double b, double c)
    {
        if (t == 0)
        {
            return 0;
        }

        double lt = Math.Log(t), lb = Math.Log(b), lc = Math.Log(c);
        return t * (-lc + lt - 1.0) / (lb - lc);
    }

    private static double Ind3(double t, double b, double c, double d)
    {
        if (t == 0)
        {
            return 0;
        }

        double lt = Math.Log(t), lb = Math.Log(b), lc = Math.Log(c), ld = Math.Log(d);
        double num = t * ((lc * (ld - lt + 1.0)) - (ld * lt) + ld + (lt * lt) - (2.0 * lt) + 2.0);
        return num / ((lb - lc) * (lb - ld));
    }
}
