using Stork.Onnx;

namespace Stork.Pipelines;

/// <summary>The input checks FLUX.1-style flow transformers share (FLUX.1, Qwen-Image): one clear message per misfit.</summary>
internal static class FlowTransformerPorts
{
    /// <summary>A float port of the given rank whose last axis, when fixed, is <paramref name="lastDim"/>.</summary>
    public static void RequireFloat(GraphPort p, int rank, int lastDim)
    {
        if (p.Rank != rank || !p.IsFloat || p.Fixed(rank - 1) is { } d && d != lastDim)
        {
            throw new InvalidDataException($"transformer: {p.Describe()} does not fit the configuration (rank {rank}, float, last axis {lastDim}).");
        }
    }

    /// <summary>The <c>timestep</c> input is a float of rank 0 or 1; <c>img_ids</c> and <c>txt_ids</c> are positions [N, 3] or [1, N, 3].</summary>
    public static void RequireTimestepAndPositions(OnnxGraph graph)
    {
        var t = graph.Input("timestep");
        if (!t.IsFloat || t.Rank > 1)
        {
            throw new InvalidDataException($"transformer: input {t.Describe()} is not a float timestep of rank 0 or 1.");
        }

        foreach (string ids in (string[])["img_ids", "txt_ids"])
        {
            var p = graph.Input(ids);
            if (p.Rank is not (2 or 3) || p.Fixed(p.Rank - 1) is { } w && w != 3)
            {
                throw new InvalidDataException($"transformer: input {p.Describe()} is not positions [N, 3] (or [1, N, 3]).");
            }
        }
    }
}
