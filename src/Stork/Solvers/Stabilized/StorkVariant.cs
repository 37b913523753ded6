namespace Stork.Solvers.Stabilized;

/// <summary>Which STORK arithmetic to run (see docs/stork.md).</summary>
public enum StorkVariant
{
    /// <summary>The authors' newest code, defects included (parity target).</summary>
    Upstream,

    /// <summary>The method as published: exact stencils, proper RKG2 abscissae and ROCK4 first stage, exact noise path.</summary>
    Corrected,
}
