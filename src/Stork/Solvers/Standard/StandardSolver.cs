using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Solvers.Standard;

/// <summary>
/// Shared plumbing of the standard solvers: the grid, the step counter, argument checks and sample-sized buffers that
/// are allocated on the first step and reused afterwards (no allocation per step once warm).
/// </summary>
public abstract class StandardSolver : ISolver
{
    private float[][]? _buffers;

    /// <summary>A solver on <paramref name="grid"/> with <paramref name="bufferCount"/> sample-sized work buffers.</summary>
    protected StandardSolver(ModelSpec model, StepGrid grid, int bufferCount)
    {
        Model = model;
        Grid = grid;
        BufferCount = bufferCount;
    }

    /// <summary>The model the solver steps.</summary>
    public ModelSpec Model { get; }

    /// <summary>The grid it walks.</summary>
    public StepGrid Grid { get; }

    /// <summary>Sample-sized buffers the solver holds once warm.</summary>
    public int BufferCount { get; }

    /// <inheritdoc />
    public virtual IReadOnlyList<double> Times => Grid.Times;

    /// <inheritdoc />
    public int StepIndex { get; private set; }

    /// <summary>The model's noise schedule.</summary>
    protected NoiseSchedule Schedule => Model.Schedule;

    /// <summary>The evaluation the current run started at (<see cref="Reset(int)"/>; 0 after <see cref="Reset()"/>).</summary>
    public int BeginIndex { get; private set; }

    /// <inheritdoc />
    public virtual void Reset()
    {
        StepIndex = 0;
        BeginIndex = 0;
    }

    /// <inheritdoc />
    public void Reset(int beginIndex)
    {
        if (beginIndex < 0 || beginIndex >= Times.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(beginIndex), $"the begin index must be 0 to {Times.Count - 1} (got {beginIndex}).");
        }

        Reset();
        BeginIndex = beginIndex;
        StepIndex = beginIndex;
    }

    /// <summary>Steps taken in this run before step <paramref name="i"/> (the multistep warm-up counts these).</summary>
    protected int Taken(int i) => i - BeginIndex;

    /// <inheritdoc />
    public void Step(ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        int i = StepIndex;
        if (i >= Times.Count)
        {
            throw new InvalidOperationException("the solver has consumed every evaluation time; call Reset to sample again.");
        }

        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"model output has {modelOutput.Length} values, the sample {sample.Length}.");
        }

        if (_buffers is null || (_buffers.Length > 0 && _buffers[0].Length != sample.Length))
        {
            _buffers = new float[BufferCount][];
            for (int k = 0; k < BufferCount; k++)
            {
                _buffers[k] = new float[sample.Length];
            }
        }

        StepCore(i, modelOutput, sample);
        StepIndex = i + 1;
    }

    /// <summary>Step <paramref name="i"/>: advance <paramref name="sample"/> in place.</summary>
    protected abstract void StepCore(int i, ReadOnlySpan<float> modelOutput, Span<float> sample);

    /// <summary>Preallocated buffer <paramref name="k"/> (valid inside <see cref="StepCore"/>).</summary>
    protected float[] Buffer(int k) => _buffers![k];

    /// <summary>
    /// The model output at grid node <paramref name="node"/> in the parameterisation <paramref name="to"/>: the output
    /// itself when it already is, else converted into <paramref name="scratch"/>. On noise schedules the conversion uses
    /// the node's own (alpha, sigma), which a diffusers grid may set apart from the schedule (Karras sigmas).
    /// </summary>
    protected ReadOnlySpan<float> As(Prediction to, int node, ReadOnlySpan<float> sample, ReadOnlySpan<float> modelOutput, Span<float> scratch)
    {
        if (Model.Prediction == to)
        {
            return modelOutput;
        }

        Convert(to, node, sample, modelOutput, scratch);
        return scratch;
    }

    /// <summary>Writes the model output at grid node <paramref name="node"/> converted to <paramref name="to"/> into <paramref name="destination"/>.</summary>
    protected void ConvertInto(Prediction to, int node, ReadOnlySpan<float> sample, ReadOnlySpan<float> modelOutput, Span<float> destination)
    {
        if (Model.Prediction == to)
        {
            modelOutput.CopyTo(destination);
        }
        else
        {
            Convert(to, node, sample, modelOutput, destination);
        }
    }

    private void Convert(Prediction to, int node, ReadOnlySpan<float> sample, ReadOnlySpan<float> modelOutput, Span<float> destination)
    {
        if (FlowSpace || Model.Prediction == Prediction.FlowVelocity || to == Prediction.FlowVelocity)
        {
            PredictionConverter.Convert(Model.Prediction, to, Schedule, Grid.Times[node], sample, modelOutput, destination);
            return;
        }

        var (cx, cp) = PredictionConverter.Weights(Model.Prediction, to, Grid.Alpha[node], Grid.Sigma[node]);
        LinearCombination.Combine(destination, (float)cp, modelOutput, (float)cx, sample);
    }

    /// <summary>True when the solver integrates rectified flow in sigma with the velocity (else x / alpha in sigma / alpha with epsilon).</summary>
    protected bool FlowSpace => Schedule.IsFlowMatching;
}
