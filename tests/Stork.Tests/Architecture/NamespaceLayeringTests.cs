using System.Reflection;
using Stork.Sampling;

namespace Stork.Tests.Architecture;

/// <summary>
/// The namespaces form a DAG in the order the folders show (CONTRIBUTING.md, "The layering"): a namespace uses only
/// namespaces listed before it.
/// </summary>
public class NamespaceLayeringTests
{
    /// <summary>The core library's namespaces, lowest first; a sub-namespace not listed takes the rank of its parent.</summary>
    private static readonly string[] CoreLayers =
    [
        "Stork", "Stork.IO", "Stork.Schedules", "Stork.Grids", "Stork.Predictions", "Stork.Models",
        "Stork.Solvers", "Stork.Solvers.Rock4", "Stork.Solvers.Standard", "Stork.Solvers.Stabilized", "Stork.Solvers.Catalog", "Stork.Solvers.Diffusers",
        "Stork.Sampling", "Stork.Evaluation", "Stork.Tuning",
    ];

    /// <summary>The projects above the core, lowest first; each is one node (its own sub-namespaces are its business).</summary>
    private static readonly string[] Projects = ["Stork.Imaging", "Stork.Onnx", "Stork.Pipelines", "Stork.Server", "Stork.Cli"];

    private static readonly Assembly[] Assemblies =
    [
        typeof(Sampler).Assembly, typeof(global::Stork.Onnx.ModelCard).Assembly, typeof(global::Stork.Pipelines.TextToImage).Assembly,
        typeof(global::Stork.Imaging.PngFile).Assembly, typeof(global::Stork.Server.StorkServer).Assembly, typeof(global::Stork.Cli.CliApp).Assembly,
    ];

    private static bool InStork(string ns) => ns == "Stork" || ns.StartsWith("Stork.", StringComparison.Ordinal);

    private static Dictionary<string, SortedSet<string>> CoreGraph() => NamespaceGraph.Build([typeof(Sampler).Assembly], n => InStork(n) ? n : null);

    // Core namespaces as they are, every other project as one node.
    private static Dictionary<string, SortedSet<string>> ProjectGraph() => NamespaceGraph.Build(Assemblies, n =>
        !InStork(n) ? null : Projects.FirstOrDefault(p => n == p || n.StartsWith(p + ".", StringComparison.Ordinal)) ?? n);

    private static string Describe(IEnumerable<List<string>> cycles) => string.Join("; ", cycles.Select(c => string.Join(" <-> ", c)));

    [Fact]
    public void CoreNamespacesHaveNoCycle()
    {
        var cycles = NamespaceGraph.Cycles(CoreGraph());
        Assert.True(cycles.Count == 0, $"namespace cycles in Stork: {Describe(cycles)}");
    }

    [Fact]
    public void ProjectsHaveNoCycle()
    {
        var cycles = NamespaceGraph.Cycles(ProjectGraph());
        Assert.True(cycles.Count == 0, $"cycles between the projects: {Describe(cycles)}");
    }

    [Fact]
    public void ProjectsUseOnlyLowerOnes()
    {
        // The core below everything; then imaging, ONNX Runtime, pipelines, the server, and the command line on top.
        int Rank(string node) => Array.IndexOf(Projects, node) + 1;
        var upward = ProjectGraph().SelectMany(e => e.Value.Where(to => Rank(to) > 0 && Rank(to) >= Rank(e.Key)).Select(to => $"{e.Key} -> {to}")).ToList();
        Assert.True(upward.Count == 0, $"dependencies on the same or a higher project: {string.Join(", ", upward)}");
    }

    [Fact]
    public void CoreNamespacesUseOnlyLowerLayers()
    {
        int Rank(string ns)
        {
            for (string n = ns; ; n = n[..n.LastIndexOf('.')])
            {
                int r = Array.IndexOf(CoreLayers, n);
                if (r >= 0)
                {
                    return r;
                }

                Assert.True(n.Contains('.', StringComparison.Ordinal), $"namespace {ns} is not in the layer list");
            }
        }

        var upward = CoreGraph().SelectMany(e => e.Value.Where(to => Rank(to) >= Rank(e.Key)).Select(to => $"{e.Key} -> {to}")).ToList();
        Assert.True(upward.Count == 0, $"dependencies on the same or a higher layer: {string.Join(", ", upward)}");
    }

    [Fact]
    public void ACycleIsDetected()
    {
        // The detector itself: the real graph plus one upward use (the solvers calling the sampling loop, as RK45 once did).
        var graph = CoreGraph();
        Assert.Contains("Stork.Sampling", graph["Stork.Evaluation"]);
        graph["Stork.Solvers"].Add("Stork.Sampling");
        var cycles = NamespaceGraph.Cycles(graph);
        Assert.Contains(cycles, c => c.Contains("Stork.Solvers") && c.Contains("Stork.Sampling"));
    }

    [Fact]
    public void DependenciesInMethodBodiesAreSeen()
    {
        // Sampler uses IDenoiser and ISolver in signatures; the sampler's body constructs StepInfo: all three must be edges.
        var graph = CoreGraph();
        Assert.Contains("Stork.Models", graph["Stork.Sampling"]);
        Assert.Contains("Stork.Solvers", graph["Stork.Sampling"]);
        Assert.Contains("Stork.Solvers.Catalog", graph["Stork.Evaluation"]);
    }
}
