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

    /// <summary>The repository's models/ folder, or null when none is found above the test binaries.</summary>
    public static string? ShippedFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "models");
            if (Directory.Exists(candidate) && Directory.GetFiles(candidate, "*.npy").Length > 0)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Model cards of <paramref name="kind"/> ("denoiser" or "classifier"): the tiny test models always, and every card
    /// shipped in models/ (the real Fashion-MNIST models once they are there).
    /// </summary>
    public static TheoryData<string> Cards(string kind)
    {
        var data = new TheoryData<string>();
        var tiny = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Data", "onnx"), "*.json");
        var shipped = ShippedFolder() is { } folder ? Directory.GetFiles(folder, "*.json") : [];
        foreach (string card in tiny.Concat(shipped).Order(StringComparer.Ordinal))
        {
            string text = File.ReadAllText(card);
            if (text.Contains($"\"kind\": \"{kind}\"", StringComparison.Ordinal))
            {
                data.Add(card);
            }
        }

        return data;
    }

    public static float[] Floats(string path) => NpyFile.Read(path).ToSingle();

    /// <summary>A fresh empty folder under the system temp folder.</summary>
    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "stork-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>max |a - b| / max |b|: the error relative to the output's scale.</summary>
    public static double ScaledError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double worst = 0, scale = 0;
        for (int i = 0; i < a.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
            scale = Math.Max(scale, Math.Abs(b[i]));
        }

        return worst / scale;
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
