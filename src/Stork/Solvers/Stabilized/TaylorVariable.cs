namespace Stork.Solvers.Stabilized;

/// <summary>The variable in which STORK's virtual evaluations expand the model output on noise models.</summary>
public enum TaylorVariable
{
    /// <summary>Schedule time t (the authors' choice; the only one on flow models, where t is sigma).</summary>
    Time,

    /// <summary>Half log-SNR lambda(t) = log(alpha / sigma): derivatives from the stored outputs in lambda, stages at lambda(c).</summary>
    LogSnr,
}
