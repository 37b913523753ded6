using Stork.Onnx;
using Stork.Pipelines.Onnx;

namespace Stork.Pipelines;

/// <summary>
/// A text encoder graph (CLIP, CLIP with projection, T5): token ids [1, L] (int32 or int64, as the graph declares) in,
/// named hidden-state outputs out as float32.
/// </summary>
internal sealed class TextEncoder : IDisposable
{
    private readonly OnnxGraph _graph;

    public TextEncoder(string component, string graphPath, OnnxRuntimeOptions runtime, IReadOnlyList<PortSpec> outputs)
    {
        _graph = OnnxGraph.Open(component, graphPath, runtime, [PortSpec.Of("input_ids")], outputs);
        var ids = _graph.Input("input_ids");
        if (!ids.IsInteger || ids.Rank != 2)
        {
            throw new InvalidDataException($"{component}: input {ids.Describe()} is not integer token ids [B, L].");
        }

        Component = component;
    }

    public string Component { get; }

    public TimeSpan RunTime => _graph.RunTime;

    /// <summary>The fixed sequence length of the graph's input, if it has one.</summary>
    public int? FixedLength => _graph.Input("input_ids").Fixed(1);

    /// <summary>Runs the encoder on one prompt's ids and returns the requested outputs with their shapes.</summary>
    public IReadOnlyList<(float[] Values, long[] Shape)> Encode(IReadOnlyList<int> ids, params string[] outputs)
    {
        if (FixedLength is { } l && l != ids.Count)
        {
            throw new InvalidDataException($"{Component}: the graph takes {l} tokens, the tokenizer gave {ids.Count}.");
        }

        using var input = new GraphTensor(_graph.Input("input_ids").ElementType, [1, ids.Count]);
        input.SetIntegers(ids.Select(i => (long)i).ToArray());
        using var results = _graph.Run([("input_ids", input.Value)], outputs);
        var r = new List<(float[], long[])>();
        for (int k = 0; k < outputs.Length; k++)
        {
            var shape = results[k].GetTensorTypeAndShape().Shape;
            long n = 1;
            foreach (long d in shape)
            {
                n = checked(n * d);
            }

            var values = new float[checked((int)n)];
            GraphTensor.ReadFloats(results[k], values);
            r.Add((values, shape));
        }

        return r;
    }

    public void Dispose() => _graph.Dispose();
}
