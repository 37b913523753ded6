using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Stork.Onnx;

/// <summary>
/// Copies between a host tensor and a tensor of the same size in a provider's memory, in place (the device address
/// stays, as a captured CUDA graph needs). ONNX Runtime's own <c>CopyTensors</c> knows only the devices of
/// providers registered with the environment, not those appended to a session, so CUDA memory is copied by the CUDA
/// runtime's <c>cudaMemcpy</c> (libcudart, which the CUDA provider loads anyway) and CPU memory by a span copy.
/// </summary>
internal static class DeviceCopy
{
    private const int HostToDevice = 1;
    private const int DeviceToHost = 2;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int CudaMemcpy(nint dst, nint src, nuint count, int kind);

    private static readonly Lazy<CudaMemcpy> Memcpy = new(LoadCudaMemcpy);

    private static readonly string[] CudaRuntimeNames = ["libcudart.so.12", "libcudart.so.13", "libcudart.so", "cudart64_12.dll", "cudart64_13.dll"];

    /// <summary>Copies <paramref name="source"/> into <paramref name="target"/>: with <paramref name="cuda"/>, the one that <paramref name="toDevice"/> names lives in CUDA memory.</summary>
    public static void Copy(OrtValue source, OrtValue target, bool cuda, bool toDevice)
    {
        var from = source.GetTensorMutableRawData();
        var to = target.GetTensorMutableRawData();
        if (from.Length != to.Length)
        {
            throw new InvalidOperationException($"a device copy of {from.Length} bytes into {to.Length}.");
        }

        if (!cuda)
        {
            from.CopyTo(to);
            return;
        }

        // Device memory must not be read from the host: only its address is taken.
        int status = Memcpy.Value(Address(to), Address(from), (nuint)from.Length, toDevice ? HostToDevice : DeviceToHost);
        if (status != 0)
        {
            throw new InvalidOperationException($"cudaMemcpy failed with CUDA error {status}.");
        }
    }

    private static nint Address(Span<byte> span) => (nint)Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref MemoryMarshal.GetReference(span));

    private static CudaMemcpy LoadCudaMemcpy()
    {
        foreach (string name in CudaRuntimeNames)
        {
            if (NativeLibrary.TryLoad(name, out nint library) && NativeLibrary.TryGetExport(library, "cudaMemcpy", out nint memcpy))
            {
                return Marshal.GetDelegateForFunctionPointer<CudaMemcpy>(memcpy);
            }
        }

        throw new InvalidOperationException($"CUDA graphs copy the latents with the CUDA runtime, which was not found ({string.Join(", ", CudaRuntimeNames)}); put CUDA's lib folder on the library path.");
    }
}
