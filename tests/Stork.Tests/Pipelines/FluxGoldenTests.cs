using Stork.Pipelines;

namespace Stork.Tests.Pipelines;

/// <summary>diffusers' FluxPipeline on the tiny ONNX models, number for number (Data/pipelines).</summary>
public sealed class FluxGoldenTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-flux-").FullName;

    public static TheoryData<string> Cases() => PipelineCase.Flux();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden_ids_through_the_library_reproduce_diffusers(string name)
    {
        var c = PipelineCase.Load(name);
        var result = c.RunFromTokens(_temp);
        AssertMatches(c, result);
    }

    internal static void AssertMatches(PipelineCase c, GenerationResult result)
    {
        var final = c.Array("final_latents.npy");
        Assert.Equal(final.Shape, result.FinalLatentsShape);
        double rel = Stork.Tests.Golden.RelativeL2(result.FinalLatents, final.Data);
        Assert.True(rel <= c.LatentsTolerance, $"{c.Name}: final latents relative L2 {rel:E3} > {c.LatentsTolerance:E3}");
        var image = c.Array("image.npy");
        Assert.Equal(image.Shape, result.Images.Shape);
        double abs = PipelineCase.MaxAbs(result.Images.Pixels, image.Data);
        Assert.True(abs <= c.ImageTolerance, $"{c.Name}: image max abs error {abs:E3} > {c.ImageTolerance:E3}");
        var sigmas = c.Json.GetProperty("scheduler_sigmas").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(sigmas.Length - 1, result.Settings.Times.Count);
        for (int i = 0; i < result.Settings.Times.Count; i++)
        {
            Assert.Equal(sigmas[i], result.Settings.Times[i], 1e-6);
        }
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
