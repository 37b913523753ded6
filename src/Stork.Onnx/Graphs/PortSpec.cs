namespace Stork.Onnx;

/// <summary>
/// A graph input or output a pipeline binds by name: the Optimum exporter's name first, then the alternatives other
/// exporters write. An optional port may be absent (FLUX.1-dev's <c>guidance</c> on schnell).
/// </summary>
public sealed record PortSpec(string Name, bool Required, params string[] Aliases)
{
    /// <summary>Every name this port answers to, the canonical one first.</summary>
    public IEnumerable<string> Names => [Name, .. Aliases];

    /// <summary>A required port and the other names it may have.</summary>
    public static PortSpec Of(string name, params string[] aliases) => new(name, true, aliases);

    /// <summary>A port the graph may lack.</summary>
    public static PortSpec Optional(string name, params string[] aliases) => new(name, false, aliases);
}
