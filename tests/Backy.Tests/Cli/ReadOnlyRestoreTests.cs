using Backy.Tests.Storage.Support;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Cli;

/// <summary>
/// A user with read access only (another uid on a world-readable job directory) can restore (issue
/// 14, item 12): the real backy-worker run as <c>nobody</c> through setpriv. Before: "cannot open lock
/// file '.../.purge': Permission denied", because shared locks opened their lock file for writing.
/// </summary>
[CancelAfter(120_000), System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class ReadOnlyRestoreTests
{
    private const int Nobody = 65534;
    private const UnixFileMode Rwx = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode ReadableByAll = Rwx | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private TestJob _t = null!;

    [SetUp]
    public async Task AJobBackedUpByRootAndReadableByAll()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/setpriv"))
            Assert.Ignore("needs root and setpriv to run the worker as another user");
        _t = new TestJob();
        TestImages.WriteMixed(_t.ImagePath, 2L * 4 * 1024 * 1024 + 12345, seed: 5);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.That((await WorkerProcess.RunAsync(_t.JobPath, cts.Token, "backup", "daily")).ExitCode, Is.Zero);
        File.SetUnixFileMode(_t.Root, ReadableByAll);
        foreach (var dir in Directory.EnumerateDirectories(_t.JobPath, "*", SearchOption.AllDirectories).Append(_t.JobPath))
            File.SetUnixFileMode(dir, ReadableByAll);
        foreach (var file in Directory.EnumerateFiles(_t.JobPath, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(file, File.GetUnixFileMode(file) | UnixFileMode.OtherRead);
        Directory.CreateDirectory(_t.PathIn("out"));
        File.SetUnixFileMode(_t.PathIn("out"), ReadableByAll | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite);
    }

    [TearDown]
    public void Remove() => _t?.Dispose();

    private async Task<BufferedCommandResult> RestoreAsNobodyAsync(string target, CancellationToken ct) =>
        await CliWrap.Cli.Wrap("/usr/bin/setpriv")
            .WithArguments(["--reuid", $"{Nobody}", "--regid", $"{Nobody}", "--clear-groups",
                WorkerProcess.Path, "-b", _t.JobPath, "restore", target])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(ct);

    [Test]
    public async Task Nobody_restores_from_a_job_directory_it_can_only_read(CancellationToken ct)
    {
        var result = await RestoreAsNobodyAsync(_t.PathIn("out/disk"), ct);

        Assert.That(result.ExitCode, Is.Zero, result.StandardError);
        Assert.That(TestJob.Sha(_t.PathIn("out/disk")), Is.EqualTo(TestJob.Sha(_t.ImagePath)));
        Assert.That(result.StandardError, Does.Contain("cannot open log file").And.Contain("stderr only"), "the job's log is not writable: a warning, not a failure");
    }

    [Test]
    public async Task Nobody_restores_when_the_lock_file_does_not_exist_and_creates_none(CancellationToken ct)
    {
        File.Delete(Path.Join(_t.JobPath, ".purge"));

        var result = await RestoreAsNobodyAsync(_t.PathIn("out/disk"), ct);

        Assert.That(result.ExitCode, Is.Zero, result.StandardError);
        Assert.That(TestJob.Sha(_t.PathIn("out/disk")), Is.EqualTo(TestJob.Sha(_t.ImagePath)));
        Assert.That(File.Exists(Path.Join(_t.JobPath, ".purge")), Is.False);
    }
}
