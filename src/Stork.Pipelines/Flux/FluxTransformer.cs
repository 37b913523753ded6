using Stork.Models;
using Stork.Onnx;
using Stork.Pipelines.Onnx;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Pipelines.Flux;

/// <summary>
/// FLUX.1's transformer graph bound by name (Optimum's names; <c>out_hidden_states</c>, <c>sample</c> or <c>latent</c>
/// as the output; stored in <c>transformer/</c> or <c>unet/</c>), typed from its metadata, sized from its
/// <c>config.json</c>.
/// </summary>
internal sealed class FluxTransformer : IDisposable
{
    private readonly OnnxGraph _graph;

    public FluxTransformer(ModelFolder folder, OnnxRuntimeOptions runtime)
    {
        var config = folder.Config("transformer", "unet");
        InChannels = config.Int("in_channels", 64);
        GuidanceEmbeds = config.Bool("guidance_embeds", false);
        JointAttentionDim = config.Int("joint_attention_dim", 4096);
        PooledProjectionDim = config.Int("pooled_projection_dim", 768);
        if (InChannels < 4 || InChannels % 4 != 0)
        {
            throw new InvalidDataException($"'{config.Path}': in_channels must be a positive multiple of 4 (got {InChannels}).");
        }

        var inputs = new List<PortSpec>
        {
            PortSpec.Of("hidden_states"),
            PortSpec.Of("encoder_hidden_states"),
            PortSpec.Of("pooled_projections"),
            PortSpec.Of("timestep"),
            PortSpec.Of("img_ids"),
            PortSpec.Of("txt_ids"),
        };
        if (GuidanceEmbeds)
        {
            inputs.Add(PortSpec.Of("guidance"));
        }

        _graph = OnnxGraph.Open("transformer", folder.Graph("transformer", "unet"), runtime, inputs,
            [PortSpec.Of("out_hidden_states", "sample", "latent", "out_sample")]);
        FlowTransformerPorts.RequireFloat(_graph.Input("hidden_states"), 3, InChannels);
        FlowTransformerPorts.RequireFloat(_graph.Input("encoder_hidden_states"), 3, JointAttentionDim);
        FlowTransformerPorts.RequireFloat(_graph.Input("pooled_projections"), 2, PooledProjectionDim);
        FlowTransformerPorts.RequireFloat(_graph.Output("out_hidden_states"), 3, InChannels);
        FlowTransformerPorts.RequireTimestepAndPositions(_graph);

        if (GuidanceEmbeds && (_graph.Input("guidance") is var g) && (!g.IsFloat || g.Rank > 1))
        {
            throw new InvalidDataException($"transformer: input {g.Describe()} is not a float guidance of rank 0 or 1.");
        }
    }

    /// <summary>Packed channels (4 x latent channels).</summary>
    public int InChannels { get; }

    /// <summary>FLUX.1-dev: guidance is an input of the network.</summary>
    public bool GuidanceEmbeds { get; }

    public int JointAttentionDim { get; }

    public int PooledProjectionDim { get; }

    public TimeSpan RunTime => _graph.RunTime;

    /// <summary>
    /// A denoiser for one run: the prompt's embeddings bound once, the batch of <paramref name="batch"/> images.
    /// With <paramref name="negative"/> and <paramref name="trueCfgScale"/> &gt; 1 each evaluation is two passes
    /// combined as <c>neg + s (cond - neg)</c>.
    /// </summary>
    public Run Begin(int batch, int latentHeight, int latentWidth, PromptEmbedding prompt, PromptEmbedding? negative, double? guidance, double trueCfgScale) =>
        new(this, batch, latentHeight, latentWidth, prompt, negative, guidance, trueCfgScale);

    public void Dispose() => _graph.Dispose();

    /// <summary>The T5 states [L, D] and the CLIP pooled vector [P] of one prompt.</summary>
    internal sealed record PromptEmbedding(float[] States, int Length, float[] Pooled);

    /// <summary>FLUX.1 as an <see cref="IDenoiser"/>: packed latents [S, 4C] per image, the time is sigma.</summary>
    internal sealed class Run : IDenoiser, IDisposable
    {
        private readonly FluxTransformer _owner;
        private readonly int _chunk;
        private readonly int _tokens;
        private readonly double _trueCfg;
        private readonly GraphTensor _hidden;
        private readonly GraphTensor _timestep;
        private readonly GraphTensor? _guidance;
        private readonly GraphTensor _output;
        private readonly GraphTensorSet _tensors = new();
        private readonly OnnxGraph.Call _cond;
        private readonly OnnxGraph.Call? _uncond;
        private readonly float[]? _uncondOut;

        internal Run(FluxTransformer owner, int batch, int latentHeight, int latentWidth, PromptEmbedding prompt, PromptEmbedding? negative,
            double? guidance, double trueCfgScale)
        {
            _owner = owner;
            var g = owner._graph;
            _tokens = latentHeight / 2 * (latentWidth / 2);
            int c4 = owner.InChannels;
            SampleShape = [_tokens, c4];
            int? fixedBatch = g.Input("hidden_states").Fixed(0);
            _chunk = fixedBatch ?? batch;
            if (batch % _chunk != 0)
            {
                throw new InvalidDataException($"transformer: the graph takes batches of {_chunk}, the run has {batch} images.");
            }

            _trueCfg = trueCfgScale;
            int width = owner.JointAttentionDim;
            if (prompt.States.Length != prompt.Length * width || prompt.Pooled.Length != owner.PooledProjectionDim)
            {
                throw new InvalidDataException(
                    $"the text encoders give states of width {prompt.States.Length / Math.Max(1, prompt.Length)} and a pooled vector of {prompt.Pooled.Length}; the transformer's configuration expects {width} and {owner.PooledProjectionDim}.");
            }

            _hidden = _tensors.Create(g.Input("hidden_states").ElementType, [_chunk, _tokens, c4]);
            _timestep = _tensors.Create(g.Input("timestep").ElementType, g.Input("timestep").Rank == 0 ? [] : [_chunk]);
            _output = _tensors.Create(g.Output("out_hidden_states").ElementType, [_chunk, _tokens, c4]);
            var imgIds = _tensors.Positions(g.Input("img_ids"), FluxLatents.ImageIds(latentHeight, latentWidth), _tokens);
            var txtIds = _tensors.Positions(g.Input("txt_ids"), new long[prompt.Length * 3], prompt.Length);
            if (owner.GuidanceEmbeds)
            {
                var gp = g.Input("guidance");
                _guidance = _tensors.Create(gp.ElementType, gp.Rank == 0 ? [] : [_chunk]);
                _guidance.Fill(guidance ?? throw new ArgumentException("this FLUX.1 model embeds guidance: a guidance scale is needed."));
            }

            _cond = Prepare(prompt);
            if (negative is not null && trueCfgScale > 1)
            {
                _uncond = Prepare(negative);
                _uncondOut = new float[_chunk * _tokens * c4];
            }

            OnnxGraph.Call Prepare(PromptEmbedding p)
            {
                var states = _tensors.Repeated(g.Input("encoder_hidden_states").ElementType, [_chunk, p.Length, width], p.States);
                var pooled = _tensors.Repeated(g.Input("pooled_projections").ElementType, [_chunk, owner.PooledProjectionDim], p.Pooled);
                var inputs = new List<(string, Microsoft.ML.OnnxRuntime.OrtValue)>
                {
                    ("hidden_states", _hidden.Value),
                    ("encoder_hidden_states", states.Value),
                    ("pooled_projections", pooled.Value),
                    ("timestep", _timestep.Value),
                    ("img_ids", imgIds.Value),
                    ("txt_ids", txtIds.Value),
                };
                if (_guidance is not null)
                {
                    inputs.Add(("guidance", _guidance.Value));
                }

                return g.Prepare(inputs, [("out_hidden_states", _output.Value)]);
            }
        }

        public Prediction Prediction => Prediction.FlowVelocity;

        public NoiseSchedule Schedule => RectifiedFlowSchedule.Instance;

        public IReadOnlyList<int> SampleShape { get; }


        public void Predict(ReadOnlySpan<float> samples, double time, Span<float> output)
        {
            int per = _chunk * _tokens * SampleShape[1];
            if (samples.Length % per != 0 || output.Length != samples.Length)
            {
                throw new ArgumentException($"the transformer takes whole batches of {_chunk} packed latents [{_tokens}, {SampleShape[1]}].");
            }

            // diffusers: timestep = t / 1000 with t = sigma * 1000, cast to the graph's dtype; the time is sigma.
            _timestep.Fill(time);
            for (int start = 0; start < samples.Length; start += per)
            {
                _hidden.SetFloats(samples.Slice(start, per));
                _cond.Run();
                var dst = output.Slice(start, per);
                _output.CopyTo(dst);
                if (_uncond is null)
                {
                    continue;
                }

                // True CFG: neg + s (cond - neg), in place over the conditional output.
                _uncond.Run();
                _output.CopyTo(_uncondOut);
                float s = (float)_trueCfg;
                for (int i = 0; i < per; i++)
                {
                    float neg = _uncondOut![i];
                    dst[i] = neg + (s * (dst[i] - neg));
                }
            }
        }

        public void Dispose()
        {
            _tensors.Dispose();
        }
    }
}
