using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Stork.Pipelines;

namespace Stork.Server;

/// <summary>Where a job is.</summary>
public enum JobState
{
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

/// <summary>One event of a job's stream: its type (the SSE event name) and its JSON data.</summary>
internal sealed record JobEvent(string Type, JsonObject Data);

/// <summary>What a finished job made: the PNGs (settings in their text chunks) and how they were made.</summary>
internal sealed record JobOutput(IReadOnlyList<byte[]> Pngs, ResolvedGeneration Settings, IReadOnlyList<long>? Seeds, GenerationTimings Timings,
    IReadOnlyList<string> Warnings);

/// <summary>
/// One generation request on its way through a model's queue. Its events (queued, started, progress, preview, and one
/// of done, failed, cancelled) are kept and replayed to every subscriber, except previews, of which only the latest is
/// kept. A job that was watched is cancelled when its last watcher goes away before it ends.
/// </summary>
internal sealed class Job : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<JobEvent> _log = [];
    private readonly List<Channel<JobEvent>> _watchers = [];
    private readonly CancellationTokenSource _cancel;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private JobEvent? _preview;
    private bool _watched;

    public Job(string model, GenerationRequest request, JobRequest echo, bool preview, CancellationToken stopping)
    {
        Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        Model = model;
        Request = request;
        Echo = echo;
        Preview = preview;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Created = DateTimeOffset.UtcNow;
    }

    /// <summary>32 random hex digits: the only way to name a job (and its images) from outside.</summary>
    public string Id { get; }

    public string Model { get; }

    public GenerationRequest Request { get; }

    /// <summary>The request as the client sent it (shown in the gallery, replayed by its re-run button).</summary>
    public JobRequest Echo { get; }

    public bool Preview { get; }

    public DateTimeOffset Created { get; }

    public JobState State { get; private set; } = JobState.Queued;

    public string? Error { get; private set; }

    /// <summary>True when the failure is the request's fault (a size the model cannot take...): HTTP 400, not 500.</summary>
    public bool ClientError { get; private set; }

    public JobOutput? Output { get; private set; }

    public CancellationToken Token => _cancel.Token;

    /// <summary>Completes when the job ends, however it ends.</summary>
    public Task Finished => _finished.Task;

    public bool IsFinal => State is JobState.Done or JobState.Failed or JobState.Cancelled;

    public void Publish(JobEvent e)
    {
        lock (_gate)
        {
            if (IsFinal)
            {
                return;
            }

            if (e.Type == "preview")
            {
                _preview = e;
            }
            else
            {
                _log.Add(e);
            }

            foreach (var w in _watchers)
            {
                w.Writer.TryWrite(e);
            }
        }
    }

    /// <summary>Marks the job running; false when it was cancelled while queued.</summary>
    public bool Start()
    {
        lock (_gate)
        {
            if (State != JobState.Queued)
            {
                return false;
            }

            State = JobState.Running;
        }

        Publish(new JobEvent("started", new JsonObject { ["id"] = Id }));
        return true;
    }

    public void Succeed(JobOutput output) => End(JobState.Done, null, false, output);

    public void Fail(string message, bool clientError) => End(JobState.Failed, message, clientError, null);

    /// <summary>Asks the job to stop: at once when queued, between two network calls when running.</summary>
    public void Cancel()
    {
        bool queued;
        lock (_gate)
        {
            queued = State == JobState.Queued;
        }

        _cancel.Cancel();
        if (queued)
        {
            End(JobState.Cancelled, "cancelled", false, null);
        }
    }

    public void Cancelled() => End(JobState.Cancelled, "cancelled", false, null);

    private void End(JobState state, string? error, bool clientError, JobOutput? output)
    {
        lock (_gate)
        {
            if (IsFinal)
            {
                return;
            }

            State = state;
            Error = error;
            ClientError = clientError;
            Output = output;
            _preview = null;
            var e = new JobEvent(state.ToString().ToLowerInvariant(), JobJson.View(this));
            _log.Add(e);
            foreach (var w in _watchers)
            {
                w.Writer.TryWrite(e);
                w.Writer.TryComplete();
            }

            _watchers.Clear();
        }

        _finished.TrySetResult();
    }

    /// <summary>
    /// The job's events so far and then as they come, ending with its final one. Disposing the watch before the job
    /// ends, when no other watch is left, cancels the job (the client went away).
    /// </summary>
    public Watch Subscribe()
    {
        var channel = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            foreach (var e in _log)
            {
                channel.Writer.TryWrite(e);
            }

            if (_preview is { } p)
            {
                channel.Writer.TryWrite(p);
            }

            if (IsFinal)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _watchers.Add(channel);
                _watched = true;
            }
        }

        return new Watch(this, channel);
    }

    private void Unsubscribe(Channel<JobEvent> channel)
    {
        bool last;
        lock (_gate)
        {
            last = _watchers.Remove(channel) && _watchers.Count == 0 && _watched && !IsFinal;
        }

        if (last)
        {
            Cancel();
        }
    }

    public void Dispose() => _cancel.Dispose();

    internal sealed class Watch(Job job, Channel<JobEvent> channel) : IDisposable
    {
        public ChannelReader<JobEvent> Events => channel.Reader;

        public void Dispose() => job.Unsubscribe(channel);
    }
}
