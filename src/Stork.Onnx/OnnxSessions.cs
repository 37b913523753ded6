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

    public static InferenceSession Open(string onnxPath, OnnxRuntimeOptions? options)
    {
        OrtEnv.Instance().EnvLogLevel = LogLevel;
        options ??= new OnnxRuntimeOptions();
        options.Validate();
        var so = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads ?? Environment.ProcessorCount,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = LogLevel,
            EnableCpuMemArena = UsesArena(options),
        };
        try
        {
            if (options.ExecutionProvider != "cpu")
            {
                string native = NativeNames[options.ExecutionProvider];
                if (!OrtEnv.Instance().GetAvailableProviders().Contains(native))
                {
                    throw new InvalidOperationException(
                        $"execution provider '{options.ExecutionProvider}' is not in this ONNX Runtime build (it has: " +
                        $"{string.Join(", ", OrtEnv.Instance().GetAvailableProviders())}); reference {Packages[options.ExecutionProvider]} instead of Microsoft.ML.OnnxRuntime.");
                }

                if (options.ExecutionProvider == "cuda")
                {
                    so.AppendExecutionProvider_CUDA(options.DeviceId);
                }
                else if (options.ExecutionProvider == "dml")
                {
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

    /// <summary>Whether a session uses the CPU arena: <see cref="OnnxRuntimeOptions.CpuArena"/>, off by default.</summary>
    internal static bool UsesArena(OnnxRuntimeOptions options) => options.CpuArena ?? false;

    private static string FirstLine(string s)
    {
        int i = s.IndexOf('\n', StringComparison.Ordinal);
        return (i < 0 ? s : s[..i]).Trim();
    }
}
