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
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string?>("--model") { Description = "Model folder in the diffusers / Optimum ONNX layout (model_index.json, one folder per component), a shipped model by name (fashion-flux), or a Hugging Face repository ORG/NAME[@REVISION] fetched by stork pull (found in the Hub cache, offline too). Default: the shipped fashion-flux (Fashion-MNIST, 32 x 32 images, offline)." };
        var prompt = new Option<string?>("--prompt") { Description = "The prompt." };
        var promptFile = new Option<string?>("--prompt-file") { Description = "A UTF-8 text file of prompts, one per non-empty line (in place of --prompt); - or /dev/stdin reads standard input." };
        var negative = new Option<string?>("--negative-prompt") { Description = "Negative prompt (SD3, SD1.5/2.x, SDXL: used with --guidance above 1; FLUX.1: with --true-cfg above 1)." };
        var steps = new Option<int?>("--steps") { Description = "Denoising steps (num_inference_steps; default per family: FLUX.1-schnell 4, dev 28, SD3 28, SD1.5/2.x and SDXL 50, or the folder's _stork_defaults: fashion-flux 20)." };
        var guidance = new Option<double?>("--guidance") { Description = "guidance_scale: classifier-free guidance for SD3 (default 7), SD1.5/2.x (7.5) and SDXL (5), off at 1 or below; FLUX.1-dev: embedded guidance, default 3.5; schnell has none." };
        var trueCfg = new Option<double?>("--true-cfg") { Description = "FLUX.1 true_cfg_scale: with a negative prompt and a value above 1, classifier-free guidance with two passes per step (default: off, or the folder's _stork_defaults; 1 turns it off)." };
        var height = new Option<int?>("--height") { Description = "Image height in pixels: a multiple of 16 for FLUX.1 and SD3, of 8 for SD1.5/2.x and SDXL (default: the family's, 1024 or 512/768, or the folder's _stork_defaults: fashion-flux 32; or from --latents)." };
        var width = new Option<int?>("--width") { Description = "Image width in pixels (as --height)." };
        var maxSequence = new Option<int?>("--max-sequence-length") { Description = "T5 tokens (default: FLUX.1-dev 512, schnell 256, SD3 256, or the folder's _stork_defaults: fashion-flux 32; at most 512); CLIP-only models take 77." };
        var seed = new Option<string?>("--seed") { Description = "Seed of image 0 (default 0); image k uses seed + k, so any image can be regenerated alone. Also random (a seed is drawn and printed), a list 1,5,9 or a range 5..8: one image per seed." };
        var count = new Option<int?>("--count") { Description = "Images per prompt (default 1, or the number of --latents)." };
        var latents = new Option<string?>("--latents") { Description = "Initial latents .npy (float32/64) in place of seeded noise: [N, C, h, w] as passed to diffusers' pipeline (before init_noise_sigma), Qwen-Image's [N, 16, 1, h, w], or the packed [N, S, 64] of FLUX.1 and Qwen-Image. With --image or --control-image: the Gaussian noise the pipeline draws (diffusers randn_tensor), same shapes." };
        var output = new Option<string>("--out")
        {
            Description = "Output: FILE.png (one PNG per image, numbered -0, -1, ... when there are several; prompt, seed, steps, scheduler and model in PNG text chunks) or FILE.npy (float32 [N, H, W, 3] in [0, 1]).",
            DefaultValueFactory = _ => "image.png",
        };
        var metadata = new Option<bool>("--metadata") { Description = "Also write the run's settings, seeds, timings and warnings as JSON beside the output (FILE.json)." };
        var stepwise = new Option<string?>("--stepwise-dir") { Description = "Write the predicted clean image after every step into this folder (step-NNN-K.png)." };
        var shard = ShardSpec.CreateOption();
        var runtime = new RuntimeOptionSet();
        var solver = new SolverOptionSet(pipelines: true);
        var imageInputs = new ImageInputOptionSet();

        var command = new Command("generate", "Text to image with a FLUX.1, SD3/3.5, SD1.5/2.x or SDXL ONNX model folder, any solver as the scheduler (STORK, Euler, DPM-Solver++, UniPC, ...).");
        Option[] all = [model, prompt, promptFile, negative, steps, .. solver.All, guidance, trueCfg, height, width, maxSequence, seed, count, latents, output,
            metadata, stepwise, shard];
        foreach (var o in all.Concat(runtime.All).Concat(runtime.Pipeline).Concat(imageInputs.All))
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
            var choice = solver.ResolveChoice(r);
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

            var seeds = SeedList.Parse(r.GetValue(seed), stderr);
            if (seeds.Explicit is { } listed && r.GetValue(count) is { } given && given != listed.Count)
            {
                throw new CliException($"--seed gives {listed.Count} seeds, one image each; leave --count out (got --count {given}).");
            }

            int perPrompt = seeds.Explicit?.Count ?? r.GetValue(count) ?? (initial is { Shape.Length: > 0 } l ? l.Shape[0] : 1);
            if (perPrompt is < 1 or > 64)
            {
                throw new CliException($"--count must be 1 to 64 (got {perPrompt}).");
            }

            long totalImages = (long)perPrompt * prompts.Count;

            // Sharded runs: this process renders images [firstImage, firstImage + length) of the run (prompt-major, image k of
            // a prompt seeded seed + k as in a whole run); PNGs keep their global numbers, .npy and .json get the shard.
            var part = ShardSpec.ForRun(r.GetValue(shard), Environment.GetEnvironmentVariable, totalImages, "image(s)", stderr);
            if (part.IsPartial && (initial is not null || stepDir is not null))
            {
                throw new CliException($"shard {part}: a sharded run cannot take --latents or --stepwise-dir (--shard 0/1 renders the whole run).");
            }

            var (firstImage, length) = part.Block(totalImages);
            double pixels = (double)length * (r.GetValue(height) ?? 1024) * (r.GetValue(width) ?? 1024) * 3;
            MemoryBudget.Check(pixels * 4 * 2, "the images of this run", "--count, --height/--width or the number of prompts");
            var files = new OutputFiles();
            files.Input(r.GetValue(latents));
            files.Input(r.GetValue(promptFile));
            files.Input(r.GetValue(solver.SchedulerConfig));
            foreach (string? inputPath in imageInputs.Paths(r))
            {
                files.Input(inputPath);
            }

            bool numbered = png && totalImages > 1;
            var paths = numbered ? Enumerable.Range((int)firstImage, (int)length).Select(i => ImageFiles.NumberedPath(outPath, i)).ToList() : [part.Suffixed(outPath)];
            foreach (string path in paths)
            {
                files.Output(path, "--out");
            }

            string? metaPath = r.GetValue(metadata) ? part.Suffixed(Path.ChangeExtension(outPath, ".json")) : null;
            if (metaPath is not null)
            {
                files.Output(metaPath, "--metadata");
            }

            var options = runtime.ReadPipeline(r);
            using var pipeline = TextToImage.Load(ShippedModels.TextToImageFolder(r.GetValue(model)), options);
            bool doubled = pipeline.Folder.PipelineClass is "StableDiffusionPipeline" or "StableDiffusion3Pipeline" or "StableDiffusionXLPipeline"
                && (r.GetValue(guidance) ?? pipeline.Defaults.GuidanceScale ?? 1) > 1;
            var estimate = MemoryEstimate.For(pipeline.Folder, r.GetValue(height) ?? pipeline.Defaults.Height, r.GetValue(width) ?? pipeline.Defaults.Width, perPrompt * (doubled ? 2 : 1), options.Memory);
            MemoryBudget.Check(estimate.Total, "this run (weights, the denoiser's activations, the runtime)", "--height/--width or --count, or quantize the model (stork quantize)");
            var results = new List<GenerationResult>();
            for (int p = 0; p < prompts.Count; p++)
            {
                long lo = Math.Max(firstImage - ((long)p * perPrompt), 0), hi = Math.Min(firstImage + length - ((long)p * perPrompt), perPrompt);
                if (hi <= lo)
                {
                    continue;
                }

                // A seed list renders one image per seed; otherwise one request takes the block, seeded seed + lo onward.
                foreach (var (from, to) in seeds.Explicit is null ? [(lo, hi)] : Enumerable.Range((int)lo, (int)(hi - lo)).Select(k => ((long)k, (long)k + 1)))
                {
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
                        Seed = seeds.Of(from),
                        Count = part.IsPartial || seeds.Explicit is not null ? (int)(to - from) : r.GetValue(count),
                        Latents = initial,
                        Scheduler = choice,
                        Image = inputImage,
                        Mask = inputMask,
                        ControlImage = controlImage,
                        Strength = strength,
                        Stepwise = stepDir is null ? null : (step, images) => ImageFiles.WriteStep(stepDir, prompts.Count > 1 ? p : null, step, images),
                    };
                    var result = Run(pipeline, request, stderr, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(pipeline.Folder.Root))} [{p + 1}/{prompts.Count}]", cancellationToken);
                    foreach (string w in result.Warnings)
                    {
                        stderr.WriteLine($"warning: {w}");
                    }

                    results.Add(result);
                }
            }

            var written = new List<string>();
            foreach (var (path, bytes) in ImageFiles.Encode(results, numbered ? outPath : paths[0], firstImage, numbered))
            {
                files.Set(path, bytes);
                written.Add(path);
            }

            if (metaPath is not null)
            {
                files.SetText(metaPath, ImageFiles.MetadataJson(results, written));
                written.Add(metaPath);
            }

            files.Commit(cancellationToken);

            var first = results[0];
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {string.Join(", ", written)}: {results.Sum(x => x.Images.Count)} image(s) {first.Images.Width}x{first.Images.Height}, {StepsText(first.Settings)} ({first.Settings.Scheduler}), {results.Sum(x => x.Timings.Total.TotalSeconds):0.0} s."));
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>"10 steps", or after a strength's cut "10 steps, 5 run at strength 0.5".</summary>
    internal static string StepsText(ResolvedGeneration settings) =>
        settings.StepsRun is { } run && run != settings.Steps
            ? string.Create(CultureInfo.InvariantCulture, $"{settings.Steps} steps, {run} run at strength {settings.Strength:R}")
            : string.Create(CultureInfo.InvariantCulture, $"{settings.Steps} steps");

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

        string text = file is "-" or "/dev/stdin" ? ReadStandardInput(16 << 20) : InputFile.ReadAllText(file!, "prompt file", 16L << 20);
        var lines = text.Split(['\r', '\n']).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (lines.Count is 0 or > 100_000)
        {
            throw new CliException($"prompt file '{file}' must hold 1 to 100000 non-empty lines (has {lines.Count}).");
        }

        return lines;
    }

    /// <summary>Standard input for <c>--prompt-file -</c> (a pipe, which the file gate refuses), at most <paramref name="maxChars"/> characters.</summary>
    private static string ReadStandardInput(int maxChars)
    {
        var buffer = new char[maxChars + 1];
        int n = 0, read;
        while (n < buffer.Length && (read = Console.In.Read(buffer, n, buffer.Length - n)) > 0)
        {
            n += read;
        }

        return n > maxChars ? throw new CliException($"--prompt-file -: standard input holds more than {maxChars} characters.") : new string(buffer, 0, n);
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
}
