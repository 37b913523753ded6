namespace Stork.Pipelines;

/// <summary>A loaded model component: disposable, with the time it has spent inside ONNX Runtime.</summary>
internal interface IOnnxComponent : IDisposable
{
    /// <summary>Time spent inside ONNX Runtime's <c>Run</c>.</summary>
    TimeSpan RunTime { get; }
}

/// <summary>A component slot that can be released.</summary>
internal interface IReleasable : IDisposable
{
    /// <summary>Releases the component unless the pipeline keeps components loaded.</summary>
    void Release();
}

/// <summary>
/// A component loaded on first use and released when the run is done with it, unless the memory policy keeps it
/// loaded. Load time and time inside ONNX Runtime are accumulated over loads, so that a run can report them apart;
/// <paramref name="loaded"/> hears of each load on its own (component name, time).
/// </summary>
internal sealed class ComponentSlot<T>(string component, Func<T> load, bool keepLoaded, Action<ComponentLoad>? loaded = null) : IReleasable
    where T : class, IOnnxComponent
{
    private T? _value;
    private TimeSpan _releasedRunTime;

    /// <summary>The component's name in timings (its folder: <c>unet</c>, <c>text_encoder_2</c>, ...).</summary>
    public string Component { get; set; } = component;

    /// <summary>Whether <see cref="Release"/> keeps the component (set by the family from its memory policy).</summary>
    public bool KeepLoaded { get; set; } = keepLoaded;

    public TimeSpan LoadTime { get; private set; }

    /// <summary>Time inside ONNX Runtime of every load so far.</summary>
    public TimeSpan RunTime => _releasedRunTime + (_value?.RunTime ?? TimeSpan.Zero);

    public bool IsLoaded => _value is not null;

    public T Get()
    {
        if (_value is null)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            _value = load();
            var time = clock.Elapsed;
            LoadTime += time;
            loaded?.Invoke(new ComponentLoad(Component, time));
        }

        return _value;
    }

    /// <summary>Releases the component unless the pipeline keeps components loaded.</summary>
    public void Release()
    {
        if (!KeepLoaded)
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        if (_value is not null)
        {
            _releasedRunTime += _value.RunTime;
            _value.Dispose();
            _value = null;
        }
    }
}
