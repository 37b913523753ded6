using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Stork.Imaging;

namespace Stork.Server.Tests;

/// <summary>The HTTP APIs on a real Kestrel on loopback with the shipped fashion-flux model.</summary>
public sealed class ApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer S => fixture.Server;

    private static byte[] Png(string base64)
    {
        byte[] png = Convert.FromBase64String(base64);
        Assert.Equal([137, 80, 78, 71], png[..4]);
        return png;
    }

    private static string Text(byte[] png, string key) => PngText.Read(png).Single(kv => kv.Key == key).Value;

    [Fact]
    public async Task Health_and_models_list_the_shipped_model()
    {
        var (status, health) = await S.Get("/health");
        Assert.Equal(200, status);
        Assert.Equal("ok", health!["status"]!.GetValue<string>());
        var (_, models) = await S.Get("/api/models");
        Assert.Equal("fashion-flux", models![0]!["name"]!.GetValue<string>());
        Assert.Equal(32, models[0]!["defaults"]!["height"]!.GetValue<int>());
    }

    [Fact]
    public async Task Own_api_generates_deterministic_pngs_with_settings_in_text_chunks()
    {
        const string body = """{"prompt": "a sneaker", "seed": 7, "steps": 6, "scheduler": {"name": "stork-4"}, "unknown_field": [1, 2]}""";
        var (status, job) = await S.PostJson("/api/generate", body);
        Assert.Equal(200, status);
        Assert.Equal("done", job!["state"]!.GetValue<string>());
        Assert.Equal(6, job["nfe"]!.GetValue<int>());
        Assert.Equal("stork-4", job["settings"]!["scheduler"]!.GetValue<string>());
        byte[] first = await S.Client.GetByteArrayAsync(job["images"]![0]!.GetValue<string>());
        Assert.Equal("a sneaker", Text(first, "prompt"));
        Assert.Equal("7", Text(first, "seed"));
        Assert.Equal("6", Text(first, "steps"));
        Assert.Equal("fashion-flux", Assert.Single(PngText.Read(first), kv => kv.Key == "model").Value);

        // The folder's path reaches neither the PNG's text (the run's JSON included) nor the settings; the served name does.
        string folder = TestServer.ShippedFluxFolder();
        Assert.All(PngText.Read(first), kv => Assert.DoesNotContain(folder, kv.Value, StringComparison.Ordinal));
        Assert.Equal("fashion-flux", System.Text.Json.Nodes.JsonNode.Parse(Text(first, "stork"))!["model"]!.GetValue<string>());
        Assert.Equal("fashion-flux", job["settings"]!["model"]!.GetValue<string>());
        Assert.DoesNotContain(folder, job.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("Steps: 6, Sampler: stork-4", Text(first, "parameters"), StringComparison.Ordinal);

        var (_, again) = await S.PostJson("/api/generate", body);
        byte[] second = await S.Client.GetByteArrayAsync(again!["images"]![0]!.GetValue<string>());
        Assert.Equal(first, second);

        // Saved in the output folder under the job's id, and nothing else there.
        string id = job["id"]!.GetValue<string>();
        Assert.Equal(first, File.ReadAllBytes(Path.Combine(S.Output, $"{id}-0.png")));
        Assert.All(Directory.GetFiles(S.Output), f => Assert.Matches("^[0-9a-f]{32}-[0-9]+\\.png$", Path.GetFileName(f)));
    }

    [Fact]
    public async Task Job_events_stream_progress_previews_and_the_result()
    {
        // Long enough to outlive the subscription: a finished job replays its events but not its previews (dropped at the end).
        var (status, job) = await S.PostJson("/api/jobs", """{"prompt": "a bag", "steps": 20, "preview": true, "count": 2, "width": 256, "height": 256}""");
        Assert.Equal(202, status);
        string id = job!["id"]!.GetValue<string>();
        await using var stream = await S.Client.GetStreamAsync($"/api/jobs/{id}/events");
        var types = new List<string>();
        JsonNode? last = null;
        int previews = 0;
        await foreach (var (type, data) in Sse.Read(stream))
        {
            types.Add(type);
            last = data;
            if (type == "preview")
            {
                previews++;
                Assert.Equal(2, data["images"]!.AsArray().Count);
                Assert.StartsWith("data:image/png;base64,", data["images"]![0]!.GetValue<string>(), StringComparison.Ordinal);
            }
        }

        Assert.Equal("done", types[^1]);
        Assert.Contains("progress", types);
        Assert.True(previews >= 1);
        Assert.Equal(2, last!["images"]!.AsArray().Count);
        var (_, gallery) = await S.Get("/api/gallery");
        Assert.Contains(gallery!.AsArray(), g => g!["id"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task Cancel_stops_a_running_job()
    {
        var (_, job) = await S.PostJson("/api/jobs", """{"prompt": "a coat", "steps": 100, "count": 4, "width": 512, "height": 512}""");
        string id = job!["id"]!.GetValue<string>();
        await using var stream = await S.Client.GetStreamAsync($"/api/jobs/{id}/events");
        string last = "";
        await foreach (var (type, _) in Sse.Read(stream))
        {
            if (type == "progress" && last != "cancel sent")
            {
                var (status, _) = await S.PostJson($"/api/jobs/{id}/cancel", "");
                Assert.Equal(202, status);
                last = "cancel sent";
            }
            else if (type is "done" or "failed" or "cancelled")
            {
                last = type;
            }
        }

        Assert.Equal("cancelled", last);
    }

    [Fact]
    public async Task A_watcher_that_disconnects_cancels_its_job()
    {
        // Long enough to be running when the watcher leaves (100 steps), short per step (256 x 256, 2 images: well under a
        // second idle) so that the cancellation, seen between steps, lands within the poll even on a heavily loaded machine.
        var (_, job) = await S.PostJson("/api/jobs", """{"prompt": "a shirt", "steps": 100, "count": 2, "width": 256, "height": 256}""");
        string id = job!["id"]!.GetValue<string>();
        using (var cts = new CancellationTokenSource())
        {
            var stream = await S.Client.GetStreamAsync($"/api/jobs/{id}/events", cts.Token);
            await foreach (var (type, _) in Sse.Read(stream))
            {
                if (type == "started")
                {
                    break;
                }
            }

            await stream.DisposeAsync();
        }

        var final = await S.WaitForJob(id, s => s is "done" or "failed" or "cancelled");
        Assert.Equal("cancelled", final["state"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/generate", """{"prompt": "x", "steps": 0}""", "steps must be 1 to 100")]
    [InlineData("/api/generate", """{"prompt": "x", "width": 4096, "height": 4096}""", "pixels")]
    [InlineData("/api/generate", """{"prompt": "x", "count": 99}""", "count must be 1 to 4")]
    [InlineData("/api/generate", """{"prompt": "x", "steps": "many"}""", "steps")]
    [InlineData("/api/generate", """{"prompt": "x", "scheduler": {"name": "nope"}}""", "unknown sampler")]
    [InlineData("/api/generate", """{"prompt": "x", "model": "../../etc"}""", "unknown model")]
    [InlineData("/api/generate", """{"prompt": "x", "width": 33, "height": 33}""", "33")]
    [InlineData("/api/generate", """{"prompt": """, "malformed")]
    [InlineData("/api/jobs", "[1, 2]", "JSON")]
    [InlineData("/api/jobs", """{"steps": 4}""", "prompt is required")]
    [InlineData("/sdapi/v1/txt2img", """{"prompt": "x", "sampler_name": "Euler a"}""", "unknown sampler")]
    [InlineData("/sdapi/v1/txt2img", """{"prompt": "x", "batch_size": 0}""", "batch_size")]
    public async Task Bad_requests_get_400_with_a_message(string path, string body, string expected)
    {
        var (status, error) = await S.PostJson(path, body);
        Assert.Equal(400, status);
        string message = path.StartsWith("/sdapi", StringComparison.Ordinal) ? error!["detail"]!.GetValue<string>() : error!["error"]!.GetValue<string>();
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_prompt_over_the_limit_and_a_body_over_the_limit_are_refused()
    {
        var (status, error) = await S.PostJson("/api/generate", $$"""{"prompt": "{{new string('a', 2001)}}"}""");
        Assert.Equal(400, status);
        Assert.Contains("at most 2000", error!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        // A body over the limit is refused on its Content-Length, before any of it is read. Sent by hand with no body:
        // an HttpClient upload races the server's close (its Expect: 100-continue wait gives up after a second on a
        // loaded machine, and the upload then fails with a broken pipe instead of reading the 413).
        Assert.Equal(413, await StatusOfHeadersOnly("/api/generate", 17 << 20));
    }

    private async Task<int> StatusOfHeadersOnly(string path, long contentLength)
    {
        var url = S.Server.Url;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        var stream = tcp.GetStream();
        string head = $"POST {path} HTTP/1.1\r\nHost: {url.Authority}\r\nContent-Type: application/json\r\nContent-Length: {contentLength}\r\n"
            + "Expect: 100-continue\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        string statusLine = await reader.ReadLineAsync() ?? "";
        string[] parts = statusLine.Split(' ');
        return parts.Length > 1 && int.TryParse(parts[1], out int code) ? code : throw new InvalidDataException($"no status line: '{statusLine}'");
    }

    [Theory]
    [InlineData("/api/jobs/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/api/jobs/..%2F..%2Fetc%2Fpasswd/images/0")]
    [InlineData("/api/jobs/00000000000000000000000000000000/images/0")]
    [InlineData("/../../etc/passwd")]
    [InlineData("/app.js/../../../etc/passwd")]
    [InlineData("/wwwroot/index.html")]
    public async Task Nothing_outside_the_jobs_is_served(string path)
    {
        var (status, _) = await S.Get(path);
        Assert.Equal(404, status);
    }

    [Fact]
    public async Task The_page_and_the_openapi_document_are_served()
    {
        string html = await S.Client.GetStringAsync("/");
        Assert.Contains("<script src=\"/app.js\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var (status, doc) = await S.Get("/openapi/v1.json");
        Assert.Equal(200, status);
        var paths = doc!["paths"]!.AsObject();
        foreach (string p in new[] { "/api/jobs", "/api/jobs/{id}/events", "/sdapi/v1/txt2img", "/v1/images/generations", "/health" })
        {
            Assert.True(paths.ContainsKey(p), p);
        }

        Assert.NotNull(paths["/api/jobs"]!["post"]!["requestBody"]!["content"]!["application/json"]);
    }

    [Fact]
    public async Task Automatic1111_txt2img_answers_images_parameters_and_info()
    {
        var (status, r) = await S.PostJson("/sdapi/v1/txt2img",
            """{"prompt": "a sneaker", "negative_prompt": "", "steps": 5, "cfg_scale": 3, "width": 32, "height": 32, "seed": 11, "batch_size": 2, "sampler_name": "DPM++ 2M", "enable_hr": false}""");
        Assert.Equal(200, status);
        var images = r!["images"]!.AsArray();
        Assert.Equal(2, images.Count);
        byte[] png = Png(images[1]!.GetValue<string>());
        Assert.Equal("12", Text(png, "seed"));
        Assert.Equal("dpm++2m", Text(png, "scheduler"));
        Assert.Equal("3", Text(png, "true_cfg"));
        var info = JsonNode.Parse(r["info"]!.GetValue<string>())!;
        Assert.Equal(11, info["seed"]!.GetValue<long>());
        Assert.Equal("DPM++ 2M", info["sampler_name"]!.GetValue<string>());
        Assert.Equal(new long[] { 11, 12 }, info["all_seeds"]!.AsArray().Select(x => x!.GetValue<long>()));
        Assert.Equal("a sneaker", r["parameters"]!["prompt"]!.GetValue<string>());

        var (_, random) = await S.PostJson("/sdapi/v1/txt2img", """{"prompt": "a sneaker", "steps": 2, "seed": -1}""");
        Assert.True(JsonNode.Parse(random!["info"]!.GetValue<string>())!["seed"]!.GetValue<long>() >= 0);
    }

    [Fact]
    public async Task Automatic1111_lists_samplers_models_and_options()
    {
        var (_, samplers) = await S.Get("/sdapi/v1/samplers");
        var names = samplers!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList();
        foreach (string n in new[] { "Euler", "DPM++ 2M", "UniPC", "DDIM", "Heun", "stork-4", "dpm++2m" })
        {
            Assert.Contains(n, names);
        }

        Assert.DoesNotContain("rk45", names);
        var (_, models) = await S.Get("/sdapi/v1/sd-models");
        Assert.Equal("fashion-flux", models![0]!["title"]!.GetValue<string>());
        var (_, options) = await S.Get("/sdapi/v1/options");
        Assert.Equal("fashion-flux", options!["sd_model_checkpoint"]!.GetValue<string>());
        var (bad, _) = await S.PostJson("/sdapi/v1/options", """{"sd_model_checkpoint": "other"}""");
        Assert.Equal(400, bad);
    }

    [Fact]
    public async Task OpenAI_images_generations_answers_b64_json_and_openai_errors()
    {
        var (status, r) = await S.PostJson("/v1/images/generations", """{"prompt": "a bag", "n": 2, "size": "32x32", "response_format": "b64_json", "quality": "hd"}""");
        Assert.Equal(200, status);
        Assert.True(r!["created"]!.GetValue<long>() > 0);
        Assert.Equal(2, r["data"]!.AsArray().Count);
        Png(r["data"]![0]!["b64_json"]!.GetValue<string>());

        foreach (string body in new[] { """{"prompt": "a bag", "size": "big"}""", """{"prompt": "a bag", "response_format": "url"}""", """{"prompt": "a bag", "model": "dall-e-3"}""", """{"n": 1}""" })
        {
            var (code, error) = await S.PostJson("/v1/images/generations", body);
            Assert.Equal(400, code);
            Assert.Equal("invalid_request_error", error!["error"]!["type"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(error["error"]!["message"]!.GetValue<string>()));
        }
    }
}

/// <summary>The API key: required on the APIs when set, never on the page and /health.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private const string Key = "test-key-12345";
    private TestServer _s = null!;

    public async Task InitializeAsync() => _s = await TestServer.StartAsync(apiKey: Key);

    public async Task DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task Requests_without_the_right_key_get_401()
    {
        Assert.Equal(200, (await _s.Get("/health")).Status);
        Assert.Equal(200, (await _s.Get("/")).Status);
        foreach (string path in new[] { "/api/models", "/sdapi/v1/sd-models", "/openapi/v1.json", "/api/gallery" })
        {
            Assert.Equal(401, (await _s.Get(path)).Status);
            Assert.Equal(401, (await _s.Get(path, r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-key-1234"))).Status);
        }

        var (status, error) = await _s.PostJson("/v1/images/generations", """{"prompt": "x"}""");
        Assert.Equal(401, status);
        Assert.Equal("invalid_api_key", error!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(200, (await _s.Get("/api/models", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key))).Status);
        Assert.Equal(200, (await _s.Get("/api/models", r => r.Headers.Add("x-api-key", Key))).Status);
        string basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + Key));
        Assert.Equal(200, (await _s.Get("/sdapi/v1/sd-models", r => r.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic))).Status);
    }

    [Fact]
    public void A_non_loopback_host_needs_a_key()
    {
        var options = new ServerOptions { Models = [new ServedModel("m", TestServer.ShippedFluxFolder())], Host = "0.0.0.0" };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("API key", e.Message, StringComparison.Ordinal);
        (options with { ApiKey = Key }).Validate();
        Assert.True(new ServerOptions { Models = options.Models, Host = "::1" }.IsLoopback);
    }

    [Fact]
    public void The_cli_refuses_a_public_host_without_a_key_with_one_error_line()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Stork.Cli.CliApp.Run(["serve", "--host", "0.0.0.0", "--port", "0"], stdout, stderr);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --api-key: host 0.0.0.0", stderr.ToString(), StringComparison.Ordinal);
        Assert.Single(stderr.ToString().Trim().Split('\n'));
        Assert.Equal("", stdout.ToString());
    }
}
