using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Solvers.Standard;

/// <summary>
/// UniPC (UniPCMultistepScheduler, predict_x0): a UniP predictor and, from the second evaluation on, a UniC corrector
/// of the previous step that reuses the new model output (no extra evaluation); B(h) bh1 or bh2; orders 1 to 3 with
/// diffusers' warm-up and lower-order final steps. Buffers: order + 1 x0 outputs and the corrected sample.
/// </summary>
public sealed class UniPcSolver : StandardSolver
{
    private readonly int _order;
    private readonly UniPcVariant _variant;
    private readonly bool _lowerOrderFinal;
    private readonly HashSet<int> _disableCorrector;
    private readonly double[] _rks = new double[3];
    private readonly double[] _rhos = new double[3];
    private readonly double[] _b = new double[3];
    private readonly double[] _matrix = new double[9];
    private int _lastOrder;

    /// <summary>UniPC of order 1 to 3 with B(h) <paramref name="variant"/> on <paramref name="grid"/>.</summary>
    public UniPcSolver(ModelSpec model, StepGrid grid, int order, UniPcVariant variant, DiffusersOptions options)
        : base(model, grid, DpmSolverPlusPlus.ValidOrder(order) + 2)
    {
        _order = order;
        _variant = variant;
        _lowerOrderFinal = options.LowerOrderFinal;
        _disableCorrector = [.. options.DisableCorrector];
    }

    /// <inheritdoc />
    public override void Reset()
    {
        base.Reset();
        _lastOrder = 0;
    }

    /// <summary>The solver order (before warm-up and lower-order final steps lower it).</summary>
    public int Order => _order;

    /// <summary>The predictor order of step <paramref name="i"/>.</summary>
    public int OrderAt(int i)
    {
        int order = _lowerOrderFinal ? Math.Min(_order, Grid.Count - i) : _order;
        return Math.Min(order, Math.Min(Taken(i), _order) + 1);
    }

    /// <inheritdoc />
    protected override void StepCore(int i, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        var g = Grid;
        int ring = _order + 1;
        float[] last = Buffer(ring);
        ConvertInto(Prediction.Sample, i, sample, modelOutput, Buffer(i % ring));
        ReadOnlySpan<float> M(int j) => Buffer(j % ring);

        if (Taken(i) > 0 && !_disableCorrector.Contains(i - 1))
        {
            // UniC: correct the step from node i - 1 to node i with the new output; the result is the sample the
            // predictor starts from.
            int order = _lastOrder;
            double lt = StepGrid.Lambda(g.Alpha[i], g.Sigma[i]), l0 = StepGrid.Lambda(g.Alpha[i - 1], g.Sigma[i - 1]);
            double h = lt - l0;
            for (int k = 1; k < order; k++)
            {
                _rks[k - 1] = (StepGrid.Lambda(g.Alpha[i - 1 - k], g.Sigma[i - 1 - k]) - l0) / h;
            }

            _rks[order - 1] = 1.0;
            var (hPhi1, bh) = Coefficients(h, order);
            if (order == 1)
            {
                _rhos[0] = 0.5;
            }
            else
            {
                Solve(order);
            }

            double at = g.Alpha[i];
            double cx = g.Sigma[i] / g.Sigma[i - 1];
            double wNew = -at * bh * _rhos[order - 1];
            double w0 = (-at * hPhi1) - wNew;
            double w1 = 0, w2 = 0;
            for (int k = 1; k < order; k++)
            {
                double c = -at * bh * _rhos[k - 1] / _rks[k - 1];
                w0 -= c;
                if (k == 1)
                {
                    w1 += c;
                }
                else
                {
                    w2 += c;
                }
            }

            switch (order)
            {
                case 1:
                    LinearCombination.Combine(last, (float)cx, last, (float)wNew, M(i), (float)w0, M(i - 1));
                    break;
                case 2:
                    LinearCombination.Combine(last, (float)cx, last, (float)wNew, M(i), (float)w0, M(i - 1), (float)w1, M(i - 2));
                    break;
                default:
                    LinearCombination.Combine(last, (float)cx, last, (float)wNew, M(i), (float)w0, M(i - 1), (float)w1, M(i - 2), (float)w2, M(i - 3));
                    break;
            }
        }
        else
        {
            sample.CopyTo(last);
        }

        Predict(i, sample, last);
    }

    private void Predict(int i, Span<float> sample, ReadOnlySpan<float> x)
    {
        var g = Grid;
        int ring = _order + 1;
        ReadOnlySpan<float> M(int j) => Buffer(j % ring);
        int order = OrderAt(i);
        _lastOrder = order;
        double at = g.EndAlpha[i], st = g.EndSigma[i];
        double l0 = StepGrid.Lambda(g.Alpha[i], g.Sigma[i]);
        double h = StepGrid.Lambda(at, st) - l0;
        double cx = st / g.Sigma[i];
        var (hPhi1, bh) = Coefficients(h, order == 3 ? 3 : 1);
        double w0 = -at * hPhi1, w1 = 0, w2 = 0;
        if (order >= 2)
        {
            for (int k = 1; k < order; k++)
            {
                _rks[k - 1] = (StepGrid.Lambda(g.Alpha[i - k], g.Sigma[i - k]) - l0) / h;
            }

            if (order == 2)
            {
                _rhos[0] = 0.5;
            }
            else
            {
                _rks[2] = 1.0;
                Solve(order - 1);
            }

            for (int k = 1; k < order; k++)
            {
                double c = -at * bh * _rhos[k - 1] / _rks[k - 1];
                w0 -= c;
                if (k == 1)
                {
                    w1 += c;
                }
                else
                {
                    w2 += c;
                }
            }
        }

        switch (order)
        {
            case 1:
                LinearCombination.Combine(sample, (float)cx, x, (float)w0, M(i));
                break;
            case 2:
                LinearCombination.Combine(sample, (float)cx, x, (float)w0, M(i), (float)w1, M(i - 1));
                break;
            default:
                LinearCombination.Combine(sample, (float)cx, x, (float)w0, M(i), (float)w1, M(i - 1), (float)w2, M(i - 2));
                break;
        }
    }

    /// <summary>h phi_1 (with hh = -h) and B(h); fills <see cref="_b"/> for <paramref name="order"/> rows.</summary>
    private (double HPhi1, double Bh) Coefficients(double h, int order)
    {
        double hh = -h;
        double hPhi1 = ScalarMath.ExpM1(hh);
        double hPhiK = (hPhi1 / hh) - 1.0;
        double bh = _variant == UniPcVariant.Bh1 ? hh : ScalarMath.ExpM1(hh);
        double factorial = 1.0;
        for (int k = 1; k <= order; k++)
        {
            _b[k - 1] = hPhiK * factorial / bh;
            factorial *= k + 1;
            hPhiK = (hPhiK / hh) - (1.0 / factorial);
        }

        return (hPhi1, bh);
    }

    /// <summary>Solves R rho = b for the leading <paramref name="n"/> rows, R[r, c] = rks[c]^r (Gaussian elimination with pivoting).</summary>
    private void Solve(int n)
    {
        var m = _matrix;
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                m[(r * 3) + c] = Math.Pow(_rks[c], r);
            }

            _rhos[r] = _b[r];
        }

        for (int col = 0; col < n; col++)
        {
            int p = col;
            for (int r = col + 1; r < n; r++)
            {
                if (Math.Abs(m[(r * 3) + col]) > Math.Abs(m[(p * 3) + col]))
                {
                    p = r;
                }
            }

            if (p != col)
            {
                for (int c = 0; c < n; c++)
                {
                    (m[(col * 3) + c], m[(p * 3) + c]) = (m[(p * 3) + c], m[(col * 3) + c]);
                }

                (_rhos[col], _rhos[p]) = (_rhos[p], _rhos[col]);
            }

            for (int r = col + 1; r < n; r++)
            {
                double f = m[(r * 3) + col] / m[(col * 3) + col];
                for (int c = col; c < n; c++)
                {
                    m[(r * 3) + c] -= f * m[(col * 3) + c];
                }

                _rhos[r] -= f * _rhos[col];
            }
        }

        for (int r = n - 1; r >= 0; r--)
        {
            double v = _rhos[r];
            for (int c = r + 1; c < n; c++)
            {
                v -= m[(r * 3) + c] * _rhos[c];
            }

            _rhos[r] = v / m[(r * 3) + r];
        }
    }
}
