using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace Stork.Onnx;

/// <summary>
/// The one ONNX binding layer: a graph (an ONNX Runtime session) with its inputs and outputs bound by logical name to
/// the graph's names, element types and ranks from the session's metadata, prepared calls over preallocated
/// <see cref="GraphTensor"/>s, ONNX Runtime errors as one line. Pipelines open a component with port specs (every
/// required port must be there, every graph input one the pipeline knows); model cards open it unbound, check it
/// against the card and bind the names the card gives. External weights (<c>model.onnx_data</c>) are found by ONNX
/// Runtime beside the graph. Time spent inside ONNX Runtime is accumulated in <see cref="RunTime"/>.
/// </summary>
public sealed class OnnxGraph : IDisposable
{
    private readonly InferenceSession _session;
    private readonly Dictionary<string, GraphPort> _inputs;
    private readonly Dictionary<string, GraphPort> _outputs;
    private readonly RunOptions _runOptions = new();
    private readonly Stopwatch _clock = new();
    private readonly OnnxRuntimeOptions _runtime;
    private readonly bool _capturesGraphs;
    private int _graphIds;
    private readonly Dictionary<string, int> _binds = new(StringComparer.Ordinal);

    private OnnxGraph(string component, string path, InferenceSession session, Dictionary<string, GraphPort> inputs, Dictionary<string, GraphPort> outputs,
        OnnxRuntimeOptions? runtime, bool capturesGraphs)
    {
        Component = component;
        Path = path;
        _session = session;
        _inputs = inputs;
        _outputs = outputs;
        _runtime = runtime ?? new OnnxRuntimeOptions();
        _capturesGraphs = capturesGraphs && _runtime.CudaGraph;
    }

    /// <summary>The component folder name (<c>transformer</c>, <c>text_encoder_2</c>, ...).</summary>
    public string Component { get; }

    /// <summary>The graph file.</summary>
    public string Path { get; }

    /// <summary>Wall time spent in <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>.</summary>
    public TimeSpan RunTime => _clock.Elapsed;

    /// <summary>
    /// Opens <paramref name="path"/> with nothing bound: the caller checks <see cref="InputMetadata"/> and
    /// <see cref="OutputMetadata"/> and binds what it uses (<see cref="BindInput"/>, <see cref="BindOutput"/>).
    /// </summary>
    /// <param name="component">What the graph is, for messages (a component folder, a model card).</param>
    /// <param name="path">The graph.</param>
    /// <param name="runtime">ONNX Runtime options (CPU by default).</param>
    public static OnnxGraph OpenUnbound(string component, string path, OnnxRuntimeOptions? runtime) =>
        new(component, path, OnnxSessions.Open(path, runtime), new(StringComparer.Ordinal), new(StringComparer.Ordinal), runtime, capturesGraphs: false);

    /// <summary>Opens <paramref name="path"/> and binds <paramref name="inputs"/> and <paramref name="outputs"/>.</summary>
    public static OnnxGraph Open(string component, string path, OnnxRuntimeOptions? runtime, IReadOnlyList<PortSpec> inputs, IReadOnlyList<PortSpec> outputs) =>
        Open(component, path, runtime, inputs, outputs, capturesGraphs: false);

    /// <summary>
    /// <see cref="Open(string, string, OnnxRuntimeOptions?, IReadOnlyList{PortSpec}, IReadOnlyList{PortSpec})"/> for a
    /// pipeline's denoiser, every call of which is prepared with the inputs that change named: the one kind of graph
    /// whose session captures CUDA graphs under <see cref="OnnxRuntimeOptions.CudaGraph"/>.
    /// </summary>
    public static OnnxGraph OpenDenoiser(string component, string path, OnnxRuntimeOptions? runtime, IReadOnlyList<PortSpec> inputs, IReadOnlyList<PortSpec> outputs) =>
        Open(component, path, runtime, inputs, outputs, capturesGraphs: true);

    private static OnnxGraph Open(string component, string path, OnnxRuntimeOptions? runtime, IReadOnlyList<PortSpec> inputs, IReadOnlyList<PortSpec> outputs, bool capturesGraphs)
    {
        Stork.IO.InputFile.Check(path, $"component '{component}' graph");

        var session = OnnxSessions.Open(path, runtime, capturesGraphs);
        try
        {
            var boundInputs = Bind(component, "input", session.InputMetadata, inputs, rejectUnknown: true);
            var boundOutputs = Bind(component, "output", session.OutputMetadata, outputs, rejectUnknown: false);
            return new OnnxGraph(component, path, session, boundInputs, boundOutputs, runtime, capturesGraphs);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static Dictionary<string, GraphPort> Bind(string component, string kind, IReadOnlyDictionary<string, NodeMetadata> metadata,
        IReadOnlyList<PortSpec> specs, bool rejectUnknown)
    {
        var bound = new Dictionary<string, GraphPort>(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            string? name = spec.Names.FirstOrDefault(metadata.ContainsKey);
            if (name is null)
            {
                if (spec.Required)
                {
                    throw new InvalidDataException(
                        $"{component}: the graph has no {kind} '{spec.Name}'{Alternatives(spec)} (expected {kind}s: {Expected(specs)}; found: {string.Join(", ", metadata.Keys)}).");
                }

                continue;
            }

            var m = metadata[name];
            if (!m.IsTensor)
            {
                throw new InvalidDataException($"{component}: {kind} '{name}' is not a tensor.");
            }

            bound[spec.Name] = new GraphPort(spec.Name, name, m.ElementDataType, m.Dimensions.ToArray());
            used.Add(name);
        }

        if (rejectUnknown)
        {
            var unknown = metadata.Keys.Where(k => !used.Contains(k)).ToArray();
            if (unknown.Length > 0)
            {
                throw new InvalidDataException(
                    $"{component}: unexpected {kind}{(unknown.Length > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} (expected {kind}s: {Expected(specs)}; found: {string.Join(", ", metadata.Keys)}).");
            }
        }

        return bound;
    }

    private static string Alternatives(PortSpec spec) => spec.Aliases.Length == 0 ? "" : $" or {string.Join(" or ", spec.Aliases.Select(a => $"'{a}'"))}";

    private static string Expected(IReadOnlyList<PortSpec> specs) =>
        string.Join(", ", specs.Select(s => s.Required ? s.Name : s.Name + " (optional)"));

    /// <summary>The graph's inputs as ONNX Runtime describes them, bound or not.</summary>
    public IReadOnlyDictionary<string, NodeMetadata> InputMetadata => _session.InputMetadata;

    /// <summary>The graph's outputs as ONNX Runtime describes them, bound or not.</summary>
    public IReadOnlyDictionary<string, NodeMetadata> OutputMetadata => _session.OutputMetadata;

    /// <summary>Whether input <paramref name="logical"/> is bound.</summary>
    public bool HasInput(string logical) => _inputs.ContainsKey(logical);

    /// <summary>Whether output <paramref name="logical"/> is bound.</summary>
    public bool HasOutput(string logical) => _outputs.ContainsKey(logical);

    /// <summary>Every output name of the graph, bound or not.</summary>
    public IReadOnlyCollection<string> OutputNames => _session.OutputMetadata.Keys.ToArray();

    /// <summary>Binds one more output by its exact name (hidden_states.N, whose N depends on the depth of the network).</summary>
    public void BindOutput(string logical, string name) => _outputs[logical] = Port(logical, name, _session.OutputMetadata, "output");

    /// <summary>Binds one more input by its exact name (a model card's).</summary>
    public void BindInput(string logical, string name) => _inputs[logical] = Port(logical, name, _session.InputMetadata, "input");

    private GraphPort Port(string logical, string name, IReadOnlyDictionary<string, NodeMetadata> metadata, string kind) =>
        metadata.TryGetValue(name, out var m) && m.IsTensor
            ? new GraphPort(logical, name, m.ElementDataType, m.Dimensions.ToArray())
            : throw new InvalidDataException($"{Component}: the graph has no tensor {kind} '{name}' (found: {string.Join(", ", metadata.Keys)}).");

    /// <summary>The bound input <paramref name="logical"/>.</summary>
    public GraphPort Input(string logical) =>
        _inputs.TryGetValue(logical, out var p) ? p : throw new InvalidOperationException($"{Component}: input '{logical}' is not bound.");

    /// <summary>The bound output <paramref name="logical"/>.</summary>
    public GraphPort Output(string logical) =>
        _outputs.TryGetValue(logical, out var p) ? p : throw new InvalidOperationException($"{Component}: output '{logical}' is not bound.");

    /// <summary>Runs the graph on the given inputs and returns the requested outputs (ONNX Runtime allocates them).</summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(IReadOnlyList<(string Logical, OrtValue Value)> inputs, IReadOnlyList<string> outputs)
    {
        var names = inputs.Select(i => Input(i.Logical).Name).ToArray();
        var values = inputs.Select(i => i.Value).ToArray();
        var outNames = outputs.Select(o => Output(o).Name).ToArray();
        _clock.Start();
        try
        {
            return _session.Run(_runOptions, names, values, outNames);
        }
        catch (OnnxRuntimeException e)
        {
            throw Failed(e);
        }
        finally
        {
            _clock.Stop();
        }
    }

    /// <summary>How often each input and output (by logical name) was bound through an IOBinding, over every call prepared so far.</summary>
    internal IReadOnlyDictionary<string, int> Binds => _binds;

    /// <summary>A prepared call: input and output names resolved once, values preallocated by the caller.</summary>
    public Call Prepare(IReadOnlyList<(string Logical, OrtValue Value)> inputs, IReadOnlyList<(string Logical, OrtValue Value)> outputs) =>
        new(this, [.. inputs.Select(i => (i.Logical, Input(i.Logical).Name, i.Value))], [.. outputs.Select(o => (o.Logical, Output(o.Logical).Name, o.Value))], null);

    /// <summary>
    /// A prepared call whose inputs other than <paramref name="changing"/> keep their values for the call's life: with
    /// <see cref="OnnxRuntimeOptions.UsesIoBinding"/> it runs through an IOBinding that binds those once (on a GPU, one
    /// copy to the device), binds the changing inputs before each run and the outputs once, to the caller's host tensors
    /// (ONNX Runtime copies a device result into them); under <see cref="OnnxRuntimeOptions.CudaGraph"/> the changing
    /// inputs and the outputs live in device tensors bound once and copied around each run, and the call has its own
    /// CUDA graph. Without IOBinding it is <see cref="Prepare(IReadOnlyList{ValueTuple{string, OrtValue}}, IReadOnlyList{ValueTuple{string, OrtValue}})"/>.
    /// The caller writes new values into the changing inputs' tensors between runs.
    /// </summary>
    public Call Prepare(IReadOnlyList<(string Logical, OrtValue Value)> inputs, IReadOnlyList<(string Logical, OrtValue Value)> outputs, IReadOnlyCollection<string> changing)
    {
        var unknown = changing.Where(c => !inputs.Any(i => i.Logical == c)).ToArray();
        if (unknown.Length > 0)
        {
            throw new ArgumentException($"{Component}: changing input{(unknown.Length > 1 ? "s" : "")} {string.Join(", ", unknown)} not among the call's inputs.", nameof(changing));
        }

        return new(this, [.. inputs.Select(i => (i.Logical, Input(i.Logical).Name, i.Value))], [.. outputs.Select(o => (o.Logical, Output(o.Logical).Name, o.Value))],
            _runtime.UsesIoBinding ? changing.ToHashSet(StringComparer.Ordinal) : null);
    }

    /// <summary>
    /// A call with its names and preallocated tensors fixed: runs without allocating managed memory, through
    /// ONNX Runtime's IOBinding when prepared with the inputs that change.
    /// </summary>
    public sealed class Call : IDisposable
    {
        private readonly OnnxGraph graph;
        private readonly string[] inputNames;
        private readonly OrtValue[] inputValues;
        private readonly string[] outputNames;
        private readonly OrtValue[] outputValues;
        private readonly OrtIoBinding? _binding;
        private readonly RunOptions? _bindingRunOptions;
        private readonly (string Logical, string Name, OrtValue Value)[] _changing = [];
        private readonly OrtValue[] _changingHost = [];
        private readonly OrtValue[]? _changingResident;
        private readonly OrtValue[]? _outputsResident;
        private readonly OrtAllocator? _allocator;
        private readonly Dictionary<string, int> _binds = new(StringComparer.Ordinal);

        internal Call(OnnxGraph graph, (string Logical, string Name, OrtValue Value)[] inputs, (string Logical, string Name, OrtValue Value)[] outputs, HashSet<string>? changing)
        {
            this.graph = graph;
            inputNames = [.. inputs.Select(i => i.Name)];
            inputValues = [.. inputs.Select(i => i.Value)];
            outputNames = [.. outputs.Select(o => o.Name)];
            outputValues = [.. outputs.Select(o => o.Value)];
            if (changing is null)
            {
                return;
            }

            var runtime = graph._runtime;
            bool resident = graph._capturesGraphs || runtime.ResidentTensors;
            try
            {
                _binding = graph._session.CreateIoBinding();
                _bindingRunOptions = new RunOptions();
                if (graph._capturesGraphs)
                {
                    _bindingRunOptions.AddRunConfigEntry("gpu_graph_id", (++graph._graphIds).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                _changing = [.. inputs.Where(i => changing.Contains(i.Logical))];
                _changingHost = [.. _changing.Select(c => c.Value)];
                foreach (var (logical, name, value) in inputs.Where(i => !changing.Contains(i.Logical)))
                {
                    Bind(logical, name, value, output: false);
                }

                if (resident)
                {
                    _allocator = runtime.ExecutionProvider == "cuda"
                        ? new OrtAllocator(graph._session, new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, runtime.DeviceId, OrtMemType.Default))
                        : null;
                    _changingResident = [.. _changing.Select(c => Allocate(c.Value))];
                    _outputsResident = [.. outputs.Select(o => Allocate(o.Value))];
                    for (int k = 0; k < _changing.Length; k++)
                    {
                        Bind(_changing[k].Logical, _changing[k].Name, _changingResident[k], output: false);
                    }

                    for (int k = 0; k < outputs.Length; k++)
                    {
                        Bind(outputs[k].Logical, outputs[k].Name, _outputsResident[k], output: true);
                    }
                }
                else
                {
                    foreach (var (logical, name, value) in outputs)
                    {
                        Bind(logical, name, value, output: true);
                    }
                }
            }
            catch (OnnxRuntimeException e)
            {
                Dispose();
                throw graph.Failed(e);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>Whether the call runs through an IOBinding.</summary>
        internal bool Bound => _binding is not null;

        /// <summary>How often each input and output (by logical name) was bound so far.</summary>
        internal IReadOnlyDictionary<string, int> Binds => _binds;

        private OrtValue Allocate(OrtValue like)
        {
            var info = like.GetTensorTypeAndShape();
            return OrtValue.CreateAllocatedTensorValue(_allocator ?? OrtAllocator.DefaultInstance, info.ElementDataType, info.Shape);
        }

        private void Bind(string logical, string name, OrtValue value, bool output)
        {
            if (output)
            {
                _binding!.BindOutput(name, value);
            }
            else
            {
                _binding!.BindInput(name, value);
            }

            _binds[logical] = _binds.GetValueOrDefault(logical) + 1;
            graph._binds[logical] = graph._binds.GetValueOrDefault(logical) + 1;
        }

        /// <summary>Runs the graph on the call's tensors.</summary>
        public void Run()
        {
            graph._clock.Start();
            try
            {
                if (_binding is null)
                {
                    graph._session.Run(graph._runOptions, inputNames, inputValues, outputNames, outputValues);
                }
                else if (_changingResident is not null)
                {
                    bool cuda = _allocator is not null;
                    for (int k = 0; k < _changingHost.Length; k++)
                    {
                        DeviceCopy.Copy(_changingHost[k], _changingResident[k], cuda, toDevice: true);
                    }

                    graph._session.RunWithBinding(_bindingRunOptions!, _binding);
                    for (int k = 0; k < outputValues.Length; k++)
                    {
                        DeviceCopy.Copy(_outputsResident![k], outputValues[k], cuda, toDevice: false);
                    }
                }
                else
                {
                    foreach (var (logical, name, value) in _changing)
                    {
                        Bind(logical, name, value, output: false);
                    }

                    _binding.SynchronizeBoundInputs();
                    graph._session.RunWithBinding(_bindingRunOptions!, _binding);
                    _binding.SynchronizeBoundOutputs();
                }
            }
            catch (OnnxRuntimeException e)
            {
                throw graph.Failed(e);
            }
            finally
            {
                graph._clock.Stop();
            }
        }

        /// <summary>Releases the binding and the device tensors (the caller's tensors stay the caller's).</summary>
        public void Dispose()
        {
            foreach (var v in (_changingResident ?? []).Concat(_outputsResident ?? []))
            {
                v.Dispose();
            }

            _allocator?.Dispose();
            _binding?.Dispose();
            _bindingRunOptions?.Dispose();
        }
    }

    private InvalidDataException Failed(OnnxRuntimeException e)
    {
        string message = e.Message;
        int nl = message.IndexOf('\n', StringComparison.Ordinal);
        return new InvalidDataException($"{Component}: ONNX Runtime failed while running '{Path}': {(nl < 0 ? message : message[..nl]).Trim()}", e);
    }

    /// <summary>Releases the session.</summary>
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
