using Backy.Daemon.Config;
using Backy.Daemon.Workers;

namespace Backy.Daemon.Scheduling;

/// <summary>What every job loop shares and a reload may replace: the global settings, the
/// worker slots sized by them and the peers. Read once per run, so a run finishes with what it started with.</summary>
public sealed record JobEnvironment(GlobalConfig Global, WorkerSlots Slots, IReadOnlyDictionary<string, PeerConfig> Peers);

/// <summary>The long-lived services a job loop uses (one instance per daemon).</summary>
public sealed record JobLoopServices(Deadlines Deadlines, JobRun Run, TimeProvider Clock, Microsoft.Extensions.Logging.ILogger Logger, Views.JobViewCache Views);
