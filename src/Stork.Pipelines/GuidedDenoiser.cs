using Microsoft.ML.OnnxRuntime;
using Stork.Pipelines.Onnx;

namespace Stork.Pipelines;

/// <summary>
/// A UNet or SD3 transformer run with diffusers' batched classifier-free guidance: the batch is
/// <c>[negative x Count, positive x Count]</c> (as the pipelines concatenate it), the output combined as
/// <c>uncond + g (cond - uncond)</c>. Without guidance the batch is the positive half alone. A graph whose batch axis
/// is fixed (1, or 2) runs the batch in chunks of that size. The conditioning inputs are bound once per run; the
/// sample, timestep and output tensors are reused every step, so a step allocates nothing.
/// </summary>
internal sealed class GuidedDenoiser : IDisposable
{
    private readonly int _count;
    private readonly int _per;
    private readonly int _chunk;
    private readonly bool _guided;
    private readonly double _guidance;
    private readonly double _timestepScale;
    private readonly GraphTensor _sample;
    private readonly GraphTensor _timestep;
    private readonly GraphTensor _output;
    private readonly GraphTensorSet _tensors = new();
    private readonly OnnxGraph.Call[] _calls;
    private readonly float[] _all;

    /// <summary>One conditioning input: its value for one image, of the positive and (with guidance) the negative prompt.</summary>
    internal sealed record Condition(string Logical, float[] Positive, float[]? Negative, long[] ItemShape);

    /// <param name="graph">The denoiser graph with its sample, timestep, output and conditioning ports bound.</param>
    /// <param name="sample">Logical name of the latent input ([B, C, h, w]).</param>
    /// <param name="output">Logical name of the output.</param>
    /// <param name="count">Images in the run.</param>
    /// <param name="sampleShape">One image's latents [C, h, w].</param>
    /// <param name="conditions">The prompt inputs.</param>
    /// <param name="guidance">guidance_scale; guidance runs when it is above 1 (diffusers' do_classifier_free_guidance).</param>
    /// <param name="timestepScale">What the solver's time is multiplied by before the cast to the graph's dtype.</param>
    public GuidedDenoiser(OnnxGraph graph, string sample, string output, int count, int[] sampleShape, IReadOnlyList<Condition> conditions,
        double guidance, double timestepScale)
    {
        _count = count;
        _per = sampleShape.Aggregate(1, (a, b) => checked(a * b));
        _guided = guidance > 1;
        _guidance = guidance;
        _timestepScale = timestepScale;
        int batch = _guided ? 2 * count : count;
        var samplePort = graph.Input(sample);
        _chunk = samplePort.Fixed(0) ?? batch;
        if (batch % _chunk != 0)
        {
            throw new InvalidDataException(
                $"{graph.Component}: the graph takes batches of {_chunk}; the run has {batch} ({count} image(s){(_guided ? " x 2 for guidance" : "")}).");
        }

        long[] chunkShape = [_chunk, .. sampleShape.Select(d => (long)d)];
        _sample = _tensors.Create(samplePort.ElementType, chunkShape);
        var t = graph.Input("timestep");
        long[] tShape = t.Rank == 0 ? [] : [t.Fixed(0) ?? _chunk];
        if (t.Rank == 1 && tShape[0] != 1 && tShape[0] != _chunk)
        {
            throw new InvalidDataException($"{graph.Component}: timestep {t.Describe()} fits neither one value nor the batch of {_chunk}.");
        }

        _timestep = _tensors.Create(t.ElementType, tShape);
        _output = _tensors.Create(graph.Output(output).ElementType, chunkShape);
        _all = new float[batch * _per];
        _calls = new OnnxGraph.Call[batch / _chunk];
        for (int c = 0; c < _calls.Length; c++)
        {
            var inputs = new List<(string, OrtValue)> { (sample, _sample.Value), ("timestep", _timestep.Value) };
            foreach (var cond in conditions)
            {
                int itemLength = (int)cond.ItemShape.Aggregate(1L, (a, b) => a * b);
                if (cond.Positive.Length != itemLength || (_guided && cond.Negative?.Length != itemLength))
                {
                    throw new InvalidDataException($"{graph.Component}: {cond.Logical} holds the wrong number of values for [{string.Join(", ", cond.ItemShape)}].");
                }

                var tensor = _tensors.Create(graph.Input(cond.Logical).ElementType, [_chunk, .. cond.ItemShape]);
                var values = new float[_chunk * itemLength];
                for (int k = 0; k < _chunk; k++)
                {
                    int item = (c * _chunk) + k;
                    bool negative = _guided && item < count;
                    (negative ? cond.Negative! : cond.Positive).CopyTo(values, k * itemLength);
                }

                tensor.SetFloats(values);
                inputs.Add((cond.Logical, tensor.Value));
            }

            _calls[c] = graph.Prepare(inputs, [(output, _output.Value)]);
        }
    }


    /// <summary>The model output (guided) for the latents of every image at the solver's <paramref name="time"/>.</summary>
    public void Predict(ReadOnlySpan<float> latents, double time, Span<float> output)
    {
        if (latents.Length != _count * _per || output.Length != latents.Length)
        {
            throw new ArgumentException($"the denoiser takes {_count} latents of {_per} values.");
        }

        _timestep.Fill(time * _timestepScale);
        for (int c = 0; c < _calls.Length; c++)
        {
            for (int k = 0; k < _chunk; k++)
            {
                int image = ((c * _chunk) + k) % _count;
                _sample.SetSlice(k * _per, latents.Slice(image * _per, _per));
            }

            _calls[c].Run();
            _output.CopyTo(_all.AsSpan(c * _chunk * _per, _chunk * _per));
        }

        if (!_guided)
        {
            _all.AsSpan(0, output.Length).CopyTo(output);
            return;
        }

        // diffusers: noise_pred_uncond + guidance_scale * (noise_pred_text - noise_pred_uncond), in float32.
        float g = (float)_guidance;
        int n = _count * _per;
        for (int i = 0; i < n; i++)
        {
            float u = _all[i];
            output[i] = u + (g * (_all[n + i] - u));
        }
    }

    public void Dispose()
    {
        _tensors.Dispose();
    }
}
