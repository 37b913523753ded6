namespace Stork.Predictions;

/// <summary>What a network predicts from a noisy sample <c>x_t = alpha x0 + sigma eps</c>.</summary>
public enum Prediction
{
    /// <summary>The noise eps (DDPM, Stable Diffusion 1.x).</summary>
    Epsilon,

    /// <summary>v = alpha eps - sigma x0 (Salimans and Ho; SD 2.x 768).</summary>
    VPrediction,

    /// <summary>The clean sample x0.</summary>
    Sample,

    /// <summary>The probability-flow velocity dx/dt = alpha' x0 + sigma' eps (rectified flow: eps - x0; SD3, Flux).</summary>
    FlowVelocity,
}
