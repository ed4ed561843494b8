using Backy.Tests.Daemon.Support;
using CliWrap;
using CliWrap.Buffered;

namespace Backy.Tests.Cli;

/// <summary>
/// What an operator reads when a source or a job's config is wrong (issue 14, item 10): the real
/// <c>backy-worker</c> and <c>backy-daemon</c>, one line naming the file (or image) and the reason.
/// </summary>
[CancelAfter(60_000)]
public class SourceMessageTests
{
    private string _job = "";

    [SetUp]
    public void CreateJob() => _job = Directory.CreateTempSubdirectory("backy-msg-").FullName;

    [TearDown]
    public void RemoveJob() => Directory.Delete(_job, recursive: true);

    private static async Task<BufferedCommandResult> WorkerAsync(string job, string[] args, CancellationToken ct, string? cephArgs = null) =>
        await CliWrap.Cli.Wrap(Path.Join(AppContext.BaseDirectory, "backy-worker"))
            .WithArguments(["-b", job, .. args])
            .WithEnvironmentVariables(env => { if (cephArgs is not null) env.Set("CEPH_ARGS", cephArgs); })
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(ct);

    private static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];

    [Test]
    public async Task A_FIFO_source_names_the_file_and_why_it_cannot_be_read(CancellationToken ct)
    {
        var fifo = Path.Join(_job, "pipe");
        if (Mono_mkfifo(fifo) != 0) Assert.Inconclusive("mkfifo failed");
        File.WriteAllText(Path.Join(_job, "config"), $"source: {{type: file, filename: {fifo}}}\nschedule: {{daily: {{interval: 1d, keep: 3}}}}\n");
        // A writer, as with a pipe from another program: opening a FIFO for reading waits for one.
        var writer = Task.Run(() => { try { File.WriteAllBytes(fifo, new byte[1 << 16]); } catch (IOException) { } }, ct);

        var result = await WorkerAsync(_job, ["backup", "daily"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.StandardError);
        Assert.That(LastLine(result.StandardError), Is.EqualTo($"backy-worker: cannot read source '{fifo}': not a regular file or block device (a FIFO)"));
        await writer.WaitAsync(ct);
    }

    [Test]
    public async Task A_character_device_source_is_refused_instead_of_backed_up_as_empty(CancellationToken ct)
    {
        // /dev/null seeks to 0 and reads as 0 bytes: it used to become an empty revision with exit 0.
        File.WriteAllText(Path.Join(_job, "config"), "source: {type: file, filename: /dev/null}\nschedule: {daily: {interval: 1d, keep: 3}}\n");

        var result = await WorkerAsync(_job, ["backup", "daily"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.StandardError);
        Assert.That(LastLine(result.StandardError), Is.EqualTo("backy-worker: cannot read source '/dev/null': not a regular file or block device (a character device)"));
        Assert.That(Directory.EnumerateFiles(_job, "*.rev"), Is.Empty, "no revision, not even an incomplete one");
    }

    [Test]
    public async Task A_YAML_error_in_the_job_config_names_its_line(CancellationToken ct)
    {
        File.WriteAllText(Path.Join(_job, "config"), "source:\n  type: file\n  filename: [x\nschedule: {}\n");

        var result = await WorkerAsync(_job, ["backup", "daily"], ct);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.StandardError);
        Assert.That(result.StandardError, Does.Not.Contain("\n  "), "one line");
        Assert.That(LastLine(result.StandardError), Does.StartWith($"backy-worker: job config '{_job}/config' ").And.Match(@"line [34]: "));
    }

    [Test]
    public async Task An_unreachable_Ceph_cluster_is_not_reported_as_a_missing_image(CancellationToken ct)
    {
        if (!File.Exists("/usr/bin/rbd"))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail("rbd is not installed (scripts/install-deps)");
            Assert.Ignore("rbd is not installed");
        }
        File.WriteAllText(Path.Join(_job, "config"), "source: {type: ceph-rbd, pool: rbd, image: vm1}\nschedule: {daily: {interval: 1d, keep: 3}}\n");

        // No monitor listens on port 1: rbd prints ENOENT lines for the missing ceph.conf and keyring, then gives up.
        var result = await WorkerAsync(_job, ["backup", "daily"], ct, cephArgs: "--mon-host 127.0.0.1:1 --client-mount-timeout 2");

        Assert.That(result.ExitCode, Is.EqualTo(1), result.StandardError);
        Assert.That(LastLine(result.StandardError), Does.StartWith("backy-worker: cannot read source rbd/vm1: cannot connect to the Ceph cluster"));
    }

    [Test]
    public async Task A_missing_source_file_is_one_line_in_the_daemon_log_without_a_stack_trace(CancellationToken ct)
    {
        await using var bed = new DaemonTestBed();
        bed.WriteConfig("2s", 1, "a"); // a's source, bed.Root/a.img, does not exist
        using var notify = new NotifySocket();
        await using var daemon = DaemonProcess.Start(bed.ConfigPath, bed.LogPath, new Dictionary<string, string?>
        {
            ["BACKY_WORKER"] = Path.Join(AppContext.BaseDirectory, "backy-worker"),
            ["NOTIFY_SOCKET"] = notify.Path,
        });

        await DaemonTestBed.WaitUntilAsync(() => daemon.Stderr.Contains("a: failed (failure 1"), ct);

        var line = daemon.Stderr.Split('\n').First(l => l.Contains("a: failed (failure 1"));
        Assert.That(line, Does.Contain($"cannot read source '{bed.Root}/a.img': file not found"));
        Assert.That(line, Does.Not.Contain("Exception").And.Not.Contain(" at Backy."), "no stack trace");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mono_mkfifo(string path, uint mode = 0x180);
}
