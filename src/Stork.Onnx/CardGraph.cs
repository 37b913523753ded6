namespace Stork.Onnx;

/// <summary>
/// A model card's network on the one binding layer: the graph opened unbound, checked against the card
/// (<see cref="ModelSignature"/>), its roles bound to the names the card gives, and the tensors and prepared call of a
/// batch size kept while that size stays the same.
/// </summary>
internal sealed class CardGraph : IDisposable
{
    private readonly string[] _inputs;
    private readonly string[] _outputs;
    private readonly Func<string, int, long[]> _shape;
    private Batch? _batch;

    /// <param name="card">The card.</param>
    /// <param name="kind">The kind of network the caller serves.</param>
    /// <param name="options">ONNX Runtime options.</param>
    /// <param name="check">Checks the network against the card and returns the input and output roles to bind.</param>
    /// <param name="shape">The shape of a role's tensor for a batch size.</param>
    public CardGraph(ModelCard card, ModelKind kind, OnnxRuntimeOptions options, Func<ModelSignature, (string[] Inputs, string[] Outputs)> check,
        Func<string, int, long[]> shape)
    {
        if (card.Kind != kind)
        {
            throw new InvalidDataException($"model card '{card.CardPath}' is a {card.Kind.ToString().ToLowerInvariant()}, not a {kind.ToString().ToLowerInvariant()}.");
        }

        _shape = shape;
        Graph = OnnxGraph.OpenUnbound($"model card '{card.CardPath}'", card.OnnxPath, options);
        try
        {
            (_inputs, _outputs) = check(new ModelSignature(card, Graph));
            foreach (string role in _inputs)
            {
                Graph.BindInput(role, card.Inputs[role]);
            }

            foreach (string role in _outputs)
            {
                Graph.BindOutput(role, card.Outputs[role]);
            }
        }
        catch
        {
            Graph.Dispose();
            throw;
        }
    }

    public OnnxGraph Graph { get; }

    /// <summary>The input and output tensors (in role order) and the prepared call for <paramref name="batch"/> samples.</summary>
    public (GraphTensor[] Inputs, GraphTensor[] Outputs, OnnxGraph.Call Call) For(int batch)
    {
        if (_batch?.Size != batch)
        {
            _batch?.Tensors.Dispose();
            var tensors = new GraphTensorSet();
            GraphTensor[] inputs = [.. _inputs.Select(r => tensors.Create(Graph.Input(r).ElementType, _shape(r, batch)))];
            GraphTensor[] outputs = [.. _outputs.Select(r => tensors.Create(Graph.Output(r).ElementType, _shape(r, batch)))];
            var call = Graph.Prepare([.. _inputs.Select((r, i) => (r, inputs[i].Value))], [.. _outputs.Select((r, i) => (r, outputs[i].Value))]);
            _batch = new Batch(batch, tensors, inputs, outputs, call);
        }

        return (_batch.Inputs, _batch.Outputs, _batch.Call);
    }

    public void Dispose()
    {
        _batch?.Tensors.Dispose();
        Graph.Dispose();
    }

    private sealed record Batch(int Size, GraphTensorSet Tensors, GraphTensor[] Inputs, GraphTensor[] Outputs, OnnxGraph.Call Call);
}
