using Stork.Onnx;

namespace Stork.Pipelines.QwenImage;

/// <summary>
/// Qwen-Image's text encoder graph (the language model of Qwen2.5-VL): <c>input_ids</c> and <c>attention_mask</c>
/// [B, L] in, <c>last_hidden_state</c> [B, L, D] (the final norm's output, <c>hidden_states[-1]</c>) out.
/// </summary>
internal sealed class QwenImageTextEncoder : IOnnxComponent
{
    private readonly OnnxGraph _graph;

    public QwenImageTextEncoder(string graphPath, OnnxRuntimeOptions runtime)
    {
        _graph = OnnxGraph.Open("text_encoder", graphPath, runtime,
            [PortSpec.Of("input_ids"), PortSpec.Of("attention_mask")], [PortSpec.Of("last_hidden_state", "hidden_states")]);
        foreach (string name in (string[])["input_ids", "attention_mask"])
        {
            var p = _graph.Input(name);
            if (!p.IsInteger || p.Rank != 2)
            {
                throw new InvalidDataException($"text_encoder: input {p.Describe()} is not integer [B, L].");
            }
        }

        var o = _graph.Output("last_hidden_state");
        if (!o.IsFloat || o.Rank != 3)
        {
            throw new InvalidDataException($"text_encoder: output {o.Describe()} is not float hidden states [B, L, D].");
        }
    }

    public TimeSpan RunTime => _graph.RunTime;

    /// <summary>
    /// Encodes one prompt's ids (every position a token: the mask is all ones) and returns the hidden states
    /// [L, D] and D.
    /// </summary>
    public (float[] States, int Width) Encode(IReadOnlyList<int> ids)
    {
        long[] values = [.. ids.Select(i => (long)i)];
        long[] mask = new long[ids.Count];
        Array.Fill(mask, 1L);
        using var input = new GraphTensor(_graph.Input("input_ids").ElementType, [1, ids.Count]);
        using var attention = new GraphTensor(_graph.Input("attention_mask").ElementType, [1, ids.Count]);
        input.SetIntegers(values);
        attention.SetIntegers(mask);
        using var results = _graph.Run([("input_ids", input.Value), ("attention_mask", attention.Value)], ["last_hidden_state"]);
        var shape = results[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 3 || shape[0] != 1 || shape[1] != ids.Count || shape[2] < 1)
        {
            throw new InvalidDataException($"text_encoder: last_hidden_state has shape [{string.Join(", ", shape)}], expected [1, {ids.Count}, D].");
        }

        var states = new float[checked((int)(shape[1] * shape[2]))];
        GraphTensor.ReadFloats(results[0], states);
        return (states, (int)shape[2]);
    }

    public void Dispose() => _graph.Dispose();
}
