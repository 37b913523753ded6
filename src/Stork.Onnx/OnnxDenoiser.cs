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
    private readonly CardGraph _graph;
    private readonly int _chunk;

    /// <summary>Opens the network of <paramref name="card"/> with <paramref name="options"/> (CPU by default) and checks it against the card.</summary>
    public OnnxDenoiser(ModelCard card, OnnxRuntimeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(card);
        options ??= new OnnxRuntimeOptions();
        Card = card;
        NodeMetadata? timeNode = null;
        _graph = new CardGraph(card, ModelKind.Denoiser, options, sig =>
        {
            var type = card.DType.ToElementType();
            string sampleName = card.Inputs["sample"], timeName = card.Inputs["time"], outName = card.Outputs["out"];
            int? inBatch = sig.CheckBatched(sig.Input("sample"), sampleName, type, card.SampleShape);
            int? outBatch = sig.CheckBatched(sig.Output("out"), outName, type, card.SampleShape);
            FixedBatch = inBatch ?? outBatch;
            timeNode = sig.Input("time");
            sig.CheckNoOtherInputs();
            sig.CheckTime(timeNode, timeName, FixedBatch);
            return (["sample", "time"], ["out"]);
        }, (role, batch) => role == "time" ? ModelSignature.TimeShape(timeNode!, batch) : [batch, .. card.SampleShape.Select(d => (long)d)]);
        _chunk = FixedBatch ?? options.MaxBatch;
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
    public int? FixedBatch { get; private set; }

    /// <summary>The value fed to the network's time input at schedule time <paramref name="time"/>.</summary>
    public double TimeFeed(double time) => TimeInputs.Feed(Card.TimeInput, Schedule, time);

    /// <inheritdoc />
    public IReadOnlyList<Stork.Grids.TunedGrid> TunedGrids => Card.TunedGrids;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> SolverOptions => Card.SolverOptions;

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
            var (inputs, outputs, call) = _graph.For(FixedBatch ?? n);
            inputs[0].SetPadded(samples.Slice(start * size, n * size));
            inputs[1].FillRounded(feed);
            call.Run();
            outputs[0].CopyPrefixTo(output.Slice(start * size, n * size));
        }
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _graph.Dispose();
}
