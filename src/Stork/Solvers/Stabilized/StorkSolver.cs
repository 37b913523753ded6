using Stork.Grids;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers.Rock4;

namespace Stork.Solvers.Stabilized;

/// <summary>
/// STORK (Tan et al., arXiv 2505.24210): one real model evaluation per step; the s stabilised Runge-Kutta stages use
/// virtual evaluations (a Taylor expansion in time of the model output, derivatives from the last outputs).
/// Flow models integrate the velocity; noise models the probability-flow drift with a Taylor-expanded epsilon.
/// Every stage is linear in the sample and the stored outputs, so the stage recurrence runs on a few double weights and
/// the step is applied in one pass over the tensor. Memory: derivative order + 1 stored outputs (+1 upstream-only
/// buffer at derivative order 2 on noise models).
/// </summary>
public abstract class StorkSolver : ISolver
{
    private const int MaxBasis = 5;
    private readonly ModelSpec _model;
    private readonly double[] _times;
    private readonly double _terminal;
    private readonly bool _driftPath;
    private readonly bool _finalToData;
    private readonly Prediction _target;
    private readonly Rock4Coefficients? _rock4;
    private readonly StageField _field;
    private readonly StageBuffers _buffers = new(MaxBasis);
    private readonly double[][] _rows = [new double[MaxBasis], new double[MaxBasis], new double[MaxBasis]];
    private readonly double[] _tau = new double[4];
    private float[][]? _history;
    private float[]? _previousSample;

    // Step weights depend on the grid only, not on the data: each step's are computed once, on its first call.
    private readonly double[] _plan;
    private readonly int[] _planDepth;
    private readonly double[] _predictor;
    private readonly int[] _predictorDepth;
    private readonly double[] _correction = new double[MaxBasis];
    private readonly bool _correct;
    private readonly double[] _planCx;
    private readonly double[] _planCp;
    private readonly bool[] _planned;

    /// <summary>A STORK solver for <paramref name="model"/> with <paramref name="steps"/> steps.</summary>
    protected StorkSolver(ModelSpec model, int steps, StorkOptions options, FlowSigmaOptions? flowGrid)
    {
        options.Validate();
        Options = options;
        _model = model;
        _driftPath = model.Prediction != Prediction.FlowVelocity;
        _target = options.DataPrediction ? Prediction.Sample : _driftPath ? Prediction.Epsilon : Prediction.FlowVelocity;
        bool upstream = options.Variant == StorkVariant.Upstream;
        if (_driftPath)
        {
            if (steps < 2)
            {
                throw new ArgumentException($"STORK on noise models needs at least 2 steps (the last evaluation maps to x0); got {steps}.");
            }

            if (upstream)
            {
                if (model.Schedule is not VpLinearSchedule)
                {
                    throw new OptionException("stork-variant", "upstream runs only the continuous linear VP noise schedule; the corrected variant takes the others.");
                }

                if (options.Order == 2)
                {
                    throw new OptionException("stork-variant", "upstream is not supported for STORK-2 on noise models (it integrates epsilon instead of the drift); the corrected variant is.");
                }

                if (model.Prediction != Prediction.Epsilon)
                {
                    throw new OptionException("stork-variant", "upstream takes epsilon predictions on noise models; the corrected variant takes v and x0 models too.");
                }
            }

            double eps = options.StoppingEpsAt(steps);
            _times = options.Times is { } given
                ? Grids.TunedGrid.Check(given, steps, model.Schedule, upstream)
                : upstream
                ? UpstreamNoiseTimes(steps, eps)
                : options.NoiseGrid == NoiseGrid.LogSnr
                    ? TimeGrid.UniformLogSnr(model.Schedule, steps - 1, model.Schedule.TMax, eps * model.Schedule.TMax)
                    : TimeGrid.UniformTime(steps - 1, model.Schedule.TMax, eps * model.Schedule.TMax);
            _terminal = _times[^1];
        }
        else
        {
            if (options.TaylorVariableIsSet && options.TaylorVariable == TaylorVariable.LogSnr)
            {
                throw new ArgumentException("flow models expand the velocity in sigma; the log-SNR Taylor variable applies to noise models.");
            }

            if (upstream && model.Schedule is not RectifiedFlowSchedule)
            {
                throw new ArgumentException("upstream STORK's flow path assumes rectified flow (alpha = 1 - sigma).");
            }

            if (options.FlowSigmas == FlowSigmaBase.StepSigmas && flowGrid?.BaseSigmas is null)
            {
                flowGrid = (flowGrid ?? new FlowSigmaOptions()) with { BaseSigmas = TimeGrid.PipelineSigmas(steps) };
            }

            if (options.Times is { } given)
            {
                _times = Grids.TunedGrid.Check(given, steps, model.Schedule, upstream);
                _terminal = 0.0;
            }
            else
            {
                double[] sigmas = TimeGrid.FlowSigmas(steps, flowGrid);
                _times = sigmas[..^1];
                _terminal = sigmas[^1];
            }
        }

        // The data-prediction drift is singular at sigma 0: a flow run that ends there returns the data prediction.
        _finalToData = _driftPath || ((options.LowerOrderFinal || options.DataPrediction) && _terminal == 0.0);
        _correct = options.CorrectsAt(_times.Length, !_driftPath);
        _rock4 = options.Order == 4 ? Rock4Table.Default.Select(options.Substeps) : null;
        _plan = new double[_times.Length * MaxBasis];
        _planDepth = new int[_times.Length];
        _predictor = new double[_times.Length * MaxBasis];
        _predictorDepth = new int[_times.Length];
        _planCx = new double[_times.Length];
        _planCp = new double[_times.Length];
        _planned = new bool[_times.Length];
        _field = new StageField(MaxBasis, _driftPath || options.DataPrediction ? model.Schedule : null,
            _driftPath && options.TaylorVariable == TaylorVariable.LogSnr ? model.Schedule : null, _target == Prediction.Sample);
    }

    /// <summary>Creates STORK-2 or STORK-4 as <paramref name="options"/> says.</summary>
    public static StorkSolver Create(ModelSpec model, int steps, StorkOptions options, FlowSigmaOptions? flowGrid = null) =>
        options.Order == 2 ? new Stork2(model, steps, options, flowGrid) : new Stork4(model, steps, options, flowGrid);

    /// <summary>The options this solver runs with.</summary>
    public StorkOptions Options { get; }

    /// <inheritdoc />
    public IReadOnlyList<double> Times => _times;

    /// <summary>The time the last step ends at (flow: the terminal sigma; noise: the stopping time).</summary>
    public double TerminalTime => _terminal;

    /// <inheritdoc />
    public int StepIndex { get; private set; }

    /// <summary>Sample-sized buffers this solver holds once warm.</summary>
    public int BufferCount => (_history?.Length ?? 0) + (_previousSample is null ? 0 : 1);

    private bool Upstream => Options.Variant == StorkVariant.Upstream;

    /// <summary>The evaluation the current run started at (<see cref="Reset(int)"/>; 0 after <see cref="Reset()"/>).</summary>
    public int BeginIndex { get; private set; }

    /// <inheritdoc />
    public void Reset() => Reset(0);

    /// <inheritdoc />
    public void Reset(int beginIndex)
    {
        if (beginIndex < 0 || beginIndex >= _times.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(beginIndex), $"the begin index must be 0 to {_times.Length - 1} (got {beginIndex}).");
        }

        if (beginIndex != BeginIndex)
        {
            // The plans depend on how many outputs a step has (its start-up depth): made again for the new start.
            Array.Clear(_planned);
        }

        BeginIndex = beginIndex;
        StepIndex = beginIndex;
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        int i = StepIndex;
        if (i >= _times.Length)
        {
            throw new InvalidOperationException("the solver has consumed every evaluation time; call Reset to sample again.");
        }

        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"model output has {modelOutput.Length} values, the sample {sample.Length}.");
        }

        EnsureBuffers(sample.Length);
        int ring = _history!.Length;
        double t = _times[i];
        var u0 = _history[i % ring];
        StepIndex = i + 1;
        double tNext = i + 1 < _times.Length ? _times[i + 1] : _terminal;
        double h = tNext - t;
        int available = Math.Min(i - BeginIndex + 1, ring);
        int depth = Options.DerivativeOrder;
        bool final = _finalToData && i == _times.Length - 1;
        if (!final && Upstream && (i == BeginIndex || (depth == 2 && i == BeginIndex + 1)))
        {
            PredictionConverter.Convert(_model.Prediction, _target, _model.Schedule, t, sample, modelOutput, u0);
            UpstreamStartup(i, t, h, sample);
            return;
        }

        if (!_planned[i])
        {
            if (final)
            {
                PlanFinal(i, t);
            }
            else
            {
                Plan(i, t, h, Upstream ? depth : Math.Min(depth, available - 1));
            }
        }

        // One pass: store the converted output as u0 and combine x, u0 and the stored outputs.
        int q = _planDepth[i];
        var w = _plan.AsSpan(i * MaxBasis, 2 + q);
        FusedStep.StoreAndCombine(sample, u0, modelOutput, _planCx[i], _planCp[i], w, History(i, 1, q), History(i, 2, q), History(i, 3, q));
    }

    /// <summary>
    /// Weights of step <paramref name="i"/> over [sample, u0, u1, ...]: its predictor, and with the corrector the
    /// correction of step i - 1 folded in (x_i = x_i^p + sum_k delta_k u_k, so x_{i+1} = P_0 x_i^p + sum_k (P_k + P_0 delta_k) u_k).
    /// </summary>
    private void Plan(int i, double t, double h, int q)
    {
        var predictor = _predictor.AsSpan(i * MaxBasis, MaxBasis);
        predictor.Clear();
        Integrate(i, t, h, q, predictor);
        _predictorDepth[i] = q;
        var plan = _plan.AsSpan(i * MaxBasis, MaxBasis);
        predictor.CopyTo(plan);
        int depth = q;
        if (_correct && i > BeginIndex)
        {
            int qc = Correction(i);
            for (int k = 1; k <= qc + 1; k++)
            {
                plan[k] += predictor[0] * _correction[k];
            }

            depth = Math.Max(q, qc);
        }

        Planned(i, t, depth);
    }

    /// <summary>
    /// Last evaluation, to the clean end: the data prediction there, x0 = (x - sigma eps) / alpha on the noise path
    /// (upstream omits the division by alpha), x0 = cx x + cp v on the flow path (<see cref="StorkOptions.LowerOrderFinal"/>:
    /// the first-order step to sigma 0), with the correction of step i - 1 added to x first when the corrector runs; with
    /// <see cref="StorkOptions.DataPrediction"/> the stored output is that prediction.
    /// </summary>
    private void PlanFinal(int i, double t)
    {
        var plan = _plan.AsSpan(i * MaxBasis, MaxBasis);
        plan.Clear();
        if (_target == Prediction.Sample)
        {
            // The stored output is the data prediction from the sample the model saw; with the corrector, the data
            // prediction of the corrected sample: x0 = cx x + cp out, so it moves by cx times the correction.
            int corrected = 0;
            if (_correct && i > BeginIndex)
            {
                corrected = Correction(i);
                double cx = Conversion(t).Cx;
                for (int k = 1; k <= corrected + 1; k++)
                {
                    plan[k] = cx * _correction[k];
                }
            }

            plan[StageField.CurrentIndex] += 1.0;
            Planned(i, t, corrected);
            return;
        }

        // Noise path: x0 = (x - sigma eps) / alpha, written as divisions (the bytes of the published runs).
        double alpha, cp;
        if (_driftPath)
        {
            alpha = Upstream ? 1.0 : _model.Schedule.Alpha(t);
            cp = -_model.Schedule.Sigma(t) / alpha;
        }
        else
        {
            (double cx, cp) = PredictionConverter.Weights(_target, Prediction.Sample, _model.Schedule, t);
            alpha = 1.0 / cx;
        }

        plan[0] = 1.0 / alpha;
        int depth = 0;
        if (_correct && i > BeginIndex)
        {
            depth = Correction(i);
            for (int k = 1; k <= depth + 1; k++)
            {
                plan[k] = _correction[k] / alpha;
            }
        }

        plan[StageField.CurrentIndex] += cp;
        Planned(i, t, depth);
    }

    /// <summary>Records step <paramref name="i"/>'s output conversion at t and how many stored outputs its weights use.</summary>
    private void Planned(int i, double t, int depth)
    {
        (_planCx[i], _planCp[i]) = Conversion(t);
        _planDepth[i] = depth;
        _planned[i] = true;
    }

    /// <summary>The model output converted to the prediction STORK stores, at t: <c>cx x + cp out</c>.</summary>
    private (double Cx, double Cp) Conversion(double t) =>
        _model.Prediction == _target ? (0.0, 1.0) : PredictionConverter.Weights(_model.Prediction, _target, _model.Schedule, t);

    /// <summary>
    /// The corrector (UniC-style, Adams-Moulton in spirit): step i - 1 integrated again with the polynomial through the
    /// new output u0 at t_i and the outputs the predictor used, minus what the predictor added. Writes the difference
    /// over [sample, u0, u1, ...] into the correction buffer (its sample weight is zero up to rounding: both runs share
    /// the same linear part) and returns the index of the oldest output it uses.
    /// </summary>
    private int Correction(int i)
    {
        int qp = _predictorDepth[i - 1];
        int qc = qp + 1;
        var corrected = _correction.AsSpan();
        corrected.Clear();
        double t0 = _times[i - 1];
        Integrate(i, t0, _times[i] - t0, qc, corrected);
        var predicted = _predictor.AsSpan((i - 1) * MaxBasis, MaxBasis);
        corrected[0] = 0.0;
        for (int k = 1; k <= qp + 1; k++)
        {
            corrected[k + 1] -= predicted[k];
        }

        return qc;
    }

    /// <summary>
    /// One stage recurrence over [sample at <paramref name="start"/>, u0, ..., u_q] by <paramref name="h"/>: the model
    /// output is the polynomial through (t_{i-k}, u_k), k = 0..q, expanded about t_i (the predictor starts at t_i, the
    /// corrector at t_{i-1}).
    /// </summary>
    private void Integrate(int i, double start, double h, int q, Span<double> weights)
    {
        // Stencil: derivatives at t from the last q + 1 outputs.
        for (int k = 0; k <= q; k++)
        {
            _tau[k] = _field.Variable(_times[i - k]);
        }

        int size = 2 + q;
        _field.Reset(size, _times[i], q);
        if (q > 0)
        {
            if (Upstream)
            {
                DerivativeStencil.Upstream(_tau, q, _rows, 1);
            }
            else
            {
                DerivativeStencil.Exact(_tau, q, _rows, 1);
            }

            _rows[0].AsSpan(0, size).CopyTo(_field.D1);
            _rows[1].AsSpan(0, size).CopyTo(_field.D2);
            _rows[2].AsSpan(0, size).CopyTo(_field.D3);
        }

        Array.Clear(_buffers.X);
        _buffers.X[0] = 1.0;
        RunRecurrence(start, h, _field, _buffers, weights[..size]);
    }

    internal abstract void RunRecurrence(double t, double h, StageField field, StageBuffers buffers, Span<double> weights);

    internal Rock4Coefficients Rock4 => _rock4 ?? throw new InvalidOperationException("not a STORK-4 solver.");

    private ReadOnlySpan<float> History(int i, int k, int q)
    {
        int ring = _history!.Length;
        return k <= q ? _history[(i - k + (ring * 4)) % ring] : default;
    }

    private void UpstreamStartup(int i, double t, double h, Span<float> sample)
    {
        int ring = _history!.Length;
        var u0 = _history[i % ring];
        if (i == BeginIndex)
        {
            // Euler.
            if (_driftPath)
            {
                if (_previousSample is not null)
                {
                    sample.CopyTo(_previousSample);
                }

                var (a, b) = _model.Schedule.Drift(t);
                LinearCombination.Combine(sample, (float)(1.0 + (h * a)), sample, (float)(h * b), u0);
            }
            else
            {
                LinearCombination.Combine(sample, 1f, sample, (float)h, u0);
            }

            return;
        }

        // Derivative order 2, step 1: x - 1.5 h1 f1 + 0.5 h0 f0 (flow: h0 is the previous step; noise: uniform h).
        var u1 = _history[(i - 1) % ring];
        double t0 = _times[i - 1];
        if (_driftPath)
        {
            var (a1, b1) = _model.Schedule.Drift(t);
            var (a0, b0) = _model.Schedule.Drift(t0);
            LinearCombination.Combine(sample, (float)(1.0 + (1.5 * h * a1)), sample, (float)(1.5 * h * b1), u0,
                (float)(-0.5 * h * a0), _previousSample, (float)(-0.5 * h * b0), u1);
        }
        else
        {
            double h0 = t - t0;
            LinearCombination.Combine(sample, 1f, sample, (float)(1.5 * h), u0, (float)(-0.5 * h0), u1);
        }
    }

    private void EnsureBuffers(int length)
    {
        int ring = Options.DerivativeOrder + (_correct ? 2 : 1);
        if (_history is null || _history[0].Length != length)
        {
            _history = new float[ring][];
            for (int k = 0; k < ring; k++)
            {
                _history[k] = new float[length];
            }

            _previousSample = Upstream && _driftPath && Options.DerivativeOrder == 2 ? new float[length] : null;
        }
    }

    private static double[] UpstreamNoiseTimes(int steps, double eps)
    {
        // numpy: seq = linspace(0, 1, N + 1); seq[0] = eps; seq = seq[:-1][::-1]  ->  (N-1)/N, ..., 1/N, eps.
        var times = new double[steps];
        for (int i = 0; i < steps - 1; i++)
        {
            times[i] = TimeGrid.Linspace(0.0, 1.0, steps + 1, steps - 1 - i);
        }

        times[^1] = eps;
        return times;
    }
}
