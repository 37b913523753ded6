using Stork.Models;
using Stork.Onnx;
using Stork.Pipelines.Onnx;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Pipelines.QwenImage;

/// <summary>
/// Qwen-Image's transformer graph (<c>QwenImageTransformer2DModel</c> with positions as inputs): <c>hidden_states</c>
/// [B, S, 64], <c>encoder_hidden_states</c> [B, T, D], <c>encoder_hidden_states_mask</c> [B, T], <c>timestep</c> [B]
/// (sigma), <c>img_ids</c> [S, 3], <c>txt_ids</c> [T, 3] in; <c>out_hidden_states</c> [B, S, 64] out.
/// </summary>
internal sealed class QwenImageTransformer : IDisposable
{
    private static readonly string[] InputNames =
        ["hidden_states", "encoder_hidden_states", "encoder_hidden_states_mask", "timestep", "img_ids", "txt_ids"];

    private readonly OnnxGraph _graph;

    public QwenImageTransformer(ModelFolder folder, OnnxRuntimeOptions runtime)
    {
        var config = folder.Config("transformer");
        InChannels = config.Int("in_channels", 64);
        JointAttentionDim = config.Int("joint_attention_dim", 3584);
        if (InChannels < 4 || InChannels % 4 != 0)
        {
            throw new InvalidDataException($"'{config.Path}': in_channels must be a positive multiple of 4 (got {InChannels}).");
        }

        if (config.Bool("guidance_embeds", false))
        {
            throw new InvalidDataException($"'{config.Path}': guidance_embeds is true; the Qwen-Image graph layout has no guidance input.");
        }

        _graph = OnnxGraph.Open("transformer", folder.Graph("transformer"), runtime, [.. InputNames.Select(n => PortSpec.Of(n))],
            [PortSpec.Of("out_hidden_states", "sample", "out_sample")]);
        FlowTransformerPorts.RequireFloat(_graph.Input("hidden_states"), 3, InChannels);
        FlowTransformerPorts.RequireFloat(_graph.Input("encoder_hidden_states"), 3, JointAttentionDim);
        FlowTransformerPorts.RequireFloat(_graph.Output("out_hidden_states"), 3, InChannels);
        var mask = _graph.Input("encoder_hidden_states_mask");
        if (mask.Rank != 2)
        {
            throw new InvalidDataException($"transformer: input {mask.Describe()} is not a mask [B, T].");
        }

        FlowTransformerPorts.RequireTimestepAndPositions(_graph);
    }

    /// <summary>Packed channels (4 x latent channels).</summary>
    public int InChannels { get; }

    /// <summary>The text hidden size the transformer takes.</summary>
    public int JointAttentionDim { get; }

    public TimeSpan RunTime => _graph.RunTime;

    /// <summary>
    /// A denoiser for one run of <paramref name="batch"/> images. With <paramref name="negative"/> each evaluation is
    /// two passes, combined as diffusers' true CFG: <c>comb = neg + s (cond - neg)</c>, rescaled per token to the
    /// norm of <c>cond</c>.
    /// </summary>
    public Run Begin(int batch, int latentHeight, int latentWidth, PromptEmbedding prompt, PromptEmbedding? negative, double trueCfgScale) =>
        new(this, batch, latentHeight, latentWidth, prompt, negative, trueCfgScale);

    public void Dispose() => _graph.Dispose();

    /// <summary>One prompt's kept hidden states [T, D].</summary>
    internal sealed record PromptEmbedding(float[] States, int Length);

    /// <summary>Qwen-Image as an <see cref="IDenoiser"/>: packed latents [S, 4C] per image, the time is sigma.</summary>
    internal sealed class Run : IDenoiser, IDisposable
    {
        private readonly int _chunk;
        private readonly int _tokens;
        private readonly int _c4;
        private readonly float _trueCfg;
        private readonly GraphTensor _hidden;
        private readonly GraphTensor _timestep;
        private readonly GraphTensor _output;
        private readonly GraphTensorSet _tensors = new();
        private readonly OnnxGraph.Call _cond;
        private readonly OnnxGraph.Call? _uncond;
        private readonly float[] _condOut;
        private readonly float[]? _uncondOut;

        internal Run(QwenImageTransformer owner, int batch, int latentHeight, int latentWidth, PromptEmbedding prompt, PromptEmbedding? negative,
            double trueCfgScale)
        {
            var g = owner._graph;
            _tokens = latentHeight / 2 * (latentWidth / 2);
            _c4 = owner.InChannels;
            SampleShape = [_tokens, _c4];
            _chunk = g.Input("hidden_states").Fixed(0) ?? batch;
            if (batch % _chunk != 0)
            {
                throw new InvalidDataException($"transformer: the graph takes batches of {_chunk}, the run has {batch} images.");
            }

            _trueCfg = (float)trueCfgScale;
            int width = owner.JointAttentionDim;
            _hidden = _tensors.Create(g.Input("hidden_states").ElementType, [_chunk, _tokens, _c4]);
            _timestep = _tensors.Create(g.Input("timestep").ElementType, g.Input("timestep").Rank == 0 ? [] : [_chunk]);
            _output = _tensors.Create(g.Output("out_hidden_states").ElementType, [_chunk, _tokens, _c4]);
            var imgIds = _tensors.Positions(g.Input("img_ids"), QwenImagePositions.ImageIds(latentHeight, latentWidth), _tokens);

            _cond = Prepare(prompt);
            _condOut = new float[_chunk * _tokens * _c4];
            if (negative is not null)
            {
                _uncond = Prepare(negative);
                _uncondOut = new float[_condOut.Length];
            }

            OnnxGraph.Call Prepare(PromptEmbedding p)
            {
                if (p.States.Length != p.Length * width)
                {
                    throw new InvalidDataException(
                        $"the text encoder gives states of width {p.States.Length / Math.Max(1, p.Length)}; the transformer's joint_attention_dim is {width}.");
                }

                var states = _tensors.Repeated(g.Input("encoder_hidden_states").ElementType, [_chunk, p.Length, width], p.States);
                var mask = _tensors.Create(g.Input("encoder_hidden_states_mask").ElementType, [_chunk, p.Length]);
                long[] ones = new long[_chunk * p.Length];
                Array.Fill(ones, 1L);
                if (mask.IsFloat)
                {
                    mask.Fill(1.0);
                }
                else
                {
                    mask.SetIntegers(ones);
                }

                var txtIds = _tensors.Positions(g.Input("txt_ids"), QwenImagePositions.TextIds(p.Length, latentHeight, latentWidth), p.Length);
                return g.Prepare(
                    [
                        ("hidden_states", _hidden.Value),
                        ("encoder_hidden_states", states.Value),
                        ("encoder_hidden_states_mask", mask.Value),
                        ("timestep", _timestep.Value),
                        ("img_ids", imgIds.Value),
                        ("txt_ids", txtIds.Value),
                    ],
                    [("out_hidden_states", _output.Value)]);
            }
        }

        public Prediction Prediction => Prediction.FlowVelocity;

        public NoiseSchedule Schedule => RectifiedFlowSchedule.Instance;

        public IReadOnlyList<int> SampleShape { get; }


        public void Predict(ReadOnlySpan<float> samples, double time, Span<float> output)
        {
            int per = _chunk * _tokens * _c4;
            if (samples.Length % per != 0 || output.Length != samples.Length)
            {
                throw new ArgumentException($"the transformer takes whole batches of {_chunk} packed latents [{_tokens}, {_c4}].");
            }

            // diffusers: timestep = t / 1000 with t = sigma * 1000, cast to the graph's dtype; the time is sigma.
            _timestep.Fill(time);
            for (int start = 0; start < samples.Length; start += per)
            {
                _hidden.SetFloats(samples.Slice(start, per));
                _cond.Run();
                var dst = output.Slice(start, per);
                if (_uncond is null)
                {
                    _output.CopyTo(dst);
                    continue;
                }

                _output.CopyTo(_condOut);
                _uncond.Run();
                _output.CopyTo(_uncondOut);
                TrueCfg.Combine(_condOut, _uncondOut, _trueCfg, _c4, dst);
            }
        }

        public void Dispose()
        {
            _tensors.Dispose();
        }
    }
}
