using Backy.Storage.Jobs;
using Backy.Tests.Api;
using Microsoft.Extensions.Logging;

namespace Backy.Tests.Storage.Support;

/// <summary>A <see cref="TestJob"/> opened as a <see cref="JobDirectory"/> whose log lines are captured: the fixture of
/// in-process tests that check what the engines log (RestoreDistrustTests, DamagedRevisionTests).</summary>
internal class LoggedTestJob : IDisposable
{
    public readonly TestJob T = new();
    public readonly CapturingLoggerProvider Log = new();
    public readonly ILogger Logger;
    public readonly JobDirectory Job;

    public LoggedTestJob()
    {
        Logger = Log.CreateLogger("test");
        Job = new JobDirectory(T.JobPath, Logger);
    }

    public void Dispose() => T.Dispose();
}
