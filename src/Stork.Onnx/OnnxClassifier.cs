namespace Stork.Onnx;

/// <summary>
/// An image classifier in ONNX with a feature layer (card kind <c>classifier</c>): images in the card's data range in,
/// <c>features</c> [batch, FeatureDim] and <c>logits</c> [batch, Classes] out; the features feed Frechet distances.
/// Buffers are preallocated per chunk size; large batches run in chunks. Not thread-safe: one call at a time.
/// </summary>
public sealed class OnnxClassifier : IDisposable
{
    private readonly CardGraph _graph;
    private readonly int _chunk;
    private int? _fixedBatch;

    /// <summary>Opens the network of <paramref name="card"/> with <paramref name="options"/> (CPU by default) and checks it against the card.</summary>
    public OnnxClassifier(ModelCard card, OnnxRuntimeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(card);
        options ??= new OnnxRuntimeOptions();
        Card = card;
        _graph = new CardGraph(card, ModelKind.Classifier, options, sig =>
        {
            var type = card.DType.ToElementType();
            string image = card.Inputs["image"], features = card.Outputs["features"], logits = card.Outputs["logits"];
            int? b1 = sig.CheckBatched(sig.Input("image"), image, type, card.SampleShape);
            int? b2 = sig.CheckBatched(sig.Output("features"), features, type, [card.FeatureDim]);
            var logitsNode = sig.Output("logits");
            if (logitsNode.Dimensions.Length != 2 || logitsNode.Dimensions[1] < 1)
            {
                throw new InvalidDataException(
                    $"model '{card.OnnxPath}' does not match its card '{card.CardPath}': logits '{logits}' has shape {ModelSignature.Dims(logitsNode.Dimensions)}; expected [batch, classes] with a fixed number of classes.");
            }

            Classes = logitsNode.Dimensions[1];
            if (card.NumClasses is { } declared && declared != Classes)
            {
                throw new InvalidDataException(
                    $"model '{card.OnnxPath}' does not match its card '{card.CardPath}': logits '{logits}' has {Classes} classes, the card says {declared}.");
            }

            sig.CheckNoOtherInputs();
            int? b3 = sig.CheckBatched(logitsNode, logits, type, [Classes]);
            _fixedBatch = b1 ?? b2 ?? b3;
            return (["image"], ["features", "logits"]);
        }, (role, batch) => role switch
        {
            "image" => [batch, .. card.SampleShape.Select(d => (long)d)],
            "features" => [batch, FeatureDim],
            _ => [batch, Classes],
        });
        _chunk = _fixedBatch ?? options.MaxBatch;
    }

    /// <summary>Loads the card at <paramref name="cardPath"/> and opens its network.</summary>
    public static OnnxClassifier Load(string cardPath, OnnxRuntimeOptions? options = null) => new(ModelCard.Load(cardPath), options);

    /// <summary>The model card.</summary>
    public ModelCard Card { get; }

    /// <summary>Length of the feature vector (the penultimate layer used for Frechet statistics).</summary>
    public int FeatureDim => Card.FeatureDim;

    /// <summary>Number of classes of the logits output.</summary>
    public int Classes { get; private set; }

    /// <summary>Runs the network on <paramref name="images"/> ([batch, ...sample shape]) and writes features and logits.</summary>
    public void Run(ReadOnlySpan<float> images, Span<float> features, Span<float> logits)
    {
        int size = Card.SampleSize;
        if (images.Length == 0 || images.Length % size != 0)
        {
            throw new ArgumentException($"images must be [batch, {string.Join(", ", Card.SampleShape)}].");
        }

        int batch = images.Length / size;
        if (features.Length != batch * FeatureDim || logits.Length != batch * Classes)
        {
            throw new ArgumentException($"features must hold [{batch}, {FeatureDim}] and logits [{batch}, {Classes}] values.");
        }

        for (int start = 0; start < batch; start += _chunk)
        {
            int n = Math.Min(_chunk, batch - start);
            var (inputs, outputs, call) = _graph.For(_fixedBatch ?? n);
            inputs[0].SetPadded(images.Slice(start * size, n * size));
            call.Run();
            outputs[0].CopyPrefixTo(features.Slice(start * FeatureDim, n * FeatureDim));
            outputs[1].CopyPrefixTo(logits.Slice(start * Classes, n * Classes));
        }
    }

    /// <summary>The most likely class of each image.</summary>
    public int[] Predict(ReadOnlySpan<float> images)
    {
        int batch = images.Length / Card.SampleSize;
        var features = new float[batch * FeatureDim];
        var logits = new float[batch * Classes];
        Run(images, features, logits);
        var result = new int[batch];
        for (int i = 0; i < batch; i++)
        {
            var row = logits.AsSpan(i * Classes, Classes);
            int best = 0;
            for (int c = 1; c < Classes; c++)
            {
                if (row[c] > row[best])
                {
                    best = c;
                }
            }

            result[i] = best;
        }

        return result;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _graph.Dispose();
}
