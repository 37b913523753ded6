using System.Globalization;
using Stork.IO;
using Stork.Pipelines;
using Stork.Tests.Cli;

namespace Stork.Tests.Pipelines;

/// <summary>diffusers' StableDiffusion3Pipeline, StableDiffusionPipeline and StableDiffusionXLPipeline on the tiny ONNX models (Data/pipelines).</summary>
public sealed class StableDiffusionGoldenTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-sd-").FullName;

    public static TheoryData<string> Cases() => PipelineCase.StableDiffusion();

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_library_reproduces_diffusers_from_the_prompt(string name)
    {
        var c = PipelineCase.Load(name);
        using var pipeline = TextToImage.Load(c.ModelFolder);
        var result = pipeline.Generate(c.Request(c.WriteSchedulerConfig(_temp)));
        AssertMatches(c, result);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_tokenizers_give_the_ids_diffusers_fed(string name)
    {
        var c = PipelineCase.Load(name);
        using var pipeline = TextToImage.Load(c.ModelFolder);
        int? length = c.Json.GetProperty("max_sequence_length").ValueKind == System.Text.Json.JsonValueKind.Number ? c.Int("max_sequence_length") : null;
        var tokens = pipeline.Tokenize(c.Prompt, length);
        Assert.Equal(c.TextEncoderCalls("text_encoder")[0], tokens["tokenizer"].Ids);
        foreach (var (graph, tokenizer) in (ReadOnlySpan<(string, string)>)[("text_encoder_2", "tokenizer_2"), ("text_encoder_3", "tokenizer_3")])
        {
            var calls = c.TextEncoderCalls(graph);
            if (calls.Length > 0)
            {
                Assert.Equal(calls[0], tokens[tokenizer].Ids);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Stork_generate_reproduces_diffusers(string name)
    {
        var c = PipelineCase.Load(name);
        using var h = new CliHarness();
        string output = h.PathOf("x.npy");
        var args = new List<string>
        {
            "generate", "--model", c.ModelFolder, "--prompt", c.Prompt, "--latents", c.File("latents.npy"),
            "--scheduler-config", c.WriteSchedulerConfig(h.Directory), "--out", output,
            "--steps", c.Int("num_inference_steps").ToString(CultureInfo.InvariantCulture),
            "--guidance", c.Number("guidance_scale")!.Value.ToString("R", CultureInfo.InvariantCulture),
        };
        if (c.NegativePrompt is { } neg)
        {
            args.AddRange(["--negative-prompt", neg]);
        }

        if (c.Json.GetProperty("max_sequence_length").ValueKind == System.Text.Json.JsonValueKind.Number)
        {
            args.AddRange(["--max-sequence-length", c.Int("max_sequence_length").ToString(CultureInfo.InvariantCulture)]);
        }

        var (code, _, err) = h.Run([.. args]);
        Assert.True(code == 0, err);
        var image = NpyFile.Read(output);
        var golden = c.Array("image.npy");
        Assert.Equal(golden.Shape, image.Shape);
        double abs = PipelineCase.MaxAbs(image.ToSingle(), golden.Data);
        Assert.True(abs <= c.ImageTolerance, $"{name}: image max abs error {abs:E3} > {c.ImageTolerance:E3}");
    }

    internal static void AssertMatches(PipelineCase c, GenerationResult result)
    {
        var timesteps = c.DenoiserTimesteps();
        Assert.Equal(timesteps.Length, result.Settings.Times.Count);
        for (int i = 0; i < timesteps.Length; i++)
        {
            Assert.True(Math.Abs(timesteps[i] - result.Settings.Times[i]) <= 1e-6 * Math.Max(1, Math.Abs(timesteps[i])),
                $"{c.Name}: timestep {i} is {result.Settings.Times[i]}, diffusers fed {timesteps[i]}");
        }

        var final = c.Array("final_latents.npy");
        Assert.Equal(final.Shape, result.FinalLatentsShape);
        double rel = Stork.Tests.Golden.RelativeL2(result.FinalLatents, final.Data);
        var image = c.Array("image.npy");
        Assert.Equal(image.Shape, result.Images.Shape);
        double abs = PipelineCase.MaxAbs(result.Images.Pixels, image.Data);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{c.Name}: latents rel L2 {rel:E2} (tol {c.LatentsTolerance:E2}), image max abs {abs:E2} (tol {c.ImageTolerance:E2})"));
        Assert.True(rel <= c.LatentsTolerance, $"{c.Name}: final latents relative L2 {rel:E3} > {c.LatentsTolerance:E3}");
        Assert.True(abs <= c.ImageTolerance, $"{c.Name}: image max abs error {abs:E3} > {c.ImageTolerance:E3}");
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
