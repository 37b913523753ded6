namespace Stork.Schedules;

/// <summary>
/// A variance-preserving schedule (<c>Alpha^2 + Sigma^2 = 1</c>): a noise model, trained on epsilon, v or x0. Continuous
/// in time unless a subclass says otherwise (<see cref="NoiseSchedule.TrainingTimesteps"/>).
/// </summary>
public abstract class VpSchedule : NoiseSchedule
{
    /// <inheritdoc />
    public sealed override bool IsVariancePreserving => true;

    /// <summary>A continuous VP schedule stops at <c>1e-3 T</c> (the score-SDE convention), where the data prediction is taken.</summary>
    public override double DefaultEndTime => Math.Max(TMin, 1e-3 * TMax);
}
