using System.Text.RegularExpressions;
using Stork.Evaluation;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;
using Stork.Tests.Cli;

namespace Stork.Tests.Solvers;

/// <summary>
/// The solver options are declared once (<see cref="SolverOption"/>): the spec mini-language, the command line's flags
/// and the "does not apply" checks derive from the table, and library errors carry the option's key.
/// </summary>
public class SolverOptionTests
{
    [Fact]
    public void EveryOptionIsReadBySomeSolverAndEveryKeyNamesOneOptionPerSolver()
    {
        Assert.Equal(SolverOption.All.Count, SolverOption.All.Select(o => o.Key).Distinct().Count());
        foreach (var option in SolverOption.All)
        {
            Assert.NotEmpty(option.Readers);
        }

        foreach (string solver in SolverRegistry.Names)
        {
            var words = SolverRegistry.Reads(solver).SelectMany(o => o.Aliases.Append(o.Key));
            Assert.Equal(words.Count(), words.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        }
    }

    [Fact]
    public void EveryOptionFormatsItsValueAsTextItsParserReadsBack()
    {
        // Every option set away from its default (the values each parser accepts), then read back from its own text: the
        // metadata's requested settings are these texts, so an option whose text does not round-trip breaks --from-metadata.
        string[] texts = ["substeps=7", "derivative-order=3", "stork-variant=upstream", "shift=3.5", "mu=0.25", "time-shift=linear",
            "shift-terminal=0.02", "sigmas=karras", "stopping-eps=0.005", "corrector=on", "base-sigmas=training", "taylor=time", "lower-order-final=true", "predict-x0=true",
            "solver-order=3", "unipc-variant=bh1", "rtol=0.001", "atol=0.0001", "grid=karras", "tuned=false", "clip=false"];
        var defaults = new SolverSettings();
        foreach (var option in SolverOption.All.Where(o => o != SolverOption.GridFile))
        {
            string text = Assert.Single(texts, t => t.StartsWith(option.Key + "=", StringComparison.Ordinal))[(option.Key.Length + 1)..];
            var set = option.Apply(defaults, text);
            Assert.Equal(text, option.Format(set));
            Assert.NotEqual(option.Format(defaults), option.Format(set));
            Assert.Equal(set, option.Apply(defaults, option.Format(set)!));
        }

        var requested = Stork.Pipelines.SolverSettingsText.Requested(SolverOption.Corrector.Apply(SolverOption.Substeps.Apply(defaults, "7"), "on"));
        Assert.Equal(["substeps=7", "corrector=on"], requested.Select(kv => $"{kv.Key}={kv.Value}"));
    }

    [Fact]
    public void SpecKeysAndAliasesComeFromTheTable()
    {
        var defaults = new SolverSettings();
        Assert.Equal(UniPcVariant.Bh1, SolverSpec.Parse("unipc[variant=bh1]", defaults).Settings.UniPcVariant);
        Assert.Equal(StorkVariant.Upstream, SolverSpec.Parse("stork-4[variant=upstream]", defaults).Settings.StorkVariant);
        var s = SolverSpec.Parse("stork-4[substeps=7,d=1,mu=0.5,sigmas=karras,base-sigmas=training]", defaults).Settings;
        Assert.Equal((7, 1, 0.5, Stork.Grids.SigmaSpacing.Karras, FlowSigmaBase.TrainingSigmas), (s.Substeps, s.DerivativeOrder, s.FlowGrid.Mu!.Value, s.FlowGrid.Spacing, s.FlowSigmas!.Value));

        var ignored = Assert.Throws<ArgumentException>(() => SolverSpec.Parse("unipc[s=3]", defaults));
        Assert.Contains("substeps does not apply to unipc: only stork-2, stork-4 read it.", ignored.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<ArgumentException>(() => SolverSpec.Parse("stork-4[corrector=maybe]", defaults));
        Assert.Contains("corrector must be on, off or auto (got 'maybe').", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorsCarryTheOptionsKey()
    {
        var e = Assert.Throws<OptionException>(() => SolverOption.SolverOrder.Apply(new SolverSettings(), "4"));
        Assert.Equal(("solver-order", "solver-order must be 1 to 3 (got 4)."), (e.ParamName, e.Message));
        Assert.Equal("grid", Assert.Throws<OptionException>(() => SolverOption.Grid.Apply(new SolverSettings(), "diagonal")).Key);
        Assert.Equal("steps", Assert.Throws<OptionException>(() => SolverRegistry.Create("euler", ModelSpecs.Flow, 0, new SolverSettings())).Key);
    }

    [Fact]
    public void EveryCommandLineOptionIsAFlagOfSample()
    {
        using var h = new CliHarness();
        var (_, help, _) = h.Run("sample", "--help");
        foreach (var option in SolverOption.All.Where(o => o.CommandLine))
        {
            Assert.Contains("--" + option.Key, help, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(new[] { "--shift", "-1" }, "error: --shift must be a positive number (got -1).")]
    [InlineData(new[] { "--solver-order", "5" }, "error: --solver-order must be 1 to 3 (got 5).")]
    [InlineData(new[] { "--threads", "0" }, "error: --threads must be at least 1 (got 0).")]
    [InlineData(new[] { "--provider", "tpu" }, "error: --provider must be one of: cpu, cuda, dml, coreml (got 'tpu').")]
    public void TheCommandLineNamesTheFlagOfAKeyedLibraryError(string[] flag, string message)
    {
        using var h = new CliHarness();
        var (code, _, err) = h.Run(["sample", "--model", TestData.Onnx("tiny-flow.json"), "--scheduler", "dpm++2m", "--out", h.PathOf("o.npy"), .. flag]);
        Assert.Equal(2, code);
        Assert.Equal(message, err.Trim());
    }

    [Fact]
    public void NoLibraryStringHoldsCommandLineFlagText()
    {
        string root = RepositoryRoot();
        var flag = new Regex("\"[^\"\\n]*--[a-z][a-z-]+", RegexOptions.CultureInvariant);
        var hits = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}Stork.Cli{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => !x.line.TrimStart().StartsWith("//", StringComparison.Ordinal) && flag.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(root, x.f)}:{x.i + 1}");
        Assert.Empty(hits);
    }

    /// <summary>The folder holding Stork.slnx, above the test binaries.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Stork.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"Stork.slnx not found above {AppContext.BaseDirectory}");
    }

    private static class ModelSpecs
    {
        public static Stork.Solvers.ModelSpec Flow { get; } = new(Stork.Predictions.Prediction.FlowVelocity, Stork.Schedules.RectifiedFlowSchedule.Instance);
    }
}
