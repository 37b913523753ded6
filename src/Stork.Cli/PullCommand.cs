using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Stork.Pipelines.Hub;

namespace Stork.Cli;

/// <summary>
/// <c>stork pull ORG/NAME[@REVISION]</c>: the files an ONNX pipeline needs, from the Hugging Face Hub into the Hub's
/// cache (<see cref="HubClient"/>); afterwards <c>--model ORG/NAME</c> finds the snapshot, offline too.
/// </summary>
internal static class PullCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var repository = new Argument<string>("repository")
        {
            Description = "ORG/NAME or ORG/NAME@REVISION (a branch, a tag or a commit hash; default main), e.g. stork-org/fashion-flux-onnx.",
        };
        var revision = new Option<string?>("--revision") { Description = "The branch, tag or commit (in place of @REVISION)." };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "The cache folder (default: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub)." };
        var verify = new Option<bool>("--verify") { Description = "Also hash the files already in the cache against their names (sha256 or Git blob hash) and fetch any that differ." };
        var command = new Command("pull",
            "Download a diffusers-layout ONNX pipeline from the Hugging Face Hub into the Hub's cache, in the layout huggingface-cli and diffusers use (either reuses "
            + "the other's files): model_index.json, the components' configurations, tokenizers and ONNX graphs, never PyTorch weights. Resumes interrupted "
            + "downloads and checks every file against the Hub's sha256. Then --model ORG/NAME finds it, offline too. Reads HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, "
            + "HF_HUB_OFFLINE and HF_TOKEN (a gated repository needs a token).")
        {
            repository, revision, cacheDir, verify,
        };

        command.SetAction(async (r, cancellationToken) =>
        {
            HubRepository repo;
            try
            {
                repo = HubRepository.Parse(r.GetValue(repository)!);
                if (r.GetValue(revision) is { } rev)
                {
                    repo = r.GetValue(repository)!.Contains('@', StringComparison.Ordinal)
                        ? throw new CliException("give the revision either as ORG/NAME@REVISION or with --revision, not both.")
                        : new HubRepository(repo.Id, rev);
                }
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message);
            }

            var settings = HubSettings.FromEnvironment();
            if (r.GetValue(cacheDir) is { } dir)
            {
                settings = settings with { CacheFolder = dir };
            }

            using var client = new HubClient(settings);
            HubSnapshot snapshot;
            if (ProgressDisplay.IsShown(stderr))
            {
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stderr) });
                snapshot = await console.Progress()
                    .AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                    .StartAsync(ctx => client.PullAsync(repo, new Bars(ctx), r.GetValue(verify), cancellationToken)).ConfigureAwait(false);
            }
            else
            {
                snapshot = await client.PullAsync(repo, null, r.GetValue(verify), cancellationToken).ConfigureAwait(false);
            }

            string how = snapshot.FromCacheOnly
                ? settings.Offline ? "from the cache (HF_HUB_OFFLINE is set)" : $"from the cache ({settings.Endpoint} could not be reached)"
                : string.Create(CultureInfo.InvariantCulture, $"{snapshot.BytesDownloaded / 1e6:0.0} MB downloaded, {snapshot.FilesReused} file(s) already cached");
            stdout.WriteLine($"pulled {repo} (commit {snapshot.Commit[..Math.Min(7, snapshot.Commit.Length)]}): {snapshot.Files.Count} file(s), {how}; snapshot {snapshot.Folder}");
            stderr.WriteLine($"use it with: stork generate --model {repo} --prompt \"...\"");
            return 0;
        });
        return command;
    }

    /// <summary>One bar per file being downloaded.</summary>
    private sealed class Bars(ProgressContext context) : IProgress<HubProgress>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);

        public void Report(HubProgress value)
        {
            if (value.State == HubFileState.Reused)
            {
                return;
            }

            lock (_tasks)
            {
                if (!_tasks.TryGetValue(value.File, out var task))
                {
                    task = _tasks[value.File] = context.AddTask(Markup.Escape($"[{value.FileIndex + 1}/{value.FileCount}] {value.File}"), maxValue: Math.Max(1, value.Length));
                }

                task.Value = value.Bytes;
            }
        }
    }
}
