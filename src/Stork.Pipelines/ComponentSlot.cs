namespace Stork.Pipelines;

/// <summary>
/// A component loaded on first use and released when the run is done with it, unless the pipeline keeps everything
/// loaded. Load time is accumulated so that a run can report it apart from inference.
/// </summary>
internal sealed class ComponentSlot<T>(Func<T> load, bool keepLoaded) : IDisposable
    where T : class, IDisposable
{
    private T? _value;

    public TimeSpan LoadTime { get; private set; }

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
        _value?.Dispose();
        _value = null;
    }
}
