using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Stork.Pipelines.Hub;

/// <summary>
/// Downloads the files of a diffusers-layout ONNX pipeline from the Hugging Face Hub into the Hub's own cache, the way
/// <c>huggingface_hub</c>'s <c>snapshot_download</c> does (<c>file_download.py</c>, <c>_snapshot_download.py</c>):
/// <list type="number">
/// <item><c>GET {endpoint}/api/models/{repo}/revision/{revision}</c> gives the commit and the file list;</item>
/// <item>for each file the pipeline needs (<see cref="IsPipelineFile"/>), <c>HEAD {endpoint}/{repo}/resolve/{commit}/{file}</c>
/// gives its <c>X-Repo-Commit</c>, its ETag (<c>X-Linked-Etag</c> for files in Git LFS: their sha256; else
/// <c>ETag</c>: the Git blob's sha1) and its size (<c>X-Linked-Size</c> or <c>Content-Length</c>); a redirect to the
/// CDN is not followed then (only relative ones, as for a renamed repository);</item>
/// <item>the file is fetched (redirects followed, the token sent to the Hub's own address only) into
/// <c>blobs/ETAG.incomplete</c>, resumed with a <c>Range</c> request when that file is there from an interrupted pull,
/// checked against the ETag (sha256 of the whole file, or the Git blob sha1), then renamed to <c>blobs/ETAG</c>;</item>
/// <item><c>snapshots/COMMIT/FILE</c> is a relative symbolic link to the blob (a copy where links cannot be made), and
/// <c>refs/REVISION</c> holds the commit.</item>
/// </list>
/// A file whose snapshot entry exists is not asked for again, so a cache filled by <c>huggingface-cli download</c> is
/// reused. Offline (<see cref="HubSettings.Offline"/>) nothing is sent and the snapshot must be cached.
/// </summary>
public sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private const long ReportEvery = 4L << 20;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    /// <summary>A client for <paramref name="settings"/> (<see cref="HubSettings.FromEnvironment"/> for the environment's).</summary>
    /// <exception cref="ArgumentException">The endpoint is not an http or https address.</exception>
    public HubClient(HubSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!Uri.TryCreate(settings.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"HF_ENDPOINT '{settings.Endpoint}' is not an http or https address.", nameof(settings));
        }

        Settings = settings;
        _endpoint = endpoint;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None });
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("stork", typeof(HubClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    private enum Redirects
    {
        None,
        Relative,
        All,
    }

    /// <summary>The settings this client uses.</summary>
    public HubSettings Settings { get; }

    /// <summary>
    /// Whether a repository file is one an ONNX pipeline reads: <c>model_index.json</c>, and in a component folder
    /// its JSON configurations, tokenizer files (<c>.txt</c>, <c>.model</c>), ONNX graphs and their external data
    /// (<c>model.onnx*</c>, <c>*.onnx_data</c>, <c>*.data</c>, <c>*.pb</c>). Never PyTorch or safetensors weights, nor
    /// <c>vae_encoder/</c> (text to image does not use it), nor anything deeper than one folder.
    /// </summary>
    public static bool IsPipelineFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string[] parts = path.Split('/');
        if (parts.Length == 1)
        {
            return path == "model_index.json";
        }

        if (parts.Length != 2 || parts[0] is "vae_encoder" || parts[0].StartsWith('.'))
        {
            return false;
        }

        string name = parts[1];
        if (name.Contains(".safetensors", StringComparison.OrdinalIgnoreCase) || name.Contains(".bin", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return name.StartsWith("model.onnx", StringComparison.Ordinal)
            || Path.GetExtension(name).ToLowerInvariant() is ".onnx" or ".onnx_data" or ".data" or ".pb" or ".json" or ".txt" or ".model";
    }

    /// <summary>
    /// The cached snapshot folder of <paramref name="repository"/> (its commit, or the commit its <c>refs/</c> entry
    /// names), or null when the cache has none. Reads the file system only.
    /// </summary>
    public static string? FindCached(HubSettings settings, HubRepository repository)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(repository);
        string repoFolder = Path.Combine(settings.CacheFolder, repository.CacheFolderName);
        string? commit = repository.RevisionIsCommit ? repository.Revision : ReadRef(repoFolder, repository.Revision);
        if (commit is null || !HubRepository.IsCommitHash(commit))
        {
            return null;
        }

        string snapshot = Path.Combine(repoFolder, "snapshots", commit);
        return Directory.Exists(snapshot) ? snapshot : null;
    }

    /// <summary>
    /// Pulls the pipeline files of <paramref name="repository"/> into the cache and returns the snapshot folder.
    /// With <paramref name="verify"/>, files already cached are hashed against their blob names too (and fetched again
    /// when they do not match).
    /// </summary>
    /// <exception cref="HubException">The repository, a file or the cache is not as it should be; the message says what to do.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; a partial file stays as <c>.incomplete</c> and is resumed next time.</exception>
    public async Task<HubSnapshot> PullAsync(HubRepository repository, IProgress<HubProgress>? progress = null, bool verify = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        string repoFolder = Path.Combine(Settings.CacheFolder, repository.CacheFolderName);
        if (Settings.Offline)
        {
            string folder = FindCached(Settings, repository) ?? throw new HubException(HubErrorKind.NotCached,
                $"HF_HUB_OFFLINE is set and {repository} is not in the Hugging Face cache '{Settings.CacheFolder}'; unset HF_HUB_OFFLINE to download it.");
            return FromCache(repository, folder, verify);
        }

        RepositoryInfo info;
        try
        {
            info = await GetInfoAsync(repository, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException) when (FindCached(Settings, repository) is { } folder)
        {
            return FromCache(repository, folder, verify);
        }
        catch (HttpRequestException e)
        {
            throw new HubException(HubErrorKind.Network,
                $"cannot reach the Hub at {Settings.Endpoint} ({e.Message}); set HF_ENDPOINT to a mirror, or HF_HUB_OFFLINE=1 to use the cache only.", e);
        }

        var files = info.Files.Where(IsPipelineFile).Order(StringComparer.Ordinal).ToList();
        CheckIsPipeline(repository, info, files);
        if (info.Gated && Settings.Token is null)
        {
            throw Gated(repository);
        }

        if (repository.Revision != info.Commit)
        {
            WriteRef(repoFolder, repository.Revision, info.Commit);
        }

        string snapshot = Path.Combine(repoFolder, "snapshots", info.Commit);
        long downloaded = 0;
        int reused = 0;
        for (int i = 0; i < files.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string file = files[i];
            string pointer = Path.Combine(snapshot, file.Replace('/', Path.DirectorySeparatorChar));
            if (File.Exists(pointer) && (!verify || MatchesBlobName(pointer)))
            {
                reused++;
                long length = new FileInfo(pointer).Length;
                progress?.Report(new HubProgress(file, i, files.Count, length, length, HubFileState.Reused));
                continue;
            }

            DeleteEntry(pointer);
            var meta = await GetFileMetadataAsync(repository, info.Commit, file, cancellationToken).ConfigureAwait(false);
            string blob = Path.Combine(repoFolder, "blobs", meta.Etag);
            if (File.Exists(blob) && (!verify || Hashes(blob, meta.Etag)))
            {
                reused++;
                progress?.Report(new HubProgress(file, i, files.Count, meta.Size, meta.Size, HubFileState.Reused));
            }
            else
            {
                downloaded += await DownloadAsync(repository, file, meta, blob, p => progress?.Report(new HubProgress(file, i, files.Count, p, meta.Size, HubFileState.Downloading)),
                    cancellationToken).ConfigureAwait(false);
                progress?.Report(new HubProgress(file, i, files.Count, meta.Size, meta.Size, HubFileState.Done));
            }

            Link(blob, pointer);
        }

        return new HubSnapshot(repository, info.Commit, snapshot, files, downloaded, reused, FromCacheOnly: false);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private static HubSnapshot FromCache(HubRepository repository, string folder, bool verify)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal).ToList();
        if (verify)
        {
            foreach (string f in files)
            {
                string path = Path.Combine(folder, f.Replace('/', Path.DirectorySeparatorChar));
                if (!MatchesBlobName(path))
                {
                    throw new HubException(HubErrorKind.Corrupt,
                        $"'{f}' of {repository} in the cache '{folder}' does not match its hash; pull it again without HF_HUB_OFFLINE.");
                }
            }
        }

        return new HubSnapshot(repository, Path.GetFileName(folder), folder, files, 0, files.Count, FromCacheOnly: true);
    }

    private static void CheckIsPipeline(HubRepository repository, RepositoryInfo info, List<string> files)
    {
        if (!files.Contains("model_index.json"))
        {
            throw new HubException(HubErrorKind.NotAPipeline,
                $"{repository} (commit {info.Commit[..7]}) has no model_index.json: stork pull takes a diffusers-layout ONNX pipeline (docs/hub.md).");
        }

        if (!files.Any(f => f.EndsWith(".onnx", StringComparison.Ordinal)))
        {
            int weights = info.Files.Count(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".bin", StringComparison.Ordinal));
            throw new HubException(HubErrorKind.NotAPipeline,
                $"{repository} (commit {info.Commit[..7]}) has no ONNX graphs (model.onnx){(weights > 0 ? $" but {weights} PyTorch/safetensors weight files" : "")}: "
                + $"export it with optimum-cli export onnx (docs/hub.md) or pull an ONNX export of it.");
        }
    }

    private async Task<RepositoryInfo> GetInfoAsync(HubRepository repository, CancellationToken cancellationToken)
    {
        var url = new Uri(_endpoint, $"api/models/{repository.Id}/revision/{Uri.EscapeDataString(repository.Revision)}");
        using var response = await SendAsync(HttpMethod.Get, url, null, Redirects.All, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw Refused(response, repository, null);
        }

        string json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            string commit = root.GetProperty("sha").GetString() ?? "";
            if (!HubRepository.IsCommitHash(commit))
            {
                throw new HubException(HubErrorKind.Network, $"{Settings.Endpoint} gave '{commit}' as the commit of {repository}, not a commit hash.");
            }

            var files = root.TryGetProperty("siblings", out var siblings) && siblings.ValueKind == JsonValueKind.Array
                ? siblings.EnumerateArray().Select(s => s.GetProperty("rfilename").GetString() ?? "").Where(s => s.Length > 0).ToList()
                : [];
            bool gated = root.TryGetProperty("gated", out var g) && g.ValueKind is JsonValueKind.String or JsonValueKind.True;
            return new RepositoryInfo(commit, files, gated);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new HubException(HubErrorKind.Network, $"{Settings.Endpoint} answered {url} with something other than the Hub's repository JSON ({e.Message}).", e);
        }
    }

    private async Task<FileMetadata> GetFileMetadataAsync(HubRepository repository, string commit, string file, CancellationToken cancellationToken)
    {
        var url = ResolveUrl(repository, commit, file);
        using var response = await SendAsync(HttpMethod.Head, url, null, Redirects.Relative, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && !IsRedirect(response.StatusCode))
        {
            throw Refused(response, repository, file);
        }

        string? repoCommit = Header(response, "X-Repo-Commit");
        string? etag = Normalize(Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(response, "ETag"));
        string? size = Header(response, "X-Linked-Size") ?? response.Content.Headers.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (repoCommit is null || etag is null || size is null || !long.TryParse(size, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long length))
        {
            throw new HubException(HubErrorKind.Network,
                $"{Settings.Endpoint} gave no commit, ETag or size for '{file}' of {repository} (X-Repo-Commit, X-Linked-Etag/ETag, X-Linked-Size/Content-Length); is HF_ENDPOINT a Hub?");
        }

        if (etag.Length == 0 || etag.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_')))
        {
            throw new HubException(HubErrorKind.Network, $"{Settings.Endpoint} gave '{etag}' as the ETag of '{file}', which cannot name a cache file.");
        }

        var location = IsRedirect(response.StatusCode) && response.Headers.Location is { } loc ? new Uri(url, loc.OriginalString) : url;
        return new FileMetadata(etag, length, location);
    }

    private async Task<long> DownloadAsync(HubRepository repository, string file, FileMetadata meta, string blob, Action<long> report, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        string partial = blob + ".incomplete";
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (have > meta.Size)
        {
            File.Delete(partial);
            have = 0;
        }

        long fetched = 0;
        if (have < meta.Size)
        {
            try
            {
                using var response = await SendAsync(HttpMethod.Get, meta.Location, have > 0 ? have : null, Redirects.All, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    File.Delete(partial);
                    throw new HubException(HubErrorKind.Network,
                        $"the server refused to resume '{file}' of {repository} at byte {have} (416); the partial file was removed, run the pull again.");
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw Refused(response, repository, file);
                }

                if (have > 0 && (response.StatusCode != HttpStatusCode.PartialContent || response.Content.Headers.ContentRange?.From != have))
                {
                    have = 0;
                }

                report(have);
                using var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                using var target = new FileStream(partial, have > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                var buffer = new byte[1 << 20];
                long reported = have;
                int n;
                while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (have + n > meta.Size)
                    {
                        break;
                    }

                    await target.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    have += n;
                    fetched += n;
                    if (have - reported >= ReportEvery)
                    {
                        report(have);
                        reported = have;
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException && e is not HubException)
            {
                throw new HubException(HubErrorKind.Network,
                    $"the download of '{file}' of {repository} stopped at byte {(File.Exists(partial) ? new FileInfo(partial).Length : 0)} of {meta.Size} ({e.Message}); run the pull again to resume it.", e);
            }
        }

        long onDisk = new FileInfo(partial).Length;
        if (onDisk < meta.Size)
        {
            throw new HubException(HubErrorKind.Network,
                $"the download of '{file}' of {repository} stopped at byte {onDisk} of {meta.Size}; run the pull again to resume it.");
        }

        if (onDisk > meta.Size || !Hashes(partial, meta.Etag))
        {
            File.Delete(partial);
            throw new HubException(HubErrorKind.Corrupt,
                $"'{file}' of {repository} as downloaded does not match the Hub's {(meta.Etag.Length == 64 ? "sha256" : "Git blob hash")} {meta.Etag} (or its size {meta.Size}); the file was removed, run the pull again.");
        }

        File.Move(partial, blob, overwrite: true);
        report(meta.Size);
        return fetched;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, long? from, Redirects redirects, CancellationToken cancellationToken)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            if (Settings.Token is { } token && url.Scheme == _endpoint.Scheme && url.Authority == _endpoint.Authority)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            if (from is { } start)
            {
                request.Headers.Range = new RangeHeaderValue(start, null);
            }

            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
            {
                bool relative = !location.IsAbsoluteUri || location.Scheme == Uri.UriSchemeFile;
                if (redirects == Redirects.All || (redirects == Redirects.Relative && relative))
                {
                    response.Dispose();
                    if (hop == MaxRedirects)
                    {
                        throw new HubException(HubErrorKind.Network, $"more than {MaxRedirects} redirects from {url}.");
                    }

                    url = new Uri(url, location.OriginalString);
                    continue;
                }
            }

            return response;
        }
    }

    private HubException Refused(HttpResponseMessage response, HubRepository repository, string? file)
    {
        string? code = Header(response, "X-Error-Code");
        string? message = Header(response, "X-Error-Message");
        int status = (int)response.StatusCode;
        string what = file is null ? repository.ToString() : $"'{file}' of {repository}";
        return code switch
        {
            "GatedRepo" => Gated(repository),
            "RepoNotFound" => new HubException(HubErrorKind.RepositoryNotFound, $"{repository.Id} was not found on {Settings.Endpoint} ({status})"
                + (Settings.Token is null ? "; if it is private, set HF_TOKEN to an access token." : $", or the token from {Settings.TokenSource} cannot see it.")),
            "RevisionNotFound" => new HubException(HubErrorKind.RevisionNotFound, $"{repository.Id} has no revision '{repository.Revision}' (a branch, a tag or a commit hash) ({status})."),
            "EntryNotFound" => new HubException(HubErrorKind.EntryNotFound, $"{what}: no such file in the repository ({status})."),
            _ when status == 401 => new HubException(HubErrorKind.Unauthorized, Settings.Token is null
                ? $"{Settings.Endpoint} asks for a token for {what} (401): set HF_TOKEN to an access token."
                : $"{Settings.Endpoint} refused the token from {Settings.TokenSource} for {what} (401); check HF_TOKEN."),
            _ when status == 404 && file is null => new HubException(HubErrorKind.RepositoryNotFound, $"{repository} was not found on {Settings.Endpoint} (404)."),
            _ => new HubException(HubErrorKind.Network,
                $"{Settings.Endpoint} answered {status} {response.ReasonPhrase} for {what}{(message is null ? "" : $": {message}")}."),
        };
    }

    private HubException Gated(HubRepository repository) => new(HubErrorKind.Gated, Settings.Token is null
        ? $"{repository.Id} is a gated repository: accept its conditions at {Settings.Endpoint}/{repository.Id} and set HF_TOKEN to an access token of that account (no token is set)."
        : $"{repository.Id} is a gated repository and the token from {Settings.TokenSource} has no access to it: accept its conditions at {Settings.Endpoint}/{repository.Id} with that account.");

    private Uri ResolveUrl(HubRepository repository, string commit, string file) =>
        new(_endpoint, $"{repository.Id}/resolve/{commit}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    private static bool IsRedirect(HttpStatusCode code) => (int)code is 301 or 302 or 303 or 307 or 308;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;

    /// <summary><c>huggingface_hub</c>'s <c>_normalize_etag</c>: without a weak prefix and quotes.</summary>
    private static string? Normalize(string? etag) => etag is null ? null : (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    /// <summary>
    /// Whether <paramref name="path"/> hashes to <paramref name="etag"/>: its sha256 for 64 hex digits (files in Git LFS), its
    /// Git blob sha1 (<c>sha1("blob LENGTH\0" + bytes)</c>) for 40. Other ETags (not the Hub's) are not checked.
    /// </summary>
    internal static bool Hashes(string path, string etag)
    {
        bool sha256 = etag.Length == 64, sha1 = etag.Length == 40;
        if (!(sha256 || sha1) || !etag.All(char.IsAsciiHexDigit))
        {
            return true;
        }

        using var hash = IncrementalHash.CreateHash(sha256 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA1);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (sha1)
        {
            hash.AppendData(Encoding.ASCII.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"blob {stream.Length}\0")));
        }

        var buffer = new byte[1 << 20];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, n);
        }

        return string.Equals(Convert.ToHexStringLower(hash.GetHashAndReset()), etag, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether a snapshot entry, a link to <c>blobs/ETAG</c>, hashes to its blob's name (entries that are copies pass).</summary>
    private static bool MatchesBlobName(string pointer)
    {
        var target = new FileInfo(pointer).ResolveLinkTarget(returnFinalTarget: true);
        return target is null || Hashes(target.FullName, target.Name);
    }

    private static void DeleteEntry(string pointer)
    {
        var info = new FileInfo(pointer);
        if (info.Exists || info.LinkTarget is not null)
        {
            info.Delete();
        }
    }

    /// <summary>A relative link from the snapshot to the blob, as <c>huggingface_hub</c> makes; a copy where links cannot be made.</summary>
    private static void Link(string blob, string pointer)
    {
        string folder = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(folder);
        DeleteEntry(pointer);
        try
        {
            File.CreateSymbolicLink(pointer, Path.GetRelativePath(folder, blob));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, pointer);
        }
    }

    private static string? ReadRef(string repoFolder, string revision)
    {
        string path = Path.Combine(repoFolder, "refs", revision.Replace('/', Path.DirectorySeparatorChar));
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    private static void WriteRef(string repoFolder, string revision, string commit)
    {
        string path = Path.Combine(repoFolder, "refs", revision.Replace('/', Path.DirectorySeparatorChar));
        if (ReadRef(repoFolder, revision) != commit)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, commit);
        }
    }

    private sealed record RepositoryInfo(string Commit, List<string> Files, bool Gated);

    private sealed record FileMetadata(string Etag, long Size, Uri Location);
}
