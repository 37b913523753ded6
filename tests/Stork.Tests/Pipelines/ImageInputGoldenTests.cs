using System.Globalization;
using Stork.Imaging;
using Stork.IO;
using Stork.Pipelines;
using Stork.Tests.Cli;

namespace Stork.Tests.Pipelines;

/// <summary>
/// diffusers' image-input pipelines (img2img, inpainting, FLUX.1 Fill, Kontext, Control) on the tiny ONNX models,
/// through the library and through <c>stork generate</c>, and the command's refusals of bad inputs.
/// </summary>
public sealed class ImageInputGoldenTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-images-").FullName;

    public static TheoryData<string> Cases() => new(PipelineCase.ImageInputNames());

    private static void AssertMatches(PipelineCase c, GenerationResult result)
    {
        var final = c.Array("final_latents.npy");
        Assert.Equal(final.Shape, result.FinalLatentsShape);
        double rel = Golden.RelativeL2(result.FinalLatents, final.Data);
        var image = c.Array("image.npy");
        Assert.Equal(image.Shape, result.Images.Shape);
        double abs = PipelineCase.MaxAbs(result.Images.Pixels, image.Data);
        Assert.True(rel <= c.LatentsTolerance && abs <= c.ImageTolerance,
            $"{c.Name}: final latents relative L2 {rel:E3} (tolerance {c.LatentsTolerance:E3}), image max abs {abs:E3} (tolerance {c.ImageTolerance:E3})");

        // The steps that ran: the strength's cut of the full grid, fed to the denoiser as diffusers fed them.
        var timesteps = c.DenoiserTimesteps();
        Assert.Equal(timesteps.Length, result.Settings.Times.Count);
        for (int i = 0; i < timesteps.Length; i++)
        {
            Assert.True(Math.Abs(timesteps[i] - result.Settings.Times[i]) <= 1e-4 * Math.Max(1, Math.Abs(timesteps[i])),
                $"{c.Name}: step {i} at {result.Settings.Times[i]}, diffusers {timesteps[i]}");
        }

        Assert.Equal(c.PipelineClass, result.Settings.Pipeline);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_library_reproduces_diffusers(string name)
    {
        var c = PipelineCase.Load(name);
        var result = c.RunFromTokens(_temp);
        AssertMatches(c, result);
        Assert.NotNull(result.Settings.Inputs);
        Assert.StartsWith("sha256:", result.Settings.Inputs![c.Input("control_image") is null ? "image" : "control_image"], StringComparison.Ordinal);
    }

    internal static List<string> Arguments(PipelineCase c, string schedulerFolder, string output)
    {
        string I(string key) => c.Int(key).ToString(CultureInfo.InvariantCulture);
        var args = new List<string>
        {
            "generate", "--model", c.ModelFolder, "--prompt", c.Prompt, "--latents", c.File("latents.npy"),
            "--scheduler-config", c.WriteSchedulerConfig(schedulerFolder), "--out", output,
            "--steps", I("num_inference_steps"), "--height", I("height"), "--width", I("width"), "--count", I("num_images_per_prompt"),
        };
        if (c.Json.GetProperty("max_sequence_length").ValueKind == System.Text.Json.JsonValueKind.Number)
        {
            args.AddRange(["--max-sequence-length", I("max_sequence_length")]);
        }

        foreach (var (key, option) in new[] { ("image", "--image"), ("mask", "--mask"), ("control_image", "--control-image") })
        {
            if (c.Input(key) is { } file)
            {
                args.AddRange([option, file]);
            }
        }

        if (c.Number("strength") is { } s)
        {
            args.AddRange(["--strength", s.ToString("R", CultureInfo.InvariantCulture)]);
        }

        if (c.NegativePrompt is { } neg)
        {
            args.AddRange(["--negative-prompt", neg]);
        }

        if (c.Number("guidance_scale") is { } g && g != 0)
        {
            args.AddRange(["--guidance", g.ToString("R", CultureInfo.InvariantCulture)]);
        }

        if (c.Number("true_cfg_scale") is { } t)
        {
            args.AddRange(["--true-cfg", t.ToString("R", CultureInfo.InvariantCulture)]);
        }

        return args;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_command_reproduces_diffusers(string name)
    {
        var c = PipelineCase.Load(name);
        using var h = new CliHarness();
        string output = h.PathOf("x.npy");
        var (code, _, err) = h.Run([.. Arguments(c, h.Directory, output), "--metadata"]);
        Assert.True(code == 0, err);
        var image = NpyFile.Read(output);
        var golden = c.Array("image.npy");
        Assert.Equal(golden.Shape, image.Shape);
        double abs = PipelineCase.MaxAbs(image.ToSingle(), golden.Data);
        Assert.True(abs <= c.ImageTolerance, $"{name}: image max abs error {abs:E3} > {c.ImageTolerance:E3}");
        string meta = File.ReadAllText(h.PathOf("x.json"));
        Assert.Contains("sha256:", meta, StringComparison.Ordinal);
        Assert.Contains(c.PipelineClass, meta, StringComparison.Ordinal);
    }

    /// <summary>A copy of a tiny folder (links to its components) without <c>vae_encoder/</c>.</summary>
    private string WithoutEncoder(string folder)
    {
        string copy = Path.Combine(_temp, "no-encoder");
        Directory.CreateDirectory(copy);
        foreach (string entry in Directory.EnumerateFileSystemEntries(folder))
        {
            string name = Path.GetFileName(entry);
            if (name == "vae_encoder")
            {
                continue;
            }

            string target = Path.Combine(copy, name);
            if (File.Exists(entry))
            {
                File.Copy(entry, target);
            }
            else
            {
                Directory.CreateSymbolicLink(target, Path.GetFullPath(entry));
            }
        }

        return copy;
    }

    [Fact]
    public void Bad_inputs_are_one_error_line_exit_2_and_no_output()
    {
        var c = PipelineCase.Load("flux-dev-img2img-euler-n6-s0.75-g3.5");
        var control = PipelineCase.Load("flux-control-depth-euler-n6-g10");
        using var h = new CliHarness();
        string small = h.PathOf("small.png");
        PngFile.Write(small, new Raster(16, 16, new Rgb(255, 255, 255)));
        string garbage = h.PathOf("garbage.png");
        File.WriteAllBytes(garbage, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]);
        List<string> Args(params string[] extra)
        {
            var a = Arguments(c, h.Directory, h.PathOf("bad.npy"));
            a.AddRange(extra);
            return a;
        }

        var cases = new List<(string What, List<string> Args, string Expect)>
        {
            ("strength 0", Args("--strength", "0"), "strength"),
            ("strength above 1", Args("--strength", "1.5"), "strength"),
            ("mask of another shape", Args("--mask", small), "same size"),
            ("control image on a folder without control", Args("--control-image", control.Input("control_image")!), "control"),
            ("unreadable image", [.. Arguments(c, h.Directory, h.PathOf("bad.npy")).Select(a => a == c.Input("image") ? garbage : a)], "PNG"),
        };
        var noEncoder = Arguments(c, h.Directory, h.PathOf("bad.npy"));
        noEncoder[noEncoder.IndexOf("--model") + 1] = WithoutEncoder(c.ModelFolder);
        cases.Add(("missing vae_encoder", noEncoder, "vae_encoder"));
        foreach (var (what, args, expect) in cases)
        {
            var (code, _, err) = h.Run([.. args]);
            string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(code == 2, $"{what}: exit {code}, stderr {err}");
            Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), $"{what}: {err}");
            Assert.Contains(expect, lines[0], StringComparison.Ordinal);
            Assert.False(File.Exists(h.PathOf("bad.npy")), what);
        }
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
