using Stork.IO;

namespace Stork.Tests;

/// <summary>Paths of the test data (tiny ONNX models in Data/onnx) and of the repository's shipped models/ folder.</summary>
internal static class TestData
{
    public static string Onnx(string file) => Path.Combine(AppContext.BaseDirectory, "Data", "onnx", file);

    /// <summary>models/<paramref name="file"/> of the repository, searched upward from the test binaries.</summary>
    public static string Shipped(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "models", file);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"shipped model file models/{file} not found above {AppContext.BaseDirectory}");
    }

    public static float[] Floats(string path) => NpyFile.Read(path).ToSingle();

    /// <summary>A fresh empty folder under the system temp folder.</summary>
    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "stork-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>max |a - b| / max(|b|, floor).</summary>
    public static double MaxRelativeError(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double floor = 1e-3)
    {
        double worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]) / Math.Max(Math.Abs(b[i]), floor));
        }

        return worst;
    }
}
