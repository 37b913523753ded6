namespace Stork.Onnx.Quantization;

/// <summary>
/// Weight-only quantization of a model folder (diffusers / Optimum ONNX layout): the denoiser (<c>unet</c> or
/// <c>transformer</c>) and the text encoders get <see cref="WeightFormat"/> weights; every other file (configs,
/// tokenizers, scheduler, the VAE) is copied. The result is a model folder the pipelines load like any other. The
/// ONNX files are read and written with Google.Protobuf (onnx.proto compiled by Grpc.Tools' protoc).
/// </summary>
public static class ModelQuantizer
{
    /// <summary>The component folders whose <c>model.onnx</c> is converted.</summary>
    public static IReadOnlyList<string> Components { get; } = ["unet", "transformer", "text_encoder", "text_encoder_2", "text_encoder_3"];

    /// <summary>
    /// Writes the quantized copy of <paramref name="source"/> to <paramref name="target"/>, which must not exist. The
    /// folder is built beside the target under a temporary name and moved in place at the end, so a failure or a
    /// cancellation leaves nothing behind.
    /// </summary>
    public static IReadOnlyList<QuantizedGraph> QuantizeFolder(string source, string target, QuantizationOptions options,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        source = Path.GetFullPath(source);
        target = Path.GetFullPath(target);
        if (!Directory.Exists(source))
        {
            throw new DirectoryNotFoundException($"model folder '{source}' does not exist.");
        }

        if (!File.Exists(Path.Combine(source, "model_index.json")))
        {
            throw new InvalidDataException($"'{source}' is not a model folder (no model_index.json).");
        }

        if (Directory.Exists(target) || File.Exists(target))
        {
            throw new IOException($"'{target}' already exists; choose a new folder for the quantized model.");
        }

        if (target.StartsWith(source + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"the output folder '{target}' must not be inside the model folder '{source}'.");
        }

        var graphs = Components.Select(c => Path.Combine(source, c, "model.onnx")).Where(File.Exists).ToList();
        if (graphs.Count == 0)
        {
            throw new InvalidDataException($"model folder '{source}' has no {string.Join(", ", Components)} graph to quantize.");
        }

        string parent = Path.GetDirectoryName(target) ?? throw new ArgumentException($"'{target}' has no parent folder.");
        if (!Directory.Exists(parent))
        {
            throw new DirectoryNotFoundException($"the parent folder '{parent}' of the output does not exist.");
        }

        string staging = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Environment.ProcessId}");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        try
        {
            var skip = new HashSet<string>(StringComparer.Ordinal);
            var results = new List<QuantizedGraph>();
            foreach (string graph in graphs)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string component = Path.GetFileName(Path.GetDirectoryName(graph)!);
                progress?.Report(component);
                string output = Path.Combine(staging, component, "model.onnx");
                results.Add(GraphQuantizer.Run(graph, output, component, options, cancellationToken));
                if (options.RuntimeOptimized)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    WriteRuntimeOptimized(output);
                }

                skip.Add(graph);
                skip.Add(Path.Combine(Path.GetDirectoryName(graph)!, OnnxSessions.RuntimeOptimizedMarker));
                foreach (string external in ExternalFiles(graph))
                {
                    skip.Add(external);
                }
            }

            CopyRest(source, staging, skip, cancellationToken);
            Directory.Move(staging, target);
            return results;
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            throw;
        }
    }

    /// <summary>Converts one graph file (<paramref name="target"/> and its <c>_data</c> file must not exist).</summary>
    public static QuantizedGraph QuantizeGraph(string source, string target, QuantizationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"ONNX graph '{source}' does not exist.");
        }

        return GraphQuantizer.Run(source, target, Path.GetFileName(source), options, cancellationToken);
    }

    /// <summary>
    /// The weight format of an ONNX graph file as <see cref="ModelQuantizer"/> writes it: <see cref="WeightFormat.Int8"/>
    /// or <see cref="WeightFormat.Int4"/> when it has <c>com.microsoft.MatMulNBits</c> nodes (by their <c>bits</c>),
    /// <see cref="WeightFormat.Float16"/> when most initializer bytes are float16, null for float32 (or a graph that
    /// cannot be read). Reads the graph file only (not its external data).
    /// </summary>
    public static WeightFormat? Detect(string graph) => Read(graph) is { } model ? Detect(model) : null;

    /// <summary>
    /// Whether an ONNX graph file has fused attention (<c>com.microsoft.MultiHeadAttention</c>, as
    /// <see cref="QuantizationOptions.FuseAttention"/> writes it); false for a graph that cannot be read.
    /// </summary>
    public static bool HasFusedAttention(string graph) => Read(graph) is { } model && AttentionFusion.IsFused(model);

    private static Proto.ModelProto? Read(string graph)
    {
        try
        {
            using var input = File.OpenRead(graph);
            return Proto.ModelProto.Parser.ParseFrom(input);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Google.Protobuf.InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static WeightFormat? Detect(Proto.ModelProto model)
    {
        foreach (var node in model.Graph.Node)
        {
            if (node.OpType == "MatMulNBits" && node.Domain == GraphQuantizer.MicrosoftDomain)
            {
                return node.Attribute.FirstOrDefault(a => a.Name == "bits")?.I == 8 ? WeightFormat.Int8 : WeightFormat.Int4;
            }
        }

        long half = 0, single = 0;
        foreach (var t in model.Graph.Initializer)
        {
            if (t.DataType == OnnxTensorData.Float16)
            {
                half += 2 * OnnxTensorData.ElementCount(t);
            }
            else if (t.DataType == OnnxTensorData.Float)
            {
                single += 4 * OnnxTensorData.ElementCount(t);
            }
        }

        return half > single ? WeightFormat.Float16 : null;
    }

    /// <summary>
    /// Replaces <paramref name="graph"/> (and its <c>model.onnx_data</c>) by the graph as ONNX Runtime optimizes it for
    /// this CPU at ORT_ENABLE_ALL (the project's session level), written by ONNX Runtime itself
    /// (<c>SessionOptions.OptimizedModelFilePath</c>, weights of 1 KiB or more in one external file beside it).
    /// </summary>
    private static void WriteRuntimeOptimized(string graph)
    {
        string dir = Path.GetDirectoryName(graph)!;
        string optimized = dir + ".optimized";
        Directory.CreateDirectory(optimized);
        using (var so = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableCpuMemArena = false,
            LogSeverityLevel = OnnxSessions.LogLevel,
            OptimizedModelFilePath = Path.Combine(optimized, "model.onnx"),
        })
        {
            so.AddSessionConfigEntry("session.optimized_model_external_initializers_file_name", "model.onnx_data");
            so.AddSessionConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
            Microsoft.ML.OnnxRuntime.OrtEnv.Instance().EnvLogLevel = OnnxSessions.LogLevel;
            try
            {
                using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(graph, so);
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
            {
                throw new InvalidDataException($"ONNX Runtime cannot optimize '{graph}': {e.Message.Split('\n')[0].Trim()}", e);
            }
        }

        foreach (string name in (string[])["model.onnx", "model.onnx_data"])
        {
            File.Delete(Path.Combine(dir, name));
            if (File.Exists(Path.Combine(optimized, name)))
            {
                File.Move(Path.Combine(optimized, name), Path.Combine(dir, name));
            }
        }

        Directory.Delete(optimized, recursive: true);
        File.WriteAllText(Path.Combine(dir, OnnxSessions.RuntimeOptimizedMarker), OnnxSessions.RuntimeOptimizedStamp());
    }

    private static List<string> ExternalFiles(string graph)
    {
        using var input = File.OpenRead(graph);
        var model = Proto.ModelProto.Parser.ParseFrom(input);
        string dir = Path.GetDirectoryName(graph)!;
        return OnnxTensorData.ExternalFiles(model).Select(f => Path.Combine(dir, f)).ToList();
    }

    private static void CopyRest(string source, string target, HashSet<string> skip, CancellationToken cancellationToken)
    {
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (skip.Contains(file))
            {
                continue;
            }

            string destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
