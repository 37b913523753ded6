using Microsoft.ML.OnnxRuntime;

namespace Stork.Onnx;

/// <summary>Creates <see cref="InferenceSession"/>s from <see cref="OnnxRuntimeOptions"/> with clear errors.</summary>
internal static class OnnxSessions
{
    private static readonly Dictionary<string, string> NativeNames = new()
    {
        ["cuda"] = "CUDAExecutionProvider",
        ["dml"] = "DmlExecutionProvider",
        ["coreml"] = "CoreMLExecutionProvider",
    };

    private static readonly Dictionary<string, string> Packages = new()
    {
        ["cuda"] = "Microsoft.ML.OnnxRuntime.Gpu",
        ["dml"] = "Microsoft.ML.OnnxRuntime.DirectML",
        ["coreml"] = "Microsoft.ML.OnnxRuntime (its macOS build)",
    };

    /// <summary>
    /// ONNX Runtime's own log (coloured lines on stderr, e.g. a failed allocation) is off: what it would say reaches the
    /// user once, as the message of the exception the session call throws, in the one <c>error:</c> line.
    /// </summary>
    internal const OrtLoggingLevel LogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;

    /// <summary>The build switch of Stork.Onnx.csproj that swaps in each provider's package, where there is one.</summary>
    private static readonly Dictionary<string, string> BuildSwitches = new()
    {
        ["cuda"] = "-p:StorkOnnxRuntime=Gpu",
    };

    /// <summary>
    /// Null when this process's ONNX Runtime has <paramref name="provider"/>, else the one sentence that says what to
    /// install or build instead.
    /// </summary>
    internal static string? Missing(string provider)
    {
        if (provider == "cpu" || !NativeNames.TryGetValue(provider, out string? native))
        {
            return null;
        }

        string[] available;
        try
        {
            available = OrtEnv.Instance().GetAvailableProviders();
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return $"ONNX Runtime could not be loaded to look for the '{provider}' provider: {FirstLine(e.Message)}";
        }

        if (available.Contains(native))
        {
            return null;
        }

        string build = BuildSwitches.TryGetValue(provider, out string? flag)
            ? $"; build stork with {flag} (dotnet publish src/Stork.Cli -c Release {flag}, tools/gpu-check.sh) to get {Packages[provider]}"
            : $"; reference {Packages[provider]} instead of Microsoft.ML.OnnxRuntime";
        return $"'{provider}' is not in this ONNX Runtime build (it has: {string.Join(", ", available)}){build}.";
    }

    /// <param name="onnxPath">The graph.</param>
    /// <param name="options">Provider, threads, arena.</param>
    /// <param name="captureGraphs">
    /// Whether the session may capture CUDA graphs (<see cref="OnnxRuntimeOptions.CudaGraph"/>): only for a graph whose
    /// every call goes through a prepared IOBinding call with fixed device tensors (a pipeline's denoiser).
    /// </param>
    public static InferenceSession Open(string onnxPath, OnnxRuntimeOptions? options, bool captureGraphs = false)
    {
        OrtEnv.Instance().EnvLogLevel = LogLevel;
        options ??= new OnnxRuntimeOptions();
        options.Validate();
        var so = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads ?? Environment.ProcessorCount,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = OptimizationLevel(onnxPath, options),
            LogSeverityLevel = LogLevel,
            EnableCpuMemArena = UsesArena(options),
        };
        try
        {
            if (options.ExecutionProvider != "cpu")
            {
                if (Missing(options.ExecutionProvider) is { } missing)
                {
                    throw new InvalidOperationException(missing);
                }

                if (options.ExecutionProvider == "cuda")
                {
                    using var cuda = new OrtCUDAProviderOptions();
                    cuda.UpdateOptions(new Dictionary<string, string>
                    {
                        ["device_id"] = options.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["enable_cuda_graph"] = captureGraphs && options.CudaGraph ? "1" : "0",
                    });
                    so.AppendExecutionProvider_CUDA(cuda);
                }
                else if (options.ExecutionProvider == "dml")
                {
                    // The DirectML provider runs without memory patterns and sequentially (its documented requirements).
                    so.EnableMemoryPattern = false;
                    so.AppendExecutionProvider_DML(options.DeviceId);
                }
                else
                {
                    so.AppendExecutionProvider_CoreML();
                }
            }

            return new InferenceSession(onnxPath, so);
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            throw new InvalidDataException($"cannot open '{onnxPath}' with ONNX Runtime ({options.ExecutionProvider}): {FirstLine(e.Message)}", e);
        }
        finally
        {
            so.Dispose();
        }
    }

    /// <summary>
    /// The file beside a graph that <c>stork quantize --runtime-optimized</c> replaced by the graph ONNX Runtime wrote after
    /// its ORT_ENABLE_ALL optimisation; it holds the ONNX Runtime version and provider that wrote it.
    /// </summary>
    internal const string RuntimeOptimizedMarker = "runtime-optimized.txt";

    /// <summary>What <see cref="RuntimeOptimizedMarker"/> holds for graphs written by this process.</summary>
    internal static string RuntimeOptimizedStamp() => $"onnxruntime {OrtEnv.Instance().GetVersionString()} cpu\n";

    /// <summary>
    /// ORT_ENABLE_ALL, except for a graph that this ONNX Runtime version already optimized for the CPU provider
    /// (<see cref="RuntimeOptimizedMarker"/>): that one loads with optimisations off, since nothing is left to do (the
    /// real-size SD1.5 UNet: 4.4 s instead of 33 s, idle; the same floats). A stamp of another version is ignored.
    /// </summary>
    internal static GraphOptimizationLevel OptimizationLevel(string onnxPath, OnnxRuntimeOptions options)
    {
        string marker = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(onnxPath))!, RuntimeOptimizedMarker);
        bool optimized = options.ExecutionProvider == "cpu" && File.Exists(marker) && File.ReadAllText(marker) == RuntimeOptimizedStamp();
        return optimized ? GraphOptimizationLevel.ORT_DISABLE_ALL : GraphOptimizationLevel.ORT_ENABLE_ALL;
    }

    /// <summary>Whether a session uses the CPU arena: <see cref="OnnxRuntimeOptions.CpuArena"/>, off by default.</summary>
    internal static bool UsesArena(OnnxRuntimeOptions options) => options.CpuArena ?? false;

    private static string FirstLine(string s)
    {
        int i = s.IndexOf('\n', StringComparison.Ordinal);
        return (i < 0 ? s : s[..i]).Trim();
    }
}
