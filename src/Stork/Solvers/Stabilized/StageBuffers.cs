namespace Stork.Solvers.Stabilized;

/// <summary>Preallocated coefficient vectors for one STORK recurrence (no allocation per step).</summary>
internal sealed class StageBuffers
{
    public StageBuffers(int capacity)
    {
        Capacity = capacity;
        X = new double[capacity];
        F0 = new double[capacity];
        Y = new double[capacity];
        Y1 = new double[capacity];
        Y2 = new double[capacity];
        F = new double[capacity];
        K1 = new double[capacity];
        K2 = new double[capacity];
        K3 = new double[capacity];
        K4 = new double[capacity];
        Z = new double[capacity];
    }

    public int Capacity { get; }

    /// <summary>The step's start sample: the unit vector e0.</summary>
    public double[] X { get; }

    public double[] F0 { get; }

    public double[] Y { get; }

    public double[] Y1 { get; }

    public double[] Y2 { get; }

    public double[] F { get; }

    public double[] K1 { get; }

    public double[] K2 { get; }

    public double[] K3 { get; }

    public double[] K4 { get; }

    public double[] Z { get; }
}
