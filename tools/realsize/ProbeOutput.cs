using System.Globalization;
using System.Runtime.InteropServices;

/// <summary>What unetprobe and fluxprobe both report: the output saved as raw float32, its difference from a saved reference.</summary>
internal static class ProbeOutput
{
    /// <summary>
    /// Writes <paramref name="output"/> to <paramref name="save"/> (raw float32) when given, and returns the JSON fields
    /// (leading comma) of its difference from the raw float32 file <paramref name="reference"/>, or "" without one.
    /// </summary>
    public static string SaveAndCompare(float[] output, string? save, string? reference)
    {
        if (save is not null)
        {
            File.WriteAllBytes(save, MemoryMarshal.AsBytes(output.AsSpan()).ToArray());
        }

        if (reference is null)
        {
            return "";
        }

        var refValues = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(reference)).ToArray();
        double num = 0, den = 0, max = 0;
        for (int i = 0; i < output.Length; i++)
        {
            double d = output[i] - refValues[i];
            num += d * d;
            den += (double)refValues[i] * refValues[i];
            max = Math.Max(max, Math.Abs(d));
        }

        return string.Create(CultureInfo.InvariantCulture, $", \"rel_l2\": {Math.Sqrt(num / den):E3}, \"max_abs\": {max:E3}, \"ref_rms\": {Math.Sqrt(den / output.Length):E3}");
    }

    /// <summary>Seconds as a JSON list body: "1.23, 4.56".</summary>
    public static string Seconds(IEnumerable<double> values) => string.Join(", ", values.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)));
}
