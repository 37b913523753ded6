using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Stork.IO;
using Stork.Pipelines;

namespace Stork.Server;

/// <summary>
/// One served model: its pipeline (loaded once; not thread-safe, so one job at a time) and its first-in first-out
/// queue of jobs, bounded by <see cref="ServerLimits.QueueSize"/> waiting jobs.
/// </summary>
internal sealed class ModelHost : IDisposable
{
    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ServerLimits _limits;
    private readonly string? _output;
    private readonly JobStore _store;
    private readonly ILogger _log;
    private int _waiting;
    private Task _worker = Task.CompletedTask;

    public ModelHost(ServedModel model, PipelineOptions options, ServerLimits limits, string? output, JobStore store, ILogger log)
    {
        Name = model.Name;
        Pipeline = TextToImage.Load(model.Folder, options);
        _limits = limits;
        _output = output;
        _store = store;
        _log = log;
    }

    public string Name { get; }

    public ITextToImagePipeline Pipeline { get; }

    public GenerationDefaults Defaults => Pipeline.Defaults;

    public ServerLimits Limits => _limits;

    /// <summary>
    /// The pipeline's own checks of a request before it is queued (image inputs the model's class cannot use, a missing
    /// vae_encoder, a mask of another size, a strength outside (0, 1], sizes it cannot take): a 400 naming the model, not
    /// its folder. The size the run will have (from the input image when none is asked for) must be within the limits.
    /// </summary>
    public void Check(GenerationRequest request)
    {
        ResolvedGeneration resolved;
        try
        {
            resolved = Pipeline.Check(request);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or NotSupportedException)
        {
            throw new RequestException(e.Message.Replace(Pipeline.Folder.Root, Name, StringComparison.Ordinal).Split(" (Parameter '", 2)[0]);
        }

        if ((long)resolved.Height * resolved.Width > _limits.MaxPixels)
        {
            throw new RequestException($"the output would be {resolved.Width}x{resolved.Height}: at most {_limits.MaxPixels} pixels (give a smaller height and width).");
        }
    }

    /// <summary>Jobs waiting (not counting the running one).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The running job, if any.</summary>
    public Job? Current { get; private set; }

    public void Start() => _worker = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Queues a job; false (HTTP 429) when <see cref="ServerLimits.QueueSize"/> jobs already wait.</summary>
    public bool TryEnqueue(Job job)
    {
        if (Interlocked.Increment(ref _waiting) > _limits.QueueSize + (Current is null ? 1 : 0))
        {
            Interlocked.Decrement(ref _waiting);
            return false;
        }

        _store.Add(job);
        if (!_queue.Writer.TryWrite(job))
        {
            Interlocked.Decrement(ref _waiting);
            return false;
        }

        job.Publish(new JobEvent("queued", new JsonObject { ["id"] = job.Id, ["position"] = Waiting, ["model"] = Name }));
        Log.Queued(_log, job.Id, Name, Waiting);
        return true;
    }

    /// <summary>Stops taking jobs, cancels the queued and the running ones, waits for the worker.</summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var job))
        {
            job.Cancel();
        }

        Current?.Cancel();
        await _worker.ConfigureAwait(false);
    }

    private void Work()
    {
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (_queue.Reader.TryRead(out var job))
            {
                Current = job;
                Interlocked.Decrement(ref _waiting);
                try
                {
                    if (job.Start())
                    {
                        Run(job);
                    }
                }
                finally
                {
                    Current = null;
                }
            }
        }
    }

    private void Run(Job job)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var request = job.Preview ? job.Request with { Stepwise = (step, images) => Preview(job, step, images) } : job.Request;
            // Served by name: the folder's path reaches no response, PNG text or settings (the library writes them from this record).
            var generated = Pipeline.Generate(request, new JobProgress(job), job.Token);
            var result = generated with { Settings = generated.Settings with { Model = Name } };
            string? sampler = job.Request.Scheduler?.Name is { } n ? SamplerNames.A1111Name(n) : null;
            var pngs = Enumerable.Range(0, result.Images.Count)
                .Select(k => JobJson.Png(result, k, sampler)).ToList();
            if (_output is not null)
            {
                for (int k = 0; k < pngs.Count; k++)
                {
                    // Named by the job's random id only: nothing from the request reaches a path.
                    AtomicFile.WriteAllBytes(Path.Combine(_output, $"{job.Id}-{k}.png"), pngs[k]);
                }
            }

            job.Succeed(new JobOutput(pngs, result.Settings, result.Seeds, result.Timings, result.Warnings));
            Log.Done(_log, job.Id, Name, result.Images.Count, result.Images.Width, result.Images.Height, result.Settings.Steps, result.Settings.Scheduler,
                clock.Elapsed.TotalSeconds);
        }
        catch (OperationCanceledException)
        {
            job.Cancelled();
            Log.Cancelled(_log, job.Id, Name, clock.Elapsed.TotalSeconds);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or NotSupportedException or InvalidOperationException)
        {
            // The pipeline's own checks (a size the family cannot take, a scheduler the model cannot use): the request's fault.
            job.Fail(e.Message, clientError: true);
            Log.Refused(_log, job.Id, Name, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            job.Fail($"internal error ({e.GetType().Name}: {e.Message})", clientError: false);
            Log.Failed(_log, e, job.Id, Name);
        }
    }

    private static void Preview(Job job, int step, GeneratedImages images)
    {
        var urls = new JsonArray();
        for (int k = 0; k < images.Count; k++)
        {
            urls.Add("data:image/png;base64," + Convert.ToBase64String(Imaging.PngFile.Encode(ImageFiles.ToRaster(images, k))));
        }

        job.Publish(new JobEvent("preview", new JsonObject { ["step"] = step + 1, ["images"] = urls }));
    }

    public void Dispose() => Pipeline.Dispose();

    private sealed class JobProgress(Job job) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => job.Publish(new JobEvent("progress", new JsonObject
        {
            ["stage"] = value.Stage switch
            {
                GenerationStage.EncodingText => "encoding_text",
                GenerationStage.Denoising => "denoising",
                _ => "decoding",
            },
            ["step"] = value.Step,
            ["steps"] = value.Steps,
        }));
    }
}

/// <summary>Every job by id: the live ones and the last <see cref="ServerLimits.GallerySize"/> finished ones.</summary>
internal sealed class JobStore(int gallerySize)
{
    private readonly ConcurrentDictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Job> _order = new();
    private readonly Lock _gate = new();

    public void Add(Job job)
    {
        _jobs[job.Id] = job;
        _order.Enqueue(job);
        lock (_gate)
        {
            // Oldest first: drop finished jobs past the gallery's size (live ones are never dropped).
            int finished = _jobs.Values.Count(j => j.IsFinal);
            while (finished > gallerySize && _order.TryPeek(out var oldest) && oldest.IsFinal)
            {
                _order.TryDequeue(out _);
                if (_jobs.TryRemove(oldest.Id, out var removed))
                {
                    removed.Dispose();
                }

                finished--;
            }
        }
    }

    public Job? Find(string id) => _jobs.GetValueOrDefault(id);

    /// <summary>Finished jobs with images, newest first.</summary>
    public IEnumerable<Job> Gallery() => _jobs.Values.Where(j => j.State == JobState.Done).OrderByDescending(j => j.Created);
}
