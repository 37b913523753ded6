using System.Diagnostics;

namespace Stork.Server.Tests;

/// <summary>
/// Real clients against a real server with an API key: the official OpenAI npm client (tests/clients/openai-images.mjs,
/// openai-edits.mjs)
/// and Automatic1111 requests as Open WebUI posts them (tests/clients/a1111-openwebui.mjs). Needs node and
/// tests/clients/node_modules (npm ci there; .ci/run does it).
/// </summary>
public sealed class ClientScriptTests
{
    private const string Key = "client-test-key-1";

    private static string ClientsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "clients");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/clients not found above the test folder.");
    }

    private static readonly string[] NodePaths = ["/usr/bin/node", "/usr/local/bin/node"];

    private static string? Node() => NodePaths.FirstOrDefault(File.Exists);

    [SkippableTheory]
    [InlineData("openai-images.mjs", true)]
    [InlineData("a1111-openwebui.mjs", false)]
    [InlineData("openai-edits.mjs", true)]
    public async Task Client_script_passes(string script, bool needsPackages)
    {
        string? node = Node();
        Skip.If(node is null, "node is not installed (apt-get install nodejs; .ci/run installs it).");
        string folder = ClientsFolder();
        Skip.If(needsPackages && !Directory.Exists(Path.Combine(folder, "node_modules", "openai")), "tests/clients/node_modules is missing: run npm ci in tests/clients (.ci/run does).");
        await using var s = await TestServer.StartAsync(apiKey: Key);
        // The edit script's input image and its mask (the right half fully transparent: OpenAI's "edit here").
        string inputs = Path.Combine(s.Output, "..", Path.GetFileName(s.Output) + "-inputs");
        Directory.CreateDirectory(inputs);
        string image = Path.Combine(inputs, "image.png"), mask = Path.Combine(inputs, "mask.png");
        Imaging.PngFile.Write(image, TestImages.Picture());
        File.WriteAllBytes(mask, TestImages.RgbaPng(32, 32, (x, _) => x >= 16 ? ((byte)0, (byte)0, (byte)0, (byte)0) : ((byte)0, (byte)0, (byte)0, (byte)255)));
        using var cleanup = new DeleteOnDispose(inputs);
        var start = new ProcessStartInfo(node!, [script, s.Server.Url.ToString(), Key, image, mask])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{script} exited {process.ExitCode}: {await stderr} {await stdout}");
        Assert.Contains("\"ok\":true", await stdout, StringComparison.Ordinal);
    }
}

/// <summary>Deletes a temporary folder when disposed.</summary>
internal sealed class DeleteOnDispose(string folder) : IDisposable
{
    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
