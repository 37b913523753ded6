namespace Stork.Solvers.Stabilized;

/// <summary>When the corrected STORK re-integrates a step with the model output that follows it (no extra evaluation).</summary>
public enum CorrectorMode
{
    /// <summary>Never (the predictor alone; the upstream variant).</summary>
    Off,

    /// <summary>Every step that has a following output (derivative order 1 or 2).</summary>
    On,

    /// <summary>
    /// On from <see cref="StorkOptions.AutoCorrectorSteps"/> steps at derivative order 1 or 2, off below (the corrected
    /// default, chosen by measurement: the corrector wins at 20 to 50 evaluations and loses at 5 to 10; see the README).
    /// </summary>
    Auto,
}
