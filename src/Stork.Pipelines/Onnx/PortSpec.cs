namespace Stork.Pipelines.Onnx;

/// <summary>
/// A graph input or output a pipeline binds by name: the Optimum exporter's name first, then the alternatives other
/// exporters write. An optional port may be absent (FLUX.1-dev's <c>guidance</c> on schnell).
/// </summary>
internal sealed record PortSpec(string Name, bool Required, params string[] Aliases)
{
    /// <summary>Every name this port answers to, the canonical one first.</summary>
    public IEnumerable<string> Names => [Name, .. Aliases];

    public static PortSpec Of(string name, params string[] aliases) => new(name, true, aliases);

    public static PortSpec Optional(string name, params string[] aliases) => new(name, false, aliases);
}
