using System.Runtime.InteropServices;
using Google.Protobuf;
using Stork.Onnx.Quantization.Proto;

namespace Stork.Onnx.Quantization;

/// <summary>
/// Rewrites one ONNX graph with weight-only quantized or float16 weights (see <see cref="WeightFormat"/>). Tensors are
/// read, converted and written one at a time, so a multi-gigabyte model needs about one weight's worth of memory.
/// </summary>
internal static class GraphQuantizer
{
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>Float initializers below this many values keep float32 in the float16 format (norms, biases, scalars).</summary>
    public const int MinHalfElements = 1024;

    public static QuantizedGraph Run(string source, string target, string component, QuantizationOptions options, CancellationToken cancellationToken)
    {
        options.Validate();
        string sourceDir = Path.GetDirectoryName(Path.GetFullPath(source))!;
        ModelProto model;
        try
        {
            using var input = File.OpenRead(source);
            model = ModelProto.Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{source}' is not an ONNX model ({e.Message}).", e);
        }

        if (model.Graph is null)
        {
            throw new InvalidDataException($"'{source}' has no graph.");
        }

        int fused = options.FuseAttention ? AttentionFusion.Fuse(model) : 0;
        long before = FileBytes(source) + OnnxTensorData.ExternalFiles(model).Sum(f => FileBytes(Path.Combine(sourceDir, f)));
        var graph = model.Graph;
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (var t in graph.Initializer)
        {
            initializers[t.Name] = t;
        }

        var uses = new Dictionary<string, List<(NodeProto Node, int Input)>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (!uses.TryGetValue(node.Input[i], out var list))
                {
                    uses[node.Input[i]] = list = [];
                }

                list.Add((node, i));
            }
        }

        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var steps = new Dictionary<string, Step>(StringComparer.Ordinal);
        var replacements = new Dictionary<NodeProto, NodeProto?>();
        var appended = new Dictionary<NodeProto, NodeProto>();
        var inserted = new Dictionary<NodeProto, List<NodeProto>>();
        int matmuls = 0, convs = 0, halves = 0, kept = 0;

        bool OnlyUse(string name, string opType, int input) =>
            !graphOutputs.Contains(name) && uses.TryGetValue(name, out var u) &&
            u.All(x => x.Node.OpType == opType && string.IsNullOrEmpty(x.Node.Domain) && x.Input == input);

        void Insert(string weight, params NodeProto[] nodes)
        {
            var first = uses[weight][0].Node;
            if (!inserted.TryGetValue(first, out var list))
            {
                inserted[first] = list = [];
            }

            list.AddRange(nodes);
        }

        foreach (var (name, t) in initializers)
        {
            if (t.DataType != OnnxTensorData.Float || options.Weights == WeightFormat.Float32)
            {
                continue;
            }

            if (options.Weights == WeightFormat.Float16)
            {
                if (OnnxTensorData.ElementCount(t) >= MinHalfElements && !graphOutputs.Contains(name) && uses.ContainsKey(name))
                {
                    steps[name] = new Step(StepKind.Half, t);
                }

                continue;
            }

            if (t.Dims.Count == 2 && LinearUses(name, uses, graphOutputs) is { } linear)
            {
                steps[name] = new Step(linear.RowsAreOutputs ? StepKind.LinearNK : StepKind.LinearKN, t);
                long k = linear.RowsAreOutputs ? t.Dims[1] : t.Dims[0], n = linear.RowsAreOutputs ? t.Dims[0] : t.Dims[1];
                foreach (var node in linear.Dropped)
                {
                    replacements[node] = null;
                }

                foreach (var node in linear.Users)
                {
                    var q = MatMulNBits(node, name, k, n, options);
                    replacements[node] = q[0];
                    if (q.Length > 1)
                    {
                        appended[node] = q[1];
                    }

                    matmuls++;
                }
            }
            else if (t.Dims.Count >= 3 && OnlyUse(name, "Conv", 1))
            {
                long k = OnnxTensorData.ElementCount(t) / t.Dims[0];
                if (k % options.BlockSize != 0)
                {
                    kept++;
                    continue;
                }

                steps[name] = new Step(StepKind.Conv, t);
                Insert(name, DequantizeNodes(name, t, options));
                convs++;
            }
            else if (t.Dims.Count >= 2 && uses.ContainsKey(name))
            {
                kept++;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        var nodes = new List<NodeProto>(graph.Node.Count + inserted.Values.Sum(l => l.Count));
        foreach (var node in graph.Node)
        {
            if (inserted.TryGetValue(node, out var before_))
            {
                nodes.AddRange(before_);
            }

            if (!replacements.TryGetValue(node, out var r))
            {
                nodes.Add(node);
            }
            else if (r is not null)
            {
                nodes.Add(r);
            }

            if (appended.TryGetValue(node, out var a))
            {
                nodes.Add(a);
            }
        }

        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        if (steps.Count > 0 && options.Weights is WeightFormat.Int8 or WeightFormat.Int4 && !model.OpsetImport.Any(o => o.Domain == MicrosoftDomain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        }

        // Initializers listed as graph inputs (IR < 4) and value infos of replaced weights go with them.
        var removed = steps.Keys.ToHashSet(StringComparer.Ordinal);
        RemoveWhere(graph.Input, v => removed.Contains(v.Name));
        if (options.Weights is WeightFormat.Int8 or WeightFormat.Int4)
        {
            RemoveWhere(graph.ValueInfo, v => removed.Contains(v.Name) && steps[v.Name].Kind != StepKind.Conv);
        }

        string targetDir = Path.GetDirectoryName(Path.GetFullPath(target))!;
        Directory.CreateDirectory(targetDir);
        var written = new List<TensorProto>(graph.Initializer.Count + (steps.Count * 3));
        using (var data = new ExternalDataWriter(target))
        {
            foreach (var t in graph.Initializer)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (steps.TryGetValue(t.Name, out var step))
                {
                    int before16 = written.Count;
                    WriteStep(step, sourceDir, options, data, written);
                    if (step.Kind == StepKind.Half && written.Count == before16 + 1 && written[^1].Name == t.Name)
                    {
                        kept++;
                    }
                    else if (step.Kind == StepKind.Half)
                    {
                        halves++;
                    }

                    continue;
                }

                var copy = t.Clone();
                if (OnnxTensorData.IsExternal(t))
                {
                    data.Put(copy, OnnxTensorData.ReadExternalBytes(t, sourceDir));
                }
                else if (t.CalculateSize() >= ExternalDataWriter.Threshold && !t.RawData.IsEmpty)
                {
                    data.Put(copy, t.RawData.Span);
                }

                written.Add(copy);
            }
        }

        // float16 casts: a Cast node per converted weight (in front of its first consumer) gives the float32 name back.
        if (options.Weights == WeightFormat.Float16)
        {
            var halfNames = written.Where(w => w.DataType == OnnxTensorData.Float16 && w.Name.EndsWith(HalfSuffix, StringComparison.Ordinal))
                .Select(w => w.Name[..^HalfSuffix.Length]).ToHashSet(StringComparer.Ordinal);
            var withCasts = new List<NodeProto>(graph.Node.Count + halfNames.Count);
            var done = new HashSet<string>(StringComparer.Ordinal);
            foreach (var node in graph.Node)
            {
                foreach (string input in node.Input)
                {
                    if (halfNames.Contains(input) && done.Add(input))
                    {
                        withCasts.Add(CastToFloat(input));
                    }
                }

                withCasts.Add(node);
            }

            graph.Node.Clear();
            graph.Node.AddRange(withCasts);
        }

        graph.Initializer.Clear();
        graph.Initializer.AddRange(written);
        using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
        {
            model.WriteTo(output);
        }

        long after = new FileInfo(target).Length;
        string dataPath = Path.Combine(targetDir, Path.GetFileName(target) + "_data");
        if (File.Exists(dataPath))
        {
            after += new FileInfo(dataPath).Length;
        }

        return new QuantizedGraph(component, before, after, matmuls, convs, halves, kept) { FusedAttentions = fused };
    }

    private const string HalfSuffix = "_fp16";

    /// <summary>The size of a file, through a symbolic link.</summary>
    private static long FileBytes(string path)
    {
        var info = new FileInfo(path);
        return (info.LinkTarget is null ? info : (FileInfo?)info.ResolveLinkTarget(returnFinalTarget: true) ?? info).Length;
    }

    private enum StepKind
    {
        /// <summary>A linear weight stored [K, N] (MatMul B, Gemm B without transB).</summary>
        LinearKN,

        /// <summary>A linear weight stored [N, K] (through a Transpose into MatMul, Gemm B with transB).</summary>
        LinearNK,
        Conv,
        Half,
    }

    private sealed record Step(StepKind Kind, TensorProto Tensor);

    private static void RemoveWhere<T>(Google.Protobuf.Collections.RepeatedField<T> field, Func<T, bool> predicate)
    {
        var keep = field.Where(x => !predicate(x)).ToList();
        field.Clear();
        field.AddRange(keep);
    }

    /// <summary>The linear nodes a 2-D weight feeds, when every use is one MatMulNBits can replace.</summary>
    private sealed record Linear(bool RowsAreOutputs, List<NodeProto> Users, List<NodeProto> Dropped);

    /// <summary>
    /// The uses of weight <paramref name="name"/> when all are MatMul's B (directly: [K, N]; or through a
    /// Transpose(perm 1,0) used only by MatMuls: [N, K]) or Gemm's B (alpha = beta = 1, no transA; transB gives [N, K]),
    /// all in one orientation; otherwise null.
    /// </summary>
    private static Linear? LinearUses(string name, Dictionary<string, List<(NodeProto Node, int Input)>> uses, HashSet<string> graphOutputs)
    {
        if (graphOutputs.Contains(name) || !uses.TryGetValue(name, out var direct))
        {
            return null;
        }

        var users = new List<NodeProto>();
        var dropped = new List<NodeProto>();
        bool? nk = null;
        bool Orient(bool v)
        {
            if (nk is { } o && o != v)
            {
                return false;
            }

            nk = v;
            return true;
        }

        foreach (var (node, input) in direct)
        {
            if (!string.IsNullOrEmpty(node.Domain))
            {
                return null;
            }

            if (node.OpType == "MatMul" && input == 1 && Orient(false))
            {
                users.Add(node);
            }
            else if (node.OpType == "Gemm" && input == 1 && Attr(node, "transA", 0) == 0 && AttrF(node, "alpha", 1f) == 1f && AttrF(node, "beta", 1f) == 1f
                && Orient(Attr(node, "transB", 0) == 1))
            {
                users.Add(node);
            }
            else if (node.OpType == "Transpose" && node.Output.Count == 1 && PermIsSwap(node) && !graphOutputs.Contains(node.Output[0])
                && uses.TryGetValue(node.Output[0], out var after) && after.All(x => x.Node.OpType == "MatMul" && string.IsNullOrEmpty(x.Node.Domain) && x.Input == 1)
                && Orient(true))
            {
                dropped.Add(node);
                users.AddRange(after.Select(x => x.Node));
            }
            else
            {
                return null;
            }
        }

        return users.Count == 0 ? null : new Linear(nk!.Value, users, dropped);
    }

    private static bool PermIsSwap(NodeProto transpose)
    {
        var perm = transpose.Attribute.FirstOrDefault(a => a.Name == "perm");
        return perm is null || (perm.Ints.Count == 2 && perm.Ints[0] == 1 && perm.Ints[1] == 0);
    }

    private static long Attr(NodeProto node, string name, long fallback) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;

    private static float AttrF(NodeProto node, string name, float fallback) => node.Attribute.FirstOrDefault(a => a.Name == name)?.F ?? fallback;

    /// <summary>MatMulNBits in place of a MatMul or Gemm (then followed by an Add of Gemm's C, if it has one).</summary>
    private static NodeProto[] MatMulNBits(NodeProto linear, string weight, long k, long n, QuantizationOptions o)
    {
        bool bias = linear.OpType == "Gemm" && linear.Input.Count > 2 && !string.IsNullOrEmpty(linear.Input[2]);
        var node = new NodeProto
        {
            OpType = "MatMulNBits",
            Domain = MicrosoftDomain,
            Name = string.IsNullOrEmpty(linear.Name) ? "" : $"{linear.Name}_Q{o.Bits}",
        };
        node.Input.Add(linear.Input[0]);
        node.Input.Add($"{weight}_Q{o.Bits}");
        node.Input.Add($"{weight}_scales");
        node.Input.Add($"{weight}_zero_points");
        node.Output.Add(bias ? $"{linear.Output[0]}_nobias" : linear.Output[0]);
        node.Attribute.Add(IntAttribute("K", k));
        node.Attribute.Add(IntAttribute("N", n));
        node.Attribute.Add(IntAttribute("bits", o.Bits));
        node.Attribute.Add(IntAttribute("block_size", o.BlockSize));
        if (o.AccuracyLevel > 0)
        {
            node.Attribute.Add(IntAttribute("accuracy_level", o.AccuracyLevel));
        }

        if (!bias)
        {
            return [node];
        }

        var add = new NodeProto { OpType = "Add", Name = $"{linear.Name}_bias" };
        add.Input.Add(node.Output[0]);
        add.Input.Add(linear.Input[2]);
        add.Output.Add(linear.Output[0]);
        return [node, add];
    }

    /// <summary>
    /// A Conv weight [O, I, ...] as codes [O * K / block, block] dequantized per row (one row per block, axis 0) by
    /// com.microsoft.DequantizeLinear, then reshaped back: blocked quantization with an operator every ONNX Runtime
    /// build has, which its constant folding leaves alone (it keeps DequantizeLinear for QDQ graphs), so the weight
    /// stays quantized in memory and is expanded per call.
    /// </summary>
    private static NodeProto[] DequantizeNodes(string weight, TensorProto t, QuantizationOptions o)
    {
        var dq = new NodeProto { OpType = "DequantizeLinear", Domain = MicrosoftDomain, Name = $"{weight}_DQ" };
        dq.Input.Add($"{weight}_Q{o.Bits}");
        dq.Input.Add($"{weight}_scales");
        dq.Input.Add($"{weight}_zero_points");
        dq.Output.Add($"{weight}_DQ");
        dq.Attribute.Add(IntAttribute("axis", 0));
        var reshape = new NodeProto { OpType = "Reshape", Name = $"{weight}_DQ_reshape" };
        reshape.Input.Add($"{weight}_DQ");
        reshape.Input.Add($"{weight}_shape");
        reshape.Output.Add(weight);
        return [dq, reshape];
    }

    private static NodeProto CastToFloat(string weight)
    {
        var cast = new NodeProto { OpType = "Cast", Name = $"{weight}_cast" };
        cast.Input.Add(weight + HalfSuffix);
        cast.Output.Add(weight);
        cast.Attribute.Add(IntAttribute("to", OnnxTensorData.Float));
        return cast;
    }

    private static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static TensorProto Header(string name, int dataType, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = dataType };
        t.Dims.AddRange(dims);
        return t;
    }

    private static void WriteStep(Step step, string sourceDir, QuantizationOptions o, ExternalDataWriter data, List<TensorProto> written)
    {
        var t = step.Tensor;
        float[] w = OnnxTensorData.ReadFloats(t, sourceDir);
        switch (step.Kind)
        {
            case StepKind.Half:
                if (w.Any(v => float.IsFinite(v) && Math.Abs(v) > (float)Half.MaxValue))
                {
                    var copy = t.Clone();
                    data.Put(copy, MemoryMarshal.AsBytes(w.AsSpan()));
                    written.Add(copy);
                    return;
                }

                var half = Header(t.Name + HalfSuffix, OnnxTensorData.Float16, [.. t.Dims]);
                data.Put(half, OnnxTensorData.ToHalfBytes(w));
                written.Add(half);
                return;
            case StepKind.LinearKN:
            case StepKind.LinearNK:
                WriteMatMul(t, w, step.Kind == StepKind.LinearNK, o, data, written);
                return;
            default:
                WriteConv(t, w, o, data, written);
                return;
        }
    }

    /// <summary>
    /// A linear weight ([K, N], or [N, K] when <paramref name="rowsAreOutputs"/>) as MatMulNBits wants it: codes
    /// [N, blocks, blob], scales [N * blocks], zero points [N * packed].
    /// </summary>
    private static void WriteMatMul(TensorProto t, float[] w, bool rowsAreOutputs, QuantizationOptions o, ExternalDataWriter data, List<TensorProto> written)
    {
        int k = checked((int)t.Dims[rowsAreOutputs ? 1 : 0]), n = checked((int)t.Dims[rowsAreOutputs ? 0 : 1]);
        int bits = o.Bits, bs = o.BlockSize;
        int blocks = BlockQuantization.Blocks(k, bs), blob = BlockQuantization.BlobBytes(bits, bs);
        int zpBytes = BlockQuantization.PackedZeroPointBytes(blocks, bits);
        var packed = new byte[checked((long)n * blocks * blob)];
        var scales = new float[(long)n * blocks];
        var zeros = new byte[(long)n * zpBytes];
        var column = new float[k];
        var zp = new byte[blocks];
        for (int j = 0; j < n; j++)
        {
            if (rowsAreOutputs)
            {
                w.AsSpan(j * k, k).CopyTo(column);
            }
            else
            {
                for (int i = 0; i < k; i++)
                {
                    column[i] = w[((long)i * n) + j];
                }
            }

            BlockQuantization.QuantizeRow(column, bits, bs, packed.AsSpan(j * blocks * blob, blocks * blob), scales.AsSpan(j * blocks, blocks), zp);
            BlockQuantization.Pack(zp, bits, zeros.AsSpan(j * zpBytes, zpBytes));
        }

        Emit(data, written, Header($"{t.Name}_Q{bits}", OnnxTensorData.UInt8, n, blocks, blob), packed);
        Emit(data, written, Header($"{t.Name}_scales", OnnxTensorData.Float, (long)n * blocks), MemoryMarshal.AsBytes(scales.AsSpan()));
        Emit(data, written, Header($"{t.Name}_zero_points", OnnxTensorData.UInt8, (long)n * zpBytes), zeros);
    }

    /// <summary>A Conv weight as codes [rows, block] (uint8 or uint4), scales and zero points [rows], and its shape.</summary>
    private static void WriteConv(TensorProto t, float[] w, QuantizationOptions o, ExternalDataWriter data, List<TensorProto> written)
    {
        int bits = o.Bits, bs = o.BlockSize;
        long rows = w.Length / bs;
        int blob = BlockQuantization.BlobBytes(bits, bs);
        var packed = new byte[checked(rows * blob)];
        var scales = new float[rows];
        var zp = new byte[rows];
        for (long r = 0; r < rows; r++)
        {
            BlockQuantization.QuantizeRow(w.AsSpan((int)(r * bs), bs), bits, bs, packed.AsSpan((int)(r * blob), blob), scales.AsSpan((int)r, 1), zp.AsSpan((int)r, 1));
        }

        int codeType = bits == 8 ? OnnxTensorData.UInt8 : OnnxTensorData.UInt4;
        var zeros = new byte[BlockQuantization.PackedZeroPointBytes(checked((int)rows), bits)];
        BlockQuantization.Pack(zp, bits, zeros);
        Emit(data, written, Header($"{t.Name}_Q{bits}", codeType, rows, bs), packed);
        Emit(data, written, Header($"{t.Name}_scales", OnnxTensorData.Float, rows), MemoryMarshal.AsBytes(scales.AsSpan()));
        Emit(data, written, Header($"{t.Name}_zero_points", codeType, rows), zeros);
        var shape = new long[t.Dims.Count];
        t.Dims.CopyTo(shape, 0);
        Emit(data, written, Header($"{t.Name}_shape", OnnxTensorData.Int64, shape.Length), MemoryMarshal.AsBytes(shape.AsSpan()));
    }

    private static void Emit(ExternalDataWriter data, List<TensorProto> written, TensorProto header, ReadOnlySpan<byte> bytes)
    {
        data.Put(header, bytes);
        written.Add(header);
    }
}
