namespace Stork.Onnx;

/// <summary>What a model card describes: its <c>kind</c>.</summary>
public enum ModelKind
{
    /// <summary>A denoiser network (<see cref="OnnxDenoiser"/>).</summary>
    Denoiser,

    /// <summary>An image classifier with a feature layer (<see cref="OnnxClassifier"/>).</summary>
    Classifier,
}
