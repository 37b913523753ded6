namespace Stork.Pipelines.Hub;

/// <summary>What went wrong talking to the Hub or its cache (the <c>X-Error-Code</c> the Hub sends, where it sends one).</summary>
public enum HubErrorKind
{
    /// <summary>No such repository, or a private one the token cannot see (<c>RepoNotFound</c>).</summary>
    RepositoryNotFound,

    /// <summary>No such branch, tag or commit (<c>RevisionNotFound</c>).</summary>
    RevisionNotFound,

    /// <summary>No such file at that revision (<c>EntryNotFound</c>).</summary>
    EntryNotFound,

    /// <summary>A gated repository and no token, or a token without access (<c>GatedRepo</c>).</summary>
    Gated,

    /// <summary>The token was refused.</summary>
    Unauthorized,

    /// <summary>Offline (<c>HF_HUB_OFFLINE</c>) and the cache lacks what was asked for.</summary>
    NotCached,

    /// <summary>A file does not match the size or hash the Hub gives for it.</summary>
    Corrupt,

    /// <summary>The repository is not an ONNX pipeline in the diffusers layout.</summary>
    NotAPipeline,

    /// <summary>The Hub could not be reached or answered in a way the protocol does not allow.</summary>
    Network,
}

/// <summary>A Hub or cache error: one line that names the repository, the file and what to do.</summary>
public sealed class HubException : IOException
{
    /// <summary>Creates the exception.</summary>
    public HubException(HubErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    /// <summary>What went wrong.</summary>
    public HubErrorKind Kind { get; }
}
