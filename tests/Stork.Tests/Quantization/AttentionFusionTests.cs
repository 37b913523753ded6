using System.Globalization;
using Google.Protobuf;
using Stork.Onnx.Quantization;
using Stork.Onnx.Quantization.Proto;
using Stork.Tests.Pipelines;
using Xunit.Abstractions;

namespace Stork.Tests.Quantization;

/// <summary>
/// <c>stork quantize --attention fused</c>: every attention of the tiny SD1.5, SDXL, SD3 and FLUX.1 denoisers becomes
/// one <c>com.microsoft.MultiHeadAttention</c>, and the fused folder generates the golden case's image within
/// <see cref="Tolerance"/> of the unfused folder (float32 weights both, so the difference is the attention's
/// arithmetic alone: measured at most 1.2e-6). Qwen-Image's attention has a text mask: left unfused.
/// </summary>
public sealed class AttentionFusionTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Image max abs difference (pixels in [0, 1]) allowed between the fused and the unfused folder.</summary>
    public const double Tolerance = 1e-4;

    private readonly string _temp = Directory.CreateTempSubdirectory("stork-fuse-").FullName;

    public static TheoryData<string, int> Cases() => new()
    {
        { PipelineCase.Names("sd15-").First(), 2 },
        { PipelineCase.Names("sdxl-").First(), 2 },
        { PipelineCase.Names("sd3-").First(), 1 },
        { PipelineCase.Names("flux-dev-").First(), 2 },
        { PipelineCase.Names("flux-schnell-").First(), 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_attention_is_fused_and_the_image_stays_within_tolerance(string name, int attentions)
    {
        var c = PipelineCase.Load(name);
        string folder = Fuse(c.ModelFolder, "fused");
        string denoiser = Denoiser(folder);
        var graph = ReadGraph(denoiser);
        Assert.Equal(attentions, graph.Graph.Node.Count(n => n.OpType == "MultiHeadAttention"));
        Assert.DoesNotContain(graph.Graph.Node, n => n.OpType == "Softmax");
        Assert.True(ModelQuantizer.HasFusedAttention(denoiser));
        Assert.False(ModelQuantizer.HasFusedAttention(Denoiser(c.ModelFolder)));
        Assert.Null(ModelQuantizer.Detect(denoiser));

        double abs = MaxAbs(Generate(c, c.ModelFolder), Generate(c, folder));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: fused vs unfused image max abs difference {abs:E3}"));
        Assert.True(abs <= Tolerance, $"{name}: {abs:E3} > {Tolerance:E1}");
    }

    /// <summary>A fusion with the wrong head count or scale is caught by the comparison above.</summary>
    [Theory]
    [InlineData("sd15-", "num_heads")]
    [InlineData("sd15-", "scale")]
    [InlineData("flux-dev-", "num_heads")]
    [InlineData("sd3-", "scale")]
    public void A_wrong_head_count_or_scale_moves_the_image_beyond_the_tolerance(string family, string attribute)
    {
        var c = PipelineCase.Load(PipelineCase.Names(family).First());
        string folder = Fuse(c.ModelFolder, "wrong");
        string denoiser = Denoiser(folder);
        var model = ReadGraph(denoiser);
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "MultiHeadAttention"))
        {
            var a = node.Attribute.Single(x => x.Name == attribute);
            if (attribute == "num_heads")
            {
                Assert.True(a.I > 1, "the tiny graph has one head: this check needs several");
                a.I = 1;
            }
            else
            {
                a.F *= 2;
            }
        }

        File.WriteAllBytes(denoiser, model.ToByteArray());
        double abs = MaxAbs(Generate(c, c.ModelFolder), Generate(c, folder));
        Assert.True(abs > 10 * Tolerance, $"{family} with a wrong {attribute}: {abs:E3}");
    }

    [Fact]
    public void Qwen_image_attention_with_its_text_mask_is_left_alone()
    {
        var c = PipelineCase.Load(PipelineCase.Names("qwen-image-").First());
        var graphs = ModelQuantizer.QuantizeFolder(c.ModelFolder, Path.Combine(_temp, "qwen"), new QuantizationOptions { Weights = WeightFormat.Float32 });
        Assert.All(graphs, g => Assert.Equal(0, g.FusedAttentions));
    }

    [Fact]
    public void Fusion_goes_with_each_weight_format_and_float32_alone_needs_it()
    {
        var c = PipelineCase.Load(PipelineCase.Names("sd15-").First());
        foreach (var format in (WeightFormat[])[WeightFormat.Int8, WeightFormat.Int4, WeightFormat.Float16])
        {
            string folder = Path.Combine(_temp, "q-" + QuantizationOptions.FormatName(format));
            var graphs = ModelQuantizer.QuantizeFolder(c.ModelFolder, folder, new QuantizationOptions { Weights = format, BlockSize = 16 });
            Assert.Equal(2, graphs.Single(g => g.Component == "unet").FusedAttentions);
            Assert.Equal(format, ModelQuantizer.Detect(Denoiser(folder)));
            Assert.True(ModelQuantizer.HasFusedAttention(Denoiser(folder)));
        }

        string unfused = Path.Combine(_temp, "q-unfused");
        ModelQuantizer.QuantizeFolder(c.ModelFolder, unfused, new QuantizationOptions { Weights = WeightFormat.Int8, BlockSize = 16, FuseAttention = false });
        Assert.False(ModelQuantizer.HasFusedAttention(Denoiser(unfused)));
        var e = Assert.Throws<ArgumentException>(() => new QuantizationOptions { Weights = WeightFormat.Float32, FuseAttention = false }.Validate());
        Assert.Contains("unchanged copy", e.Message, StringComparison.Ordinal);
        Assert.Equal(WeightFormat.Float32, QuantizationOptions.ParseFormat("keep"));
    }

    /// <summary>
    /// <c>--runtime-optimized</c>: the graph ONNX Runtime writes after its own optimisation (constant folding, fusions)
    /// replaces the converted one and generates the same image (bit for bit on these two; asserted within <see cref="Tolerance"/>).
    /// </summary>
    [Theory]
    [InlineData("sd15-", WeightFormat.Float32)]
    [InlineData("flux-schnell-", WeightFormat.Int8)]
    public void A_runtime_optimized_folder_generates_the_same_image(string family, WeightFormat weights)
    {
        var c = PipelineCase.Load(PipelineCase.Names(family).First());
        string plain = Path.Combine(_temp, "plain");
        string optimized = Path.Combine(_temp, "optimized");
        ModelQuantizer.QuantizeFolder(c.ModelFolder, plain, new QuantizationOptions { Weights = weights, BlockSize = 16 });
        ModelQuantizer.QuantizeFolder(c.ModelFolder, optimized, new QuantizationOptions { Weights = weights, BlockSize = 16, RuntimeOptimized = true });
        int before = ReadGraph(Denoiser(plain)).Graph.Node.Count, after = ReadGraph(Denoiser(optimized)).Graph.Node.Count;
        Assert.True(after < before, $"the optimized graph has {after} nodes, the converted one {before}");
        Assert.True(ModelQuantizer.HasFusedAttention(Denoiser(optimized)));
        Assert.Empty(Directory.GetDirectories(optimized, "*.optimized", SearchOption.AllDirectories));
        var cpu = new Stork.Onnx.OnnxRuntimeOptions();
        Assert.Equal(Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL, Stork.Onnx.OnnxSessions.OptimizationLevel(Denoiser(optimized), cpu));
        Assert.Equal(Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL, Stork.Onnx.OnnxSessions.OptimizationLevel(Denoiser(plain), cpu));
        string marker = Path.Combine(Path.GetDirectoryName(Denoiser(optimized))!, Stork.Onnx.OnnxSessions.RuntimeOptimizedMarker);
        string stamp = File.ReadAllText(marker);
        File.WriteAllText(marker, "onnxruntime 0.0.0 cpu\n");
        Assert.Equal(Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL, Stork.Onnx.OnnxSessions.OptimizationLevel(Denoiser(optimized), cpu));
        File.WriteAllText(marker, stamp);

        double abs = MaxAbs(Generate(c, plain), Generate(c, optimized));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{family} {weights}: runtime-optimized vs converted image max abs difference {abs:E3}"));
        Assert.True(abs <= Tolerance, $"{abs:E3} > {Tolerance:E1}");
    }

    private string Fuse(string source, string name)
    {
        string folder = Path.Combine(_temp, name);
        var graphs = ModelQuantizer.QuantizeFolder(source, folder, new QuantizationOptions { Weights = WeightFormat.Float32 });
        Assert.Contains(graphs, g => g.Component is "unet" or "transformer" && g.FusedAttentions > 0);
        return folder;
    }

    private static string Denoiser(string folder) =>
        Path.Combine(folder, Directory.Exists(Path.Combine(folder, "transformer")) ? "transformer" : "unet", "model.onnx");

    private static ModelProto ReadGraph(string path)
    {
        using var input = File.OpenRead(path);
        return ModelProto.Parser.ParseFrom(input);
    }

    private float[] Generate(PipelineCase c, string folder) => c.RunFromTokens(_temp, folder).Images.Pixels.ToArray();

    private static double MaxAbs(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
