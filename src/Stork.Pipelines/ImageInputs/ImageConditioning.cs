using Stork.Imaging;
using Stork.Pipelines.Flux;
using Stork.Solvers;

namespace Stork.Pipelines.ImageInputs;

/// <summary>What an image-input run does besides text-to-image (diffusers' pipeline class for it).</summary>
internal enum ImageTask
{
    /// <summary>No image: text-to-image.</summary>
    None,

    /// <summary>Img2Img: the noised image latents at the strength's first step.</summary>
    Img2Img,

    /// <summary>Inpaint on a plain folder: as Img2Img, and after every step the known part re-noised and blended back.</summary>
    Inpaint,

    /// <summary>SD's 9-channel inpainting UNet: [latents ‖ mask ‖ masked-image latents], no blend.</summary>
    InpaintNineChannel,

    /// <summary>FLUX.1 Fill: [latents ‖ masked-image latents ‖ mask blocks] per token (384 features).</summary>
    Fill,

    /// <summary>FLUX.1 Kontext: the reference image's tokens after the noise tokens, with first position coordinate 1.</summary>
    Kontext,

    /// <summary>FLUX.1 Control (Canny, Depth): the control image's latents after the latents' features (128).</summary>
    Control,
}

/// <summary>The image inputs of a request, read and checked.</summary>
/// <param name="Image">The input image (Img2Img, Inpaint, Fill; Kontext's reference image).</param>
/// <param name="Mask">The mask, white = repaint.</param>
/// <param name="Control">FLUX.1 Control's control image.</param>
/// <param name="Strength">The strength, or null for the pipeline's default.</param>
internal sealed record ImageInputSet(Raster? Image, Raster? Mask, Raster? Control, double? Strength);

/// <summary>
/// What the image inputs change in a run, prepared where diffusers' <c>prepare_latents</c> runs: the solver started at
/// the strength's first step, the initial latents (the image latents noised by the scheduler's rule, or the noise), the
/// per-step inpainting blend, the extra denoiser inputs and, for Kontext, the reference image's positions.
/// </summary>
internal sealed class ImageConditioning
{
    private float[]? _known;
    private float[]? _noise;
    private float[]? _mask;
    private Func<double, double>? _alpha;
    private Func<double, double>? _sigma;
    private bool _flow;
    private bool _veState;
    private float[]? _blendBuffer;

    /// <summary>The solver of the run (started at the strength's first step).</summary>
    public required ISolver Solver { get; init; }

    /// <summary>The first step of the full grid that runs (t_start, times the solver's order as diffusers slices).</summary>
    public int Begin { get; init; }

    /// <summary>The steps that run (<c>N - t_start</c>; all N for Kontext and Control).</summary>
    public required int StepsRun { get; init; }

    /// <summary>The initial latents of every image, in the family's layout.</summary>
    public required float[] Initial { get; init; }

    /// <summary>Extra denoiser sample values (Fill, Control, Kontext, the 9-channel UNet), or null.</summary>
    public SampleExtension? Extension { get; init; }

    /// <summary>Kontext: the reference image's token positions, appended to <c>img_ids</c>.</summary>
    public long[]? ExtraImageIds { get; init; }

    /// <summary>True when <see cref="Blend"/> changes the latents after each step (inpainting on a plain folder).</summary>
    public bool Blends => _mask is not null;

    /// <summary>
    /// The inpainting blend after step <paramref name="step"/> of the run: <c>(1 - m) · known_t + m · latents</c>, the
    /// image latents re-noised with the run's noise to the next evaluation time (unnoised after the last step).
    /// </summary>
    public void Blend(int step, Span<float> latents)
    {
        if (_mask is null)
        {
            return;
        }

        var times = Solver.Times;
        ReadOnlySpan<float> known = _known;
        if (step < times.Count - 1)
        {
            _blendBuffer ??= new float[latents.Length];
            Mix(_known!, _noise!, times[step + 1], _blendBuffer);
            known = _blendBuffer;
        }

        NoiseMixing.Blend(latents, known, _mask);
    }

    private void Mix(ReadOnlySpan<float> x0, ReadOnlySpan<float> noise, double t, Span<float> destination)
    {
        if (_flow)
        {
            NoiseMixing.Flow(x0, noise, t, destination);
        }
        else
        {
            double alpha = _alpha!(t);
            NoiseMixing.Vp(x0, noise, alpha, _sigma!(t), _veState ? 1.0 / alpha : 1.0, destination);
        }
    }

    /// <summary>What the pipeline needs to know about the family for <see cref="Prepare"/>.</summary>
    /// <param name="Packed">FLUX.1's packed latents.</param>
    /// <param name="Channels">Latent channels (unpacked).</param>
    /// <param name="Rounding">How the family rounds a strength.</param>
    /// <param name="Flow">A flow model (<c>scale_noise</c>) or a noise model (<c>add_noise</c>).</param>
    /// <param name="Alpha">α(t) of the model's schedule.</param>
    /// <param name="Sigma">σ(t) of the model's schedule.</param>
    /// <param name="InitialNoiseScale">diffusers' <c>init_noise_sigma</c> in the solver's state (not 1: the solver keeps x / α, as Euler).</param>
    public sealed record FamilyTraits(bool Packed, int Channels, StrengthRounding Rounding, bool Flow, Func<double, double> Alpha, Func<double, double> Sigma,
        double InitialNoiseScale);

    /// <summary>
    /// Prepares a run of <paramref name="task"/> on <paramref name="count"/> images of <paramref name="height"/> x
    /// <paramref name="width"/> from <paramref name="noise"/> (the Gaussian noise diffusers draws, in the family's
    /// layout, <paramref name="count"/> images) and the full-grid <paramref name="solver"/>.
    /// </summary>
    public static ImageConditioning Prepare(ImageTask task, ImageInputSet inputs, VaeEncoder? encoder, FamilyTraits family, int height, int width, int count,
        float[] noise, ISolver solver, int steps)
    {
        int f = encoder?.ScaleFactor ?? 8;
        int h = height / f, w = width / f;
        int per = family.Channels * h * w;
        if (noise.Length != count * per)
        {
            throw new ArgumentException($"the noise holds {noise.Length} values; {count} image(s) of {family.Channels} x {h} x {w} need {count * per}.");
        }

        float[] Latents(float[] chw, int ih, int iw)
        {
            var z = encoder!.Encode(chw, ih, iw);
            if (!family.Packed)
            {
                return z;
            }

            var packed = new float[z.Length];
            FluxLatents.Pack(z, encoder.LatentChannels, ih / f, iw / f, packed);
            return packed;
        }

        float[] Repeat(float[] one)
        {
            var all = new float[one.Length * count];
            for (int k = 0; k < count; k++)
            {
                one.CopyTo(all, k * one.Length);
            }

            return all;
        }

        switch (task)
        {
            case ImageTask.Kontext:
                {
                    // The reference image at its own size (the caller resized it already), tokens and positions (1, row, col).
                    var image = inputs.Image!;
                    int ih = image.Height, iw = image.Width;
                    var tokens = Latents(ImageProcessor.Normalize(image, ih, iw), ih, iw);
                    var ids = FluxLatents.ImageIds(ih / f, iw / f);
                    for (int k = 0; k < ids.Length; k += 3)
                    {
                        ids[k] = 1;
                    }

                    return new ImageConditioning
                    {
                        Solver = solver,
                        StepsRun = steps,
                        Initial = (float[])noise.Clone(),
                        Extension = new SampleExtension(tokens, [ih / f / 2 * (iw / f / 2), encoder!.LatentChannels * 4], 0, CutOutput: true),
                        ExtraImageIds = ids,
                    };
                }

            case ImageTask.Control:
                {
                    var control = Latents(ImageProcessor.Normalize(inputs.Control!, height, width), height, width);
                    return new ImageConditioning
                    {
                        Solver = solver,
                        StepsRun = steps,
                        Initial = (float[])noise.Clone(),
                        Extension = new SampleExtension(control, [h / 2 * (w / 2), family.Channels * 4], 1, CutOutput: false),
                    };
                }
        }

        double strength = inputs.Strength ?? 1.0;
        // diffusers slices timesteps[t_start * order:]: Heun lists each inner time twice (2N - 1 evaluations).
        int order = solver.Times.Count > steps ? 2 : 1;
        int start = Strength.StartIndex(steps, strength, family.Rounding);
        int begin = start * order;
        var run = begin == 0 ? solver : new SolverFromIndex(solver, begin);
        if (begin == 0)
        {
            solver.Reset();
        }

        double t0 = run.Times[0];
        var chw = ImageProcessor.Normalize(inputs.Image!, height, width);
        float[]? mask = inputs.Mask is { } m ? ImageProcessor.BinaryMask(m, height, width) : null;
        bool nineChannel = task == ImageTask.InpaintNineChannel;

        // SD's 9-channel UNet at strength 1 never encodes the image itself (return_image_latents is False).
        float[]? x0 = nineChannel && strength == 1.0 ? null : Repeat(Latents(chw, height, width));
        var initial = new float[noise.Length];
        var conditioning = new ImageConditioning
        {
            Solver = run,
            Begin = begin,
            StepsRun = steps - start,
            Initial = initial,
            Extension = task switch
            {
                ImageTask.InpaintNineChannel => NineChannel(encoder!, chw, mask!, height, width, f),
                ImageTask.Fill => Fill(encoder!, chw, mask!, height, width, f),
                _ => null,
            },
        };
        conditioning._flow = family.Flow;
        conditioning._alpha = family.Alpha;
        conditioning._sigma = family.Sigma;
        conditioning._veState = family.InitialNoiseScale != 1.0;

        bool fromNoise = !family.Flow && strength == 1.0 && task is ImageTask.Inpaint or ImageTask.InpaintNineChannel;
        if (fromNoise)
        {
            // SD inpainting at strength 1 (is_strength_max): the noise times init_noise_sigma.
            float s = (float)family.InitialNoiseScale;
            for (int i = 0; i < initial.Length; i++)
            {
                initial[i] = noise[i] * s;
            }
        }
        else
        {
            conditioning.Mix(x0!, noise, t0, initial);
        }

        if (task == ImageTask.Inpaint)
        {
            var small = ImageProcessor.Nearest(mask!, height, width, h, w);
            var perImage = new float[per];
            if (family.Packed)
            {
                var channels = new float[per];
                for (int c = 0; c < family.Channels; c++)
                {
                    small.CopyTo(channels, c * h * w);
                }

                FluxLatents.Pack(channels, family.Channels, h, w, perImage);
            }
            else
            {
                for (int c = 0; c < family.Channels; c++)
                {
                    small.CopyTo(perImage, c * h * w);
                }
            }

            conditioning._mask = Repeat(perImage);
            conditioning._known = x0;
            conditioning._noise = noise;
        }

        return conditioning;
    }

    /// <summary>The 9-channel UNet's extra channels: the nearest-downsampled mask, then the masked image's latents.</summary>
    private static SampleExtension NineChannel(VaeEncoder encoder, float[] chw, float[] mask, int height, int width, int f)
    {
        int h = height / f, w = width / f;
        var masked = encoder.Encode(ImageProcessor.MaskedImage(chw, mask), height, width);
        var small = ImageProcessor.Nearest(mask, height, width, h, w);
        return new SampleExtension([.. small, .. masked], [1 + encoder.LatentChannels, h, w], 0, CutOutput: false);
    }

    /// <summary>FLUX.1 Fill's extra features per token: the masked image's packed latents, then the packed mask blocks.</summary>
    private static SampleExtension Fill(VaeEncoder encoder, float[] chw, float[] mask, int height, int width, int f)
    {
        int h = height / f, w = width / f, tokens = h / 2 * (w / 2);
        int c = encoder.LatentChannels;
        var masked = encoder.Encode(ImageProcessor.MaskedImage(chw, mask), height, width);
        var maskedPacked = new float[masked.Length];
        FluxLatents.Pack(masked, c, h, w, maskedPacked);
        var blocks = ImageProcessor.BlockChannels(mask, h, w, f);
        var blocksPacked = new float[blocks.Length];
        FluxLatents.Pack(blocks, f * f, h, w, blocksPacked);
        int a = 4 * c, b = 4 * f * f;
        var values = new float[tokens * (a + b)];
        for (int t = 0; t < tokens; t++)
        {
            maskedPacked.AsSpan(t * a, a).CopyTo(values.AsSpan(t * (a + b)));
            blocksPacked.AsSpan(t * b, b).CopyTo(values.AsSpan((t * (a + b)) + a));
        }

        return new SampleExtension(values, [tokens, a + b], 1, CutOutput: false);
    }
}
