namespace Stork.IO;

/// <summary>
/// The files a command writes, kept in memory until the whole command has succeeded and then committed together: each
/// to a temporary sibling first, then every one renamed into place. Declared up front, so that an output that equals an
/// input or another output, a missing folder or an output that is a folder fails before any work; a failed or
/// cancelled run leaves every existing file untouched and no temporary file behind. Each output is declared with the
/// name its messages give it (<c>name</c>: a command line passes its option, a server its field); a bad output path is
/// an <see cref="ArgumentException"/> whose message starts with that name, a folder that takes no file an
/// <see cref="IOException"/>.
/// </summary>
public sealed class OutputFiles
{
    private readonly List<(string Full, string Shown, string Name)> _outputs = [];
    private readonly List<(string Full, string Shown)> _inputs = [];
    private readonly Dictionary<string, byte[]> _contents = new(StringComparer.Ordinal);

    /// <summary>
    /// Declares an output, named <paramref name="name"/> in messages; <paramref name="createFolder"/>: its folder is
    /// created on commit if missing.
    /// </summary>
    public void Output(string path, string name, bool createFolder = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(name);
        string full = InputFile.Canonical(Path.GetFullPath(path));
        if (Directory.Exists(full))
        {
            throw new ArgumentException($"{name} '{path}' is a folder; give a file name.");
        }

        string folder = Path.GetDirectoryName(full) ?? ".";
        if (!createFolder && !Directory.Exists(folder))
        {
            throw new ArgumentException($"{name} '{path}': the folder '{folder}' does not exist.");
        }

        if (File.Exists(folder))
        {
            throw new ArgumentException($"{name} '{path}': '{folder}' is a file, not a folder.");
        }

        CheckWritable(Directory.Exists(folder) ? folder : NearestFolder(folder), $"{name} '{path}'");

        foreach (var (other, shown, otherName) in _outputs)
        {
            if (InputFile.SamePath(other, full))
            {
                throw new ArgumentException($"{name} '{path}' is the same file as {otherName} '{shown}'; give each output its own path.");
            }
        }

        _outputs.Add((full, path, name));
        CheckAgainstInputs();
    }

    /// <summary>
    /// Checks before any work that <paramref name="folder"/> (an output folder, named <paramref name="name"/> in messages,
    /// created on commit when missing) can be written: it is no file, and it or the folder it will be made in takes new files.
    /// </summary>
    public static void CheckFolder(string folder, string name)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(name);
        string full = Path.GetFullPath(folder);
        if (File.Exists(full))
        {
            throw new ArgumentException($"{name} '{folder}' is a file, not a folder.");
        }

        CheckWritable(Directory.Exists(full) ? full : NearestFolder(full), $"{name} '{folder}'");
    }

    /// <summary>The nearest existing folder at or above <paramref name="folder"/>.</summary>
    private static string NearestFolder(string folder)
    {
        string? f = folder;
        while (f is not null && !Directory.Exists(f))
        {
            f = Path.GetDirectoryName(f);
        }

        return f ?? ".";
    }

    /// <summary>Creates and deletes a probe file in <paramref name="folder"/>: a folder that takes no new file fails now, not after the run.</summary>
    private static void CheckWritable(string folder, string what)
    {
        string probe = Path.Combine(folder, $".stork-write-check.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e is UnauthorizedAccessException ? "permission denied" : "the folder takes no new files";
            throw new IOException($"{what}: cannot write in the folder '{folder}' ({reason}).", e);
        }
        finally
        {
            try
            {
                File.Delete(probe);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>Declares a file the command reads (outputs may not replace it).</summary>
    public void Input(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return;
        }

        try
        {
            _inputs.Add((InputFile.Canonical(Path.GetFullPath(path)), path));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return;
        }

        CheckAgainstInputs();
    }

    private void CheckAgainstInputs()
    {
        foreach (var (output, shownOutput, name) in _outputs)
        {
            foreach (var (input, shownInput) in _inputs)
            {
                if (InputFile.SamePath(output, input))
                {
                    throw new ArgumentException($"{name} '{shownOutput}' would overwrite the input '{shownInput}'; write the output elsewhere.");
                }
            }
        }
    }

    /// <summary>Sets the content of a declared output.</summary>
    public void Set(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(bytes);
        string full = InputFile.Canonical(Path.GetFullPath(path));
        if (!_outputs.Any(o => o.Full == full))
        {
            throw new InvalidOperationException($"internal: output '{path}' was not declared.");
        }

        _contents[full] = bytes;
    }

    /// <summary>Sets the content of a declared output to <paramref name="text"/> in UTF-8 (no byte-order mark).</summary>
    public void SetText(string path, string text) => Set(path, System.Text.Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text))));

    /// <summary>Writes every output: all to temporary files, then all renamed into place.</summary>
    public void Commit(CancellationToken cancellationToken)
    {
        var pending = _outputs.Where(o => _contents.ContainsKey(o.Full)).ToList();
        var temps = new List<(string Temp, string Full)>();
        try
        {
            foreach (var (full, shown, name) in pending)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string folder = Path.GetDirectoryName(full) ?? ".";
                Directory.CreateDirectory(folder);
                string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
                temps.Add((temp, full));
                try
                {
                    File.WriteAllBytes(temp, _contents[full]);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The message names the output, never the temporary file.
                    throw new IOException($"cannot write {name} '{shown}': {e.Message.Replace(temp, shown, StringComparison.Ordinal)}", e);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            foreach (var (temp, full) in temps)
            {
                File.Move(temp, full, overwrite: true);
            }
        }
        finally
        {
            foreach (var (temp, _) in temps)
            {
                try
                {
                    File.Delete(temp);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }
}
