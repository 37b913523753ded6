using Microsoft.ML.OnnxRuntime;
using Stork.Models;
using Stork.Onnx;
using Stork.Pipelines.ImageInputs;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;

namespace Stork.Pipelines.Denoising;

/// <summary>
/// One input of a denoiser graph besides the latents and the timestep, as a family binds it for a run: values per batch
/// row (a prompt's states, stacked over the rows of a call), positions bound once, or one value filled in.
/// </summary>
internal sealed record DenoiserInput(string Name, float[]? Rows = null, long[]? Ids = null, double? Fill = null, long[]? ItemShape = null)
{
    /// <summary>One image's values of <paramref name="itemShape"/>; a call of B rows gets them stacked, [B, ..itemShape].</summary>
    public static DenoiserInput PerRow(string name, float[] values, long[] itemShape) => new(name, Rows: values, ItemShape: itemShape);

    /// <summary>Positions [N, 3] (or [1, N, 3] when the port has rank 3), the same for every row.</summary>
    public static DenoiserInput Positions(string name, long[] ids) => new(name, Ids: ids);

    /// <summary>
    /// <paramref name="value"/> everywhere: a scalar when the port has rank 0, else [B, ..<paramref name="itemShape"/>]
    /// (FLUX.1-dev's guidance, a mask of ones).
    /// </summary>
    public static DenoiserInput Filled(string name, double value, params long[] itemShape) => new(name, Fill: value, ItemShape: itemShape);
}

/// <summary>
/// A denoiser graph for one run as an <see cref="IDenoiser"/>: the latents of <c>Count</c> images in, the guided model
/// output out. Rows of the batch are (image, prompt) pairs: without guidance the positive prompt only; batched CFG
/// <c>[negative x Count, positive x Count]</c> in one batch (diffusers' SD pipelines); true CFG as two passes, positive
/// then negative (FLUX.1, Qwen-Image). A graph whose batch axis is fixed runs the rows in chunks of that size. The
/// inputs of each distinct call are bound once per run, the sample, timestep and output tensors reused every step, and
/// the two passes combined by <see cref="Guidance.Combine"/>.
/// </summary>
internal sealed class DenoiserRun : IDenoiser, IDisposable
{
    private readonly int _count;
    private readonly int _per;
    private readonly int _chunk;
    private readonly GuidanceKind _guidance;
    private readonly float _scale;
    private readonly double _timestepScale;
    private readonly GraphTensor _sample;
    private readonly GraphTensor _timestep;
    private readonly GraphTensor _output;
    private readonly GraphTensorSet _tensors = new();
    private readonly (OnnxGraph.Call Call, (int Image, int Prompt)[] Rows)[] _calls;
    private readonly float[] _chunkOut;
    private readonly SampleExtension? _extension;
    private readonly int _samplePer;
    private readonly int _outputPer;
    private readonly float[]? _joined;
    private readonly float[][] _passes;

    /// <param name="graph">The denoiser graph, its ports bound by the family.</param>
    /// <param name="sample">Logical name of the latent input.</param>
    /// <param name="output">Logical name of the output.</param>
    /// <param name="model">What the graph predicts, on which schedule.</param>
    /// <param name="count">Images in the run.</param>
    /// <param name="sampleShape">One image's latents ([C, h, w], or packed [S, 4C]).</param>
    /// <param name="shared">Inputs the same for both prompts (positions, embedded guidance).</param>
    /// <param name="prompts">The positive prompt's inputs and, with guidance, the negative prompt's.</param>
    /// <param name="guidance">How the two prompts combine (ignored with one prompt).</param>
    /// <param name="scale">The guidance scale of <paramref name="guidance"/>.</param>
    /// <param name="timestepScale">What the solver's time is multiplied by before the cast to the graph's dtype.</param>
    /// <param name="extension">
    /// Values joined to every image's latents before the graph sees them (image inputs: the 9-channel UNet's mask and
    /// masked-image latents, FLUX.1 Fill's and Control's features, Kontext's reference tokens), or null.
    /// </param>
    public DenoiserRun(OnnxGraph graph, string sample, string output, ModelSpec model, int count, int[] sampleShape,
        IReadOnlyList<DenoiserInput> shared, IReadOnlyList<IReadOnlyList<DenoiserInput>> prompts, GuidanceKind guidance, double scale, double timestepScale,
        SampleExtension? extension = null)
    {
        Prediction = model.Prediction;
        Schedule = model.Schedule;
        SampleShape = sampleShape;
        _count = count;
        _per = sampleShape.Aggregate(1, (a, b) => checked(a * b));
        _guidance = prompts.Count > 1 ? guidance : GuidanceKind.None;
        _scale = (float)scale;
        _timestepScale = timestepScale;
        bool batched = _guidance == GuidanceKind.BatchedCfg;
        int batch = batched ? 2 * count : count;
        var samplePort = graph.Input(sample);
        _chunk = samplePort.Fixed(0) ?? batch;
        if (batch % _chunk != 0)
        {
            throw new InvalidDataException(
                $"{graph.Component}: the graph takes batches of {_chunk}; the run has {batch} ({count} image(s){(batched ? " x 2 for guidance" : "")}).");
        }

        long[] chunkShape = [_chunk, .. sampleShape.Select(d => (long)d)];
        _extension = extension;
        int[] graphShape = extension?.Extend(sampleShape) ?? sampleShape;
        _samplePer = graphShape.Aggregate(1, (a, b) => checked(a * b));
        _outputPer = extension is { CutOutput: true } ? _samplePer : _per;
        _joined = extension is null ? null : new float[_samplePer];
        _sample = _tensors.Create(samplePort.ElementType, [_chunk, .. graphShape.Select(d => (long)d)]);
        var t = graph.Input("timestep");
        long[] tShape = t.Rank == 0 ? [] : [t.Fixed(0) ?? _chunk];
        if (t.Rank == 1 && tShape[0] != 1 && tShape[0] != _chunk)
        {
            throw new InvalidDataException($"{graph.Component}: timestep {t.Describe()} fits neither one value nor the batch of {_chunk}.");
        }

        _timestep = _tensors.Create(t.ElementType, tShape);
        _output = _tensors.Create(graph.Output(output).ElementType, extension is { CutOutput: true } ? [_chunk, .. graphShape.Select(d => (long)d)] : chunkShape);
        _chunkOut = new float[_chunk * _outputPer];
        _passes = [.. prompts.Select(_ => new float[count * _per])];

        var sharedValues = shared.Select(i => (i.Name, Bind(graph, i, new int[_chunk], [shared]).Value)).ToList();
        var prepared = new Dictionary<string, OnnxGraph.Call>(StringComparer.Ordinal);
        _calls = [.. Plan(count, _chunk, _guidance, prompts.Count).Select(rows =>
        {
            string key = string.Join(",", rows.Select(r => r.Prompt));
            if (!prepared.TryGetValue(key, out var call))
            {
                var inputs = new List<(string, OrtValue)> { (sample, _sample.Value), ("timestep", _timestep.Value) };
                inputs.AddRange(sharedValues);
                int[] rowPrompts = [.. rows.Select(r => r.Prompt)];
                foreach (var input in prompts[rows[0].Prompt])
                {
                    inputs.Add((input.Name, Bind(graph, input, rowPrompts, prompts).Value));
                }

                // The latents and the timestep change every call; the rest is bound once for the run (IOBinding).
                call = graph.Prepare(inputs, [(output, _output.Value)], [sample, "timestep"]);
                prepared[key] = call;
            }

            return (call, rows);
        })];
    }

    public Prediction Prediction { get; }

    public NoiseSchedule Schedule { get; }

    public IReadOnlyList<int> SampleShape { get; }

    /// <summary>
    /// The calls of a step, each a list of (image, prompt) rows (prompt 0 positive, 1 negative): batched CFG stacks
    /// <c>[negative x count, positive x count]</c> and cuts it into chunks; true CFG runs each chunk of images with the
    /// positive, then the negative prompt.
    /// </summary>
    private static List<(int Image, int Prompt)[]> Plan(int count, int chunk, GuidanceKind guidance, int prompts)
    {
        var calls = new List<(int, int)[]>();
        if (guidance == GuidanceKind.BatchedCfg)
        {
            (int, int)[] rows = [.. Enumerable.Range(0, count).Select(k => (k, 1)), .. Enumerable.Range(0, count).Select(k => (k, 0))];
            calls.AddRange(rows.Chunk(chunk));
            return calls;
        }

        for (int start = 0; start < count; start += chunk)
        {
            for (int p = 0; p < prompts; p++)
            {
                calls.Add([.. Enumerable.Range(start, chunk).Select(k => (k, p))]);
            }
        }

        return calls;
    }

    /// <summary>Creates the tensor of one input for a call whose rows take the prompts <paramref name="rowPrompts"/>.</summary>
    private GraphTensor Bind(OnnxGraph graph, DenoiserInput input, int[] rowPrompts, IReadOnlyList<IReadOnlyList<DenoiserInput>> prompts)
    {
        var port = graph.Input(input.Name);
        if (input.Ids is { } ids)
        {
            return _tensors.Positions(port, ids, ids.Length / 3);
        }

        long[] item = input.ItemShape ?? [];
        if (input.Fill is { } value)
        {
            var filled = _tensors.Create(port.ElementType, port.Rank == 0 ? [] : [rowPrompts.Length, .. item]);
            filled.Fill(value);
            return filled;
        }

        int itemLength = (int)item.Aggregate(1L, (a, b) => a * b);
        var values = new float[rowPrompts.Length * itemLength];
        for (int k = 0; k < rowPrompts.Length; k++)
        {
            var own = prompts[rowPrompts[k]].FirstOrDefault(i => i.Name == input.Name);
            if (own?.Rows is not { } rows || rows.Length != itemLength)
            {
                throw new InvalidDataException($"{graph.Component}: {input.Name} holds the wrong number of values for [{string.Join(", ", item)}].");
            }

            rows.CopyTo(values, k * itemLength);
        }

        var tensor = _tensors.Create(port.ElementType, [rowPrompts.Length, .. item]);
        tensor.SetFloats(values);
        return tensor;
    }

    /// <summary>The (guided) model output for the latents of every image at the solver's <paramref name="time"/>.</summary>
    public void Predict(ReadOnlySpan<float> samples, double time, Span<float> output)
    {
        if (samples.Length != _count * _per || output.Length != samples.Length)
        {
            throw new ArgumentException($"the denoiser takes {_count} latents of {_per} values.");
        }

        _timestep.Fill(time * _timestepScale);
        foreach (var (call, rows) in _calls)
        {
            for (int k = 0; k < rows.Length; k++)
            {
                var latents = samples.Slice(rows[k].Image * _per, _per);
                if (_extension is { } e)
                {
                    e.Join(latents, SampleShape, _joined!);
                    _sample.SetSlice(k * _samplePer, _joined!);
                }
                else
                {
                    _sample.SetSlice(k * _per, latents);
                }
            }

            call.Run();
            _output.CopyTo(_chunkOut);
            for (int k = 0; k < rows.Length; k++)
            {
                _chunkOut.AsSpan(k * _outputPer, _per).CopyTo(_passes[rows[k].Prompt].AsSpan(rows[k].Image * _per));
            }
        }

        if (_guidance == GuidanceKind.None)
        {
            _passes[0].CopyTo(output);
            return;
        }

        Guidance.Combine(_guidance, _passes[0], _passes[1], _scale, SampleShape[^1], output);
    }

    /// <summary>The distinct prepared calls of a step (tests count their binds).</summary>
    internal IEnumerable<OnnxGraph.Call> Calls => _calls.Select(c => c.Call).Distinct();

    public void Dispose()
    {
        foreach (var call in Calls)
        {
            call.Dispose();
        }

        _tensors.Dispose();
    }
}
