using Stork.Evaluation;
using Stork.Onnx;

namespace Stork.Pipelines;

/// <summary>
/// Scores of a class-conditional text-to-image model whose images are 28 x 28 Fashion-MNIST in a 2-pixel frame (32 x 32):
/// prompt adherence (the share of images a classifier assigns to the prompted class), the Frechet distance of the
/// classifier's features to reference statistics, and the RMSE between two runs of the same seeds.
/// </summary>
public static class PromptedScore
{
    /// <summary>
    /// Adherence and Frechet distance of <paramref name="perClass"/> (the images prompted with class c at index c). Each
    /// image goes in as the classifier's input: the frame cropped, gray, in [-1, 1].
    /// </summary>
    public static (double Adherence, double Fd) Score(OnnxClassifier net, IReadOnlyList<GeneratedImages> perClass, double[] refMean, double[] refCov)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(perClass);
        int total = perClass.Sum(i => i.Count), correct = 0, k = 0;
        var x = new float[total * 784];
        var labels = new int[total];
        for (int c = 0; c < perClass.Count; c++)
        {
            var images = perClass[c];
            if (images.Height != 32 || images.Width != 32)
            {
                throw new InvalidDataException($"the model makes {images.Width} x {images.Height} images; this benchmark needs 32 x 32 (28 x 28 in a 2-pixel frame).");
            }

            for (int i = 0; i < images.Count; i++, k++)
            {
                var img = images.Image(i);
                for (int row = 0; row < 28; row++)
                {
                    for (int col = 0; col < 28; col++)
                    {
                        int p = (((row + 2) * 32) + col + 2) * 3;
                        x[(k * 784) + (row * 28) + col] = (2f * (img[p] + img[p + 1] + img[p + 2]) / 3f) - 1f;
                    }
                }

                labels[k] = c;
            }
        }

        var features = new float[total * net.FeatureDim];
        var logits = new float[total * net.Classes];
        net.Run(x, features, logits);
        for (int i = 0; i < total; i++)
        {
            var l = logits.AsSpan(i * net.Classes, net.Classes);
            if (l.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(l)) == labels[i])
            {
                correct++;
            }
        }

        var (mean, cov) = FrechetDistance.Statistics(features, total, net.FeatureDim);
        return ((double)correct / total, FrechetDistance.Compute(mean, cov, refMean, refCov));
    }

    /// <summary>The root mean square difference of two runs' pixels, class by class.</summary>
    public static double Rmse(IReadOnlyList<GeneratedImages> a, IReadOnlyList<GeneratedImages> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        double sum = 0;
        long count = 0;
        for (int c = 0; c < a.Count; c++)
        {
            for (int i = 0; i < a[c].Pixels.Length; i++)
            {
                double d = a[c].Pixels[i] - b[c].Pixels[i];
                sum += d * d;
                count++;
            }
        }

        return Math.Sqrt(sum / count);
    }
}
