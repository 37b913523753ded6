using System.Text;
using Stork.Pipelines.Hub;

namespace Stork.Tests.Hub;

/// <summary>
/// <see cref="HubClient"/> against <see cref="LoopbackHub"/>: a fresh pull into the Hub's cache layout, reuse of a cache
/// (ours or one laid out as huggingface_hub lays it out), interrupted and cancelled downloads resumed with Range, a
/// corrupted transfer and a corrupted cache detected, a gated repository without a token, offline mode.
/// </summary>
public sealed class HubClientTests : IDisposable
{
    private const string RepoId = "stork-tests/tiny-flux";
    private readonly LoopbackHub _hub = new();
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "stork-hub-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        _hub.Dispose();
        if (Directory.Exists(_cache))
        {
            Directory.Delete(_cache, recursive: true);
        }
    }

    /// <summary>A pipeline repository: what the pipeline reads, and what it must not download.</summary>
    private static Dictionary<string, byte[]> PipelineFiles()
    {
        var random = new Random(7);
        byte[] Bytes(int n)
        {
            var b = new byte[n];
            random.NextBytes(b);
            return b;
        }

        return new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["model_index.json"] = Encoding.UTF8.GetBytes("{\"_class_name\": \"ORTFluxPipeline\"}"),
            ["transformer/config.json"] = Encoding.UTF8.GetBytes("{\"in_channels\": 64}"),
            ["transformer/model.onnx"] = Bytes(6 << 20),
            ["transformer/model.onnx_data"] = Bytes(300_000),
            ["tokenizer/vocab.json"] = Encoding.UTF8.GetBytes("{\"a\": 0}"),
            ["tokenizer/merges.txt"] = Encoding.UTF8.GetBytes("#version: 0.2\n"),
            ["scheduler/scheduler_config.json"] = Encoding.UTF8.GetBytes("{\"shift\": 3.0}"),
            ["transformer/diffusion_pytorch_model.safetensors"] = Bytes(1000),
            ["vae_encoder/model.onnx"] = Bytes(1000),
            ["io_check/x.npy"] = Bytes(10),
            ["README.md"] = Encoding.UTF8.GetBytes("# tiny"),
            [".gitattributes"] = Encoding.UTF8.GetBytes("*.onnx filter=lfs"),
        };
    }

    private static readonly string[] Pulled =
    [
        "model_index.json", "scheduler/scheduler_config.json", "tokenizer/merges.txt", "tokenizer/vocab.json", "transformer/config.json",
        "transformer/model.onnx", "transformer/model.onnx_data",
    ];

    private HubSettings Settings(bool offline = false, string? token = null) =>
        new() { Endpoint = _hub.Endpoint, CacheFolder = _cache, Offline = offline, Token = token, TokenSource = token is null ? null : "HF_TOKEN" };

    private HubSnapshot Pull(HubSettings settings, string repo = RepoId, bool verify = false, IProgress<HubProgress>? progress = null, CancellationToken token = default)
    {
        using var client = new HubClient(settings);
        return client.PullAsync(HubRepository.Parse(repo), progress, verify, token).GetAwaiter().GetResult();
    }

    private string RepoFolder => Path.Combine(_cache, "models--stork-tests--tiny-flux");

    [Fact]
    public void A_fresh_pull_fills_the_hub_cache_layout_with_the_pipeline_files_only()
    {
        var files = PipelineFiles();
        var repo = _hub.Add(RepoId, files);
        var reports = new List<HubProgress>();
        var snapshot = Pull(Settings(), progress: new SyncProgress<HubProgress>(reports.Add));

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", repo.Commit), snapshot.Folder);
        Assert.Equal(repo.Commit, snapshot.Commit);
        Assert.Equal(Pulled, snapshot.Files);
        Assert.Equal(repo.Commit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        foreach (string f in Pulled)
        {
            string entry = Path.Combine(snapshot.Folder, f);
            string etag = LoopbackHub.Etag(f, files[f]);
            // huggingface_hub's layout: a relative link from the snapshot to blobs/ETAG (sha256 for LFS, Git sha1 otherwise).
            Assert.Equal(Path.Combine(f.Contains('/', StringComparison.Ordinal) ? "../../.." : "../..", "blobs", etag).Replace('\\', '/'),
                new FileInfo(entry).LinkTarget!.Replace('\\', '/'));
            Assert.Equal(files[f], File.ReadAllBytes(entry));
        }

        Assert.Equal(Pulled.Length, Directory.GetFiles(Path.Combine(RepoFolder, "blobs")).Length);
        Assert.Equal(files.Where(kv => Pulled.Contains(kv.Key)).Sum(kv => (long)kv.Value.Length), snapshot.BytesDownloaded);
        Assert.Empty(_hub.Requests("safetensors"));
        Assert.Empty(_hub.Requests("vae_encoder"));
        Assert.Empty(_hub.Requests("README"));
        Assert.Contains(reports, r => r is { File: "transformer/model.onnx", State: HubFileState.Done, Bytes: 6 << 20 });
        Assert.Contains(reports, r => r is { File: "transformer/model.onnx", State: HubFileState.Downloading, Bytes: > 0 and < 6 << 20 });
    }

    [Fact]
    public void A_second_pull_reuses_the_cache_and_downloads_nothing()
    {
        _hub.Add(RepoId, PipelineFiles());
        Pull(Settings());
        _hub.Log.Clear();

        var again = Pull(Settings());

        Assert.Equal(0, again.BytesDownloaded);
        Assert.Equal(Pulled.Length, again.FilesReused);
        Assert.Single(_hub.Log);
        Assert.StartsWith("GET /api/models/", _hub.Log.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_cache_laid_out_by_huggingface_hub_is_reused_and_found_offline()
    {
        var files = PipelineFiles();
        var repo = _hub.Add(RepoId, files);
        // As huggingface_hub's snapshot_download leaves it: blobs named by ETag, relative links, refs/main.
        string snapshot = Path.Combine(RepoFolder, "snapshots", repo.Commit);
        Directory.CreateDirectory(Path.Combine(RepoFolder, "blobs"));
        Directory.CreateDirectory(Path.Combine(RepoFolder, "refs"));
        File.WriteAllText(Path.Combine(RepoFolder, "refs", "main"), repo.Commit);
        foreach (string f in Pulled)
        {
            string etag = LoopbackHub.Etag(f, files[f]);
            File.WriteAllBytes(Path.Combine(RepoFolder, "blobs", etag), files[f]);
            string entry = Path.Combine(snapshot, f);
            Directory.CreateDirectory(Path.GetDirectoryName(entry)!);
            File.CreateSymbolicLink(entry, Path.GetRelativePath(Path.GetDirectoryName(entry)!, Path.Combine(RepoFolder, "blobs", etag)));
        }

        var pulled = Pull(Settings(), verify: true);
        Assert.Equal(snapshot, pulled.Folder);
        Assert.Equal(0, pulled.BytesDownloaded);
        Assert.Empty(_hub.Requests("/resolve/"));
        Assert.Empty(_hub.Requests("/cdn/"));

        _hub.Log.Clear();
        Assert.Equal(snapshot, ModelLocator.Resolve(RepoId, Settings(offline: true)));
        Assert.Equal(snapshot, ModelLocator.Resolve(RepoId + "@" + repo.Commit, Settings(offline: true)));
        Assert.Equal(snapshot, Pull(Settings(offline: true)).Folder);
        Assert.Empty(_hub.Log);
    }

    [Fact]
    public void An_interrupted_download_is_resumed_with_a_range_request()
    {
        var files = PipelineFiles();
        _hub.Add(RepoId, files);
        _hub.TruncateLfsAt = 1_000_000;

        var e = Assert.Throws<HubException>(() => Pull(Settings()));
        Assert.Equal(HubErrorKind.Network, e.Kind);
        Assert.Contains("again to resume", e.Message, StringComparison.Ordinal);
        string partial = Path.Combine(RepoFolder, "blobs", LoopbackHub.Sha256(files["transformer/model.onnx"]) + ".incomplete");
        Assert.Equal(1_000_000, new FileInfo(partial).Length);

        _hub.TruncateLfsAt = null;
        _hub.Log.Clear();
        var snapshot = Pull(Settings());

        Assert.Contains(_hub.Log, l => l.StartsWith("GET /cdn/", StringComparison.Ordinal) && l.Contains("range=bytes=1000000-", StringComparison.Ordinal));
        Assert.Equal(files["transformer/model.onnx"], File.ReadAllBytes(Path.Combine(snapshot.Folder, "transformer", "model.onnx")));
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public void A_cancelled_download_keeps_its_part_and_resumes()
    {
        var files = PipelineFiles();
        _hub.Add(RepoId, files);
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress<HubProgress>(p =>
        {
            if (p is { File: "transformer/model.onnx", State: HubFileState.Downloading, Bytes: > 0 })
            {
                cts.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() => Pull(Settings(), progress: progress, token: cts.Token));
        string partial = Path.Combine(RepoFolder, "blobs", LoopbackHub.Sha256(files["transformer/model.onnx"]) + ".incomplete");
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1, (6 << 20) - 1);

        var snapshot = Pull(Settings());
        Assert.Contains(_hub.Log, l => l.Contains($"range=bytes={kept}-", StringComparison.Ordinal));
        Assert.Equal(files["transformer/model.onnx"], File.ReadAllBytes(Path.Combine(snapshot.Folder, "transformer", "model.onnx")));
    }

    [Fact]
    public void A_corrupted_transfer_is_detected_and_nothing_of_it_is_kept()
    {
        var files = PipelineFiles();
        _hub.Add(RepoId, files);
        _hub.CorruptLfs = true;

        var e = Assert.Throws<HubException>(() => Pull(Settings()));
        Assert.Equal(HubErrorKind.Corrupt, e.Kind);
        Assert.Contains("sha256", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(RepoFolder, "blobs", LoopbackHub.Sha256(files["transformer/model.onnx"]))));
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(RepoFolder, "blobs")), f => f.EndsWith(".incomplete", StringComparison.Ordinal));

        _hub.CorruptLfs = false;
        var snapshot = Pull(Settings());
        Assert.Equal(files["transformer/model.onnx"], File.ReadAllBytes(Path.Combine(snapshot.Folder, "transformer", "model.onnx")));
    }

    [Fact]
    public void A_corrupted_cache_file_is_found_by_verify_and_fetched_again()
    {
        var files = PipelineFiles();
        _hub.Add(RepoId, files);
        var snapshot = Pull(Settings());
        string blob = Path.Combine(RepoFolder, "blobs", LoopbackHub.Sha256(files["transformer/model.onnx_data"]));
        var bytes = File.ReadAllBytes(blob);
        bytes[10] ^= 1;
        File.WriteAllBytes(blob, bytes);

        var e = Assert.Throws<HubException>(() => Pull(Settings(offline: true), verify: true));
        Assert.Equal(HubErrorKind.Corrupt, e.Kind);
        Assert.Contains("transformer/model.onnx_data", e.Message, StringComparison.Ordinal);

        _hub.Log.Clear();
        Pull(Settings(), verify: true);
        Assert.Single(_hub.Requests("GET /cdn/"));
        Assert.Equal(files["transformer/model.onnx_data"], File.ReadAllBytes(Path.Combine(snapshot.Folder, "transformer", "model.onnx_data")));
    }

    [Fact]
    public void A_gated_repository_needs_a_token_and_says_which_variable()
    {
        var files = PipelineFiles();
        _hub.Add(RepoId, files, gated: true);

        var e = Assert.Throws<HubException>(() => Pull(Settings()));
        Assert.Equal(HubErrorKind.Gated, e.Kind);
        Assert.Contains("HF_TOKEN", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(RepoFolder, "snapshots")));

        var snapshot = Pull(Settings(token: LoopbackHub.Token));
        Assert.Equal(files["model_index.json"], File.ReadAllBytes(Path.Combine(snapshot.Folder, "model_index.json")));
        Assert.All(_hub.Requests("/resolve/"), l => Assert.EndsWith(" auth", l, StringComparison.Ordinal));
    }

    [Fact]
    public void The_hub_s_error_codes_become_one_clear_message()
    {
        _hub.Add(RepoId, PipelineFiles());
        _hub.Add("stork-tests/pytorch-only", new Dictionary<string, byte[]>
        {
            ["model_index.json"] = "{}"u8.ToArray(),
            ["transformer/diffusion_pytorch_model.safetensors"] = new byte[10],
        });

        var missing = Assert.Throws<HubException>(() => Pull(Settings(), "stork-tests/nothing-here"));
        Assert.Equal(HubErrorKind.RepositoryNotFound, missing.Kind);
        Assert.Contains("HF_TOKEN", missing.Message, StringComparison.Ordinal);
        var revision = Assert.Throws<HubException>(() => Pull(Settings(), RepoId + "@v9"));
        Assert.Equal(HubErrorKind.RevisionNotFound, revision.Kind);
        Assert.Contains("'v9'", revision.Message, StringComparison.Ordinal);
        var pytorch = Assert.Throws<HubException>(() => Pull(Settings(), "stork-tests/pytorch-only"));
        Assert.Equal(HubErrorKind.NotAPipeline, pytorch.Kind);
        Assert.Contains("optimum-cli export onnx", pytorch.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Offline_nothing_is_sent_and_a_missing_snapshot_names_hf_hub_offline()
    {
        _hub.Add(RepoId, PipelineFiles());
        var e = Assert.Throws<HubException>(() => Pull(Settings(offline: true)));
        Assert.Equal(HubErrorKind.NotCached, e.Kind);
        Assert.Contains("HF_HUB_OFFLINE", e.Message, StringComparison.Ordinal);
        Assert.Empty(_hub.Log);
        var locate = Assert.Throws<DirectoryNotFoundException>(() => ModelLocator.Resolve(RepoId, Settings(offline: true)));
        Assert.Contains("stork pull " + RepoId, locate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_come_from_the_environment_as_huggingface_hub_reads_them()
    {
        string home = Path.Combine(_cache, "home");
        Directory.CreateDirectory(home);
        File.WriteAllText(Path.Combine(home, "token"), "hf_from_file\n");
        static Func<string, string?> Env(params (string Key, string Value)[] vars) => name => vars.FirstOrDefault(v => v.Key == name).Value;

        var fromHome = HubSettings.FromEnvironment(Env(("HF_HOME", home), ("HF_ENDPOINT", "http://mirror.test/"), ("HF_HUB_OFFLINE", "yes")));
        Assert.Equal(Path.Combine(home, "hub"), fromHome.CacheFolder);
        Assert.Equal("http://mirror.test", fromHome.Endpoint);
        Assert.True(fromHome.Offline);
        Assert.Equal("hf_from_file", fromHome.Token);

        var explicitCache = HubSettings.FromEnvironment(Env(("HF_HOME", home), ("HF_HUB_CACHE", "/x/hub"), ("HF_TOKEN", "hf_env"), ("HF_HUB_OFFLINE", "0")));
        Assert.Equal("/x/hub", explicitCache.CacheFolder);
        Assert.Equal("hf_env", explicitCache.Token);
        Assert.Equal("HF_TOKEN", explicitCache.TokenSource);
        Assert.False(explicitCache.Offline);
        Assert.Equal(HubSettings.DefaultEndpoint, explicitCache.Endpoint);

        var xdg = HubSettings.FromEnvironment(Env(("XDG_CACHE_HOME", "/xdg")));
        Assert.Equal(Path.Combine("/xdg", "huggingface", "hub"), xdg.CacheFolder);
    }

    [Theory]
    [InlineData("model_index.json", true)]
    [InlineData("transformer/model.onnx", true)]
    [InlineData("transformer/model.onnx_data", true)]
    [InlineData("text_encoder_2/model.onnx.data", true)]
    [InlineData("tokenizer_2/spiece.model", true)]
    [InlineData("tokenizer/merges.txt", true)]
    [InlineData("scheduler/scheduler_config.json", true)]
    [InlineData("transformer/diffusion_pytorch_model.safetensors", false)]
    [InlineData("transformer/diffusion_pytorch_model.safetensors.index.json", false)]
    [InlineData("text_encoder/pytorch_model.bin", false)]
    [InlineData("vae_encoder/model.onnx", false)]
    [InlineData("flux1-schnell.safetensors", false)]
    [InlineData("README.md", false)]
    [InlineData("onnx/transformer/model.onnx", false)]
    public void Only_the_files_an_onnx_pipeline_reads_are_pulled(string path, bool pulled) =>
        Assert.Equal(pulled, HubClient.IsPipelineFile(path));

    [Theory]
    [InlineData("black-forest-labs/FLUX.1-schnell", "black-forest-labs/FLUX.1-schnell", "main")]
    [InlineData("org/name@v1.0", "org/name", "v1.0")]
    [InlineData("org/name@refs/pr/1", "org/name", "refs/pr/1")]
    public void Repository_ids_parse(string text, string id, string revision)
    {
        var repo = HubRepository.Parse(text);
        Assert.Equal(id, repo.Id);
        Assert.Equal(revision, repo.Revision);
        Assert.True(HubRepository.LooksLikeId(text));
    }

    [Theory]
    [InlineData("a--b/c")]
    [InlineData("a/b/c")]
    [InlineData("a/../b")]
    [InlineData("org/name@")]
    [InlineData("/abs/path")]
    [InlineData("fashion-flux")]
    public void Paths_and_bad_ids_are_not_repositories(string text) => Assert.False(HubRepository.LooksLikeId(text));

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

/// <summary>
/// <c>stork pull</c> and <c>--model ORG/NAME</c> end to end against the loopback Hub, through the HF_* environment (set
/// for the process, hence run alone): a tiny FLUX folder pulled, then generated from the cache with HF_HUB_OFFLINE; a
/// gated repository without a token is one error line naming HF_TOKEN, exit 2.
/// </summary>
[Collection(nameof(Stork.Tests.Cli.StandardInput))]
public sealed class PullCommandTests : IDisposable
{
    private static readonly string[] Variables = ["HF_ENDPOINT", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_TOKEN", "HF_HOME"];
    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
    private readonly LoopbackHub _hub = new();
    private readonly Stork.Tests.Cli.CliHarness _h = new();

    public PullCommandTests()
    {
        Environment.SetEnvironmentVariable("HF_ENDPOINT", _hub.Endpoint);
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", _h.PathOf("hub"));
        Environment.SetEnvironmentVariable("HF_HOME", _h.PathOf("home"));
        Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", null);
        Environment.SetEnvironmentVariable("HF_TOKEN", null);
    }

    public void Dispose()
    {
        foreach (var (k, v) in _saved)
        {
            Environment.SetEnvironmentVariable(k, v);
        }

        _hub.Dispose();
        _h.Dispose();
    }

    [Fact]
    public void Pull_then_generate_from_the_cache_offline()
    {
        string folder = Stork.Tests.Pipelines.PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;
        var repo = _hub.AddFolder("stork-tests/flux-schnell-tiny", folder);
        var pull = _h.Run("pull", "stork-tests/flux-schnell-tiny");
        Assert.True(pull.Code == 0, pull.Err);
        Assert.Contains(repo.Commit[..7], pull.Out, StringComparison.Ordinal);
        Assert.Empty(_hub.Requests("io_check"));

        Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", "1");
        _hub.Log.Clear();
        string[] common = ["generate", "--prompt", "a cat", "--height", "32", "--width", "32", "--steps", "2", "--seed", "5"];
        var cached = _h.Run([.. common, "--model", "stork-tests/flux-schnell-tiny", "--out", _h.PathOf("hub.png")]);
        Assert.True(cached.Code == 0, cached.Err);
        Assert.Empty(_hub.Log);
        var direct = _h.Run([.. common, "--model", folder, "--out", _h.PathOf("folder.png")]);
        Assert.True(direct.Code == 0, direct.Err);
        // The same run but for the model's path and files (pull fetches only the files the pipeline needs: no vae_encoder/);
        // the graphs both folders hold hash the same.
        static IEnumerable<string> Text(string png) => Stork.Imaging.PngText.Read(File.ReadAllBytes(png)).Where(kv => kv.Key != "model")
            .Select(kv => kv.Key == Stork.Pipelines.ImageFiles.RunChunk
                ? string.Join(";", System.Text.Json.Nodes.JsonNode.Parse(kv.Value)!.AsObject().Where(p => p.Key is not ("model" or "model_sha256")).Select(p => $"{p.Key}={p.Value?.ToJsonString()}"))
                : $"{kv.Key}={kv.Value}");
        Assert.Equal(Text(_h.PathOf("folder.png")), Text(_h.PathOf("hub.png")));
        static Dictionary<string, string> Hashes(string png) => System.Text.Json.Nodes.JsonNode.Parse(Stork.Imaging.PngText.Read(File.ReadAllBytes(png))
            .First(kv => kv.Key == Stork.Pipelines.ImageFiles.RunChunk).Value)!["model_sha256"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
        var fromHub = Hashes(_h.PathOf("hub.png"));
        Assert.Contains("transformer/model.onnx", fromHub.Keys);
        Assert.All(fromHub, kv => Assert.Equal(Hashes(_h.PathOf("folder.png"))[kv.Key], kv.Value));

        var again = _h.Run("pull", "stork-tests/flux-schnell-tiny");
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("HF_HUB_OFFLINE", again.Out, StringComparison.Ordinal);
        Assert.Empty(_hub.Log);
    }

    [Fact]
    public void A_gated_repository_without_a_token_is_one_line_naming_hf_token()
    {
        _hub.Add("stork-tests/gated", new Dictionary<string, byte[]> { ["model_index.json"] = "{}"u8.ToArray(), ["transformer/model.onnx"] = new byte[100] }, gated: true);
        var (code, stdout, stderr) = _h.Run("pull", "stork-tests/gated");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
        Assert.Contains("HF_TOKEN", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a repo")]
    [InlineData("a--b/c")]
    public void A_malformed_repository_id_is_one_error_line(string id)
    {
        var (code, _, stderr) = _h.Run("pull", id);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Empty(_hub.Log);
    }
}
