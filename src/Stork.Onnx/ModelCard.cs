using System.Text.Json;
using Stork.Grids;
using Stork.IO;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Onnx;

/// <summary>
/// A model card: the JSON file beside an ONNX model that says what it is (<c>kind</c>), how to feed it (input and output
/// names, <c>time_input</c>, <c>dtype</c>, <c>layout</c>, <c>sample_shape</c>, <c>data_range</c>) and, for a denoiser,
/// what it predicts under which schedule. <see cref="Load"/> validates everything the library relies on and throws
/// <see cref="InvalidDataException"/> with a one-line message naming the card and the key; file paths in the card are
/// relative to the card's folder.
/// </summary>
public sealed class ModelCard
{
    private ModelCard(string path, ModelKind kind, string name, string onnxPath, int[] sampleShape, TensorDType dtype,
        (double Min, double Max) dataRange, IReadOnlyDictionary<string, string> inputs, IReadOnlyDictionary<string, string> outputs,
        IReadOnlyDictionary<string, string> fixture)
    {
        CardPath = path;
        Kind = kind;
        Name = name;
        OnnxPath = onnxPath;
        SampleShape = sampleShape;
        DType = dtype;
        DataRange = dataRange;
        Inputs = inputs;
        Outputs = outputs;
        Fixture = fixture;
    }

    /// <summary>Most values one sample (or feature vector) may hold: 2^28 (1 GiB of float32).</summary>
    public const int MaxSampleSize = 1 << 28;

    /// <summary>The card's own path (full).</summary>
    public string CardPath { get; }

    /// <summary>Whether the card describes a denoiser or a classifier.</summary>
    public ModelKind Kind { get; }

    /// <summary>The model's name (the card's <c>name</c>).</summary>
    public string Name { get; }

    /// <summary>The ONNX file (full path).</summary>
    public string OnnxPath { get; }

    /// <summary>One sample's shape without the batch axis, e.g. [1, 28, 28] (layout NCHW).</summary>
    public IReadOnlyList<int> SampleShape { get; }

    /// <summary>Element type of the image / sample input and of the outputs.</summary>
    public TensorDType DType { get; }

    /// <summary>The values that clean data spans (e.g. [-1, 1]); images map this range to [0, 255].</summary>
    public (double Min, double Max) DataRange { get; }

    /// <summary>Role (<c>sample</c>, <c>time</c>, <c>image</c>) to the network's input name.</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; }

    /// <summary>Role (<c>out</c> for a denoiser; <c>features</c>, <c>logits</c> for a classifier) to the output name.</summary>
    public IReadOnlyDictionary<string, string> Outputs { get; }

    /// <summary>Fixture role (<c>x</c>, <c>t</c>, <c>out</c>, <c>features</c>, <c>logits</c>) to a .npy file (full path).</summary>
    public IReadOnlyDictionary<string, string> Fixture { get; }

    /// <summary>Denoiser: what the network predicts.</summary>
    public Prediction Prediction { get; private init; }

    /// <summary>Denoiser: the noise schedule it was trained under (with the trained time range).</summary>
    public CardSchedule? Schedule { get; private init; }

    /// <summary>Denoiser: how time is fed.</summary>
    public TimeInput TimeInput { get; private init; }

    /// <summary>Classifier: length of the feature vector.</summary>
    public int FeatureDim { get; private init; }

    /// <summary>Classifier: the class names (<c>classes</c>), index by index, if the card lists them.</summary>
    public IReadOnlyList<string> ClassNames { get; private init; } = [];

    /// <summary>Classifier: the number of classes the card declares (<c>num_classes</c> or the length of <c>classes</c>), if any.</summary>
    public int? NumClasses { get; private init; }

    /// <summary>Classifier: reference feature statistics (<c>mean</c>, <c>cov</c> .npy files, full paths), if the card has them.</summary>
    public IReadOnlyDictionary<string, string> TestStats { get; private init; } = new Dictionary<string, string>();

    /// <summary>Denoisers: the grids tuned for this model (<c>tuned_grids</c>), each its solver's default at its step count.</summary>
    public IReadOnlyList<TunedGrid> TunedGrids { get; private init; } = [];

    /// <summary>
    /// Denoisers: solver options per solver name (<c>solver_options</c>, spec text such as <c>stopping-eps=0.05</c>), each
    /// solver's default on this model where its settings leave the option unset; a key <c>name@steps</c>
    /// (<c>stork-4@20</c>) holds the defaults at that step count only, ahead of the solver's entry for every count.
    /// </summary>
    public IReadOnlyDictionary<string, string> SolverOptions { get; private init; } = new Dictionary<string, string>();

    /// <summary>Classifier: accuracy on the held-out test set, if the card gives it.</summary>
    public double? TestAccuracy { get; private init; }

    /// <summary>Floats per sample.</summary>
    public int SampleSize => SampleShape.Aggregate(1, (a, b) => checked(a * b));

    /// <summary>The schedule, for a denoiser card.</summary>
    public NoiseSchedule NoiseSchedule => Schedule?.Schedule ?? throw new InvalidOperationException($"model card '{CardPath}' is not a denoiser.");

    /// <summary>True when <paramref name="root"/> looks like a model card (has <c>kind</c> and <c>onnx</c>), as opposed to other JSON.</summary>
    public static bool IsCard(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("onnx", out _) && root.TryGetProperty("kind", out _);

    /// <summary>Reads and validates a card; the ONNX file must exist (it is not opened here).</summary>
    public static ModelCard Load(string path)
    {
        string full = Path.GetFullPath(path);
        string text = InputFile.ReadAllText(full, "model card");
        return Parse(JsonConfig.Parse(text, path, $"model card '{path}'", m => new InvalidDataException(m)), full);
    }

    private static ModelCard Parse(JsonConfig json, string full)
    {
        string dir = Path.GetDirectoryName(full)!;
        string kindName = json.RequiredString("kind");
        var kind = kindName switch
        {
            "denoiser" => ModelKind.Denoiser,
            "classifier" => ModelKind.Classifier,
            _ => throw json.Error($"unknown kind '{kindName}' (expected denoiser or classifier)."),
        };
        string name = json.String("name") ?? Path.GetFileNameWithoutExtension(full);
        string onnx = FilePath(json, dir, json.RequiredString("onnx"), "onnx");
        if (!File.Exists(onnx))
        {
            throw json.Error($"the ONNX file '{onnx}' does not exist.");
        }

        try
        {
            InputFile.Check(onnx, "ONNX file");
        }
        catch (InvalidDataException e)
        {
            throw json.Error(e.Message);
        }

        string layout = json.String("layout") ?? "NCHW";
        if (layout != "NCHW")
        {
            throw json.Error($"layout '{layout}' is not supported (expected NCHW).");
        }

        int[] shape = json.IntArray("sample_shape");
        if (shape.Length == 0 || shape.Any(d => d < 1))
        {
            throw json.Error($"'sample_shape' must be a non-empty list of positive integers (got [{string.Join(", ", shape)}]).");
        }

        long sampleSize = 1;
        foreach (int d in shape)
        {
            sampleSize *= d;
            if (sampleSize > MaxSampleSize)
            {
                throw json.Error($"'sample_shape' [{string.Join(", ", shape)}] holds more than {MaxSampleSize} values per sample.");
            }
        }
        TensorDType dtype;
        try
        {
            dtype = TensorDTypes.Parse(json.String("dtype") ?? "float32");
        }
        catch (ArgumentException e)
        {
            throw json.Error(e.Message);
        }

        double[] range = json.NumberArray("data_range", 2);
        if (!(range[1] > range[0]))
        {
            throw json.Error($"data_range must be [min, max] with min < max (got [{range[0]}, {range[1]}]).");
        }

        var inputs = json.RequiredSection("inputs").Strings();
        var fixture = (json.Section("fixture")?.Strings() ?? [])
            .ToDictionary(kv => kv.Key, kv => FilePath(json, dir, kv.Value, "fixture." + kv.Key));
        if (kind == ModelKind.Denoiser)
        {
            Need(json, inputs, "inputs", "sample", "time");
            string output = json.RequiredString("output");
            var schedule = CardSchedule.Parse(json);
            Prediction prediction;
            TimeInput timeInput;
            try
            {
                prediction = PredictionNames.Parse(json.RequiredString("prediction"));
                timeInput = TimeInputs.Parse(json.RequiredString("time_input"));
            }
            catch (ArgumentException e)
            {
                throw json.Error(e.Message);
            }

            if (TimeInputs.Incompatibility(timeInput, schedule.Schedule) is { } why)
            {
                throw json.Error(why);
            }

            return new ModelCard(full, kind, name, onnx, shape, dtype, (range[0], range[1]), inputs,
                new Dictionary<string, string> { ["out"] = output }, fixture)
            {
                Prediction = prediction,
                Schedule = schedule,
                TimeInput = timeInput,
                TunedGrids = ReadTunedGrids(json, dir, schedule),
                SolverOptions = ReadSolverOptions(json, schedule),
            };
        }

        Need(json, inputs, "inputs", "image");
        var outputs = json.RequiredSection("outputs").Strings();
        Need(json, outputs, "outputs", "features", "logits");
        int featureDim = json.Int("feature_dim");
        if (featureDim is < 1 or > MaxSampleSize)
        {
            throw json.Error($"feature_dim must be 1 to {MaxSampleSize} (got {featureDim}).");
        }

        // test_stats: the "mean" and "cov" .npy files (other keys, such as the image count, are descriptive).
        var stats = new Dictionary<string, string>(StringComparer.Ordinal);
        if (json.Section("test_stats") is { } statsObject)
        {
            foreach (string key in new[] { "mean", "cov" })
            {
                if (statsObject.String(key) is { } file)
                {
                    stats[key] = FilePath(json, dir, file, "test_stats." + key);
                }
            }
        }

        string[] classNames = json.StringArray("classes");
        int? numClasses = json.IntOrNull("num_classes");
        if (numClasses is < 1 or > MaxSampleSize)
        {
            throw json.Error($"num_classes must be positive (got {numClasses}).");
        }

        if (numClasses is { } nc && classNames.Length > 0 && nc != classNames.Length)
        {
            throw json.Error($"num_classes is {nc} but 'classes' names {classNames.Length}.");
        }

        return new ModelCard(full, kind, name, onnx, shape, dtype, (range[0], range[1]), inputs, outputs, fixture)
        {
            FeatureDim = featureDim,
            ClassNames = classNames,
            NumClasses = numClasses ?? (classNames.Length > 0 ? classNames.Length : null),
            TestStats = stats,
            TestAccuracy = json.NumberOrNull("test_accuracy"),
        };
    }

    /// <summary>
    /// The card's <c>tuned_grids</c>: grid files (<c>stork tune</c>, relative to the card's folder), each the default grid
    /// of its solver at its step count on this model. A file that is missing, invalid or outside the trained range is a
    /// card error.
    /// </summary>
    private static TunedGrid[] ReadTunedGrids(JsonConfig json, string dir, CardSchedule schedule)
    {
        var grids = new List<TunedGrid>();
        foreach (string item in json.StringArray("tuned_grids"))
        {
            string path = FilePath(json, dir, item, "tuned_grids");
            try
            {
                var grid = TunedGrid.Load(path);
                TunedGrid.Check(grid.Times, grid.Times.Count, schedule.Schedule, upstream: false);
                if (grids.Any(g => string.Equals(g.Solver, grid.Solver, StringComparison.OrdinalIgnoreCase) && g.Times.Count == grid.Times.Count))
                {
                    throw new InvalidDataException($"two tuned grids for {grid.Solver} at {grid.Times.Count} steps");
                }

                grids.Add(grid);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException)
            {
                throw json.Error($"tuned grid '{item}': {e.Message}");
            }
        }

        return [.. grids];
    }

    /// <summary>
    /// The card's <c>solver_options</c>: an object from solver name (or <c>name@steps</c> for one step count) to spec
    /// options (<c>key=value,...</c>); an unknown solver, a bad step count, an unknown option or one that does not apply
    /// to the model is a card error.
    /// </summary>
    private static Dictionary<string, string> ReadSolverOptions(JsonConfig json, CardSchedule schedule)
    {
        var section = json.Section("solver_options");
        if (section is null)
        {
            return new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        }

        var options = new Dictionary<string, string>(section.Strings(), StringComparer.OrdinalIgnoreCase);
        var model = new Stork.Solvers.ModelSpec(Stork.Predictions.Prediction.Epsilon, schedule.Schedule);
        foreach (var (solver, text) in options)
        {
            try
            {
                string name = Stork.Solvers.Catalog.SolverRegistry.SplitOptionsKey(solver).Solver;
                var spec = Stork.Evaluation.SolverSpec.Parse($"{name}[{text}]", new Stork.Solvers.Catalog.SolverSettings());
                var empty = new Stork.Solvers.Catalog.SolverSettings();
                foreach (var option in Stork.Solvers.Catalog.SolverRegistry.Reads(spec.Name))
                {
                    string? set = option.Format(spec.Settings), unset = option.Format(empty);
                    if (set != unset)
                    {
                        option.CheckApplies([spec.Name], model);
                        if (unset is not null)
                        {
                            throw new ArgumentException($"{option.Key} cannot be a model's default (only options a solver leaves unset can).");
                        }
                    }
                }
            }
            catch (ArgumentException e)
            {
                throw json.Error($"solver_options '{solver}': {e.Message}");
            }
        }

        return options;
    }

    /// <summary>A file named in the card, relative to the card's folder; a name no file system accepts is a card error.</summary>
    private static string FilePath(JsonConfig json, string dir, string file, string key)
    {
        try
        {
            return Path.GetFullPath(Path.Combine(dir, file));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw json.Error($"'{key}' is not a usable file name: {e.Message}");
        }
    }

    private static void Need(JsonConfig json, Dictionary<string, string> map, string key, params string[] roles)
    {
        foreach (string r in roles)
        {
            if (!map.ContainsKey(r))
            {
                throw json.Error($"missing key '{key}.{r}'.");
            }
        }
    }
}
