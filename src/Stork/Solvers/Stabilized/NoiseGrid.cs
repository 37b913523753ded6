namespace Stork.Solvers.Stabilized;

/// <summary>How the corrected STORK spaces its evaluation times on noise models, from T to the stopping time.</summary>
public enum NoiseGrid
{
    /// <summary>Uniform in t (the authors' choice).</summary>
    UniformTime,

    /// <summary>Uniform in half log-SNR lambda (DPM-Solver's choice).</summary>
    LogSnr,
}
