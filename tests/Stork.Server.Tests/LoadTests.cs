using System.Text.Json.Nodes;

namespace Stork.Server.Tests;

/// <summary>Bounded load on loopback: concurrent clients, a small queue; every request answered with an image or 429.</summary>
public sealed class LoadTests
{
    [Fact]
    public async Task Concurrent_clients_get_an_image_or_429_and_the_server_stays_up()
    {
        await using var s = await TestServer.StartAsync(new ServerLimits { QueueSize = 3, GallerySize = 8 });
        const int clients = 16;
        long heapAfterFirst = 0;
        for (int round = 0; round < 2; round++)
        {
            var tasks = Enumerable.Range(0, clients).Select(i => s.PostJson(i % 2 == 0 ? "/sdapi/v1/txt2img" : "/v1/images/generations",
                i % 2 == 0 ? $$"""{"prompt": "a bag", "steps": 4, "seed": {{i}}}""" : """{"prompt": "a bag", "size": "32x32"}""")).ToList();
            var answers = await Task.WhenAll(tasks);
            Assert.All(answers, a => Assert.True(a.Status is 200 or 429, $"status {a.Status}"));
            Assert.Contains(answers, a => a.Status == 200);
            Assert.Contains(answers, a => a.Status == 429);
            foreach (var (status, body) in answers)
            {
                if (status == 200)
                {
                    var images = body!["images"] ?? body["data"];
                    Assert.Single(images!.AsArray());
                }
                else
                {
                    JsonNode error = body!["error"]!;
                    Assert.NotNull(error);
                }
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            if (round == 0)
            {
                heapAfterFirst = heap;
            }
            else
            {
                // The second round keeps no more than the first: the gallery is bounded and finished jobs hold only PNGs.
                Assert.True(heap < heapAfterFirst + (64 << 20), $"managed heap {heapAfterFirst >> 20} MiB after round 1, {heap >> 20} MiB after round 2");
            }
        }

        var (healthStatus, health) = await s.Get("/health");
        Assert.Equal(200, healthStatus);
        Assert.Equal(0, health!["models"]![0]!["waiting"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_retry_after()
    {
        await using var s = await TestServer.StartAsync(new ServerLimits { QueueSize = 1 });
        // Long enough (512 x 512) to still run while the next two requests arrive.
        var (_, running) = await s.PostJson("/api/jobs", """{"prompt": "a coat", "steps": 100, "count": 4, "width": 512, "height": 512}""");
        string id = running!["id"]!.GetValue<string>();
        await s.WaitForJob(id, st => st != "queued");
        var (queued, _) = await s.PostJson("/api/jobs", """{"prompt": "a coat", "steps": 2}""");
        Assert.Equal(202, queued);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent("""{"prompt": "a coat"}""") };
        using var full = await s.Client.SendAsync(request);
        Assert.Equal(429, (int)full.StatusCode);
        Assert.NotNull(full.Headers.RetryAfter);
        Assert.Contains("queue", await full.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await s.PostJson($"/api/jobs/{id}/cancel", "");
    }
}
