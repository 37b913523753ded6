namespace Stork.Sampling;

/// <summary>Progress of a sampling run: model evaluation <see cref="Evaluation"/> of <see cref="Total"/> finished.</summary>
public readonly record struct StepInfo(int Evaluation, int Total, double Time);
