using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Stork.Imaging;
using Stork.IO;
using Stork.Pipelines;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;

namespace Stork.Cli;

/// <summary>
/// <c>stork generate</c>: text to image on a diffusers / Optimum ONNX model folder, in the spirit of mflux-generate.
/// </summary>
internal static class GenerateCommand
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string?>("--model") { Description = "Model folder in the diffusers / Optimum ONNX layout (model_index.json, one folder per component). Default: the shipped models/fashion-flux (Fashion-MNIST, 32 x 32 images, offline)." };
        var prompt = new Option<string?>("--prompt") { Description = "The prompt." };
        var promptFile = new Option<string?>("--prompt-file") { Description = "A UTF-8 text file of prompts, one per non-empty line (in place of --prompt)." };
        var negative = new Option<string?>("--negative-prompt") { Description = "Negative prompt (SD3, SD1.5/2.x, SDXL: used with --guidance above 1; FLUX.1: with --true-cfg above 1)." };
        var steps = new Option<int?>("--steps") { Description = "Denoising steps (num_inference_steps; default per family: FLUX.1-schnell 4, dev 28, SD3 28, SD1.5/2.x and SDXL 50, or the folder's _stork_defaults: fashion-flux 20)." };
        var scheduler = new Option<string?>("--scheduler") { Description = "Solver in place of the model's scheduler_config.json: " + string.Join(", ", SolverRegistry.Names) + "; it reads the model's scheduler_config.json as diffusers' from_config does (flow models: the pipeline's sigmas)." };
        var schedulerConfig = new Option<string?>("--scheduler-config") { Description = "A diffusers scheduler_config.json in place of the model's (a STORKScheduler configuration runs the authors' arithmetic unless --stork-variant says otherwise)." };
        var substeps = new Option<int?>("--substeps") { Description = "STORK: stabilised Runge-Kutta stages per step (s; default 50)." };
        var derivativeOrder = new Option<int?>("--derivative-order") { Description = "STORK: Taylor derivative order (1-2 upstream, 1-3 corrected; default 1 upstream, 2 corrected)." };
        var variant = new Option<string?>("--stork-variant") { Description = "STORK arithmetic: corrected (default with --scheduler) or upstream (default for a STORKScheduler configuration)." };
        var corrector = new Option<string?>("--corrector") { Description = "STORK (corrected, derivative order 1 or 2): re-integrate each step with the next model output (no extra evaluation): on, off or auto. Default in pipelines: off (not measured under guidance yet)." };
        var solverOrder = new Option<int?>("--solver-order") { Description = "Multistep solvers: order 1-3." };
        var uniPc = new Option<string?>("--unipc-variant") { Description = "UniPC: bh1 or bh2 (default bh2)." };
        var guidance = new Option<double?>("--guidance") { Description = "guidance_scale: classifier-free guidance for SD3 (default 7), SD1.5/2.x (7.5) and SDXL (5), off at 1 or below; FLUX.1-dev: embedded guidance, default 3.5; schnell has none." };
        var trueCfg = new Option<double?>("--true-cfg") { Description = "FLUX.1 true_cfg_scale: with a negative prompt and a value above 1, classifier-free guidance with two passes per step (default: off, or the folder's _stork_defaults; 1 turns it off)." };
        var height = new Option<int?>("--height") { Description = "Image height in pixels: a multiple of 16 for FLUX.1 and SD3, of 8 for SD1.5/2.x and SDXL (default: the family's, 1024 or 512/768, or the folder's _stork_defaults: fashion-flux 32; or from --latents)." };
        var width = new Option<int?>("--width") { Description = "Image width in pixels (as --height)." };
        var maxSequence = new Option<int?>("--max-sequence-length") { Description = "T5 tokens (default: FLUX.1-dev 512, schnell 256, SD3 256, or the folder's _stork_defaults: fashion-flux 32; at most 512); CLIP-only models take 77." };
        var seed = new Option<long?>("--seed") { Description = "Seed of image 0 (default 0); image k uses seed + k, so any image can be regenerated alone." };
        var count = new Option<int?>("--count") { Description = "Images per prompt (default 1, or the number of --latents)." };
        var latents = new Option<string?>("--latents") { Description = "Initial latents .npy (float32/64) in place of seeded noise: [N, C, h, w] as passed to diffusers' pipeline (before init_noise_sigma), Qwen-Image's [N, 16, 1, h, w], or the packed [N, S, 64] of FLUX.1 and Qwen-Image. With --image or --control-image: the Gaussian noise the pipeline draws (diffusers randn_tensor), same shapes." };
        var output = new Option<string>("--out")
        {
            Description = "Output: FILE.png (one PNG per image, numbered -0, -1, ... when there are several; prompt, seed, steps, scheduler and model in PNG text chunks) or FILE.npy (float32 [N, H, W, 3] in [0, 1]).",
            DefaultValueFactory = _ => "image.png",
        };
        var metadata = new Option<bool>("--metadata") { Description = "Also write the run's settings, seeds, timings and warnings as JSON beside the output (FILE.json)." };
        var keepLoaded = new Option<bool>("--keep-loaded") { Description = "Keep every component loaded between prompts of a --prompt-file (faster; peak memory is then the sum of the components, not the largest)." };
        var stepwise = new Option<string?>("--stepwise-dir") { Description = "Write the predicted clean image after every step into this folder (step-NNN-K.png)." };
        var shard = ShardSpec.CreateOption();
        var runtime = new RuntimeOptionSet();
        var imageInputs = new ImageInputOptionSet();

        var command = new Command("generate", "Text to image with a FLUX.1, SD3/3.5, SD1.5/2.x or SDXL ONNX model folder, any solver as the scheduler (STORK, Euler, DPM-Solver++, UniPC, ...).");
        Option[] all = [model, prompt, promptFile, negative, steps, scheduler, schedulerConfig, substeps, derivativeOrder, variant, corrector, solverOrder, uniPc,
            guidance, trueCfg, height, width, maxSequence, seed, count, latents, output, metadata, stepwise, keepLoaded, shard];
        foreach (var o in all.Concat(runtime.All).Concat(imageInputs.All))
        {
            command.Add(o);
        }

        command.SetAction((r, cancellationToken) =>
        {
            string outPath = r.GetValue(output)!;
            bool png = outPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
            if (!png && !outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"--out must end in .png or .npy (got '{outPath}').");
            }

            var prompts = ReadPrompts(r.GetValue(prompt), r.GetValue(promptFile));
            var choice = ResolveScheduler(r, scheduler, schedulerConfig, substeps, derivativeOrder, variant, corrector, solverOrder, uniPc);
            LatentsInput? initial = null;
            if (r.GetValue(latents) is { } latentsPath)
            {
                if (r.GetValue(seed) is not null)
                {
                    throw new CliException("give either --latents or --seed, not both.");
                }

                if (prompts.Count > 1)
                {
                    throw new CliException("--latents applies to one prompt; use --prompt.");
                }

                initial = ReadLatents(latentsPath);
            }

            var (inputImage, inputMask, controlImage, strength) = imageInputs.Read(r);
            string? stepDir = r.GetValue(stepwise);
            if (stepDir is not null && File.Exists(stepDir))
            {
                throw new CliException($"--stepwise-dir '{stepDir}' is a file.");
            }

            int perPrompt = r.GetValue(count) ?? (initial is { Shape.Length: > 0 } l ? l.Shape[0] : 1);
            if (perPrompt is < 1 or > 64)
            {
                throw new CliException($"--count must be 1 to 64 (got {perPrompt}).");
            }

            long totalImages = (long)perPrompt * prompts.Count;

            // Sharded runs: this process renders images [firstImage, firstImage + length) of the run (prompt-major, image k of
            // a prompt seeded seed + k as in a whole run); PNGs keep their global numbers, .npy and .json get the shard.
            var part = ShardSpec.Resolve(r.GetValue(shard), Environment.GetEnvironmentVariable);
            if (part.IsPartial && (initial is not null || stepDir is not null))
            {
                throw new CliException($"shard {part}: a sharded run cannot take --latents or --stepwise-dir.");
            }

            part.CheckCovers(totalImages, "image(s)");
            var (firstImage, length) = part.Block(totalImages);
            double pixels = (double)length * (r.GetValue(height) ?? 1024) * (r.GetValue(width) ?? 1024) * 3;
            MemoryBudget.Check(pixels * 4 * 2, "the images of this run", "--count, --height/--width or the number of prompts");
            var files = new OutputFiles();
            files.Input(r.GetValue(latents));
            files.Input(r.GetValue(promptFile));
            files.Input(r.GetValue(schedulerConfig));
            foreach (string? inputPath in imageInputs.Paths(r))
            {
                files.Input(inputPath);
            }

            var paths = png && totalImages > 1 ? Enumerable.Range((int)firstImage, (int)length).Select(i => NumberedPath(outPath, i)).ToList() : [part.Suffixed(outPath)];
            foreach (string path in paths)
            {
                files.Output(path, "--out");
            }

            string? metaPath = r.GetValue(metadata) ? part.Suffixed(Path.ChangeExtension(outPath, ".json")) : null;
            if (metaPath is not null)
            {
                files.Output(metaPath, "--metadata");
            }

            var options = new PipelineOptions { Runtime = runtime.Read(r), KeepLoaded = r.GetValue(keepLoaded) };
            using var pipeline = TextToImage.Load(r.GetValue(model) ?? ShippedModels.DefaultTextToImageFolder(), options);
            var results = new List<GenerationResult>();
            for (int p = 0; p < prompts.Count; p++)
            {
                long lo = Math.Max(firstImage - ((long)p * perPrompt), 0), hi = Math.Min(firstImage + length - ((long)p * perPrompt), perPrompt);
                if (hi <= lo)
                {
                    continue;
                }

                var request = new GenerationRequest
                {
                    Prompt = prompts[p],
                    NegativePrompt = r.GetValue(negative),
                    Steps = r.GetValue(steps),
                    GuidanceScale = r.GetValue(guidance),
                    TrueCfgScale = r.GetValue(trueCfg),
                    Height = r.GetValue(height),
                    Width = r.GetValue(width),
                    MaxSequenceLength = r.GetValue(maxSequence),
                    Seed = (r.GetValue(seed) ?? 0) + lo,
                    Count = part.IsPartial ? (int)(hi - lo) : r.GetValue(count),
                    Latents = initial,
                    Scheduler = choice,
                    Image = inputImage,
                    Mask = inputMask,
                    ControlImage = controlImage,
                    Strength = strength,
                    Stepwise = stepDir is null ? null : (step, images) => WriteStep(stepDir, prompts.Count > 1 ? p : null, step, images),
                };
                var result = Run(pipeline, request, stderr, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(pipeline.Folder.Root))} [{p + 1}/{prompts.Count}]", cancellationToken);
                foreach (string w in result.Warnings)
                {
                    stderr.WriteLine($"warning: {w}");
                }

                results.Add(result);
            }

            var written = Write(files, paths, png, results);
            if (metaPath is not null)
            {
                files.SetText(metaPath, Metadata(results, written));
                written.Add(metaPath);
            }

            files.Commit(cancellationToken);

            var first = results[0];
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {string.Join(", ", written)}: {results.Sum(x => x.Images.Count)} image(s) {first.Images.Width}x{first.Images.Height}, {first.Settings.Steps} steps ({first.Settings.Scheduler}), {results.Sum(x => x.Timings.Total.TotalSeconds):0.0} s."));
            return Task.FromResult(0);
        });
        return command;
    }

    private static List<string> ReadPrompts(string? prompt, string? file)
    {
        if ((prompt is null) == (file is null))
        {
            throw new CliException("give exactly one of --prompt and --prompt-file.");
        }

        if (prompt is not null)
        {
            return [prompt];
        }

        string text = InputFile.ReadAllText(file!, "prompt file", 16L << 20);
        var lines = text.Split(['\r', '\n']).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (lines.Count is 0 or > 100_000)
        {
            throw new CliException($"prompt file '{file}' must hold 1 to 100000 non-empty lines (has {lines.Count}).");
        }

        return lines;
    }

    private static SchedulerChoice? ResolveScheduler(ParseResult r, Option<string?> scheduler, Option<string?> config, Option<int?> substeps,
        Option<int?> derivativeOrder, Option<string?> variant, Option<string?> corrector, Option<int?> solverOrder, Option<string?> uniPc)
    {
        string? name = r.GetValue(scheduler);
        string? path = r.GetValue(config);
        if (name is not null && path is not null)
        {
            throw new CliException("give either --scheduler or --scheduler-config, not both.");
        }

        StorkVariant? storkVariant = r.GetValue(variant)?.ToLowerInvariant() switch
        {
            null => null,
            "upstream" => StorkVariant.Upstream,
            "corrected" => StorkVariant.Corrected,
            var v => throw new CliException($"--stork-variant must be upstream or corrected (got '{v}')."),
        };
        if (path is not null)
        {
            foreach (var o in (Option[])[substeps, derivativeOrder, corrector, solverOrder, uniPc])
            {
                if (r.GetResult(o) is { Implicit: false })
                {
                    throw new CliException($"{o.Name} cannot be combined with --scheduler-config; set the option in the configuration.");
                }
            }

            InputFile.Check(path, "scheduler config", InputFile.MaxTextBytes);
            return new SchedulerChoice { ConfigPath = path, Variant = storkVariant };
        }

        if (name is null)
        {
            if (r.GetResult(substeps) is { Implicit: false } || r.GetResult(derivativeOrder) is { Implicit: false } || r.GetResult(corrector) is { Implicit: false }
                || r.GetResult(solverOrder) is { Implicit: false })
            {
                throw new CliException("solver options need --scheduler (the model's own scheduler configuration takes none).");
            }

            return storkVariant is null ? null : new SchedulerChoice { Variant = storkVariant };
        }

        if (!SolverRegistry.Contains(name))
        {
            throw new CliException($"unknown scheduler '{name}' (expected one of: {string.Join(", ", SolverRegistry.Names)}).");
        }

        // Pipelines pick the model's grid themselves: the check is of the solver only.
        SolverFlags.Check(r, [substeps, derivativeOrder, variant, solverOrder, uniPc], [name], null);

        if (r.GetValue(solverOrder) is { } order && order is < 1 or > 3)
        {
            throw new CliException($"--solver-order must be 1, 2 or 3 (got {order}).");
        }

        Solvers.Standard.UniPcVariant bh = Solvers.Standard.UniPcVariant.Bh2;
        if (r.GetValue(uniPc) is { } u)
        {
            try
            {
                bh = Solvers.Standard.GridKindNames.ParseUniPcVariant(u);
            }
            catch (ArgumentException e)
            {
                throw new CliException($"--unipc-variant: {e.Message}");
            }
        }

        var settings = new SolverSettings
        {
            StorkVariant = storkVariant ?? StorkVariant.Corrected,
            Substeps = r.GetValue(substeps) ?? 50,
            DerivativeOrder = r.GetValue(derivativeOrder),
            Corrector = SolverOptionSet.ParseCorrector(r.GetValue(corrector)),
            SolverOrder = r.GetValue(solverOrder),
            UniPcVariant = bh,
        };
        return SchedulerChoice.Named(name, settings);
    }

    private static LatentsInput ReadLatents(string path)
    {
        InputFile.Check(path, "latents file");
        var array = NpyFile.Read(path, floatOnly: true);
        if (array.Shape.Length is not (3 or 4 or 5) || array.Shape.Any(d => d < 1))
        {
            throw new CliException($"latents '{path}' have shape [{string.Join(", ", array.Shape)}]; expected [N, C, h, w], Qwen-Image's [N, C, 1, h, w] or packed [N, S, 64].");
        }

        if (array.Data.Any(v => !double.IsFinite(v)))
        {
            throw new CliException($"latents '{path}' hold non-finite values.");
        }

        return new LatentsInput(array.ToSingle(), array.Shape);
    }

    private static GenerationResult Run(ITextToImagePipeline pipeline, GenerationRequest request, TextWriter stderr, string label, CancellationToken cancellationToken)
    {
        GenerationResult? result = null;
        int total = request.Steps ?? pipeline.Defaults.Steps;
        ProgressDisplay.Run(stderr, label, total, steps =>
        {
            var sink = steps is null ? null : new StageSink(steps);
            result = pipeline.Generate(request, sink, cancellationToken);
        });
        return result!;
    }

    private sealed class StageSink(IProgress<StepInfo> steps) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value)
        {
            if (value.Stage == GenerationStage.Denoising)
            {
                steps.Report(new StepInfo(value.Step, value.Steps, value.Time));
            }
        }
    }

    private static List<string> Write(OutputFiles files, List<string> paths, bool png, List<GenerationResult> results)
    {
        if (!png)
        {
            var first = results[0].Images;
            int n = results.Sum(r => r.Images.Count);
            var pixels = results.SelectMany(r => r.Images.Pixels).ToArray();
            files.Set(paths[0], NpyFile.Encode([n, first.Height, first.Width, 3], pixels));
            return [paths[0]];
        }

        int index = 0;
        foreach (var result in results)
        {
            for (int k = 0; k < result.Images.Count; k++, index++)
            {
                files.Set(paths[index], EncodePng(result, k));
            }
        }

        return paths;
    }

    private static string NumberedPath(string path, int index) =>
        Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{index}{Path.GetExtension(path)}");

    private static byte[] EncodePng(GenerationResult result, int k)
    {
        var s = result.Settings;
        var text = new List<KeyValuePair<string, string>>
        {
            new("prompt", s.Prompt),
            new("seed", result.Seeds is { } seeds ? seeds[k].ToString(CultureInfo.InvariantCulture) : "latents"),
            new("steps", s.Steps.ToString(CultureInfo.InvariantCulture)),
            new("scheduler", s.Scheduler),
            new("model", s.Model),
            new("size", string.Create(CultureInfo.InvariantCulture, $"{s.Width}x{s.Height}")),
        };
        if (s.NegativePrompt is { } neg)
        {
            text.Add(new("negative_prompt", neg));
        }

        if (s.GuidanceScale is { } g)
        {
            text.Add(new("guidance", g.ToString("R", CultureInfo.InvariantCulture)));
        }

        if (s.TrueCfgScale is { } t)
        {
            text.Add(new("true_cfg", t.ToString("R", CultureInfo.InvariantCulture)));
        }

        if (s.Pipeline is { } pipelineClass)
        {
            text.Add(new("pipeline", pipelineClass));
        }

        if (s.Strength is { } strength)
        {
            text.Add(new("strength", strength.ToString("R", CultureInfo.InvariantCulture)));
        }

        foreach (var (role, hash) in s.Inputs ?? new Dictionary<string, string>())
        {
            text.Add(new(role, hash));
        }

        text.Add(new("software", "Stork.NET"));
        return PngText.Insert(PngFile.Encode(ToRaster(result.Images, k)), text);
    }

    /// <summary>diffusers' <c>numpy_to_pil</c>: <c>(x * 255).round()</c> to 8 bits.</summary>
    internal static Raster ToRaster(GeneratedImages images, int k)
    {
        var raster = new Raster(images.Width, images.Height);
        var src = images.Image(k);
        for (int i = 0; i < src.Length; i++)
        {
            raster.Pixels[i] = (byte)Math.Clamp(Math.Round(src[i] * 255.0, MidpointRounding.ToEven), 0, 255);
        }

        return raster;
    }

    private static void WriteStep(string dir, int? prompt, int step, GeneratedImages images)
    {
        Directory.CreateDirectory(dir);
        for (int k = 0; k < images.Count; k++)
        {
            string name = prompt is { } p ? $"step-{step:D3}-p{p}-{k}.png" : $"step-{step:D3}-{k}.png";
            PngFile.Write(Path.Combine(dir, name), ToRaster(images, k));
        }
    }

    private static string Metadata(List<GenerationResult> results, List<string> files)
    {
        var runs = results.Select(r => new
        {
            prompt = r.Settings.Prompt,
            negative_prompt = r.Settings.NegativePrompt,
            model = r.Settings.Model,
            scheduler = r.Settings.Scheduler,
            steps = r.Settings.Steps,
            guidance_scale = r.Settings.GuidanceScale,
            true_cfg_scale = r.Settings.TrueCfgScale,
            height = r.Settings.Height,
            width = r.Settings.Width,
            max_sequence_length = r.Settings.MaxSequenceLength,
            seeds = r.Seeds,
            mu = r.Settings.Mu,
            sigmas = r.Settings.Times,
            pipeline = r.Settings.Pipeline,
            strength = r.Settings.Strength,
            inputs = r.Settings.Inputs,
            warnings = r.Warnings,
            timings_seconds = new
            {
                total = r.Timings.Total.TotalSeconds,
                onnx_runtime = r.Timings.OnnxRuntime.TotalSeconds,
                loading = r.Timings.Loading.TotalSeconds,
                text_encoding = r.Timings.TextEncoding.TotalSeconds,
                denoising = r.Timings.Denoising.TotalSeconds,
                decoding = r.Timings.Decoding.TotalSeconds,
                overhead_fraction = r.Timings.Overhead,
            },
        });
        return JsonSerializer.Serialize(new { files, runs }, IndentedJson);
    }
}
