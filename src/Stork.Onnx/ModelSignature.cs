using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Stork.Onnx;

/// <summary>Checks a session's inputs and outputs against its card at load, with one-line errors.</summary>
internal sealed class ModelSignature(ModelCard card, OnnxGraph graph)
{
    private InvalidDataException Error(string message) =>
        new($"model '{card.OnnxPath}' does not match its card '{card.CardPath}': {message}");

    public static string Dims(int[] dims) => "[" + string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    /// <summary>Every network input must be one the card names (no unfed inputs).</summary>
    public void CheckNoOtherInputs()
    {
        var named = card.Inputs.Values.ToHashSet(StringComparer.Ordinal);
        var extra = graph.InputMetadata.Keys.Where(k => !named.Contains(k)).ToList();
        if (extra.Count > 0)
        {
            throw Error($"the network has input(s) {string.Join(", ", extra.Select(e => $"'{e}'"))} that the card does not name.");
        }
    }

    public NodeMetadata Input(string role) => Node(graph.InputMetadata, card.Inputs[role], $"inputs.{role}", "input");

    public NodeMetadata Output(string role) => Node(graph.OutputMetadata, card.Outputs[role], role == "out" ? "output" : $"outputs.{role}", "output");

    /// <summary>
    /// Checks a [batch, ...trailing] tensor: element type and fixed dimensions. Returns the fixed batch size, or null when
    /// the batch axis is dynamic.
    /// </summary>
    public int? CheckBatched(NodeMetadata node, string name, TensorElementType type, IReadOnlyList<int> trailing)
    {
        if (node.ElementDataType != type)
        {
            throw Error($"'{name}' is {node.ElementDataType}, the card says {(type == TensorElementType.Float16 ? "float16" : "float32")}.");
        }

        int[] dims = node.Dimensions;
        string expected = "[batch, " + string.Join(", ", trailing) + "]";
        if (dims.Length != trailing.Count + 1)
        {
            throw Error($"'{name}' has shape {Dims(dims)}, the card implies {expected}.");
        }

        for (int i = 0; i < trailing.Count; i++)
        {
            if (dims[i + 1] >= 0 && dims[i + 1] != trailing[i])
            {
                throw Error($"'{name}' has shape {Dims(dims)}, the card implies {expected}.");
            }
        }

        return dims[0] > 0 ? dims[0] : null;
    }

    /// <summary>The time input: a scalar, [batch], [1] or [batch, 1], of float, float16, double or (timestep only) int64.</summary>
    public void CheckTime(NodeMetadata node, string name, int? fixedBatch)
    {
        var t = node.ElementDataType;
        if (t is not (TensorElementType.Float or TensorElementType.Float16 or TensorElementType.Double or TensorElementType.Int64))
        {
            throw Error($"time input '{name}' is {t}; expected float, float16, double or int64.");
        }

        if (t == TensorElementType.Int64 && card.TimeInput != TimeInput.Timestep)
        {
            throw Error($"time input '{name}' is int64, which only time_input 'timestep' may feed (the card says a continuous time).");
        }

        int[] dims = node.Dimensions;
        bool ok = dims.Length switch
        {
            0 => true,
            1 => dims[0] < 0 || dims[0] == 1 || dims[0] == fixedBatch,
            2 => (dims[0] < 0 || dims[0] == 1 || dims[0] == fixedBatch) && dims[1] is 1 or < 0,
            _ => false,
        };
        if (!ok)
        {
            throw Error($"time input '{name}' has shape {Dims(dims)}; expected a scalar, [batch], [1] or [batch, 1].");
        }
    }

    /// <summary>The shape to feed the time input for <paramref name="batch"/> samples.</summary>
    public static long[] TimeShape(NodeMetadata node, int batch)
    {
        int[] dims = node.Dimensions;
        return dims.Length switch
        {
            0 => [],
            1 => [dims[0] == 1 ? 1 : batch],
            _ => [dims[0] == 1 ? 1 : batch, 1],
        };
    }

    private NodeMetadata Node(IReadOnlyDictionary<string, NodeMetadata> nodes, string name, string key, string what)
    {
        if (!nodes.TryGetValue(name, out var node))
        {
            throw Error($"{key} names {what} '{name}', but the network's {what}s are {string.Join(", ", nodes.Keys.Select(k => $"'{k}'"))}.");
        }

        if (!node.IsTensor)
        {
            throw Error($"{what} '{name}' is not a tensor.");
        }

        return node;
    }
}
