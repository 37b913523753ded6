using Microsoft.ML.OnnxRuntime;
using Stork.Models;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Onnx;

/// <summary>
/// A denoiser network in ONNX, described by a <see cref="ModelCard"/>. Time arrives in schedule units and is fed as the
/// card's <c>time_input</c> says; samples are converted to the card's dtype at the boundary. Input and output tensors
/// are preallocated for a batch size and reused while it stays the same; batches larger than the network's fixed batch
/// (or <see cref="OnnxRuntimeOptions.MaxBatch"/>) run in chunks. Not thread-safe: one call at a time.
/// </summary>
public sealed class OnnxDenoiser : IDenoiser, IDisposable
{
    private readonly InferenceSession _session;
    private readonly NodeMetadata _timeNode;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly int _chunk;
    private readonly RunOptions _runOptions = new();
    private Binding? _binding;

    /// <summary>Opens the network of <paramref name="card"/> with <paramref name="options"/> (CPU by default) and checks it against the card.</summary>
    public OnnxDenoiser(ModelCard card, OnnxRuntimeOptions? options = null)
    {
        if (card.Kind != ModelKind.Denoiser)
        {
            throw new InvalidDataException($"model card '{card.CardPath}' is a {card.Kind.ToString().ToLowerInvariant()}, not a denoiser.");
        }

        options ??= new OnnxRuntimeOptions();
        Card = card;
        _session = OnnxSessions.Open(card.OnnxPath, options);
        try
        {
            var sig = new ModelSignature(card, _session);
            var type = card.DType.ToElementType();
            string sampleName = card.Inputs["sample"], timeName = card.Inputs["time"], outName = card.Outputs["out"];
            int? inBatch = sig.CheckBatched(sig.Input("sample"), sampleName, type, card.SampleShape);
            int? outBatch = sig.CheckBatched(sig.Output("out"), outName, type, card.SampleShape);
            FixedBatch = inBatch ?? outBatch;
            _timeNode = sig.Input("time");
            sig.CheckNoOtherInputs();
            sig.CheckTime(_timeNode, timeName, FixedBatch);
            _inputNames = [sampleName, timeName];
            _outputNames = [outName];
            _chunk = FixedBatch ?? options.MaxBatch;
        }
        catch
        {
            _session.Dispose();
            _runOptions.Dispose();
            throw;
        }
    }

    /// <summary>Loads the card at <paramref name="cardPath"/> and opens its network.</summary>
    public static OnnxDenoiser Load(string cardPath, OnnxRuntimeOptions? options = null) => new(ModelCard.Load(cardPath), options);

    /// <summary>The model card.</summary>
    public ModelCard Card { get; }

    /// <inheritdoc />
    public Prediction Prediction => Card.Prediction;

    /// <inheritdoc />
    public NoiseSchedule Schedule => Card.NoiseSchedule;

    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape => Card.SampleShape;

    /// <summary>The network's fixed batch size, or null when its batch axis is dynamic.</summary>
    public int? FixedBatch { get; }

    /// <summary>The value fed to the network's time input at schedule time <paramref name="time"/>.</summary>
    public double TimeFeed(double time) => TimeInputs.Feed(Card.TimeInput, Schedule, time);

    /// <inheritdoc />
    public IReadOnlyList<Stork.Grids.TunedGrid> TunedGrids => Card.TunedGrids;

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> samples, double time, Span<float> output)
    {
        int size = Card.SampleSize;
        if (samples.Length == 0 || samples.Length % size != 0 || output.Length != samples.Length)
        {
            throw new ArgumentException($"samples must be [batch, {string.Join(", ", SampleShape)}] and output the same size.");
        }

        if (!double.IsFinite(time))
        {
            throw new ArgumentException($"time must be finite (got {time}).");
        }

        Card.Schedule!.RequireTrained(time, Card.CardPath);

        double feed = TimeFeed(time);
        int batch = samples.Length / size;
        for (int start = 0; start < batch; start += _chunk)
        {
            int n = Math.Min(_chunk, batch - start);
            var b = BindingFor(FixedBatch ?? n);
            b.Sample.CopyFrom(samples.Slice(start * size, n * size));
            b.Time.Fill(feed);
            OnnxSessions.Run(_session, _runOptions, _inputNames, b.Inputs, _outputNames, b.Outputs, Card.CardPath);
            b.Output.CopyTo(output.Slice(start * size, n * size));
        }
    }

    private Binding BindingFor(int batch)
    {
        if (_binding?.Batch != batch)
        {
            _binding?.Dispose();
            _binding = null;
            var type = Card.DType.ToElementType();
            long[] shape = [batch, .. Card.SampleShape.Select(d => (long)d)];
            _binding = new Binding(batch, new TensorBuffer(type, shape),
                new TensorBuffer(_timeNode.ElementDataType, ModelSignature.TimeShape(_timeNode, batch)), new TensorBuffer(type, shape));
        }

        return _binding;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        _binding?.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }

    private sealed class Binding(int batch, TensorBuffer sample, TensorBuffer time, TensorBuffer output) : IDisposable
    {
        public int Batch { get; } = batch;

        public TensorBuffer Sample { get; } = sample;

        public TensorBuffer Time { get; } = time;

        public TensorBuffer Output { get; } = output;

        public OrtValue[] Inputs { get; } = [sample.Value, time.Value];

        public OrtValue[] Outputs { get; } = [output.Value];

        public void Dispose()
        {
            Sample.Dispose();
            Time.Dispose();
            Output.Dispose();
        }
    }
}
