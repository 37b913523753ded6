using System.Runtime.InteropServices;

namespace Stork.Cli;

/// <summary>
/// Turns SIGINT (Ctrl-C) and SIGTERM into cancellation of <see cref="Token"/> instead of killing the process, so that a
/// command stops between model evaluations, removes its temporary files and exits with
/// <see cref="ExitCode"/> (130 after SIGINT, 143 after SIGTERM). A second signal of either kind ends the process at once.
/// </summary>
internal sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signal;

    public CancellationToken Token => _source.Token;

    /// <summary>The exit code a cancelled command returns: 128 + the signal number (130 when cancelled otherwise).</summary>
    public int ExitCode => _signal == 0 ? 130 : 128 + _signal;

    /// <summary>Listens for SIGINT and SIGTERM (the process's real signals; tests call <see cref="Cancel"/> instead).</summary>
    public static Interrupts Listen()
    {
        var interrupts = new Interrupts();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                interrupts._registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    // The first signal cancels; a second one is left to its default action (ends the process).
                    context.Cancel = interrupts.Cancel(context.Signal == PosixSignal.SIGTERM ? 15 : 2);
                }));
            }
            catch (PlatformNotSupportedException)
            {
            }
        }

        return interrupts;
    }

    /// <summary>Cancels as signal <paramref name="signal"/> (2 or 15) would; false when already cancelled.</summary>
    public bool Cancel(int signal)
    {
        if (Interlocked.CompareExchange(ref _signal, signal, 0) != 0)
        {
            return false;
        }

        _source.Cancel();
        return true;
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
        {
            r.Dispose();
        }

        _source.Dispose();
    }
}
