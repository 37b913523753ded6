using Stork.Schedules;

namespace Stork.Solvers.Stabilized;

/// <summary>
/// The right-hand side of a STORK step in coefficient space. A stage value is a vector of weights over the step's basis
/// tensors (index 0: the sample at the step start; then the stored model outputs u0 = current, u1, ...). The model output
/// at stage time c is the virtual (Taylor) value <c>u0 + d D1 + d^2/2 D2 + d^3/6 D3</c>, d = c - t0.
/// Velocity path (flow): f(c, Y) = that value. Drift path (noise): f(c, Y) = A(c) Y + B(c) eps(c), or with the data
/// prediction expanded, f(c, Y) = C(c) Y + D(c) x0(c) (<see cref="NoiseSchedule.DataDrift"/>).
/// </summary>
internal sealed class StageField
{
    private readonly NoiseSchedule? _schedule;
    private readonly NoiseSchedule? _lambda;
    private readonly bool _dataPrediction;
    private double _centerVariable;

    /// <param name="capacity">Largest basis.</param>
    /// <param name="driftSchedule">Noise models: the schedule of the drift; null for flow (velocity) models.</param>
    /// <param name="logSnrSchedule">When set, the Taylor polynomial is in half log-SNR lambda(t) of this schedule instead of t.</param>
    /// <param name="dataPrediction">Drift path: the expanded output is the data prediction x0, not epsilon.</param>
    public StageField(int capacity, NoiseSchedule? driftSchedule, NoiseSchedule? logSnrSchedule = null, bool dataPrediction = false)
    {
        _schedule = driftSchedule;
        _lambda = logSnrSchedule;
        _dataPrediction = dataPrediction;
        D1 = new double[capacity];
        D2 = new double[capacity];
        D3 = new double[capacity];
        Taylor = new double[capacity];
    }

    /// <summary>Basis size of this step.</summary>
    public int Size { get; private set; }

    /// <summary>Highest derivative in use (0 to 3).</summary>
    public int Order { get; private set; }

    /// <summary>Basis index of the current model output u0 (index 0 is the step's start sample).</summary>
    public const int CurrentIndex = 1;

    public double[] D1 { get; }

    public double[] D2 { get; }

    public double[] D3 { get; }

    private double[] Taylor { get; }

    /// <summary>Starts a step: basis size, Taylor centre (a time; the expansion is in <see cref="Variable"/>) and order.</summary>
    public void Reset(int size, double center, int order)
    {
        Size = size;
        _centerVariable = Variable(center);
        Order = order;
        Array.Clear(D1);
        Array.Clear(D2);
        Array.Clear(D3);
    }

    /// <summary>The Taylor variable at time <paramref name="t"/>: t itself, or lambda(t).</summary>
    public double Variable(double t) => _lambda is null ? t : _lambda.LogSnr(t);

    /// <summary>True when f is the probability-flow drift (noise models), false when it is the model output itself (flow).</summary>
    public bool IsDrift => _schedule is not null;

    /// <summary>dst = f(c, y) in coefficients.</summary>
    public void Evaluate(double c, ReadOnlySpan<double> y, Span<double> dst)
    {
        double d = Variable(c) - _centerVariable;
        double d2 = Order >= 2 ? 0.5 * d * d : 0.0, d3 = Order >= 3 ? d * d * d / 6.0 : 0.0;
        var tay = Taylor.AsSpan(0, Size);
        for (int k = 0; k < Size; k++)
        {
            tay[k] = (d * D1[k]) + (d2 * D2[k]) + (d3 * D3[k]);
        }

        tay[CurrentIndex] += 1.0;
        if (_schedule is null)
        {
            tay.CopyTo(dst);
            return;
        }

        var (a, b) = _dataPrediction ? _schedule.DataDrift(c) : _schedule.Drift(c);
        for (int k = 0; k < Size; k++)
        {
            dst[k] = (a * y[k]) + (b * tay[k]);
        }
    }
}
