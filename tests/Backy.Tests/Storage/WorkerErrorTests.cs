using Backy.Tests.Storage.Support;

namespace Backy.Tests.Storage;

/// <summary>Bad input gives one clear line on stderr and exit status 1.</summary>
public class WorkerErrorTests
{
    [Test, CancelAfter(60_000)]
    public async Task Missing_source_file_is_one_line_naming_the_file(CancellationToken ct)
    {
        using var t = new TestJob();
        var r = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(r.ExitCode, Is.EqualTo(1));
        Assert.That(r.StdErr.Trim().Split('\n')[^1], Is.EqualTo($"backy-worker: cannot read source '{t.ImagePath}': file not found"));
        Assert.That(r.StdErr, Does.Not.Contain("   at "), "no stack trace without -v");
        Assert.That(t.Job.LoadRevisions(), Is.Empty);
    }

    [Test, CancelAfter(60_000)]
    public async Task Tag_outside_the_schedule_is_refused_unless_forced_or_manual(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 100);
        var refused = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "hourly");
        Assert.That(refused.ExitCode, Is.EqualTo(1));
        Assert.That(refused.StdErr, Does.Contain("backy-worker: unknown tag 'hourly'"));
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "-f", "hourly")).ExitCode, Is.Zero);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "manual:x,daily")).ExitCode, Is.Zero);
        Assert.That(t.Job.CompleteRevisions()[^1].Tags, Is.EqualTo(new[] { "daily", "manual:x" }));
    }

    [Test, CancelAfter(60_000)]
    public async Task Missing_config_and_unknown_revision_are_clear_errors(CancellationToken ct)
    {
        using var t = new TestJob();
        File.Delete(t.Job.ConfigPath);
        var backup = await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily");
        Assert.That(backup.ExitCode, Is.EqualTo(1));
        Assert.That(backup.StdErr, Does.Contain($"backy-worker: cannot read job config '{t.Job.ConfigPath}': file not found"));
        var restore = await WorkerProcess.RunAsync(t.JobPath, ct, "restore", "-r", "weekly", t.PathIn("x"));
        Assert.That(restore.ExitCode, Is.EqualTo(1));
        Assert.That(restore.StdErr, Does.Contain("backy-worker: no revision matches 'weekly'"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Status_yaml_lists_the_revision_mappings_and_the_table_has_the_summary(CancellationToken ct)
    {
        using var t = new TestJob();
        TestImages.WriteMixed(t.ImagePath, 5000);
        Assert.That((await WorkerProcess.RunAsync(t.JobPath, ct, "backup", "daily")).ExitCode, Is.Zero);
        var yaml = await WorkerProcess.RunAsync(t.JobPath, ct, "status", "--yaml");
        Assert.That(yaml.ExitCode, Is.Zero);
        Assert.That(yaml.StdOut, Does.StartWith("- uuid: ").And.Contain("backend_type: chunked-xxh128"));
        var table = await WorkerProcess.RunAsync(t.JobPath, ct, "status");
        Assert.That(table.StdOut, Does.Contain("Date (").And.Contain("Duration").And.Contain("trusted").And.Contain("1 revisions containing"));
    }
}
