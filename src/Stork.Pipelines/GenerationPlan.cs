using Stork.Sampling;

namespace Stork.Pipelines;

/// <summary>
/// One unit of a run of several: a prompt, a batch line or a recorded run, with its image count; image k uses
/// <see cref="GenerationRequest.Seed"/> + k, or <see cref="Seeds"/>[k] (one image per listed seed).
/// </summary>
public sealed record GenerationItem(GenerationRequest Request, int Count)
{
    /// <summary>The seeds of its images, one each (null: the request's seed + k).</summary>
    public IReadOnlyList<long>? Seeds { get; init; }

    /// <summary>Its own output path (a batch line's <c>out</c>), numbered when it has several images; null: the run's.</summary>
    public string? Output { get; init; }

    /// <summary>The batch line it came from (1-based), if any.</summary>
    public int? Line { get; init; }

    /// <summary>The model a recorded run used, if any.</summary>
    public string? Model { get; init; }

    /// <summary>The graph hashes a recorded run saw, if any.</summary>
    public IReadOnlyDictionary<string, string>? ModelHashes { get; init; }

    /// <summary>
    /// A recorded run again (<see cref="ResolvedGeneration.ToRequest"/>) with what <paramref name="given"/> sets: its
    /// negative prompt, steps, guidance, sizes, sequence length, scheduler and strength where not null, and its image
    /// inputs, latents and callbacks; <paramref name="prompt"/>, <paramref name="seed"/> and <paramref name="count"/>
    /// replace the recorded ones where not null.
    /// </summary>
    public static GenerationItem Rerun(ResolvedGeneration recorded, GenerationRequest given, string? prompt, long? seed, int? count)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentNullException.ThrowIfNull(given);
        var old = recorded.ToRequest();
        var request = given with
        {
            Prompt = prompt ?? old.Prompt,
            NegativePrompt = given.NegativePrompt ?? old.NegativePrompt,
            Steps = given.Steps ?? old.Steps,
            GuidanceScale = given.GuidanceScale ?? old.GuidanceScale,
            TrueCfgScale = given.TrueCfgScale ?? old.TrueCfgScale,
            Height = given.Height ?? old.Height,
            Width = given.Width ?? old.Width,
            MaxSequenceLength = given.MaxSequenceLength ?? old.MaxSequenceLength,
            Seed = seed ?? old.Seed,
            Scheduler = given.Scheduler ?? old.Scheduler,
            Strength = given.Strength ?? old.Strength,
        };
        return new GenerationItem(request, count ?? old.Count ?? 1) { Model = recorded.Model, ModelHashes = recorded.ModelHashes };
    }
}

/// <summary>A request of a <see cref="GenerationPlan"/>: its images of item <see cref="Item"/> (an index into the plan's items).</summary>
public sealed record PlannedRequest(GenerationRequest Request, int Item);

/// <summary>An output file of a <see cref="GenerationPlan"/> and the item whose image it holds (null: the run's one .npy).</summary>
public sealed record PlannedOutput(string Path, GenerationItem? Item);

/// <summary>
/// The images of a run of several items and their files, decided before any work: image numbers run item after item;
/// shard <see cref="Part"/> takes its contiguous block of them (image k of an item seeded as in a whole run). A
/// <c>.png</c> output is one PNG per image, numbered -0, -1, ... over the whole run when it has more than one image
/// (an item's own output numbers its own images); shards keep the global numbers. A <c>.npy</c> output is one array of
/// the shard's images, its name carrying the shard (<see cref="ShardSpec.Suffixed"/>), as does the metadata file.
/// </summary>
public sealed class GenerationPlan
{
    private readonly List<Block> _blocks = [];

    /// <summary>The plan of <paramref name="items"/> written to <paramref name="output"/>, for shard <paramref name="part"/>.</summary>
    public GenerationPlan(IReadOnlyList<GenerationItem> items, string output, ShardSpec part)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(part);
        if (items.Count == 0 || items.Any(i => i.Count < 1 || (i.Seeds is { } s && s.Count != i.Count)))
        {
            throw new ArgumentException("a plan needs at least one item, each with at least one image (and one seed per image when seeds are listed).", nameof(items));
        }

        Items = items;
        Output = output;
        Part = part;
        Png = ImageFiles.IsPng(output);
        TotalImages = CountImages(items);
        var (first, length) = part.Block(TotalImages);
        Images = length;
        bool numbered = Png && TotalImages > 1;
        long offset = 0;
        for (int i = 0; i < items.Count; offset += items[i].Count, i++)
        {
            long lo = Math.Max(first - offset, 0), hi = Math.Min(first + length - offset, items[i].Count);
            if (hi > lo)
            {
                var item = items[i];
                var (number, path, each) = item.Output is { } own ? (lo, own, item.Count > 1) : (offset + lo, output, numbered);
                _blocks.Add(new Block(i, lo, hi, number, path, each));
            }
        }

        Outputs = Png
            ? [.. _blocks.SelectMany(b => Enumerable.Range(0, (int)(b.To - b.From)).Select(k =>
                new PlannedOutput(b.Numbered ? ImageFiles.NumberedPath(b.Path, b.Number + k) : part.Suffixed(b.Path), Items[b.Item])))]
            : [new PlannedOutput(part.Suffixed(output), null)];
        Requests = [.. _blocks.SelectMany(b => PerRequest(b).Select(x => new PlannedRequest(Items[b.Item].Request with
        {
            Seed = Items[b.Item].Seeds is { } seeds ? seeds[(int)x.From] : Items[b.Item].Request.Seed + x.From,
            Count = (int)(x.To - x.From),
        }, b.Item)))];
    }

    /// <summary>The images of <paramref name="items"/>: what a shard count must not exceed.</summary>
    public static long CountImages(IReadOnlyList<GenerationItem> items) => items?.Sum(i => (long)i.Count) ?? throw new ArgumentNullException(nameof(items));

    /// <summary>The run's items.</summary>
    public IReadOnlyList<GenerationItem> Items { get; }

    /// <summary>The run's output path.</summary>
    public string Output { get; }

    /// <summary>The shard this plan renders.</summary>
    public ShardSpec Part { get; }

    /// <summary>Whether the output is PNGs (else one .npy).</summary>
    public bool Png { get; }

    /// <summary>The images of the whole run.</summary>
    public long TotalImages { get; }

    /// <summary>The images this shard renders.</summary>
    public long Images { get; }

    /// <summary>The files this shard writes, in order (not the metadata).</summary>
    public IReadOnlyList<PlannedOutput> Outputs { get; }

    /// <summary>The metadata file beside the output (<c>FILE.json</c>, carrying the shard).</summary>
    public string MetadataPath => Part.Suffixed(Path.ChangeExtension(Output, ".json"));

    /// <summary>
    /// The requests that render this shard's images, in order: one per item's block of images, or one per image where
    /// the item lists its seeds.
    /// </summary>
    public IReadOnlyList<PlannedRequest> Requests { get; }

    /// <summary>The files of <paramref name="results"/> (one per request of <see cref="Requests"/>, in order): the paths of <see cref="Outputs"/>.</summary>
    public IReadOnlyList<(string Path, byte[] Bytes)> Encode(IReadOnlyList<GenerationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count != Requests.Count)
        {
            throw new ArgumentException($"expected {Requests.Count} results, one per request (got {results.Count}).", nameof(results));
        }

        if (!Png)
        {
            return ImageFiles.Encode(results, Part.Suffixed(Output), 0);
        }

        var files = new List<(string Path, byte[] Bytes)>();
        var done = new Dictionary<int, long>();
        for (int i = 0; i < results.Count; i++)
        {
            var block = _blocks.First(b => b.Item == Requests[i].Item);
            long before = done.GetValueOrDefault(block.Item);
            files.AddRange(ImageFiles.Encode([results[i]], block.Numbered ? block.Path : Part.Suffixed(block.Path), block.Number + before, block.Numbered));
            done[block.Item] = before + results[i].Images.Count;
        }

        return files;
    }

    private IEnumerable<(long From, long To)> PerRequest(Block b) => Items[b.Item].Seeds is null
        ? [(b.From, b.To)]
        : Enumerable.Range((int)b.From, (int)(b.To - b.From)).Select(k => ((long)k, (long)k + 1));

    /// <summary>Images [From, To) of item <see cref="Item"/>, numbered from <see cref="Number"/> at <see cref="Path"/>.</summary>
    private sealed record Block(int Item, long From, long To, long Number, string Path, bool Numbered);
}
