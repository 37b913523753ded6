namespace Stork;

/// <summary>
/// A bad value or use of a named option. <see cref="ArgumentException.ParamName"/> is the option's key (the words of
/// <see cref="Solvers.Catalog.SolverOption.Key"/>: <c>substeps</c>, <c>mu</c>, <c>grid</c>, <c>steps</c>...) and
/// <see cref="Reason"/> the rest of the sentence, so that a front end can put its own name for the option in front
/// (a command line its flag) without touching the text. The message is the key followed by the reason.
/// </summary>
public sealed class OptionException : ArgumentException
{
    /// <summary>An error about option <paramref name="key"/>: the sentence <c>key reason</c>.</summary>
    public OptionException(string key, string reason)
        : base(reason, key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        Reason = reason;
    }

    /// <summary>The sentence after the option's name, e.g. <c>must be an integer (got 'x').</c></summary>
    public string Reason { get; }

    /// <summary>The option's key.</summary>
    public string Key => ParamName!;

    /// <inheritdoc />
    public override string Message => $"{Key} {Reason}";
}
