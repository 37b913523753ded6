using System.Runtime.InteropServices;
using Google.Protobuf;
using Stork.Onnx.Quantization.Proto;

namespace Stork.Onnx.Quantization;

/// <summary>
/// Replaces the exporters' unfused attention, <c>MatMul(Q, K^T) * scale -> Softmax -> MatMul(., V)</c> with its head
/// reshapes and transposes, by ONNX Runtime's <c>com.microsoft.MultiHeadAttention</c> (query, key and value as
/// [batch, tokens, heads x head size]; attributes <c>num_heads</c> and <c>scale</c>). Without a mask or past state its
/// CPU kernel runs float32 as flash attention (MLAS, tiles sized to the L2 cache) and never holds the
/// [batch, heads, tokens, tokens] scores that dominate the unfused graph's peak memory.
/// <para>
/// Matched forms: the 4-D one ([B, H, S, d] heads from Reshape + Transpose(0,2,1,3), K^T as Transpose(0,2,3,1) or
/// (0,1,3,2), scale as Div or Mul; torch 2 exports, the tiny goldens), and the 3-D one of diffusers' older
/// <c>AttnProcessor</c> ([B*H, S, d] through a second Reshape, <c>baddbmm</c> with beta 0 exported as an Add of
/// zeros, a float Cast after the Softmax; the real-size SD1.5 export). Heads of other provenance (normalized, rotated
/// or concatenated in [B, H, S, d], as in SD3 and FLUX.1) are transposed and reshaped to [B, S, H*d] in front of the
/// fused node, with the head count read from the nearest head split upstream. The scale and head count come from the
/// graph's constants; a pattern whose constants cannot be read is left alone.
/// </para>
/// </summary>
internal static class AttentionFusion
{
    public const string OpType = "MultiHeadAttention";

    /// <summary>Fuses every matching attention in <paramref name="model"/>'s graph; returns how many.</summary>
    public static int Fuse(ModelProto model)
    {
        var graph = model.Graph;
        var g = new Index(graph);
        var plans = new List<Plan>();
        var claimed = new HashSet<NodeProto>();
        foreach (var softmax in graph.Node.Where(n => n.OpType == "Softmax" && string.IsNullOrEmpty(n.Domain)).ToList())
        {
            if (Match(g, softmax, plans.Count) is { } plan && plan.Removed.All(n => !claimed.Contains(n)))
            {
                claimed.UnionWith(plan.Removed);
                plans.Add(plan);
            }
        }

        if (plans.Count == 0)
        {
            return 0;
        }

        var backup = graph.Clone();
        var removed = plans.SelectMany(p => p.Removed).ToHashSet();
        var at = plans.ToDictionary(p => p.Anchor);
        var nodes = new List<NodeProto>(graph.Node.Count);
        foreach (var node in graph.Node)
        {
            if (at.TryGetValue(node, out var plan))
            {
                nodes.AddRange(plan.Nodes);
            }

            if (!removed.Contains(node))
            {
                nodes.Add(node);
            }
        }

        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(plans.SelectMany(p => p.Initializers));
        RemoveDeadNodes(graph);

        // A value read after the rewrite that nothing produces any more (a shape read of a removed head tensor that
        // the rewrite did not account for): the graph is left as it was.
        var available = graph.Node.SelectMany(n => n.Output).Concat(graph.Input.Select(i => i.Name)).Concat(graph.Initializer.Select(t => t.Name))
            .ToHashSet(StringComparer.Ordinal);
        if (graph.Node.SelectMany(n => n.Input).Any(i => !string.IsNullOrEmpty(i) && !available.Contains(i)))
        {
            model.Graph = backup;
            return 0;
        }

        if (!model.OpsetImport.Any(o => o.Domain == GraphQuantizer.MicrosoftDomain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = GraphQuantizer.MicrosoftDomain, Version = 1 });
        }

        return plans.Count;
    }

    /// <summary>Whether a graph has fused attention (a <c>com.microsoft.MultiHeadAttention</c> node).</summary>
    public static bool IsFused(ModelProto model) =>
        model.Graph.Node.Any(n => n.OpType == OpType && n.Domain == GraphQuantizer.MicrosoftDomain);

    /// <summary>The rewrite of one attention: nodes to insert before <see cref="Anchor"/>, nodes to drop.</summary>
    private sealed record Plan(NodeProto Anchor, List<NodeProto> Nodes, List<NodeProto> Removed, List<TensorProto> Initializers);

    /// <summary>
    /// A head tensor traced back to its [B, S, H*d] source (null: none, so <paramref name="Tensor"/>, [B, H, S, d], is
    /// converted), its head count (null: unknown) and its form (3 or 4 dims).
    /// </summary>
    private sealed record Heads(string? Source, long? HeadCount, int Rank, string Tensor);

    private static Plan? Match(Index g, NodeProto softmax, int id)
    {
        if (Attr(softmax, "axis", -1) != -1)
        {
            return null;
        }

        var removed = new List<NodeProto> { softmax };

        // Down: Softmax -> [Cast to float] -> MatMul(P, V).
        string probs = softmax.Output[0];
        if (g.Only(probs) is { OpType: "Cast" } cast && string.IsNullOrEmpty(cast.Domain) && Attr(cast, "to", 0) == OnnxTensorData.Float)
        {
            removed.Add(cast);
            probs = cast.Output[0];
        }

        if (g.Only(probs) is not { OpType: "MatMul" } pv || !string.IsNullOrEmpty(pv.Domain) || pv.Input[0] != probs)
        {
            return null;
        }

        removed.Add(pv);

        // Up: [Add of zeros (baddbmm, beta 0)] <- [Mul or Div by a scalar] <- MatMul(Q, K^T).
        string logits = softmax.Input[0];
        if (g.Producer(logits, "Add") is { } add && g.Single(logits))
        {
            int zero = IsZeros(g, add.Input[1]) ? 1 : IsZeros(g, add.Input[0]) ? 0 : -1;
            if (zero < 0)
            {
                return null;
            }

            removed.Add(add);
            logits = add.Input[1 - zero];
        }

        double scale = 1;
        if (g.Producer(logits, "Mul") is { } mul && g.Single(logits))
        {
            int c = g.Scalar(mul.Input[1]) is not null ? 1 : g.Scalar(mul.Input[0]) is not null ? 0 : -1;
            if (c < 0)
            {
                return null;
            }

            scale = g.Scalar(mul.Input[c])!.Value;
            removed.Add(mul);
            logits = mul.Input[1 - c];
        }
        else if (g.Producer(logits, "Div") is { } div && g.Single(logits) && g.Scalar(div.Input[1]) is { } d && d != 0)
        {
            scale = 1 / d;
            removed.Add(div);
            logits = div.Input[0];
        }

        if (g.Producer(logits, "MatMul") is not { } qk || !g.Single(logits))
        {
            return null;
        }

        removed.Add(qk);

        var q = QueryOrValue(g, qk.Input[0]);
        var k = Key(g, qk.Input[1]);
        var v = QueryOrValue(g, pv.Input[1]);
        if (q is null || k is null || v is null)
        {
            return null;
        }

        // The output side: back to [B, S, H*d] through the exporter's merge of the heads.
        string output = pv.Output[0];
        string? merged = null;
        int outRank = 0;
        long? outHeads = null;
        var outRemoved = new List<NodeProto>();
        if (g.DataOnly(output) is { OpType: "Transpose" } t4 && Perm(t4) is [0, 2, 1, 3] && g.Only(t4.Output[0]) is { OpType: "Reshape" } r4)
        {
            (merged, outRank) = (r4.Output[0], 4);
            outRemoved.AddRange([t4, r4]);
        }
        else if (g.DataOnly(output) is { OpType: "Reshape" } split && g.HeadCount(split.Input[1], index: 1) is { } h3 &&
                 g.Only(split.Output[0]) is { OpType: "Transpose" } t3 && Perm(t3) is [0, 2, 1, 3] && g.Only(t3.Output[0]) is { OpType: "Reshape" } r3)
        {
            (merged, outRank, outHeads) = (r3.Output[0], 3, h3);
            outRemoved.AddRange([split, t3, r3]);
        }

        int rank = q.Rank;
        if (k.Rank != rank || v.Rank != rank || (merged is not null && outRank != rank) || (rank == 3 && (q.Source is null || k.Source is null || v.Source is null || merged is null)))
        {
            return null;
        }

        long? heads = null;
        foreach (long? h in (long?[])[q.HeadCount, k.HeadCount, v.HeadCount, outHeads])
        {
            if (h is { } count)
            {
                if (heads is { } known && known != count)
                {
                    return null;
                }

                heads = count;
            }
        }

        heads ??= g.HeadCountUpstream(qk.Input[0]) ?? g.HeadCountUpstream(pv.Input[1]);
        if (heads is not { } numHeads || numHeads < 1)
        {
            return null;
        }

        removed.AddRange(outRemoved);
        string prefix = $"{(string.IsNullOrEmpty(softmax.Name) ? "attention" : softmax.Name)}_fused{id}";
        var nodes = new List<NodeProto>();
        var inits = new List<TensorProto>();
        string toTokens = $"{prefix}_tokens_shape";
        bool needTokens = q.Source is null || k.Source is null || v.Source is null;
        if (needTokens)
        {
            inits.Add(Int64s(toTokens, [0, 0, -1]));
        }

        string Tokens(Heads h, string name)
        {
            if (h.Source is { } s)
            {
                return s;
            }

            // [B, H, S, d] -> [B, S, H, d] -> [B, S, H*d].
            var t = Node("Transpose", $"{prefix}_{name}_transpose", [h.Tensor], [$"{prefix}_{name}_bshd"]);
            t.Attribute.Add(new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 0, 2, 1, 3 } });
            nodes.Add(t);
            nodes.Add(Node("Reshape", $"{prefix}_{name}_reshape", [t.Output[0], toTokens], [$"{prefix}_{name}_bsd"]));
            return nodes[^1].Output[0];
        }

        string query = Tokens(q, "q");
        string key = Tokens(k, "k");
        string value = Tokens(v, "v");
        string mhaOut = merged ?? $"{prefix}_out";
        var mha = Node(OpType, prefix, [query, key, value], [mhaOut]);
        mha.Domain = GraphQuantizer.MicrosoftDomain;
        mha.Attribute.Add(new AttributeProto { Name = "num_heads", Type = AttributeProto.Types.AttributeType.Int, I = numHeads });
        mha.Attribute.Add(new AttributeProto { Name = "scale", Type = AttributeProto.Types.AttributeType.Float, F = (float)scale });
        nodes.Add(mha);
        if (rank == 4)
        {
            // [B, S, H*d] -> [B, S, H, d] -> [B, H, S, d], the MatMul's output as the rest of the graph reads it (when
            // the heads are merged by the fused node too, only shape reads may be left: dead-node removal drops it).
            string split = $"{prefix}_split_shape";
            inits.Add(Int64s(split, [0, 0, numHeads, -1]));
            nodes.Add(Node("Reshape", $"{prefix}_split", [mhaOut, split], [$"{prefix}_bshd"]));
            var back = Node("Transpose", $"{prefix}_heads", [$"{prefix}_bshd"], [output]);
            back.Attribute.Add(new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 0, 2, 1, 3 } });
            nodes.Add(back);
        }

        // The anchor: the last removed node in graph order that every input of the new nodes precedes (the P.V MatMul,
        // or the output merge's Reshape when it is replaced).
        var anchor = merged is null ? pv : outRemoved[^1];
        return new Plan(anchor, nodes, removed, inits);
    }

    /// <summary>
    /// A query or value: [B, H, S, d] = Transpose(0,2,1,3)(Reshape(x, [B, S, H, d])) (4-D), or [B*H, S, d] =
    /// Reshape(Transpose(0,2,1,3)(Reshape(x, [B, S, H, d]))) (3-D); otherwise a 4-D tensor of its own provenance.
    /// </summary>
    private static Heads? QueryOrValue(Index g, string name)
    {
        if (g.Producer(name, "Transpose") is { } t && Perm(t) is [0, 2, 1, 3] && g.Producer(t.Input[0], "Reshape") is { } r && g.HeadCount(r.Input[1]) is { } h)
        {
            return new Heads(r.Input[0], h, 4, name);
        }

        if (g.Producer(name, "Reshape") is { } merge && g.Producer(merge.Input[0], "Transpose") is { } t3 && Perm(t3) is [0, 2, 1, 3] &&
            g.Producer(t3.Input[0], "Reshape") is { } r3 && g.HeadCount(r3.Input[1]) is { } h3)
        {
            return new Heads(r3.Input[0], h3, 3, name);
        }

        return g.Producer(name, "Reshape") is not null ? null : new Heads(null, null, 4, name);
    }

    /// <summary>
    /// K^T: Transpose(0,2,3,1)(Reshape(k, [B, S, H, d])); Transpose(0,1,3,2) of a 4-D key; Transpose(0,2,1) of a 3-D key.
    /// </summary>
    private static Heads? Key(Index g, string name)
    {
        if (g.Producer(name, "Transpose") is not { } t)
        {
            return null;
        }

        switch (Perm(t))
        {
            case [0, 2, 3, 1] when g.Producer(t.Input[0], "Reshape") is { } r && g.HeadCount(r.Input[1]) is { } h:
                return new Heads(r.Input[0], h, 4, name);
            case [0, 2, 3, 1]:
                return null;
            case [0, 1, 3, 2]:
                return QueryOrValue(g, t.Input[0]) is { Rank: 4 } k4 ? k4 : null;
            case [0, 2, 1]:
                return QueryOrValue(g, t.Input[0]) is { Rank: 3 } k3 ? k3 : null;
            default:
                return null;
        }
    }

    /// <summary>True when <paramref name="name"/> is all zeros: Mul(ConstantOfShape(0), c), Mul(x, 0), ConstantOfShape(0) or a zero constant.</summary>
    private static bool IsZeros(Index g, string name)
    {
        if (g.Scalar(name) is 0)
        {
            return true;
        }

        if (g.Producer(name, "ConstantOfShape") is { } cos)
        {
            var value = cos.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
            return value is null || (Index.Values(value) is [0]);
        }

        return g.Producer(name, "Mul") is { } mul && (IsZeros(g, mul.Input[0]) || IsZeros(g, mul.Input[1]));
    }

    private static long[] Perm(NodeProto transpose) =>
        transpose.Attribute.FirstOrDefault(a => a.Name == "perm")?.Ints.ToArray() ?? [];

    private static long Attr(NodeProto node, string name, long fallback) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;

    private static NodeProto Node(string op, string name, string[] inputs, string[] outputs)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        return n;
    }

    private static TensorProto Int64s(string name, long[] values)
    {
        var t = new TensorProto { Name = name, DataType = OnnxTensorData.Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.Add(values.Length);
        return t;
    }

    /// <summary>Removes nodes none of whose outputs is read (by a node or as a graph output), to a fixed point.</summary>
    private static void RemoveDeadNodes(GraphProto graph)
    {
        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var reads = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in graph.Node)
        {
            foreach (string i in n.Input)
            {
                reads[i] = reads.GetValueOrDefault(i) + 1;
            }
        }

        var dead = new HashSet<NodeProto>();
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int i = graph.Node.Count - 1; i >= 0; i--)
            {
                var n = graph.Node[i];
                if (dead.Contains(n) || n.Output.Any(o => !string.IsNullOrEmpty(o) && (outputs.Contains(o) || reads.GetValueOrDefault(o) > 0)))
                {
                    continue;
                }

                dead.Add(n);
                changed = true;
                foreach (string input in n.Input)
                {
                    reads[input] = reads.GetValueOrDefault(input) - 1;
                }
            }
        }

        var keep = graph.Node.Where(n => !dead.Contains(n)).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(keep);
        var produced = keep.SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        var valueInfo = graph.ValueInfo.Where(v => produced.Contains(v.Name)).ToList();
        graph.ValueInfo.Clear();
        graph.ValueInfo.AddRange(valueInfo);
        var used = keep.SelectMany(n => n.Input).Concat(outputs).ToHashSet(StringComparer.Ordinal);
        var initializers = graph.Initializer.Where(t => used.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
    }

    /// <summary>Producers, readers and constants of a graph.</summary>
    private sealed class Index
    {
        private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<NodeProto>> _readers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
        private readonly HashSet<string> _outputs;

        public Index(GraphProto graph)
        {
            foreach (var n in graph.Node)
            {
                foreach (string o in n.Output)
                {
                    _producers[o] = n;
                }

                foreach (string i in n.Input)
                {
                    if (!_readers.TryGetValue(i, out var list))
                    {
                        _readers[i] = list = [];
                    }

                    list.Add(n);
                }
            }

            foreach (var t in graph.Initializer)
            {
                _initializers[t.Name] = t;
            }

            _outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        }

        /// <summary>The node producing <paramref name="name"/> when it is a default-domain <paramref name="op"/>.</summary>
        public NodeProto? Producer(string name, string op) =>
            _producers.TryGetValue(name, out var n) && n.OpType == op && string.IsNullOrEmpty(n.Domain) ? n : null;

        /// <summary>True when one node reads <paramref name="name"/> and it is no graph output.</summary>
        public bool Single(string name) => !_outputs.Contains(name) && _readers.TryGetValue(name, out var r) && r.Count == 1;

        /// <summary>The one node reading <paramref name="name"/> (null if none, several, or a graph output).</summary>
        public NodeProto? Only(string name) => Single(name) ? _readers[name][0] : null;

        /// <summary>The one node other than Shape reading <paramref name="name"/> (null if none, several, or a graph output).</summary>
        public NodeProto? DataOnly(string name) =>
            !_outputs.Contains(name) && _readers.TryGetValue(name, out var r) && r.Count(n => n.OpType != "Shape") == 1 ? r.First(n => n.OpType != "Shape") : null;

        /// <summary>The value of a constant with one element (Constant, initializer, through Unsqueeze/Squeeze/Identity/Cast).</summary>
        public double? Scalar(string name)
        {
            for (int depth = 0; depth < 8; depth++)
            {
                if (Constant(name) is [var v])
                {
                    return v;
                }

                if (!_producers.TryGetValue(name, out var n) || !string.IsNullOrEmpty(n.Domain) || n.OpType is not ("Unsqueeze" or "Squeeze" or "Identity" or "Cast"))
                {
                    return null;
                }

                name = n.Input[0];
            }

            return null;
        }

        /// <summary>
        /// The head count of a split shape [B, S, H, d] (<paramref name="index"/> 2; [B, H, S, d]: 1): that element of a
        /// constant, or of a Concat of four scalars.
        /// </summary>
        public long? HeadCount(string shape, int index = 2)
        {
            if (Constant(shape) is { Length: 4 } c)
            {
                return c[index] > 0 ? (long)c[index] : null;
            }

            if (Producer(shape, "Concat") is { } concat && concat.Input.Count == 4 && Scalar(concat.Input[index]) is { } h && h > 0)
            {
                return (long)h;
            }

            return null;
        }

        /// <summary>
        /// The head count of the nearest head split upstream of <paramref name="name"/>: a Transpose(0,2,1,3) of a
        /// Reshape to [B, S, H, d] (searched breadth first over at most 200 producers).
        /// </summary>
        public long? HeadCountUpstream(string name)
        {
            var queue = new Queue<string>([name]);
            var seen = new HashSet<string>(StringComparer.Ordinal) { name };
            int visited = 0;
            while (queue.Count > 0 && visited++ < 200)
            {
                if (!_producers.TryGetValue(queue.Dequeue(), out var n))
                {
                    continue;
                }

                if (n.OpType == "Transpose" && Perm(n) is [0, 2, 1, 3] && Producer(n.Input[0], "Reshape") is { } r && HeadCount(r.Input[1]) is { } h)
                {
                    return h;
                }

                foreach (string i in n.Input)
                {
                    if (!_initializers.ContainsKey(i) && seen.Add(i))
                    {
                        queue.Enqueue(i);
                    }
                }
            }

            return null;
        }

        private double[]? Constant(string name)
        {
            if (_initializers.TryGetValue(name, out var t))
            {
                return OnnxTensorData.ElementCount(t) <= 16 ? Values(t) : null;
            }

            if (Producer(name, "Constant") is { } c)
            {
                var a = c.Attribute.FirstOrDefault();
                return a?.Name switch
                {
                    "value" when OnnxTensorData.ElementCount(a.T) <= 16 => Values(a.T),
                    "value_float" => [a.F],
                    "value_int" => [a.I],
                    "value_floats" => [.. a.Floats.Select(f => (double)f)],
                    "value_ints" => [.. a.Ints.Select(i => (double)i)],
                    _ => null,
                };
            }

            return null;
        }

        /// <summary>The values of a small inline float/double/int32/int64 tensor (null for other types or external data).</summary>
        public static double[]? Values(TensorProto t)
        {
            if (OnnxTensorData.IsExternal(t))
            {
                return null;
            }

            var raw = t.RawData.Span;
            return t.DataType switch
            {
                OnnxTensorData.Float => raw.IsEmpty ? [.. t.FloatData.Select(f => (double)f)] : [.. MemoryMarshal.Cast<byte, float>(raw).ToArray().Select(f => (double)f)],
                OnnxTensorData.Int64 => raw.IsEmpty ? [.. t.Int64Data.Select(i => (double)i)] : [.. MemoryMarshal.Cast<byte, long>(raw).ToArray().Select(i => (double)i)],
                (int)TensorProto.Types.DataType.Int32 => raw.IsEmpty ? [.. t.Int32Data.Select(i => (double)i)] : [.. MemoryMarshal.Cast<byte, int>(raw).ToArray().Select(i => (double)i)],
                (int)TensorProto.Types.DataType.Double => raw.IsEmpty ? [.. t.DoubleData] : MemoryMarshal.Cast<byte, double>(raw).ToArray(),
                _ => null,
            };
        }
    }
}
