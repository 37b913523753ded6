using Stork.Models;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Solvers.Standard;

/// <summary>
/// Adaptive Dormand-Prince RK45 on the probability-flow ODE <c>dx/dt = alpha' x0 + sigma' eps</c> (the model output
/// converted to the flow velocity), with the 4th-order embedded error estimate, FSAL, and the mixed error norm
/// <c>rms(err / (atol + rtol max(|x|, |x'|)))</c>. The accuracy reference: it owns its loop, keeps its state in double,
/// and lists the times it evaluated at in <see cref="Times"/> once it has run. Flow models integrate from sigma 1 to 0;
/// noise models from T to their end time and then return the data prediction there (one more evaluation).
/// </summary>
public sealed class Rk45Integrator : IAdaptiveIntegrator
{
    private static readonly double[] C = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1];

    private static readonly double[][] A =
    [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ];

    private static readonly double[] E = [71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40];

    private readonly ModelSpec _model;
    private readonly List<double> _times = new(256);
    private float[][]? _k;
    private double[]? _y;
    private double[]? _yNew;
    private float[]? _input;
    private float[]? _raw;

    /// <summary>Adaptive Dormand-Prince RK45 with the given tolerances from the schedule's largest time to <paramref name="endTime"/> (default: the schedule's end), at most <paramref name="maxSteps"/> accepted steps.</summary>
    public Rk45Integrator(ModelSpec model, double relativeTolerance, double absoluteTolerance, double? endTime = null, int maxSteps = 100_000)
    {
        if (!(relativeTolerance > 0) || !(absoluteTolerance >= 0) || !double.IsFinite(relativeTolerance) || !double.IsFinite(absoluteTolerance))
        {
            throw new ArgumentException($"rtol must be positive and atol non-negative (got {relativeTolerance}, {absoluteTolerance}).");
        }

        _model = model;
        RelativeTolerance = relativeTolerance;
        AbsoluteTolerance = absoluteTolerance;
        MaxSteps = maxSteps;
        var s = model.Schedule;
        Flow = s.IsFlowMatching;
        StartTime = s.TMax;
        EndTime = endTime ?? s.DefaultEndTime;
        if (!(EndTime < StartTime) || EndTime < s.TMin)
        {
            throw new ArgumentException($"RK45 end time {EndTime} must lie in [{s.TMin}, {StartTime}).");
        }
    }

    /// <summary>Relative tolerance of the local error test.</summary>
    public double RelativeTolerance { get; }

    /// <summary>Absolute tolerance of the local error test.</summary>
    public double AbsoluteTolerance { get; }

    /// <summary>The most steps before the run fails.</summary>
    public int MaxSteps { get; }

    /// <summary>Integration starts here (the schedule's largest time).</summary>
    public double StartTime { get; }

    /// <summary>Integration ends here; noise models then return the data prediction at this time.</summary>
    public double EndTime { get; }

    /// <summary>Accepted steps of the last run.</summary>
    public int AcceptedSteps { get; private set; }

    /// <summary>Rejected steps of the last run.</summary>
    public int RejectedSteps { get; private set; }

    private bool Flow { get; }

    /// <inheritdoc />
    public IReadOnlyList<double> Times => _times;

    private void Reset()
    {
        _times.Clear();
        AcceptedSteps = 0;
        RejectedSteps = 0;
    }

    /// <inheritdoc />
    public void Integrate(IDenoiser denoiser, Span<float> sample, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        int size = 1;
        var shape = denoiser.SampleShape;
        for (int d = 0; d < shape.Count; d++)
        {
            size *= shape[d];
        }

        if (sample.Length == 0 || sample.Length % size != 0)
        {
            throw new ArgumentException($"the sample buffer holds {sample.Length} floats, not a whole batch of {size}.");
        }

        Reset();
        Ensure(sample.Length);
        var k = _k!;
        double[] y = _y!, yNew = _yNew!;
        for (int j = 0; j < y.Length; j++)
        {
            y[j] = sample[j];
        }

        double t = StartTime, tEnd = EndTime;
        double span = tEnd - t;
        Evaluate(denoiser, t, sample, k[0]);
        double h = span * 1e-2;
        int steps = 0;
        while ((tEnd - t) * Math.Sign(span) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (++steps > MaxSteps)
            {
                throw new InvalidOperationException($"RK45 did not reach the end in {MaxSteps} steps (rtol {RelativeTolerance}, atol {AbsoluteTolerance}).");
            }

            if ((t + h - tEnd) * Math.Sign(span) > 0)
            {
                h = tEnd - t;
            }

            for (int s = 1; s < 7; s++)
            {
                StageInput(y, h, A[s], k);
                Evaluate(denoiser, t + (C[s] * h), _input!, k[s]);
            }

            // k[6] was evaluated at y + h sum b k = the 5th-order solution; recompute it in double.
            double err = ErrorNorm(y, yNew, h, k);
            if (err <= 1.0)
            {
                t = NextTime(t, h, tEnd);
                (_y, _yNew) = (yNew, y);
                (y, yNew) = (_y, _yNew);
                (k[0], k[6]) = (k[6], k[0]);
                AcceptedSteps++;
                progress?.Report(t);
            }
            else
            {
                RejectedSteps++;
            }

            double factor = err == 0 ? 10.0 : Math.Clamp(0.9 * Math.Pow(err, -0.2), 0.2, 10.0);
            if (err > 1.0)
            {
                factor = Math.Min(factor, 1.0);
            }

            h *= factor;
        }

        for (int j = 0; j < y.Length; j++)
        {
            sample[j] = (float)y[j];
        }

        if (!Flow)
        {
            denoiser.Predict(sample, tEnd, _raw);
            _times.Add(tEnd);
            PredictionConverter.Convert(denoiser.Prediction, Prediction.Sample, _model.Schedule, tEnd, sample, _raw, sample);
        }
    }

    private static double NextTime(double t, double h, double tEnd) => Math.Abs(tEnd - (t + h)) <= 1e-15 * Math.Max(1.0, Math.Abs(tEnd)) ? tEnd : t + h;

    private void Evaluate(IDenoiser denoiser, double t, ReadOnlySpan<float> x, float[] velocity)
    {
        _times.Add(t);
        denoiser.Predict(x, t, _raw);
        PredictionConverter.Convert(denoiser.Prediction, Prediction.FlowVelocity, _model.Schedule, t, x, _raw, velocity);
    }

    private void StageInput(double[] y, double h, double[] a, float[][] k)
    {
        var input = _input!;
        for (int j = 0; j < y.Length; j++)
        {
            double acc = 0;
            for (int m = 0; m < a.Length; m++)
            {
                acc += a[m] * k[m][j];
            }

            input[j] = (float)(y[j] + (h * acc));
        }
    }

    private double ErrorNorm(double[] y, double[] yNew, double h, float[][] k)
    {
        double[] b = A[6];
        double sum = 0;
        for (int j = 0; j < y.Length; j++)
        {
            double acc = 0, e = 0;
            for (int m = 0; m < 6; m++)
            {
                acc += b[m] * k[m][j];
                e += E[m] * k[m][j];
            }

            e += E[6] * k[6][j];
            double yn = y[j] + (h * acc);
            yNew[j] = yn;
            double scale = AbsoluteTolerance + (RelativeTolerance * Math.Max(Math.Abs(y[j]), Math.Abs(yn)));
            double r = h * e / scale;
            sum += r * r;
        }

        return Math.Sqrt(sum / y.Length);
    }

    private void Ensure(int length)
    {
        if (_k is not null && _k[0].Length == length)
        {
            return;
        }

        _k = new float[7][];
        for (int s = 0; s < 7; s++)
        {
            _k[s] = new float[length];
        }

        _y = new double[length];
        _yNew = new double[length];
        _input = new float[length];
        _raw = new float[length];
    }
}
