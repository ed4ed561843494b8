using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Legacy;

/// <summary>
/// Runs the real python-lzo (Debian's python3-lzo, installed by scripts/install-deps) to write
/// chunk files exactly as the Python backy does. A python3 earlier in PATH (pyenv) may lack the
/// module, so /usr/bin/python3 is tried first; BACKY_TEST_PYTHON overrides both.
/// </summary>
internal static class PythonLzoTool
{
    private const string CompressScript =
        "import lzo, sys\n" +
        "level = int(sys.argv[1])\n" +
        "args = sys.argv[2:]\n" +
        "for src, dst in zip(args[0::2], args[1::2]):\n" +
        "    data = open(src, 'rb').read()\n" +
        "    open(dst, 'wb').write(lzo.compress(data, level))\n";

    private static readonly Lazy<Task<string?>> Python = new(FindPythonAsync);

    /// <summary>Compresses each source file into its destination with python-lzo at the given level.</summary>
    public static async Task CompressFilesAsync(
        IReadOnlyList<(string Source, string Destination)> files, int level, CancellationToken ct)
    {
        var python = await RequirePythonAsync();
        // Batches keep command lines short and the number of interpreter starts small.
        foreach (var batch in files.Chunk(200))
        {
            var args = new List<string> { "-c", CompressScript, level.ToString() };
            foreach (var (src, dst) in batch)
            {
                args.Add(src);
                args.Add(dst);
            }
            var result = await CliWrap.Cli.Wrap(python).WithArguments(args)
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct);
            if (result.ExitCode != 0)
                Assert.Fail($"python-lzo compression failed ({result.ExitCode}): {result.StandardError}");
        }
    }

    public static async Task<byte[]> CompressAsync(byte[] data, int level, string workDir, CancellationToken ct)
    {
        var src = Path.Combine(workDir, $"lzo-in-{Guid.NewGuid():N}");
        var dst = src + ".lzo";
        await File.WriteAllBytesAsync(src, data, ct);
        await CompressFilesAsync([(src, dst)], level, ct);
        var frame = await File.ReadAllBytesAsync(dst, ct);
        File.Delete(src);
        File.Delete(dst);
        return frame;
    }

    private static async Task<string> RequirePythonAsync()
    {
        var python = await Python.Value;
        if (python is null)
            Assert.Fail("no python3 with the lzo module found (install Debian's python3-lzo: scripts/install-deps, " +
                        "or set BACKY_TEST_PYTHON); the legacy-format tests need it to write real python-lzo data");
        return python!;
    }

    private static async Task<string?> FindPythonAsync()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("BACKY_TEST_PYTHON"), "/usr/bin/python3", "python3" };
        foreach (var candidate in candidates.Where(c => !string.IsNullOrEmpty(c)))
        {
            try
            {
                var result = await CliWrap.Cli.Wrap(candidate!).WithArguments(["-c", "import lzo"])
                    .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
                if (result.ExitCode == 0)
                    return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under this name: try the next one.
            }
        }
        return null;
    }
}
