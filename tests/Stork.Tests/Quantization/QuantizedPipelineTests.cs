using System.Globalization;
using Stork.Onnx.Quantization;
using Stork.Onnx.Quantization.Proto;
using Stork.Pipelines;
using Stork.Pipelines.Flux;
using Stork.Pipelines.QwenImage;
using Stork.Tests.Cli;
using Stork.Tests.Pipelines;
using Xunit.Abstractions;

namespace Stork.Tests.Quantization;

/// <summary>
/// Every pipeline family's tiny golden folder, quantized, generates the golden case's image within a per-format
/// tolerance of the float32 folder's image (pixels in [0, 1]). Block size 16 (the tiny graphs' widths are 16-64).
/// Largest errors measured over the six families (Qwen-Image each time): fp16 1.0e-3, int8 1.1e-2, int4 0.17; the
/// tolerances are 2-3x those. The packing itself is checked exactly in <see cref="BlockQuantizationTests"/>.
/// </summary>
public sealed class QuantizedPipelineTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-qpipe-").FullName;

    /// <summary>Image max abs difference from the float32 folder allowed per format.</summary>
    public static double Tolerance(WeightFormat format) => format switch
    {
        WeightFormat.Float16 => 3e-3,
        WeightFormat.Int8 => 3e-2,
        _ => 0.35,
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string family in (string[])["sd15-", "sdxl-", "sd3-", "flux-dev-", "flux-schnell-", "qwen-image-"])
        {
            string name = PipelineCase.Names(family).First();
            foreach (string format in (string[])["int8", "int4", "fp16"])
            {
                data.Add(name, format);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_quantized_folder_generates_the_float32_image_within_the_format_tolerance(string name, string format)
    {
        var c = PipelineCase.Load(name);
        var weights = QuantizationOptions.ParseFormat(format);
        string folder = Path.Combine(_temp, "q");
        var graphs = ModelQuantizer.QuantizeFolder(c.ModelFolder, folder, new QuantizationOptions { Weights = weights, BlockSize = 16 });
        Assert.Contains(graphs, g => g.Component is "unet" or "transformer");
        Assert.All(graphs, g => Assert.True(g.MatMuls + g.Convs + g.HalfTensors > 0, $"{g.Component}: nothing converted"));

        var reference = Generate(c, c.ModelFolder);
        var quantized = Generate(c, folder);
        Assert.Equal(reference.Length, quantized.Length);
        double abs = reference.Zip(quantized, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {format}: image max abs difference from float32 {abs:E3} (tolerance {Tolerance(weights):E1})"));
        Assert.True(abs <= Tolerance(weights), $"{name} {format}: image max abs difference {abs:E3} > {Tolerance(weights):E1}");
        Assert.True(abs > 0, "the quantized folder gave the float32 image bit for bit: nothing was quantized");
    }

    [Theory]
    [InlineData("sd15-", "int8")]
    [InlineData("flux-dev-", "int8")]
    [InlineData("flux-dev-", "int4")]
    public void Accuracy_level_4_is_written_on_every_MatMulNBits_and_stays_within_the_format_tolerance(string family, string format)
    {
        var c = PipelineCase.Load(PipelineCase.Names(family).First());
        var weights = QuantizationOptions.ParseFormat(format);
        string folder = Path.Combine(_temp, "q4");
        ModelQuantizer.QuantizeFolder(c.ModelFolder, folder, new QuantizationOptions { Weights = weights, BlockSize = 16, AccuracyLevel = 4 });
        string denoiser = Path.Combine(folder, Directory.Exists(Path.Combine(folder, "transformer")) ? "transformer" : "unet", "model.onnx");
        ModelProto model;
        using (var input = File.OpenRead(denoiser))
        {
            model = ModelProto.Parser.ParseFrom(input);
        }

        var nodes = model.Graph.Node.Where(n => n.OpType == "MatMulNBits").ToList();
        Assert.NotEmpty(nodes);
        Assert.All(nodes, n => Assert.Equal(4, n.Attribute.Single(a => a.Name == "accuracy_level").I));

        double abs = Generate(c, c.ModelFolder).Zip(Generate(c, folder), (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{family} {format} accuracy level 4: image max abs difference from float32 {abs:E3}"));
        Assert.True(abs <= Tolerance(weights), $"{abs:E3} > {Tolerance(weights):E1}");
    }

    [Fact]
    public void Quantize_command_writes_a_folder_that_generate_runs()
    {
        var c = PipelineCase.Load(PipelineCase.Names("sd15-").First());
        using var h = new CliHarness();
        string folder = h.PathOf("sd15-int4");
        var (code, stdout, err) = h.Run("quantize", c.ModelFolder, "--to", folder, "--weights", "int4", "--block-size", "16");
        Assert.True(code == 0, err);
        Assert.Contains("unet:", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "unet", "model.onnx")));
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer", "vocab.json")) || Directory.Exists(Path.Combine(folder, "tokenizer")));
        string image = h.PathOf("x.npy");
        (code, _, err) = h.Run("generate", "--model", folder, "--prompt", c.Prompt, "--latents", c.File("latents.npy"), "--steps", "3", "--scheduler", "ddim", "--out", image);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(image));
    }

    [Theory]
    [InlineData("--weights", "int3", "unknown weight format")]
    [InlineData("--block-size", "48", "block size must be one of")]
    [InlineData("--accuracy-level", "5", "accuracy level must be 0 to 4")]
    [InlineData("FOLDER", "missing", "does not exist")]
    [InlineData("--to", "EXISTS", "already exists")]
    public void Bad_input_is_one_error_line_and_no_output(string flag, string value, string message)
    {
        var c = PipelineCase.Load(PipelineCase.Names("sd15-").First());
        using var h = new CliHarness();
        string source = flag == "FOLDER" ? h.PathOf(value) : c.ModelFolder;
        string to = flag == "--to" ? h.Directory : h.PathOf("out");
        var args = new List<string> { "quantize", source, "--to", to, "--weights", flag == "--weights" ? value : "int8" };
        if (flag is "--block-size" or "--accuracy-level")
        {
            args.AddRange([flag, value]);
        }

        var (code, stdout, err) = h.Run([.. args]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: ", err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(h.PathOf("out")));
        Assert.Empty(Directory.GetDirectories(h.Directory, ".out.partial-*"));
    }

    private float[] Generate(PipelineCase c, string folder) => c.RunFromTokens(_temp, folder).Images.Pixels.ToArray();

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
