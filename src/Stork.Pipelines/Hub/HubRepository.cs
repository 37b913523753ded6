using System.Text.RegularExpressions;

namespace Stork.Pipelines.Hub;

/// <summary>
/// A model repository of the Hugging Face Hub and a revision of it (a branch, a tag or a commit hash), written
/// <c>ORG/NAME</c> or <c>ORG/NAME@REVISION</c>. The id follows <c>huggingface_hub</c>'s <c>validate_repo_id</c>.
/// </summary>
public sealed partial record HubRepository
{
    /// <summary>The revision when none is given (<c>huggingface_hub</c>'s <c>DEFAULT_REVISION</c>).</summary>
    public const string DefaultRevision = "main";

    /// <summary>Creates a repository reference; an <see cref="ArgumentException"/> for an id the Hub would refuse.</summary>
    public HubRepository(string id, string? revision = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!IsValidId(id))
        {
            throw new ArgumentException(
                $"'{id}' is not a Hugging Face repository id (expected ORG/NAME of letters, digits, '-', '_' and '.', at most 96 characters, no '--' or '..').",
                nameof(id));
        }

        if (revision is not null && (revision.Length == 0 || revision.Any(char.IsWhiteSpace) || revision.Contains("..", StringComparison.Ordinal)))
        {
            throw new ArgumentException($"'{revision}' is not a revision (a branch, a tag or a commit hash).", nameof(revision));
        }

        Id = id;
        Revision = revision ?? DefaultRevision;
    }

    /// <summary>The repository id, e.g. <c>black-forest-labs/FLUX.1-schnell</c>.</summary>
    public string Id { get; }

    /// <summary>The branch, tag or commit hash (default <c>main</c>).</summary>
    public string Revision { get; }

    /// <summary>Whether <see cref="Revision"/> is a full commit hash (40 hexadecimal digits).</summary>
    public bool RevisionIsCommit => IsCommitHash(Revision);

    /// <summary>The repository's folder in the cache: <c>models--ORG--NAME</c>.</summary>
    public string CacheFolderName => "models--" + Id.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>Parses <c>ORG/NAME</c> or <c>ORG/NAME@REVISION</c>; an <see cref="ArgumentException"/> when malformed.</summary>
    public static HubRepository Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int at = text.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? new HubRepository(text.Trim()) : new HubRepository(text[..at].Trim(), text[(at + 1)..].Trim());
    }

    /// <summary>
    /// Whether <paramref name="text"/> has the form <c>ORG/NAME</c> or <c>ORG/NAME@REVISION</c> with a valid id (an
    /// organisation is required here, so that a bare folder name is never taken for a repository).
    /// </summary>
    public static bool LooksLikeId(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int at = text.IndexOf('@', StringComparison.Ordinal);
        string id = at < 0 ? text : text[..at];
        return id.Count(c => c == '/') == 1 && IsValidId(id) && (at < 0 || at < text.Length - 1);
    }

    /// <summary>Whether <paramref name="text"/> is a full commit hash (40 hexadecimal digits, lower case).</summary>
    public static bool IsCommitHash(string text) => CommitHash().IsMatch(text);

    /// <inheritdoc />
    public override string ToString() => Revision == DefaultRevision ? Id : $"{Id}@{Revision}";

    private static bool IsValidId(string id) =>
        id.Length is > 0 and <= 96 && IdPattern().IsMatch(id) && !id.Contains("--", StringComparison.Ordinal)
        && !id.Contains("..", StringComparison.Ordinal) && !id.EndsWith(".git", StringComparison.Ordinal);

    [GeneratedRegex(@"^([\w\-.]+/)?[\w\-.]+$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();
}
