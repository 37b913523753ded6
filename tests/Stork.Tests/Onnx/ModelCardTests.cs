using System.Text.Json.Nodes;
using Stork.Onnx;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Tests.Onnx;

public class ModelCardTests
{
    /// <summary>Writes a copy of tiny-flow.json, changed by <paramref name="edit"/>, beside a copy of its ONNX file.</summary>
    private static string Variant(Action<JsonObject> edit, string source = "tiny-flow")
    {
        string dir = TestData.TempDir();
        var card = JsonNode.Parse(File.ReadAllText(TestData.Onnx(source + ".json")))!.AsObject();
        File.Copy(TestData.Onnx(source + ".onnx"), Path.Combine(dir, source + ".onnx"));
        edit(card);
        string path = Path.Combine(dir, "card.json");
        File.WriteAllText(path, card.ToJsonString());
        return path;
    }

    private static string CardError(Action<JsonObject> edit, string source = "tiny-flow")
    {
        string path = Variant(edit, source);
        var e = Assert.Throws<InvalidDataException>(() => ModelCard.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    private static string ModelError(Action<JsonObject> edit)
    {
        string path = Variant(edit);
        var e = Assert.Throws<InvalidDataException>(() => OnnxDenoiser.Load(path));
        Assert.Contains("does not match its card", e.Message, StringComparison.Ordinal);
        return e.Message;
    }

    [Fact]
    public void LoadsTheTinyCards()
    {
        var card = ModelCard.Load(TestData.Onnx("tiny-flow.json"));
        Assert.Equal(ModelKind.Denoiser, card.Kind);
        Assert.Equal("tiny-flow", card.Name);
        Assert.Equal(Prediction.FlowVelocity, card.Prediction);
        Assert.Equal(TimeInput.Sigma, card.TimeInput);
        Assert.Equal((-1.0, 1.0), card.DataRange);
        Assert.Equal(64, card.SampleSize);
        Assert.True(File.Exists(card.Fixture["out"]));
        var classifier = ModelCard.Load(TestData.Onnx("tiny-classifier.json"));
        Assert.Equal(ModelKind.Classifier, classifier.Kind);
        Assert.Equal(4, classifier.FeatureDim);
        Assert.True(File.Exists(classifier.TestStats["cov"]));
        Assert.Equal(["zero", "one", "two"], classifier.ClassNames);
        Assert.Equal(3, classifier.NumClasses);
    }

    [Fact]
    public void ParsesEverySchedule()
    {
        var vp = ModelCard.Load(Variant(c =>
        {
            c["prediction"] = "epsilon";
            c["time_input"] = "t";
            c["schedule"] = new JsonObject { ["type"] = "vp-linear", ["beta_min"] = 0.1, ["beta_max"] = 20.0, ["t_min"] = 0.001, ["t_max"] = 1.0 };
        }));
        var linear = Assert.IsType<VpLinearSchedule>(vp.NoiseSchedule);
        Assert.Equal(20.0, linear.BetaMax);
        Assert.Equal(0.001, vp.Schedule!.TrainedTMin);
        vp.Schedule.RequireTrained(0.001, "card");
        vp.Schedule.RequireTrained(1.0, "card");
        var outside = Assert.Throws<ArgumentException>(() => vp.Schedule.RequireTrained(0.0005, "card"));
        Assert.Contains("outside its trained range [0.001, 1]", outside.Message, StringComparison.Ordinal);
        var discrete = ModelCard.Load(Variant(c =>
        {
            c["time_input"] = "timestep";
            c["schedule"] = new JsonObject { ["type"] = "vp-discrete", ["beta_schedule"] = "scaled_linear", ["beta_start"] = 0.00085, ["beta_end"] = 0.012, ["train_steps"] = 1000 };
        }));
        Assert.Equal(1000, Assert.IsType<VpDiscreteSchedule>(discrete.NoiseSchedule).TrainSteps);
        var cosine = ModelCard.Load(Variant(c => { c["time_input"] = "t*1000"; c["schedule"] = new JsonObject { ["type"] = "vp-cosine" }; }));
        Assert.IsType<VpCosineSchedule>(cosine.NoiseSchedule);
    }

    [Fact]
    public void MissingOrInvalidKeysAreClearErrors()
    {
        Assert.Contains("missing key 'schedule'", CardError(c => c.Remove("schedule")));
        Assert.Contains("missing key 'inputs.time'", CardError(c => c["inputs"]!.AsObject().Remove("time")));
        Assert.Contains("missing key 'output'", CardError(c => c.Remove("output")));
        Assert.Contains("unknown schedule.type 'edm'", CardError(c => c["schedule"] = new JsonObject { ["type"] = "edm" }));
        Assert.Contains("unknown time_input", CardError(c => c["time_input"] = "log-sigma"));
        Assert.Contains("unknown prediction", CardError(c => c["prediction"] = "score"));
        Assert.Contains("unknown kind", CardError(c => c["kind"] = "vae"));
        Assert.Contains("layout", CardError(c => c["layout"] = "NHWC"));
        Assert.Contains("dtype", CardError(c => c["dtype"] = "int8"));
        Assert.Contains("data_range", CardError(c => c["data_range"] = new JsonArray(1.0, -1.0)));
        Assert.Contains("sample_shape", CardError(c => c["sample_shape"] = new JsonArray(1, 0, 8)));
        Assert.Contains("does not exist", CardError(c => c["onnx"] = "missing.onnx"));
        Assert.Contains("'timestep' needs a discrete schedule", CardError(c => c["time_input"] = "timestep"));
        Assert.Contains("use time_input 'timestep'", CardError(c =>
        {
            c["time_input"] = "t";
            c["schedule"] = new JsonObject { ["type"] = "vp-discrete", ["beta_schedule"] = "linear" };
        }));
        Assert.Contains("invalid schedule", CardError(c =>
            c["schedule"] = new JsonObject { ["type"] = "vp-linear", ["beta_min"] = 5.0, ["beta_max"] = 1.0 }));
        Assert.Contains("missing key 'outputs'", CardError(c => c.Remove("outputs"), "tiny-classifier"));
        Assert.Contains("num_classes is 4", CardError(c => c["num_classes"] = 4, "tiny-classifier"));
    }

    [Fact]
    public void UnreadableCardsAreClearErrors()
    {
        string dir = TestData.TempDir();
        string bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(bad, "{ not json");
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => ModelCard.Load(bad)).Message);
        Assert.Contains("cannot read", Assert.Throws<InvalidDataException>(() => ModelCard.Load(Path.Combine(dir, "none.json"))).Message);
    }

    [Fact]
    public void TheNetworkIsCheckedAgainstTheCardAtLoad()
    {
        Assert.Contains("inputs.sample names input 'image'", ModelError(c => c["inputs"]!["sample"] = "image"));
        Assert.Contains("output names output 'y'", ModelError(c => c["output"] = "y"));
        Assert.Contains("has shape [?, 1, 8, 8], the card implies [batch, 1, 9, 9]", ModelError(c => c["sample_shape"] = new JsonArray(1, 9, 9)));
        Assert.Contains("the card implies [batch, 8, 8]", ModelError(c => c["sample_shape"] = new JsonArray(8, 8)));
        Assert.Contains("the card says float16", ModelError(c => c["dtype"] = "float16"));
    }

    [Fact]
    public void ClassifierClassCountIsCheckedAgainstTheNetwork()
    {
        string path = Variant(c => { c.Remove("classes"); c["num_classes"] = 5; }, "tiny-classifier");
        Assert.Contains("has 3 classes, the card says 5", Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(path)).Message);
    }

    [Fact]
    public void KindsAreNotMixedUp()
    {
        Assert.Contains("not a denoiser", Assert.Throws<InvalidDataException>(() => OnnxDenoiser.Load(TestData.Onnx("tiny-classifier.json"))).Message);
        Assert.Contains("not a classifier", Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(TestData.Onnx("tiny-flow.json"))).Message);
    }
}
