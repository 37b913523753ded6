using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Stork.Server.Tests;

/// <summary>A real <see cref="StorkServer"/> (Kestrel on 127.0.0.1, a free port) over the shipped fashion-flux model.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(StorkServer server, string output)
    {
        Server = server;
        Output = output;
        Client = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromMinutes(3) };
    }

    public StorkServer Server { get; }

    public HttpClient Client { get; }

    /// <summary>The server's --output folder (a fresh temporary folder).</summary>
    public string Output { get; }

    public static string ShippedFluxFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "models", "fashion-flux");
            if (File.Exists(Path.Combine(candidate, "model_index.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("models/fashion-flux not found above the test folder.");
    }

    public static async Task<TestServer> StartAsync(ServerLimits? limits = null, string? apiKey = null, IReadOnlyList<ServedModel>? extraModels = null)
    {
        string output = Path.Combine(Path.GetTempPath(), "stork-serve-test-" + Guid.NewGuid().ToString("N"));
        var options = new ServerOptions
        {
            Models = [new ServedModel("fashion-flux", ShippedFluxFolder()), .. extraModels ?? []],
            Port = 0,
            ApiKey = apiKey,
            OutputFolder = output,
            Limits = limits ?? new ServerLimits(),
        };
        return new TestServer(await StorkServer.StartAsync(options), output);
    }

    public async Task<(int Status, JsonNode? Body)> PostJson(string path, string json, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        configure?.Invoke(request);
        using var response = await Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<(int Status, JsonNode? Body)> Get(string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        using var response = await Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
        }

        return ((int)response.StatusCode, body);
    }

    /// <summary>Polls a job until <paramref name="until"/> holds for its state (at most two minutes).</summary>
    public async Task<JsonNode> WaitForJob(string id, Func<string, bool> until)
    {
        for (int i = 0; i < 1200; i++)
        {
            var job = await Client.GetFromJsonAsync<JsonNode>($"/api/jobs/{id}");
            if (until(job!["state"]!.GetValue<string>()))
            {
                return job;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"job {id} never reached the expected state.");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        if (Directory.Exists(Output))
        {
            Directory.Delete(Output, recursive: true);
        }
    }
}

/// <summary>One server shared by the tests of a class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Reads a job's server-sent events.</summary>
public static class Sse
{
    public static async IAsyncEnumerable<(string Type, JsonNode Data)> Read(Stream stream)
    {
        using var reader = new StreamReader(stream);
        string type = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line[6..]);
            }
            else if (line.Length == 0 && data.Length > 0)
            {
                yield return (type, JsonNode.Parse(data.ToString())!);
                type = "message";
                data.Clear();
            }
        }
    }
}
