using System.Globalization;
using Stork.Cli;
using Stork.IO;
using Stork.Sampling;
using Stork.Tests.Pipelines;

namespace Stork.Tests.Cli;

/// <summary><c>--shard i/n</c>: contiguous blocks, job-array defaults, clear errors, and shards that add up to one run.</summary>
public sealed class ShardTests
{
    [Theory]
    [InlineData(10, 3)]
    [InlineData(7, 7)]
    [InlineData(100, 8)]
    [InlineData(5, 1)]
    public void Blocks_are_contiguous_cover_the_run_and_differ_by_at_most_one(long total, int n)
    {
        long next = 0;
        var lengths = new List<long>();
        for (int i = 0; i < n; i++)
        {
            var (start, length) = new ShardSpec(i, n).Block(total);
            Assert.Equal(next, start);
            next = start + length;
            lengths.Add(length);
        }

        Assert.Equal(total, next);
        Assert.True(lengths.Max() - lengths.Min() <= 1);
    }

    [Theory]
    [InlineData("2/8", 2, 8)]
    [InlineData(" 0/1 ", 0, 1)]
    public void Parses_index_over_count(string text, int index, int count) =>
        Assert.Equal(new ShardSpec(index, count), ShardSpec.Parse(text));

    [Theory]
    [InlineData("3/3")]
    [InlineData("-1/3")]
    [InlineData("1/0")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("1/2/3")]
    [InlineData("")]
    public void A_bad_specification_is_one_clear_error(string text) =>
        Assert.Equal(ShardSpec.Key, Assert.Throws<OptionException>(() => ShardSpec.Parse(text)).Key);

    [Fact]
    public void Defaults_come_from_kubernetes_then_slurm_and_the_option_wins()
    {
        static Func<string, string?> Env(params (string Key, string Value)[] vars) =>
            name => vars.FirstOrDefault(v => v.Key == name).Value;

        Assert.Equal(ShardSpec.Whole, ShardSpec.Resolve(null, Env()).Part);
        Assert.Equal(new ShardSpec(2, 5), ShardSpec.Resolve(null, Env(("JOB_COMPLETION_INDEX", "2"), ("STORK_SHARD_COUNT", "5"))).Part);
        Assert.Equal(new ShardSpec(3, 4), ShardSpec.Resolve(null, Env(("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_COUNT", "4"))).Part);
        Assert.Equal(new ShardSpec(0, 4), ShardSpec.Resolve(null,
            Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_MIN", "1"))).Part);
        Assert.Equal(new ShardSpec(1, 2), ShardSpec.Resolve("1/2", Env(("JOB_COMPLETION_INDEX", "0"), ("STORK_SHARD_COUNT", "9"))).Part);
        // An Indexed Job without STORK_SHARD_COUNT is not sharding (ambiguous: each index may render its own run).
        Assert.Equal(ShardSpec.Whole, ShardSpec.Resolve(null, Env(("JOB_COMPLETION_INDEX", "1"))).Part);
        Assert.Throws<OptionException>(() => ShardSpec.Resolve(null, Env(("JOB_COMPLETION_INDEX", "5"), ("STORK_SHARD_COUNT", "5"))));
        Assert.Throws<OptionException>(() => ShardSpec.Resolve(null, Env(("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "4"))));
    }

    [Fact]
    public void Shard_files_sort_in_shard_order()
    {
        Assert.Equal("out.npy", ShardSpec.Whole.Suffixed("out.npy"));
        Assert.Equal(Path.Combine("d", "out.shard-03-of-12.npy"), new ShardSpec(3, 12).Suffixed(Path.Combine("d", "out.npy")));
    }

    [Fact]
    public void Three_shards_of_generate_concatenate_to_the_single_run()
    {
        string model = PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;
        using var h = new CliHarness();
        File.WriteAllLines(h.PathOf("prompts.txt"), ["a cat", "a dog on a hill"]);
        string[] common = ["generate", "--model", model, "--prompt-file", h.PathOf("prompts.txt"), "--count", "2", "--seed", "7",
            "--height", "32", "--width", "32", "--steps", "3", "--scheduler", "stork-4"];
        Directory.CreateDirectory(h.PathOf("one"));
        Directory.CreateDirectory(h.PathOf("shards"));
        foreach (string ext in (string[])["npy", "png"])
        {
            var whole = h.Run([.. common, "--out", Path.Combine(h.PathOf("one"), "x." + ext)]);
            Assert.True(whole.Code == 0, whole.Err);
            for (int i = 0; i < 3; i++)
            {
                var part = h.Run([.. common, "--shard", $"{i}/3", "--out", Path.Combine(h.PathOf("shards"), "x." + ext)]);
                Assert.True(part.Code == 0, part.Err);
            }
        }

        var one = NpyFile.Read(Path.Combine(h.PathOf("one"), "x.npy"));
        var parts = Enumerable.Range(0, 3).Select(i => NpyFile.Read(Path.Combine(h.PathOf("shards"), $"x.shard-{i}-of-3.npy"))).ToList();
        Assert.Equal([1, 1, 2], parts.Select(p => p.Shape[0]));
        Assert.Equal(one.Shape[1..], parts[0].Shape[1..]);
        Assert.Equal(one.Data, parts.SelectMany(p => p.Data).ToArray());
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(h.PathOf("one"), $"x-{k}.png")), File.ReadAllBytes(Path.Combine(h.PathOf("shards"), $"x-{k}.png")));
        }

        Assert.Equal(4, Directory.GetFiles(h.PathOf("shards"), "*.png").Length);
    }

    [Theory]
    [InlineData("4/4")]
    [InlineData("1/x")]
    [InlineData("5/9")]
    public void Generate_rejects_a_bad_shard_with_exit_2(string spec)
    {
        string model = PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;
        using var h = new CliHarness();
        var (code, _, err) = h.Run("generate", "--model", model, "--prompt", "a cat", "--count", "4", "--height", "32", "--width", "32",
            "--shard", spec, "--out", h.PathOf("x.npy"));
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err.Trim());
        Assert.Single(err.Trim().Split('\n'));
        Assert.Empty(Directory.GetFiles(h.Directory));
    }

    [Fact]
    public void Three_shards_of_bench_quality_merge_to_the_single_run()
    {
        using var h = new CliHarness();
        // More samples than the classifier's 128 features: with fewer, the covariance is singular and the matrix square
        // root of the Frechet distance turns rounding (any summation order) into 1e-9-sized differences.
        string[] common = ["bench", "quality", "--samples", "150", "--rmse-samples", "45", "--chunk", "40", "--nfe", "2", "--solvers", "euler,stork-4",
            "--reference-tol", "1e-2"];
        var whole = h.Run([.. common, "--out-dir", h.PathOf("one")]);
        Assert.True(whole.Code == 0, whole.Err);
        for (int i = 0; i < 3; i++)
        {
            var part = h.Run([.. common, "--shard", $"{i}/3", "--out-dir", h.PathOf("shards")]);
            Assert.True(part.Code == 0, part.Err);
        }

        // A missing shard is one clear error; then the merge of all three.
        var partial = h.Run("bench", "merge", "--out-dir", h.PathOf("shards"), Path.Combine(h.PathOf("shards"), "quality.shard-0-of-3.json"));
        Assert.Equal(2, partial.Code);
        Assert.Contains("missing shard(s) 1, 2", partial.Err);
        var merged = h.Run("bench", "merge", "--out-dir", h.PathOf("shards"));
        Assert.True(merged.Code == 0, merged.Err);

        static string[][] Rows(string path) =>
            [.. File.ReadAllLines(path).Skip(2).Where(l => l.Length > 0).Select(l => l.Split(','))];
        var one = Rows(Path.Combine(h.PathOf("one"), "quality.csv"));
        var sharded = Rows(Path.Combine(h.PathOf("shards"), "quality.csv"));
        Assert.Equal(2, one.Length);
        Assert.Equal(one.Length, sharded.Length);
        Assert.Equal(File.ReadAllLines(Path.Combine(h.PathOf("one"), "quality.csv"))[0], File.ReadAllLines(Path.Combine(h.PathOf("shards"), "quality.csv"))[0]);
        for (int r = 0; r < one.Length; r++)
        {
            Assert.Equal(one[r][..5], sharded[r][..5]); // solver, settings, requested NFE, NFE, samples
            foreach (int column in (int[])[5, 6]) // Frechet distance, RMSE
            {
                double a = double.Parse(one[r][column], CultureInfo.InvariantCulture), b = double.Parse(sharded[r][column], CultureInfo.InvariantCulture);
                Assert.True(Math.Abs(a - b) <= 1e-9 * Math.Abs(a), $"row {r} column {column}: single {a:R}, merged {b:R}");
            }
        }
    }
}
