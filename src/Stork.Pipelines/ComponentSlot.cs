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
/// A component loaded on first use and released when the run is done with it, unless the pipeline keeps everything
/// loaded. Load time and time inside ONNX Runtime are accumulated over loads, so that a run can report them apart.
/// </summary>
internal sealed class ComponentSlot<T>(Func<T> load, bool keepLoaded) : IReleasable
    where T : class, IOnnxComponent
{
    private T? _value;
    private TimeSpan _releasedRunTime;

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
            LoadTime += clock.Elapsed;
        }

        return _value;
    }

    /// <summary>Releases the component unless the pipeline keeps components loaded.</summary>
    public void Release()
    {
        if (!keepLoaded)
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
