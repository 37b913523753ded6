using Stork.Onnx;

namespace Stork.Pipelines;

/// <summary>
/// A text encoder graph (CLIP, CLIP with projection, T5): token ids [1, L] (int32 or int64, as the graph declares) in,
/// named hidden-state outputs out as float32.
/// </summary>
internal sealed class TextEncoder : IOnnxComponent
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

    /// <summary>
    /// Binds the penultimate hidden state (<c>hidden_states[-2]</c>, what SDXL and SD3 read) as the output
    /// <c>penultimate</c>: the graph must export its hidden states as <c>hidden_states.0</c> ... <c>hidden_states.N</c>.
    /// </summary>
    public void BindPenultimate()
    {
        var layers = _graph.OutputNames
            .Where(n => n.StartsWith("hidden_states.", StringComparison.Ordinal))
            .Select(n => int.TryParse(n["hidden_states.".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) ? k : -1)
            .Where(k => k >= 0)
            .ToHashSet();
        int last = layers.Count == 0 ? -1 : layers.Max();
        if (last < 1 || !layers.Contains(last - 1))
        {
            throw new InvalidDataException(
                $"{Component}: the graph does not export its hidden states (outputs hidden_states.0 ... hidden_states.N, as Optimum writes for SDXL and SD3); found: {string.Join(", ", _graph.OutputNames)}.");
        }

        _graph.BindOutput("penultimate", $"hidden_states.{last - 1}");
    }

    /// <summary>An encoder with its penultimate hidden state bound (SDXL, SD3), disposed when that fails.</summary>
    public static TextEncoder Penultimate(string component, string graphPath, OnnxRuntimeOptions runtime, IReadOnlyList<PortSpec> outputs)
    {
        var e = new TextEncoder(component, graphPath, runtime, outputs);
        try
        {
            e.BindPenultimate();
            return e;
        }
        catch
        {
            e.Dispose();
            throw;
        }
    }

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
