namespace Stork.IO;

/// <summary>An n-dimensional array read from or written to a NumPy <c>.npy</c> file (C order).</summary>
public sealed record NpyArray(int[] Shape, double[] Data)
{
    /// <summary>Number of elements.</summary>
    public long Count => Data.Length;

    /// <summary>The data as float32 (samples are float32 in this library).</summary>
    public float[] ToSingle()
    {
        var r = new float[Data.Length];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = (float)Data[i];
        }

        return r;
    }
}
