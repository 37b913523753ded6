using Stork.Pipelines;

namespace Stork.Tests.Pipelines;

/// <summary>Graphs bound by name and typed from their metadata: other dtypes, renamed and missing ports, broken folders.</summary>
public sealed class FluxGraphBindingTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-flux-binding-").FullName;

    private static string Variant(string file) => Path.Combine(PipelineCase.Root, "variants", file);

    private GenerationResult RunCase(string folder, PipelineCase c)
    {
        return c.RunFromTokens(_temp, folder);
    }

    [Fact]
    public void Float16_inputs_and_outputs_int32_token_ids_and_float_positions_are_fed_in_the_graphs_types()
    {
        // The same networks with float16 I/O (fp16 hidden states, timestep, guidance, output), int32 token ids, float
        // img_ids and int32 txt_ids (tools/pipelines/retype_io.py): only the float16 rounding at the boundary differs.
        var c = PipelineCase.Load("flux-dev-stork4-n6-truecfg2.5");
        using var folder = new TinyFolder("flux-dev");
        folder.Replace("transformer/model.onnx", Variant("flux-dev-transformer-fp16-io.onnx"));
        folder.Replace("text_encoder/model.onnx", Variant("flux-dev-text_encoder-int32.onnx"));
        folder.Replace("vae_decoder/model.onnx", Variant("flux-dev-vae_decoder-fp16-io.onnx"));
        var result = RunCase(folder.Root, c);
        double abs = PipelineCase.MaxAbs(result.Images.Pixels, c.Array("image.npy").Data);
        double rel = Golden.RelativeL2(result.FinalLatents, c.Array("final_latents.npy").Data);
        Assert.True(abs < 2e-2 && rel < 1e-2, $"float16 I/O: image max abs {abs:E2}, latents rel L2 {rel:E2}");
    }

    [Fact]
    public void A_transformer_stored_in_unet_is_found()
    {
        var c = PipelineCase.Load("flux-schnell-euler-n4");
        using var folder = new TinyFolder("flux-schnell");
        Directory.Move(folder.PathOf("transformer"), folder.PathOf("unet"));
        FluxGoldenTests.AssertMatches(c, RunCase(folder.Root, c));
    }

    [Fact]
    public void A_renamed_transformer_input_is_a_clear_error_listing_expected_and_found_names()
    {
        var c = PipelineCase.Load("flux-schnell-euler-n4");
        using var folder = new TinyFolder("flux-schnell");
        folder.RenameInGraph("transformer/model.onnx", "pooled_projections", "pooled_projectionz");
        var e = Assert.Throws<InvalidDataException>(() => RunCase(folder.Root, c));
        Assert.Contains("'pooled_projections'", e.Message);
        Assert.Contains("pooled_projectionz", e.Message);
        Assert.Contains("expected inputs", e.Message);
    }

    [Fact]
    public void A_renamed_vae_input_is_a_clear_error()
    {
        var c = PipelineCase.Load("flux-schnell-euler-n4");
        using var folder = new TinyFolder("flux-schnell");
        folder.RenameInGraph("vae_decoder/model.onnx", "latent_sample", "latent_sampl_");
        var e = Assert.Throws<InvalidDataException>(() => RunCase(folder.Root, c));
        Assert.Contains("latent_sampl_", e.Message);
        Assert.Contains("vae_decoder", e.Message);
    }

    [Fact]
    public void Dev_without_its_guidance_input_is_a_clear_error()
    {
        var c = PipelineCase.Load("flux-dev-euler-n6-g3.5");
        using var folder = new TinyFolder("flux-dev");
        folder.Replace("transformer/model.onnx", Path.Combine(PipelineCase.Root, "models", "flux-schnell", "transformer", "model.onnx"));
        var e = Assert.Throws<InvalidDataException>(() => RunCase(folder.Root, c));
        Assert.Contains("'guidance'", e.Message);
    }

    [Fact]
    public void A_model_index_of_another_pipeline_is_a_clear_error_naming_the_supported_ones()
    {
        using var folder = new TinyFolder("flux-schnell");
        folder.Write("model_index.json", """{"_class_name": "KandinskyPipeline"}""");
        var e = Assert.Throws<InvalidDataException>(() => TextToImage.Load(folder.Root));
        Assert.Contains("KandinskyPipeline", e.Message);
        Assert.Contains("FluxPipeline", e.Message);
    }

    [Fact]
    public void Exporter_class_names_are_accepted()
    {
        using var folder = new TinyFolder("flux-schnell");
        folder.Write("model_index.json", """{"_class_name": "ORTFluxPipeline"}""");
        using var pipeline = TextToImage.Load(folder.Root);
        Assert.Equal("FluxPipeline", pipeline.Folder.PipelineClass);
    }

    [Theory]
    [InlineData("text_encoder_2")]
    [InlineData("vae_decoder")]
    [InlineData("scheduler")]
    public void A_missing_component_is_a_clear_error(string component)
    {
        using var folder = new TinyFolder("flux-schnell");
        Directory.Delete(folder.PathOf(component), recursive: true);
        var e = Assert.Throws<InvalidDataException>(() => TextToImage.Load(folder.Root));
        Assert.Contains(component, e.Message);
    }

    [Fact]
    public void A_folder_without_model_index_is_a_clear_error()
    {
        using var folder = new TinyFolder("flux-schnell");
        File.Delete(folder.PathOf("model_index.json"));
        var e = Assert.Throws<InvalidDataException>(() => TextToImage.Load(folder.Root));
        Assert.Contains("model_index.json", e.Message);
    }

    [Theory]
    [InlineData(120, 96)]
    [InlineData(128, 100)]
    [InlineData(0, 96)]
    public void Sizes_not_multiples_of_16_are_refused(int height, int width)
    {
        var c = PipelineCase.Load("flux-schnell-euler-n4");
        var request = new GenerationRequest { Prompt = "x", Height = height, Width = width, Steps = 2 };
        var e = Assert.Throws<ArgumentException>(() => c.RunFromTokens(_temp, request: request));
        Assert.Contains("multiples of 16", e.Message);
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
