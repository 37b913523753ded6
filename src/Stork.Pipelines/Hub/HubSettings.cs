namespace Stork.Pipelines.Hub;

/// <summary>
/// Where the Hugging Face Hub is and where its files are cached, read from the environment as <c>huggingface_hub</c>
/// reads it (its <c>constants.py</c>), so that a cache filled by <c>huggingface-cli</c> / <c>hf download</c> or by
/// diffusers' <c>from_pretrained</c> is the one <c>stork pull</c> fills, and the other way round.
/// </summary>
public sealed record HubSettings
{
    /// <summary>The public Hub, used when <c>HF_ENDPOINT</c> is not set.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The Hub's base address, without a trailing slash (<c>HF_ENDPOINT</c>).</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>
    /// The cache folder that holds <c>models--ORG--NAME/{blobs,snapshots,refs}</c> (<c>HF_HUB_CACHE</c>, else
    /// <c>HF_HOME/hub</c>, else <c>~/.cache/huggingface/hub</c>).
    /// </summary>
    public required string CacheFolder { get; init; }

    /// <summary>No network access: repositories resolve from the cache only (<c>HF_HUB_OFFLINE</c>).</summary>
    public bool Offline { get; init; }

    /// <summary>The access token sent to the Hub (<c>HF_TOKEN</c>, else the token file <c>huggingface-cli login</c> writes).</summary>
    public string? Token { get; init; }

    /// <summary>Where the token came from, for messages (<c>HF_TOKEN</c> or the token file's path); null without a token.</summary>
    public string? TokenSource { get; init; }

    /// <summary>The values <c>huggingface_hub</c> reads as true (<c>ENV_VARS_TRUE_VALUES</c>), compared without case.</summary>
    public static IReadOnlyCollection<string> TrueValues { get; } = ["1", "ON", "YES", "TRUE"];

    /// <summary>
    /// The settings of the environment read through <paramref name="environment"/> (the process environment when
    /// null): <c>HF_ENDPOINT</c>; <c>HF_HUB_CACHE</c> (or the older <c>HUGGINGFACE_HUB_CACHE</c>), else
    /// <c>HF_HOME</c>/hub, else <c>XDG_CACHE_HOME</c>/huggingface/hub, else ~/.cache/huggingface/hub;
    /// <c>HF_HUB_OFFLINE</c> (1, ON, YES or TRUE); <c>HF_TOKEN</c>, else the file <c>HF_TOKEN_PATH</c>, else
    /// <c>HF_HOME</c>/token.
    /// </summary>
    public static HubSettings FromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => environment(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        string home = Expand(Get("HF_HOME")
            ?? Path.Combine(Get("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "huggingface"));
        string cache = Expand(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(home, "hub"));
        string? token = Get("HF_TOKEN");
        string? source = token is null ? null : "HF_TOKEN";
        if (token is null)
        {
            string file = Expand(Get("HF_TOKEN_PATH") ?? Path.Combine(home, "token"));
            if (File.Exists(file))
            {
                token = File.ReadAllText(file).Trim();
                source = file;
                if (token.Length == 0)
                {
                    token = source = null;
                }
            }
        }

        return new HubSettings
        {
            Endpoint = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            CacheFolder = cache,
            Offline = Get("HF_HUB_OFFLINE") is { } offline && TrueValues.Contains(offline.ToUpperInvariant()),
            Token = token,
            TokenSource = source,
        };
    }

    private static string Expand(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;
}
