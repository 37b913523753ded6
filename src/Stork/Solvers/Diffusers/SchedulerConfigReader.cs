using System.Globalization;
using System.Text.Json;
using Stork.Grids;
using Stork.IO;
using Stork.Predictions;
using Stork.Solvers.Catalog;
using Stork.Solvers.Standard;

namespace Stork.Solvers.Diffusers;

/// <summary>
/// Reads a diffusers scheduler configuration (<c>_class_name</c> plus options) into a solver and its settings.
/// Supported classes: FlowMatchEulerDiscreteScheduler, FlowMatchHeunDiscreteScheduler, DDIMScheduler,
/// DPMSolverMultistepScheduler, UniPCMultistepScheduler, DEISMultistepScheduler and the authors' STORKScheduler.
/// Options left out take diffusers' defaults; an option or value this library does not implement is an error
/// (<see cref="ArgumentException"/>), never silently ignored. Keys starting with an underscore other than
/// <c>_class_name</c> are metadata (<c>_diffusers_version</c>) and are skipped.
/// </summary>
public static class SchedulerConfigReader
{
    /// <summary>The supported <c>_class_name</c> values.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
    [
        "FlowMatchEulerDiscreteScheduler", "FlowMatchHeunDiscreteScheduler", "DDIMScheduler", "DPMSolverMultistepScheduler",
        "UniPCMultistepScheduler", "DEISMultistepScheduler", "STORKScheduler", "EulerDiscreteScheduler",
    ];

    /// <summary>Reads a configuration file.</summary>
    public static SchedulerConfig Load(string path, double? mu = null) => Parse(IO.InputFile.ReadAllText(path, "scheduler config"), mu, path);

    /// <summary>
    /// Reads a configuration. <paramref name="mu"/> is <c>set_timesteps(mu=...)</c>: the dynamic shift, needed when the
    /// configuration enables use_dynamic_shifting.
    /// </summary>
    public static SchedulerConfig Parse(string json, double? mu = null, string source = "scheduler config") => ParseAs(json, mu, source, asClass: null);

    /// <summary>
    /// As <see cref="Parse(string, double?, string)"/>; with <paramref name="asClass"/>, reads the configuration as
    /// diffusers' <c>asClass.from_config(config)</c> does: the class replaced, options the class does not know ignored
    /// (switching a pipeline's scheduler keeps its betas, spacing and offset).
    /// </summary>
    public static SchedulerConfig ParseAs(string json, double? mu, string source, string? asClass)
    {
        var config = JsonConfig.Parse(json, source, source, m => new ArgumentException(m));
        if (config.Element("_class_name") is not { ValueKind: JsonValueKind.String } cls)
        {
            throw new ArgumentException($"{source} has no _class_name (expected one of: {string.Join(", ", ClassNames)}).");
        }

        string className = asClass ?? cls.GetString()!;
        var r = new Reader(config.WithLabel($"{source} ({className})"), className, source) { Lenient = asClass is not null };
        return r.ClassName switch
        {
            "EulerDiscreteScheduler" => r.EulerDiscrete(mu),
            "PNDMScheduler" => throw new ArgumentException(
                $"{source}: PNDMScheduler (PLMS) is not implemented; choose the solver dpm++2m, ddim or stork-4 by name (or a DPMSolverMultistepScheduler / DDIMScheduler configuration), which read this configuration's betas, spacing and offset."),
            "FlowMatchEulerDiscreteScheduler" => r.FlowMatchEuler(mu),
            "FlowMatchHeunDiscreteScheduler" => r.FlowMatchHeun(mu),
            "DDIMScheduler" => r.Ddim(mu),
            "DPMSolverMultistepScheduler" => r.DpmSolver(mu),
            "UniPCMultistepScheduler" => r.UniPc(mu),
            "DEISMultistepScheduler" => r.Deis(mu),
            "STORKScheduler" => r.Stork(mu),
            _ => throw new ArgumentException(
                $"{source}: unsupported scheduler class '{r.ClassName}' (supported: {string.Join(", ", ClassNames)})."),
        };
    }

    private sealed class Reader(JsonConfig json, string className, string source)
    {
        public string ClassName { get; } = className;

        /// <summary>from_config semantics: options of other scheduler classes are ignored.</summary>
        public bool Lenient { get; init; }

        public SchedulerConfig EulerDiscrete(double? mu)
        {
            var (model, d) = CommonVp("epsilon", "sample", "v_prediction");
            NoMu(mu, false);
            Str("interpolation_type", "linear", "linear");
            RequireValue("timestep_type", "discrete");
            RequireNull("sigma_min");
            RequireNull("sigma_max");
            RequireValue("use_flow_sigmas", false);

            // Options of the schedulers this configuration was copied from (PNDM, DDIM); EulerDiscreteScheduler ignores them.
            Accept("clip_sample", "clip_sample_range", "set_alpha_to_one", "skip_prk_steps");
            d = d with { SigmaSpacing = SpacingFlags(), FinalSigmas = Final() };
            Done();
            return model with { Solver = "euler", Settings = new SolverSettings { Diffusers = d } };
        }

        public SchedulerConfig FlowMatchEuler(double? mu)
        {
            Accept("base_shift", "max_shift", "base_image_seq_len", "max_image_seq_len");
            RequireValue("invert_sigmas", false);
            RequireValue("stochastic_sampling", false);
            var grid = FlowMatchGrid(mu, dynamicAllowed: true);
            Done();
            return new SchedulerConfig
            {
                ClassName = ClassName,
                Solver = "euler",
                Prediction = Prediction.FlowVelocity,
                TrainSteps = grid.TrainSteps,
                Settings = new SolverSettings { FlowGrid = grid, Diffusers = new DiffusersOptions { TrainSteps = grid.TrainSteps } },
            };
        }

        public SchedulerConfig FlowMatchHeun(double? mu)
        {
            int trainSteps = Int("num_train_timesteps", 1000);
            double shift = Num("shift", 1.0);
            NoMu(mu, false);
            Done();
            var grid = new FlowSigmaOptions { TrainSteps = trainSteps, Shift = shift };
            return new SchedulerConfig
            {
                ClassName = ClassName,
                Solver = "heun",
                Prediction = Prediction.FlowVelocity,
                TrainSteps = trainSteps,
                Settings = new SolverSettings { FlowGrid = grid, Diffusers = new DiffusersOptions { TrainSteps = trainSteps } },
            };
        }

        public SchedulerConfig Ddim(double? mu)
        {
            var (model, d) = CommonVp("epsilon", "sample", "v_prediction");
            NoMu(mu, false);
            d = d with
            {
                Spacing = d.Spacing ?? TimestepSpacing.Leading,
                ClipSample = Bool("clip_sample", true),
                ClipSampleRange = Num("clip_sample_range", 1.0),
                SetAlphaToOne = Bool("set_alpha_to_one", true),
            };
            Done();
            return model with { Solver = "ddim", Settings = new SolverSettings { Diffusers = d } };
        }

        public SchedulerConfig DpmSolver(double? mu)
        {
            var (model, d) = CommonVp("epsilon", "sample", "v_prediction", "flow_prediction");
            int order = Order(1, 3);
            RequireValue("algorithm_type", "dpmsolver++");
            string solverType = Str("solver_type", "midpoint", "midpoint", "heun");
            RequireValue("use_lu_lambdas", false);
            var sigmaSpacing = SpacingFlags();
            RequireValue("lambda_min_clipped", double.NegativeInfinity);
            RequireNull("variance_type");
            var (flow, grid) = FlowSigmas(model, mu, allowLinearShift: false, allowTerminal: false);
            d = d with
            {
                LowerOrderFinal = Bool("lower_order_final", true),
                EulerAtFinal = Bool("euler_at_final", false),
                DpmHeun = solverType == "heun",
                FinalSigmas = Final(),
                SigmaSpacing = sigmaSpacing,
            };
            Done();
            return model with
            {
                Solver = order == 3 ? "dpm++3m" : "dpm++2m",
                Prediction = flow ? Prediction.FlowVelocity : model.Prediction,
                Settings = new SolverSettings { SolverOrder = order, FlowGrid = grid, Diffusers = d },
            };
        }

        public SchedulerConfig UniPc(double? mu)
        {
            var (model, d) = CommonVp("epsilon", "sample", "v_prediction", "flow_prediction");
            int order = Order(1, 3);
            RequireValue("predict_x0", true);

            // diffusers maps the DPM-Solver names to bh2.
            string solverType = Str("solver_type", "bh2", "bh1", "bh2", "midpoint", "heun", "logrho");
            RequireNull("solver_p");
            RequireNull("sigma_min");
            RequireNull("sigma_max");
            var sigmaSpacing = SpacingFlags();
            var disable = IntList("disable_corrector");
            var (flow, grid) = FlowSigmas(model, mu, allowLinearShift: true, allowTerminal: true);
            d = d with { LowerOrderFinal = Bool("lower_order_final", true), FinalSigmas = Final(), DisableCorrector = disable, SigmaSpacing = sigmaSpacing };
            Done();
            return model with
            {
                Solver = "unipc",
                Prediction = flow ? Prediction.FlowVelocity : model.Prediction,
                Settings = new SolverSettings
                {
                    SolverOrder = order,
                    FlowGrid = grid,
                    Diffusers = d,
                    UniPcVariant = solverType == "bh1" ? UniPcVariant.Bh1 : UniPcVariant.Bh2,
                },
            };
        }

        public SchedulerConfig Deis(double? mu)
        {
            var (model, d) = CommonVp("epsilon", "sample", "v_prediction", "flow_prediction");
            int order = Order(1, 3);
            RequireValue("algorithm_type", "deis");
            RequireValue("solver_type", "logrho");
            var sigmaSpacing = SpacingFlags();
            var (flow, grid) = FlowSigmas(model, mu, allowLinearShift: false, allowTerminal: false);
            d = d with { LowerOrderFinal = Bool("lower_order_final", true), SigmaSpacing = sigmaSpacing };
            Done();
            return model with
            {
                Solver = "deis",
                Prediction = flow ? Prediction.FlowVelocity : model.Prediction,
                Settings = new SolverSettings { SolverOrder = order, FlowGrid = grid, Diffusers = d },
            };
        }

        public SchedulerConfig Stork(double? mu)
        {
            Accept("base_shift", "max_shift", "base_image_seq_len", "max_image_seq_len");
            RequireValue("invert_sigmas", false);
            RequireValue("set_alpha_to_one", false);
            RequireNull("trained_betas");
            string betaSchedule = Str("beta_schedule", "linear", "linear", "scaled_linear");
            double betaStart = Num("beta_start", 0.0001), betaEnd = Num("beta_end", 0.02);
            var prediction = PredictionNames.Parse(Str("prediction_type", "epsilon", "epsilon", "flow_prediction"));
            int order = Int("solver_order", 4);
            if (order is not (2 or 4))
            {
                throw Error($"solver_order {order} is not supported by STORKScheduler (2 or 4).");
            }

            double? configMu = NullableNum("mu");
            if (configMu is not null && mu is not null && configMu != mu)
            {
                throw Error($"mu is {configMu} in the configuration and {mu} on the command line.");
            }

            var grid = FlowMatchGrid(configMu ?? mu, dynamicAllowed: true);
            var settings = new SolverSettings
            {
                FlowGrid = grid,
                Substeps = Int("s", 50),
                StorkVariant = global::Stork.Solvers.Stabilized.StorkVariant.Upstream,
                DerivativeOrder = json.Has("derivative_order") ? Int("derivative_order", 0) : null,
                StoppingEps = NullableNum("stopping_eps"),
                Diffusers = new DiffusersOptions { TrainSteps = grid.TrainSteps, BetaStart = betaStart },
            };
            Done();
            return new SchedulerConfig
            {
                ClassName = ClassName,
                Solver = order == 2 ? "stork-2" : "stork-4",
                Prediction = prediction,
                Settings = settings,
                BetaSchedule = betaSchedule,
                BetaStart = betaStart,
                BetaEnd = betaEnd,
                TrainSteps = grid.TrainSteps,
                ContinuousNoise = true,
            };
        }

        private FlowSigmaOptions FlowMatchGrid(double? mu, bool dynamicAllowed)
        {
            int trainSteps = Int("num_train_timesteps", 1000);
            double shift = Num("shift", 1.0);
            bool dynamic = dynamicAllowed && Bool("use_dynamic_shifting", false);
            string shiftType = Str("time_shift_type", "exponential", "exponential", "linear");
            double? terminal = NullableNum("shift_terminal");
            var spacing = SpacingFlags();
            NoMu(mu, dynamic);
            var grid = new FlowSigmaOptions
            {
                TrainSteps = trainSteps,
                Shift = shift,
                Mu = dynamic ? mu : null,
                TimeShiftType = shiftType == "linear" ? TimeShiftType.Linear : TimeShiftType.Exponential,
                ShiftTerminal = terminal is 0 ? null : terminal,
                Spacing = spacing,
            };
            Validate(grid.Validate);
            return grid;
        }

        private (bool Flow, FlowSigmaOptions Grid) FlowSigmas(SchedulerConfig model, double? mu, bool allowLinearShift, bool allowTerminal)
        {
            bool flow = Bool("use_flow_sigmas", false);
            double shift = Num("flow_shift", 1.0);
            bool dynamic = Bool("use_dynamic_shifting", false);
            string shiftType = Str("time_shift_type", "exponential", allowLinearShift ? ["exponential", "linear"] : ["exponential"]);
            double? terminal = allowTerminal ? NullableNum("shift_terminal") : null;
            bool flowPrediction = model.Prediction == Prediction.FlowVelocity;
            if (flow != flowPrediction)
            {
                throw Error(flow
                    ? $"use_flow_sigmas needs prediction_type flow_prediction (got {PredictionNames.ToName(model.Prediction)})."
                    : "prediction_type flow_prediction needs use_flow_sigmas true.");
            }

            if (terminal is not null && terminal != 0 && !flow)
            {
                throw Error("shift_terminal is only supported with use_flow_sigmas.");
            }

            if (dynamic && !flow)
            {
                throw Error("use_dynamic_shifting is only supported with use_flow_sigmas.");
            }

            NoMu(mu, dynamic);
            var grid = new FlowSigmaOptions
            {
                TrainSteps = model.TrainSteps,
                Shift = shift,
                Mu = dynamic ? mu : null,
                TimeShiftType = shiftType == "linear" ? TimeShiftType.Linear : TimeShiftType.Exponential,
                ShiftTerminal = terminal is 0 ? null : terminal,
            };
            Validate(grid.Validate);
            return (flow, grid);
        }

        private (SchedulerConfig Model, DiffusersOptions Options) CommonVp(params string[] predictions)
        {
            int trainSteps = Int("num_train_timesteps", 1000);
            double betaStart = Num("beta_start", 0.0001), betaEnd = Num("beta_end", 0.02);
            string betaSchedule = Str("beta_schedule", "linear", "linear", "scaled_linear", "squaredcos_cap_v2");
            RequireNull("trained_betas");
            RequireValue("thresholding", false);
            Accept("dynamic_thresholding_ratio", "sample_max_value"); // only used by thresholding, which is off
            RequireValue("rescale_betas_zero_snr", false);
            string prediction = Str("prediction_type", "epsilon", predictions);
            string spacing = Str("timestep_spacing", "", "linspace", "leading", "trailing");
            int offset = Int("steps_offset", 0);
            var model = new SchedulerConfig
            {
                ClassName = ClassName,
                Solver = "",
                Settings = new SolverSettings(),
                Prediction = PredictionNames.Parse(prediction),
                BetaSchedule = betaSchedule,
                BetaStart = betaStart,
                BetaEnd = betaEnd,
                TrainSteps = trainSteps,
            };
            var d = new DiffusersOptions
            {
                TrainSteps = trainSteps,
                StepsOffset = offset,
                BetaStart = betaStart,
                Spacing = spacing switch
                {
                    "linspace" => TimestepSpacing.Linspace,
                    "leading" => TimestepSpacing.Leading,
                    "trailing" => TimestepSpacing.Trailing,
                    _ => null,
                },
            };
            Validate(d.Validate);
            return (model, d);
        }

        private FinalSigmas Final() =>
            Str("final_sigmas_type", "zero", "zero", "sigma_min") == "zero" ? FinalSigmas.Zero : FinalSigmas.SigmaMin;

        private int Order(int min, int max)
        {
            int order = Int("solver_order", 2);
            if (order < min || order > max)
            {
                throw Error($"solver_order {order} is not supported (expected {min} to {max}).");
            }

            return order;
        }

        private SigmaSpacing SpacingFlags()
        {
            bool k = Bool("use_karras_sigmas", false), e = Bool("use_exponential_sigmas", false), b = Bool("use_beta_sigmas", false);
            if ((k ? 1 : 0) + (e ? 1 : 0) + (b ? 1 : 0) > 1)
            {
                throw Error("only one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas can be true.");
            }

            return k ? SigmaSpacing.Karras : e ? SigmaSpacing.Exponential : b ? SigmaSpacing.Beta : SigmaSpacing.Linear;
        }

        private void NoMu(double? mu, bool dynamic)
        {
            if (dynamic && mu is null)
            {
                throw new OptionException(Catalog.SolverOption.Mu.Key, $"is required: {source} ({ClassName}) sets use_dynamic_shifting true (set_timesteps(mu=...)).");
            }

            if (!dynamic && mu is not null)
            {
                throw new OptionException(Catalog.SolverOption.Mu.Key, $"is only used with use_dynamic_shifting true ({source} ({ClassName}) sets it false).");
            }
        }

        private void Done()
        {
            if (!Lenient && json.UnreadKeys.FirstOrDefault(k => !k.StartsWith('_')) is { } unknown)
            {
                throw Error($"option '{unknown}' is not supported by this implementation of {ClassName}.");
            }
        }

        private void Accept(params string[] keys) => json.Accept(keys);

        private bool Bool(string key, bool fallback) => json.Bool(key, fallback);

        private double Num(string key, double fallback) => NullableNum(key) ?? fallback;

        private double? NullableNum(string key) => json.NumberOrNull(key, allowInfinite: true);

        private int Int(string key, int fallback)
        {
            double? v = NullableNum(key);
            if (v is null)
            {
                return fallback;
            }

            if (v != Math.Floor(v.Value) || Math.Abs(v.Value) > int.MaxValue)
            {
                throw Error($"'{key}' must be an integer (got {v}).");
            }

            return (int)v.Value;
        }

        private int[] IntList(string key) => json.IntArrayOrNull(key) ?? [];

        private string Str(string key, string fallback, params string[] allowed) => json.Choice(key, fallback, allowed);

        private void RequireNull(string key)
        {
            if (json.Element(key) is { } v)
            {
                throw Error($"option '{key}' = {v.GetRawText()} is not supported (only null).");
            }
        }

        private void RequireValue(string key, bool expected)
        {
            if (Bool(key, expected) != expected)
            {
                throw Error($"option '{key}' = {(!expected).ToString().ToLowerInvariant()} is not supported (only {expected.ToString().ToLowerInvariant()}).");
            }
        }

        private void RequireValue(string key, string expected)
        {
            if (json.Element(key) is { } v && (v.ValueKind != JsonValueKind.String || v.GetString() != expected))
            {
                throw Error($"option '{key}' = {v.GetRawText()} is not supported (only \"{expected}\").");
            }
        }

        private void RequireValue(string key, double expected)
        {
            double? v = NullableNum(key);
            if (v is not null && !v.Value.Equals(expected))
            {
                throw Error($"option '{key}' = {v.Value.ToString(CultureInfo.InvariantCulture)} is not supported (only {expected.ToString(CultureInfo.InvariantCulture)}).");
            }
        }

        private void Validate(Action validate)
        {
            try
            {
                validate();
            }
            catch (ArgumentException e)
            {
                throw Error(e.Message);
            }
        }

        private Exception Error(string message) => json.Error(message);
    }
}
