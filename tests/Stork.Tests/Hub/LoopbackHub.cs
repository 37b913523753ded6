using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Stork.Tests.Hub;

/// <summary>
/// A Hugging Face Hub on loopback that answers as the Hub's HTTP file API does (the real Hub cannot be reached from the
/// machines these tests run on): <c>GET /api/models/{repo}/revision/{rev}</c> with <c>sha</c>, <c>gated</c> and
/// <c>siblings</c>; <c>HEAD</c>/<c>GET /{repo}/resolve/{rev}/{file}</c> with <c>X-Repo-Commit</c> and, for a file in
/// Git LFS (here: ONNX graphs and their data, and anything of 64 KiB or more), a 302 to a CDN path with
/// <c>X-Linked-Etag</c> (its sha256) and <c>X-Linked-Size</c>; for other files a 200 with <c>ETag</c> (the Git blob
/// sha1); <c>Range</c> requests (206, 416); 401 <c>GatedRepo</c> / <c>RepoNotFound</c>, 404 <c>RevisionNotFound</c> /
/// <c>EntryNotFound</c> with <c>X-Error-Code</c> and <c>X-Error-Message</c>. Every request is logged.
/// </summary>
internal sealed class LoopbackHub : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _lfs = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public LoopbackHub()
    {
        for (int attempt = 0; ; attempt++)
        {
            Port = FreePort();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; private set; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public const string Token = "hf_loopback_token";

    /// <summary>Requests as "METHOD PATH" plus " range=bytes=N-" and " auth" when present.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>When set, LFS bodies stop after this many bytes (a short response, as from a dropped connection).</summary>
    public long? TruncateLfsAt { get; set; }

    /// <summary>When set, LFS bodies have one byte flipped (a corrupted transfer).</summary>
    public bool CorruptLfs { get; set; }

    public sealed record Repo(string Id, string Commit, IReadOnlyDictionary<string, byte[]> Files, bool Gated);

    public Repo Add(string id, IReadOnlyDictionary<string, byte[]> files, bool gated = false)
    {
#pragma warning disable CA5350 // Git names commits and blobs by SHA-1; nothing here is a security check.
        string commit = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(id + files.Count)));
#pragma warning restore CA5350
        var repo = new Repo(id, commit, files, gated);
        _repos[id] = repo;
        foreach (var (path, bytes) in files)
        {
            if (IsLfs(path, bytes))
            {
                _lfs[Sha256(bytes)] = bytes;
            }
        }

        return repo;
    }

    /// <summary>A repository with the files of a folder on disk (links followed).</summary>
    public Repo AddFolder(string id, string folder, bool gated = false) =>
        Add(id, Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes), gated);

    public static bool IsLfs(string path, byte[] bytes) => path.Contains(".onnx", StringComparison.Ordinal) || bytes.Length >= 64 << 10;

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

#pragma warning disable CA5350 // Git's blob id is SHA-1 by definition.
    public static string GitSha1(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));
#pragma warning restore CA5350

    /// <summary>The name a blob of <paramref name="bytes"/> at <paramref name="path"/> has in the cache.</summary>
    public static string Etag(string path, byte[] bytes) => IsLfs(path, bytes) ? Sha256(bytes) : GitSha1(bytes);

    public IEnumerable<string> Requests(string contains) => Log.Where(l => l.Contains(contains, StringComparison.Ordinal));

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() =>
            {
                try
                {
                    Handle(context);
                }
                catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
                {
                }
            });
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        string path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        string? range = request.Headers["Range"];
        string? auth = request.Headers["Authorization"];
        Log.Enqueue($"{request.HttpMethod} {path}{(range is null ? "" : " range=" + range)}{(auth is null ? "" : " auth")}");
        bool authorized = auth == "Bearer " + Token;
        using (response)
        {
            if (path.StartsWith("/api/models/", StringComparison.Ordinal))
            {
                string[] parts = path["/api/models/".Length..].Split('/', 4);
                if (parts.Length < 4 || parts[2] != "revision" || !_repos.TryGetValue(parts[0] + "/" + parts[1], out var r))
                {
                    Error(response, authorized ? 404 : 401, "RepoNotFound", "Repository not found");
                    return;
                }

                if (parts[3] != "main" && parts[3] != r.Commit)
                {
                    Error(response, 404, "RevisionNotFound", $"Invalid rev id: {parts[3]}");
                    return;
                }

                var json = JsonSerializer.SerializeToUtf8Bytes(new
                {
                    id = r.Id,
                    sha = r.Commit,
                    gated = r.Gated ? (object)"manual" : false,
                    siblings = r.Files.Keys.Order(StringComparer.Ordinal).Select(f => new { rfilename = f }),
                });
                response.ContentType = "application/json";
                Body(request, response, json, null);
                return;
            }

            if (path.StartsWith("/cdn/", StringComparison.Ordinal))
            {
                if (!_lfs.TryGetValue(path["/cdn/".Length..], out var blob))
                {
                    response.StatusCode = 404;
                    return;
                }

                response.Headers["ETag"] = $"\"{Sha256(blob)}\"";
                byte[] served = blob;
                if (CorruptLfs)
                {
                    served = (byte[])blob.Clone();
                    served[served.Length / 2] ^= 0x5a;
                }

                Body(request, response, served, TruncateLfsAt);
                return;
            }

            int resolve = path.IndexOf("/resolve/", StringComparison.Ordinal);
            if (resolve < 0 || !_repos.TryGetValue(path[1..resolve], out var repo))
            {
                Error(response, authorized ? 404 : 401, "RepoNotFound", "Repository not found");
                return;
            }

            string[] rest = path[(resolve + "/resolve/".Length)..].Split('/', 2);
            if (rest[0] != "main" && rest[0] != repo.Commit)
            {
                Error(response, 404, "RevisionNotFound", $"Invalid rev id: {rest[0]}");
                return;
            }

            if (repo.Gated && !authorized)
            {
                Error(response, 401, "GatedRepo", $"Access to model {repo.Id} is restricted. You must have access to it and be authenticated to access it. Please log in.");
                return;
            }

            response.Headers["X-Repo-Commit"] = repo.Commit;
            if (rest.Length < 2 || !repo.Files.TryGetValue(rest[1], out var bytes))
            {
                Error(response, 404, "EntryNotFound", "Entry not found");
                return;
            }

            if (IsLfs(rest[1], bytes))
            {
                string sha = Sha256(bytes);
                response.StatusCode = 302;
                response.Headers["Location"] = $"{Endpoint}/cdn/{sha}";
                response.Headers["X-Linked-Etag"] = $"\"{sha}\"";
                response.Headers["X-Linked-Size"] = bytes.Length.ToString(CultureInfo.InvariantCulture);
                response.Headers["ETag"] = $"\"{GitSha1(Encoding.ASCII.GetBytes("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha))}\"";
                response.ContentLength64 = 0;
                return;
            }

            response.Headers["ETag"] = $"\"{GitSha1(bytes)}\"";
            Body(request, response, bytes, null);
        }
    }

    private static void Error(HttpListenerResponse response, int status, string code, string message)
    {
        response.StatusCode = status;
        response.Headers["X-Error-Code"] = code;
        response.Headers["X-Error-Message"] = message;
        response.ContentLength64 = 0;
    }

    /// <summary>The body, or the part a <c>Range: bytes=N-</c> asks for (206, or 416 past the end), cut at <paramref name="cut"/> bytes.</summary>
    private static void Body(HttpListenerRequest request, HttpListenerResponse response, byte[] bytes, long? cut)
    {
        long start = 0;
        string? range = request.Headers["Range"];
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], CultureInfo.InvariantCulture);
            if (start >= bytes.Length)
            {
                response.StatusCode = 416;
                response.Headers["Content-Range"] = $"bytes */{bytes.Length}";
                response.ContentLength64 = 0;
                return;
            }

            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }

        long end = cut is { } c ? Math.Min(bytes.Length, Math.Max(start, c)) : bytes.Length;
        response.ContentLength64 = end - start;
        response.Headers["Accept-Ranges"] = "bytes";
        if (request.HttpMethod != "HEAD")
        {
            response.OutputStream.Write(bytes, (int)start, (int)(end - start));
        }
    }
}
