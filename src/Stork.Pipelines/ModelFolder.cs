using Stork.IO;

namespace Stork.Pipelines;

/// <summary>
/// A model folder in the diffusers / Optimum ONNX layout: <c>model_index.json</c> names the pipeline class and its
/// components; each network component has a folder with <c>model.onnx</c> (external weights beside it) and
/// <c>config.json</c>; tokenizers and the scheduler configuration have folders of their own.
/// </summary>
public sealed class ModelFolder
{
    private ModelFolder(string root, string className, string pipelineClass, JsonConfig index)
    {
        Root = root;
        ClassName = className;
        PipelineClass = pipelineClass;
        Index = index;
    }

    /// <summary>The folder.</summary>
    public string Root { get; }

    /// <summary><c>_class_name</c> of <c>model_index.json</c>, as written (<c>FluxPipeline</c>, <c>ORTFluxPipeline</c>, ...).</summary>
    public string ClassName { get; }

    /// <summary>The diffusers pipeline class: <see cref="ClassName"/> without an exporter's prefix (<c>FluxPipeline</c>).</summary>
    public string PipelineClass { get; }

    /// <summary>The folder's <c>model_index.json</c>.</summary>
    public JsonConfig Index { get; }

    /// <summary>The pipeline classes accepted, with the prefixes exporters add (<c>Onnx</c>, <c>ORT</c>).</summary>
    public static IReadOnlyCollection<string> SupportedClasses => FamilyTable.Classes;

    /// <summary>Opens a folder; anything but a supported <c>model_index.json</c> is an <see cref="InvalidDataException"/>.</summary>
    public static ModelFolder Open(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"model folder '{root}' does not exist.");
        }

        string indexPath = Path.Combine(root, "model_index.json");
        if (!File.Exists(indexPath))
        {
            throw new InvalidDataException($"'{root}' is not a diffusers model folder: it has no model_index.json.");
        }

        var index = JsonConfig.Load(indexPath);
        string className = index.String("_class_name")
            ?? throw new InvalidDataException($"'{indexPath}' has no _class_name (the pipeline class).");
        string bare = className.StartsWith("ORT", StringComparison.Ordinal) ? className[3..]
            : className.StartsWith("Onnx", StringComparison.Ordinal) ? className[4..] : className;
        if (!FamilyTable.Contains(bare))
        {
            throw new InvalidDataException(
                $"'{indexPath}' names pipeline '{className}', which is not supported (supported: {string.Join(", ", FamilyTable.Classes)}, also with an Onnx or ORT prefix).");
        }

        return new ModelFolder(Path.GetFullPath(root), className, bare, index);
    }

    /// <summary>
    /// The folder of a component, trying <paramref name="names"/> in order (<c>vae_decoder</c> then <c>vae</c>,
    /// <c>transformer</c> then <c>unet</c>).
    /// </summary>
    public string ComponentFolder(params string[] names)
    {
        foreach (string n in names)
        {
            string dir = Path.Combine(Root, n);
            if (Directory.Exists(dir))
            {
                return dir;
            }
        }

        throw new InvalidDataException($"model folder '{Root}' has no component folder {string.Join(" or ", names.Select(n => $"'{n}/'"))}.");
    }

    /// <summary>The ONNX graph of a component (<c>model.onnx</c> in its folder).</summary>
    public string Graph(params string[] names)
    {
        string dir = ComponentFolder(names);
        string path = Path.Combine(dir, "model.onnx");
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"component folder '{dir}' has no model.onnx.");
        }

        return path;
    }

    /// <summary>The <c>config.json</c> of a component.</summary>
    public JsonConfig Config(params string[] names)
    {
        string dir = ComponentFolder(names);
        string path = Path.Combine(dir, "config.json");
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"component folder '{dir}' has no config.json.");
        }

        return JsonConfig.Load(path);
    }

    /// <summary>The scheduler configuration file, <c>scheduler/scheduler_config.json</c>.</summary>
    public string SchedulerConfigPath
    {
        get
        {
            string path = Path.Combine(ComponentFolder("scheduler"), "scheduler_config.json");
            return File.Exists(path) ? path : throw new InvalidDataException($"model folder '{Root}' has no scheduler/scheduler_config.json.");
        }
    }
}
