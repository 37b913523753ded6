using Stork.Pipelines;
using Stork.Sampling;

namespace Stork.Tests.Pipelines;

/// <summary>A run of several items: image numbers, shards' blocks, listed seeds and own outputs, decided before any work.</summary>
public sealed class GenerationPlanTests
{
    private static GenerationItem Item(string prompt, long seed, int count) => new(new GenerationRequest { Prompt = prompt, Seed = seed }, count);

    private static readonly GenerationItem[] ThreePrompts = [Item("a", 10, 2), Item("b", 20, 2), Item("c", 30, 2)];

    [Fact]
    public void A_whole_run_numbers_its_images_item_after_item_and_asks_once_per_item()
    {
        var plan = new GenerationPlan(ThreePrompts, "out.png", ShardSpec.Whole);
        Assert.Equal(6, plan.TotalImages);
        Assert.Equal(6, plan.Images);
        Assert.Equal(Enumerable.Range(0, 6).Select(k => $"out-{k}.png"), plan.Outputs.Select(o => o.Path));
        Assert.Equal([ThreePrompts[0], ThreePrompts[0], ThreePrompts[1], ThreePrompts[1], ThreePrompts[2], ThreePrompts[2]], plan.Outputs.Select(o => o.Item));
        Assert.Equal([(0, 10L, 2), (1, 20L, 2), (2, 30L, 2)], plan.Requests.Select(r => (r.Item, r.Request.Seed, r.Request.Count ?? 0)));
        Assert.Equal("out.json", plan.MetadataPath);
    }

    [Fact]
    public void A_shard_takes_its_block_with_the_global_numbers_and_seeds()
    {
        // Shard 1 of 4 of six images: images 1 and 2, the second image of item 0 and the first of item 1.
        var plan = new GenerationPlan(ThreePrompts, "out.png", new ShardSpec(1, 4));
        Assert.Equal(2, plan.Images);
        Assert.Equal(["out-1.png", "out-2.png"], plan.Outputs.Select(o => o.Path));
        Assert.Equal([(0, 11L, 1), (1, 20L, 1)], plan.Requests.Select(r => (r.Item, r.Request.Seed, r.Request.Count ?? 0)));
        Assert.Equal("out.shard-1-of-4.json", plan.MetadataPath);

        // Every shard together: each image once, in order.
        var all = Enumerable.Range(0, 4).SelectMany(i => new GenerationPlan(ThreePrompts, "out.png", new ShardSpec(i, 4)).Outputs.Select(o => o.Path));
        Assert.Equal(Enumerable.Range(0, 6).Select(k => $"out-{k}.png"), all);
    }

    [Fact]
    public void Listed_seeds_ask_once_per_image()
    {
        var item = Item("a", 0, 2) with { Seeds = [3, 11] };
        var plan = new GenerationPlan([item], "x.png", ShardSpec.Whole);
        Assert.Equal([(3L, 1), (11L, 1)], plan.Requests.Select(r => (r.Request.Seed, r.Request.Count ?? 0)));
        Assert.Throws<ArgumentException>(() => new GenerationPlan([item with { Count = 3 }], "x.png", ShardSpec.Whole));
    }

    [Fact]
    public void An_npy_output_is_one_file_carrying_the_shard_and_one_image_is_not_numbered()
    {
        var npy = new GenerationPlan(ThreePrompts, "x.npy", new ShardSpec(0, 2));
        Assert.Equal([new PlannedOutput("x.shard-0-of-2.npy", null)], npy.Outputs);
        Assert.Equal(3, npy.Images);
        Assert.Equal(["one.png"], new GenerationPlan([Item("a", 0, 1)], "one.png", ShardSpec.Whole).Outputs.Select(o => o.Path));
    }

    [Fact]
    public void An_item_with_its_own_output_numbers_its_own_images()
    {
        GenerationItem[] items = [Item("a", 0, 1) with { Output = "a.png", Line = 1 }, Item("b", 0, 2) with { Output = "b.png", Line = 2 }];
        var plan = new GenerationPlan(items, "run.png", ShardSpec.Whole);
        Assert.Equal(["a.png", "b-0.png", "b-1.png"], plan.Outputs.Select(o => o.Path));
    }

    [Fact]
    public void A_rerun_keeps_the_record_where_nothing_is_given()
    {
        var recorded = new ResolvedGeneration { Prompt = "a coat", Steps = 8, Seed = 5, Count = 3, Model = "fashion-flux", Height = 32, Width = 32, MaxSequenceLength = 77, Scheduler = "euler", Times = [1.0, 0.0] };
        var again = GenerationItem.Rerun(recorded, new GenerationRequest { Prompt = "" }, null, null, null);
        Assert.Equal(("a coat", 8, 5L, 3, "fashion-flux"), (again.Request.Prompt, again.Request.Steps, again.Request.Seed, again.Count, again.Model));
        var changed = GenerationItem.Rerun(recorded, new GenerationRequest { Prompt = "", Steps = 2 }, "a boot", 9, 1);
        Assert.Equal(("a boot", 2, 9L, 1), (changed.Request.Prompt, changed.Request.Steps, changed.Request.Seed, changed.Count));
    }
}
