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
        var batchFile = new Option<string?>("--batch-file", "--batch") { Description = $"A JSONL batch (in place of --prompt): one JSON object per line with its own prompt and optionally negative_prompt, seed, steps, scheduler, height, width, guidance, true_cfg, count, max_sequence_length and out (a .png; default: --out numbered by line); diffusers' names (num_inference_steps, guidance_scale, ...) work too, and options on the command line are the defaults. Every line is checked before any runs." };
        var fromMetadata = new Option<string?>("--from-metadata", "--config-from-metadata") { Description = "Run again what a PNG written by stork generate or its --metadata JSON records (every setting, the solver with its options, the seed; the same bytes with the same model); options given beside it override only themselves (--steps 8 changes only the steps)." };
        var negative = new Option<string?>("--negative-prompt") { Description = PipelineHelp.NegativePrompt };
        var steps = new Option<int?>("--steps") { Description = PipelineHelp.Steps };
        var guidance = new Option<double?>("--guidance") { Description = PipelineHelp.Guidance };
        var trueCfg = new Option<double?>("--true-cfg") { Description = PipelineHelp.TrueCfg };
        var height = new Option<int?>("--height") { Description = PipelineHelp.Height };
        var width = new Option<int?>("--width") { Description = "Image width in pixels (as --height)." };
        var maxSequence = new Option<int?>("--max-sequence-length") { Description = PipelineHelp.MaxSequenceLength };
        var seed = new Option<string?>("--seed") { Description = "Seed of image 0 (default 0); image k uses seed + k, so any image can be regenerated alone. Also random (a seed is drawn and printed), a list 1,5,9 or a range 5..8: one image per seed." };
        var count = new Option<int?>("--count") { Description = "Images per prompt (default 1, or the number of --latents; at most 64)." };
        var latents = new Option<string?>("--latents") { Description = "Initial latents .npy (float32/64) in place of seeded noise: [N, C, h, w] as passed to diffusers' pipeline (before init_noise_sigma), Qwen-Image's [N, 16, 1, h, w], or the packed [N, S, 64] of FLUX.1 and Qwen-Image. With --image or --control-image: the Gaussian noise the pipeline draws (diffusers randn_tensor), same shapes." };
        var output = new Option<string>("--out")
        {
            Description = "Output: FILE.png (one PNG per image, numbered -0, -1, ... when there are several; every resolved setting in PNG text chunks, which --from-metadata reads back) or FILE.npy (float32 [N, H, W, 3] in [0, 1]).",
            DefaultValueFactory = _ => "image.png",
        };
        var metadata = new Option<bool>("--metadata") { Description = "Also write the run's resolved settings (solver options, sigmas or timesteps, model and input hashes, versions), seeds, timings and warnings as JSON beside the output (FILE.json)." };
        var stepwise = new Option<string?>("--stepwise-dir") { Description = "Also write the predicted clean image after every step into this folder (step-NNN-K.png, step-NNN-pP-K.png with several prompts), with the other outputs when the run succeeds." };
        var shard = ShardOption.Create();
        var runtime = new RuntimeOptionSet();
        var solver = new SolverOptionSet(pipelines: true);
        var imageInputs = new ImageInputOptionSet();

        var command = new Command("generate", $"Text to image with a {PipelineHelp.FamilyNames} ONNX model folder, any fixed-step solver as the scheduler (STORK, Euler, DPM-Solver++, UniPC, ...).");
        Option[] all = [model, prompt, promptFile, batchFile, fromMetadata, negative, steps, .. solver.All, guidance, trueCfg, height, width, maxSequence, seed, count, latents, output,
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

            string? metaSource = r.GetValue(fromMetadata), batchPath = r.GetValue(batchFile);
            if (metaSource is not null && batchPath is not null)
            {
                throw new CliException("give either --from-metadata or --batch-file, not both.");
            }

            var records = metaSource is null ? null : ReadRecords(metaSource);
            bool given(Option o) => r.GetResult(o) is { Implicit: false };
            var choice = records is not null && !solver.All.Any(given) ? null : solver.ResolveChoice(r);
            LatentsInput? initial = null;
            if (r.GetValue(latents) is { } latentsPath)
            {
                if (r.GetValue(seed) is not null)
                {
                    throw new CliException("give either --latents or --seed, not both.");
                }

                initial = LatentsInput.Read(latentsPath);
            }

            var (inputImage, inputMask, controlImage, strength) = imageInputs.Read(r);
            string? stepDir = r.GetValue(stepwise);
            if (stepDir is not null)
            {
                OutputFiles.CheckFolder(stepDir, "--stepwise-dir");
            }

            var seeds = SeedList.Parse(r.GetValue(seed));
            if (seeds.Drawn)
            {
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed: {seeds.First} (--seed random; pass --seed {seeds.First} to repeat the run)"));
            }

            if (seeds.Explicit is { } listed && r.GetValue(count) is { } given2 && given2 != listed.Count)
            {
                throw new CliException($"--seed gives {listed.Count} seeds, one image each; leave --count out (got --count {given2}).");
            }

            // The command line's request: every item (a prompt, a batch line, a recorded run) starts from it.
            var cli = new GenerationRequest
            {
                Prompt = "",
                NegativePrompt = r.GetValue(negative),
                Steps = r.GetValue(steps),
                GuidanceScale = r.GetValue(guidance),
                TrueCfgScale = r.GetValue(trueCfg),
                Height = r.GetValue(height),
                Width = r.GetValue(width),
                MaxSequenceLength = r.GetValue(maxSequence),
                Seed = seeds.First,
                Latents = initial,
                Scheduler = choice,
                Image = inputImage,
                Mask = inputMask,
                ControlImage = controlImage,
                Strength = strength,
                OnWarning = w => stderr.WriteLine($"warning: {w}"),
            };
            int defaultCount = seeds.Explicit?.Count ?? r.GetValue(count) ?? (initial is { Shape.Length: > 0 } l ? l.Shape[0] : 1);
            var items = new List<GenerationItem>();
            if (records is not null)
            {
                if (r.GetValue(promptFile) is not null)
                {
                    throw new CliException("--prompt-file does not combine with --from-metadata (the runs come from the file); --prompt replaces the recorded prompt.");
                }

                if (records.Any(rec => rec.Inputs is { } inputs && inputs.ContainsKey("latents")) && initial is null)
                {
                    throw new CliException($"--from-metadata '{metaSource}': the run started from given latents or noise (--latents); give the same --latents again.");
                }

                bool seedGiven = r.GetValue(seed) is not null;
                int? countGiven = seedGiven || r.GetValue(count) is not null ? defaultCount : null;
                items.AddRange(records.Select(rec => GenerationItem.Rerun(rec, cli, r.GetValue(prompt), seedGiven ? cli.Seed : null, countGiven) with { Seeds = seeds.Explicit }));
            }
            else if (batchPath is not null)
            {
                if (r.GetValue(prompt) is not null || r.GetValue(promptFile) is not null || initial is not null || seeds.Explicit is not null)
                {
                    throw new CliException("--batch-file takes its prompts and seeds from its lines; leave out --prompt, --prompt-file, --latents and seed lists.");
                }

                string text = batchPath is "-" ? ReadStandardInput(16 << 20) : InputFile.ReadAllText(batchPath, "batch file", 16L << 20);
                items.AddRange(BatchFile.Parse(text, $"--batch-file '{batchPath}'", cli).Select(line =>
                    new GenerationItem(line.Request, line.Request.Count ?? defaultCount) { Output = line.Output ?? ImageFiles.NumberedPath(outPath, line.Line), Line = line.Line }));
            }
            else
            {
                items.AddRange(ReadPrompts(r.GetValue(prompt), r.GetValue(promptFile)).Select(p => new GenerationItem(cli with { Prompt = p }, defaultCount) { Seeds = seeds.Explicit }));
            }

            if (initial is not null && items.Count > 1)
            {
                throw new CliException("--latents applies to one prompt; use --prompt.");
            }

            if (items.FirstOrDefault(i => i.Count is < 1 or > 64) is { } bad)
            {
                throw new CliException($"{Where(bad)}--count must be 1 to 64 (got {bad.Count}).");
            }

            if (batchPath is not null && !png)
            {
                throw new CliException("--batch-file writes PNGs; give --out FILE.png (the name its lines are numbered from).");
            }

            // Sharded runs: this process renders its block of the run's images (item-major, image k of an item seeded as in a
            // whole run); PNGs keep their global numbers, .npy and .json get the shard.
            var part = ShardOption.ForRun(r.GetValue(shard), Environment.GetEnvironmentVariable, GenerationPlan.CountImages(items), "image(s)", stderr);
            if (part.IsPartial && (initial is not null || stepDir is not null || batchPath is not null))
            {
                throw new CliException($"shard {part}: a sharded run cannot take --latents, --stepwise-dir or --batch-file (--shard 0/1 renders the whole run).");
            }

            var plan = new GenerationPlan(items, outPath, part);
            double pixels = (double)plan.Images * (r.GetValue(height) ?? 1024) * (r.GetValue(width) ?? 1024) * 3;
            MemoryBudget.Check(pixels * 4 * 2, "the images of this run", "--count, --height/--width or the number of prompts");
            var files = new OutputFiles();
            foreach (string? inputPath in new[] { r.GetValue(latents), r.GetValue(promptFile), batchPath, metaSource, r.GetValue(solver.SchedulerConfig) }.Concat(imageInputs.Paths(r)))
            {
                files.Input(inputPath);
            }

            // Every output declared (checked: folders exist and take files, no clashes) before any work.
            foreach (var o in plan.Outputs)
            {
                files.Output(o.Path, o.Item is null ? "--out" : $"{Where(o.Item)}--out");
            }

            string? metaPath = r.GetValue(metadata) ? plan.MetadataPath : null;
            if (metaPath is not null)
            {
                files.Output(metaPath, "--metadata");
            }

            string? modelOption = r.GetValue(model) ?? items[0].Model;
            if (items.Any(i => i.Model != items[0].Model) && r.GetValue(model) is null)
            {
                throw new CliException($"--from-metadata '{metaSource}': its runs used several models; give --model.");
            }

            var options = runtime.ReadPipeline(r);
            using var pipeline = TextToImage.Load(ShippedModels.TextToImageFolder(modelOption), options);

            var estimate = pipeline.EstimateMemory(r.GetValue(height), r.GetValue(width), items.Max(i => i.Count), r.GetValue(guidance), options.Memory);
            MemoryBudget.Check(estimate.Total, "this run (weights, the denoiser's activations, the runtime)", "--height/--width or --count, or quantize the model (stork quantize)");

            // Every request checked (sizes, steps, the solver on this family) before any model loads.
            var requests = new List<GenerationRequest>();
            foreach (var planned in plan.Requests)
            {
                var item = items[planned.Item];
                var request = stepDir is null ? planned.Request : planned.Request with
                {
                    Stepwise = (step, images) =>
                    {
                        foreach (var (path, bytes) in ImageFiles.EncodeStep(stepDir, items.Count > 1 ? planned.Item : null, step, images))
                        {
                            files.Output(path, "--stepwise-dir", createFolder: true);
                            files.Set(path, bytes);
                        }
                    },
                };
                try
                {
                    pipeline.Check(request);
                }
                catch (ArgumentException e) when (item.Line is not null)
                {
                    throw new CliException($"--batch-file '{batchPath}' line {item.Line}: {CliApp.Sentence(e)}");
                }

                requests.Add(request);
            }

            var results = new List<GenerationResult>();
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(pipeline.Folder.Root));
            for (int i = 0; i < requests.Count; i++)
            {
                var item = items[plan.Requests[i].Item];
                var result = Run(pipeline, requests[i], stderr, $"{name} [{plan.Requests[i].Item + 1}/{items.Count}]", cancellationToken);
                if (item.ModelHashes is { } recorded && result.Settings.ModelHashes is { } now && !recorded.OrderBy(kv => kv.Key).SequenceEqual(now.OrderBy(kv => kv.Key)))
                {
                    stderr.WriteLine($"warning: the model's graph files differ from those of the recorded run ({metaSource}); the images may differ.");
                }

                results.Add(result);
            }

            var written = new List<string>();
            foreach (var (path, bytes) in plan.Encode(results))
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

    /// <summary>The prefix of an item's messages (a batch line names itself).</summary>
    private static string Where(GenerationItem item) => item.Line is { } n ? $"batch line {n}: " : "";

    private static IReadOnlyList<ResolvedGeneration> ReadRecords(string path)
    {
        InputFile.Check(path, "--from-metadata file", 1L << 30);
        return ImageFiles.ReadRuns(path);
    }

    private static IReadOnlyList<string> ReadPrompts(string? prompt, string? file)
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
        return BatchFile.Prompts(text, $"prompt file '{file}'");
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

    private static GenerationResult Run(ITextToImagePipeline pipeline, GenerationRequest request, TextWriter stderr, string label, CancellationToken cancellationToken)
    {
        GenerationResult? result = null;
        int total = request.Steps ?? pipeline.Defaults.Steps;
        ProgressDisplay.Run(stderr, label, total, (steps, describe) =>
        {
            var sink = steps is null ? null : new StageSink(steps, describe, label);
            result = pipeline.Generate(request, sink, cancellationToken);
        });
        return result!;
    }

    /// <summary>How the progress bar names a stage: loading, encoding text, the prompt's label while denoising, decoding.</summary>
    internal static string StageText(GenerationStage stage, string label) => stage switch
    {
        GenerationStage.Loading => $"{label}: loading",
        GenerationStage.EncodingText => $"{label}: encoding text",
        GenerationStage.Decoding => $"{label}: decoding",
        _ => label,
    };

    private sealed class StageSink(IProgress<StepInfo> steps, Action<string>? describe, string label) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value)
        {
            describe?.Invoke(StageText(value.Stage, label));
            if (value is { Stage: GenerationStage.Denoising, Step: > 0 })
            {
                steps.Report(new StepInfo(value.Step, value.Steps, value.Time));
            }
        }
    }
}
