using System.Text;
using Stork.IO;
using Stork.Models;
using Stork.Onnx;
using Stork.Solvers.Diffusers;

namespace Stork.Tests.Cli;

/// <summary>
/// Random mutations (fixed seed) of valid .npy files, model cards, Gaussian mixtures and scheduler configurations:
/// each parser either accepts the input or throws its one documented exception, never anything else.
/// </summary>
public class ParserFuzzTests
{
    private static readonly string[] Tokens =
    [
        "1e20", "-1", "0", "2147483648", "99999999999999999999", "NaN", "Infinity", "-Infinity", "1e308", "-0", "null", "true", "\"x\"",
        "[]", "{}", "[65536, 65536, 65536]", "\"\"", "1.5", ",", ":", "]", "}", "\"", "\\u0000", "4294967295",
    ];

    private static byte[] Mutate(Random rng, byte[] valid)
    {
        var b = valid.ToList();
        int edits = 1 + rng.Next(4);
        for (int e = 0; e < edits && b.Count > 0; e++)
        {
            int at = rng.Next(b.Count);
            switch (rng.Next(6))
            {
                case 0:
                    b[at] = (byte)rng.Next(256);
                    break;
                case 1:
                    b.RemoveRange(at, Math.Min(b.Count - at, 1 + rng.Next(8)));
                    break;
                case 2:
                    b.InsertRange(at, Encoding.ASCII.GetBytes(Tokens[rng.Next(Tokens.Length)]));
                    break;
                case 3:
                    b.RemoveRange(at, b.Count - at);
                    break;
                case 4:
                    b[at] = (byte)"0123456789-.,()[]{}'\" eE"[rng.Next(24)];
                    break;
                default:
                    // Replace a run of digits (a number) with a token.
                    int s = at;
                    while (s < b.Count && !char.IsAsciiDigit((char)b[s]))
                    {
                        s++;
                    }

                    int end = s;
                    while (end < b.Count && (char.IsAsciiDigit((char)b[end]) || b[end] == '.'))
                    {
                        end++;
                    }

                    if (end > s)
                    {
                        b.RemoveRange(s, end - s);
                        b.InsertRange(s, Encoding.ASCII.GetBytes(Tokens[rng.Next(Tokens.Length)]));
                    }

                    break;
            }
        }

        return b.ToArray();
    }

    private static void Expect<T>(Action parse, string what, byte[] input)
        where T : Exception
    {
        try
        {
            parse();
        }
        catch (T)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} ({e.Message}) for input {Convert.ToBase64String(input.Take(300).ToArray())}");
        }
    }

    [Fact]
    public void NpyReaderThrowsOnlyInvalidDataException()
    {
        var rng = new Random(15);
        using var h = new CliHarness();
        byte[][] valid =
        [
            NpyFile.Encode([4, 8], new float[32]),
            NpyFile.Encode([3], new double[] { 1, 2, 3 }),
            NpyFile.Encode([2, 1, 2, 2], new float[8]),
        ];
        string file = h.PathOf("f.npy");
        for (int i = 0; i < 4000; i++)
        {
            byte[] bytes = Mutate(rng, valid[i % valid.Length]);
            Expect<InvalidDataException>(() => NpyFile.Parse(bytes), "NpyFile.Parse", bytes);
            if (i % 8 == 0)
            {
                File.WriteAllBytes(file, bytes);
                Expect<InvalidDataException>(() => NpyFile.Read(file, floatOnly: i % 16 == 0), "NpyFile.Read", bytes);
            }
        }
    }

    [Fact]
    public void ModelCardThrowsOnlyInvalidDataException()
    {
        var rng = new Random(16);
        using var h = new CliHarness();
        string models = Path.GetDirectoryName(TestData.Shipped("fashion-flow-unet.json"))!;
        string text = File.ReadAllText(Path.Combine(models, "fashion-flow-unet.json"))
            .Replace("\"fashion-flow-unet.onnx\"", System.Text.Json.JsonSerializer.Serialize(Path.Combine(models, "fashion-flow-unet.onnx")), StringComparison.Ordinal);
        byte[] valid = Encoding.UTF8.GetBytes(text);

        // The grid files the card lists (tuned_grids, relative to the card) travel with it.
        using (var card = System.Text.Json.JsonDocument.Parse(text))
        {
            if (card.RootElement.TryGetProperty("tuned_grids", out var grids))
            {
                foreach (var grid in grids.EnumerateArray())
                {
                    File.Copy(Path.Combine(models, grid.GetString()!), h.PathOf(grid.GetString()!), overwrite: true);
                }
            }
        }

        Assert.Equal(ModelCard.Load(Path.Combine(models, "fashion-flow-unet.json")).TunedGrids.Count, ModelCard.Load(Write(h.PathOf("card.json"), valid)).TunedGrids.Count);
        for (int i = 0; i < 1500; i++)
        {
            byte[] bytes = Mutate(rng, valid);
            string path = Write(h.PathOf("card.json"), bytes);
            Expect<InvalidDataException>(() => ModelCard.Load(path), "ModelCard.Load", bytes);
        }
    }

    [Fact]
    public void GaussianMixtureThrowsOnlyInvalidDataException()
    {
        var rng = new Random(17);
        using var h = new CliHarness();
        byte[] valid = File.ReadAllBytes(Golden.PathOf("stork", "gmm8.json"));
        for (int i = 0; i < 1000; i++)
        {
            byte[] bytes = Mutate(rng, valid);
            string path = Write(h.PathOf("gmm.json"), bytes);
            Expect<InvalidDataException>(() => GaussianMixture.Load(path), "GaussianMixture.Load", bytes);
        }
    }

    [Fact]
    public void SchedulerConfigThrowsOnlyArgumentException()
    {
        var rng = new Random(18);
        string[] valid =
        [
            """{"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 3.0, "use_dynamic_shifting": false}""",
            """{"_class_name": "DPMSolverMultistepScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "solver_order": 2, "lambda_min_clipped": -Infinity}""",
            """{"_class_name": "UniPCMultistepScheduler", "num_train_timesteps": 1000, "solver_order": 2, "timestep_spacing": "linspace", "disable_corrector": [0]}""",
            """{"_class_name": "STORKScheduler", "solver_order": 4, "derivative_order": 2, "s": 50, "num_train_timesteps": 1000, "prediction_type": "epsilon"}""",
            """{"_class_name": "DDIMScheduler", "clip_sample": false, "set_alpha_to_one": false, "steps_offset": 1}""",
            """{"_class_name": "DEISMultistepScheduler", "solver_order": 3}""",
        ];
        for (int i = 0; i < 3000; i++)
        {
            byte[] bytes = Mutate(rng, Encoding.UTF8.GetBytes(valid[i % valid.Length]));
            string json = Encoding.UTF8.GetString(bytes);
            Expect<ArgumentException>(() => SchedulerConfigReader.Parse(json, i % 3 == 0 ? 0.5 : null), "SchedulerConfigReader.Parse", bytes);
        }
    }

    private static string Write(string path, byte[] bytes)
    {
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
