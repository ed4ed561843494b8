using System.Globalization;
using System.Text;
using Backy.Protocol.V1;
using Grpc.Core;

namespace Backy.Bench.ApiLoad;

/// <summary>Latencies and failures per RPC, collected from all clients at once.</summary>
public sealed class LoadReport(IEnumerable<string> rpcs)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<double>> _latencies = rpcs.ToDictionary(r => r, _ => new List<double>());
    private readonly Dictionary<string, int> _failures = new();
    private readonly List<string> _firstFailures = [];
    private int _maxRunning;

    public int Calls { get { lock (_lock) return _latencies.Values.Sum(l => l.Count) + Failures; } }

    public int Failures { get { lock (_lock) return _failures.Values.Sum(); } }

    /// <summary>The most jobs GetStatus ever reported as running at once: shows backups really went
    /// through the worker slots while the load ran.</summary>
    public int MaxRunningSeen { get { lock (_lock) return _maxRunning; } }

    public IReadOnlyList<string> FirstFailures { get { lock (_lock) return _firstFailures.ToList(); } }

    public void Succeeded(string rpc, TimeSpan latency)
    {
        lock (_lock)
            _latencies[rpc].Add(latency.TotalMilliseconds);
    }

    public void Failed(string rpc, TimeSpan latency, Status status)
    {
        lock (_lock)
        {
            _failures[rpc] = _failures.GetValueOrDefault(rpc) + 1;
            if (_firstFailures.Count < 10)
                _firstFailures.Add($"{rpc} after {latency.TotalMilliseconds:F0} ms: {status.StatusCode} {status.Detail}");
        }
    }

    public void SawStatus(IEnumerable<JobStatus> jobs)
    {
        var running = jobs.Count(j => j.Status.StartsWith("running", StringComparison.Ordinal));
        lock (_lock)
            _maxRunning = Math.Max(_maxRunning, running);
    }

    /// <summary>Nearest-rank percentile in milliseconds (NaN without samples).</summary>
    public double Percentile(string rpc, double p)
    {
        lock (_lock)
        {
            var sorted = _latencies[rpc].Order().ToList();
            return sorted.Count == 0 ? double.NaN : sorted[Math.Max(0, (int)Math.Ceiling(p / 100 * sorted.Count) - 1)];
        }
    }

    public string Format(TimeSpan duration)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"rpc",-16} {"calls",8} {"failed",7} {"calls/s",8} {"p50 ms",8} {"p99 ms",8} {"max ms",8}");
        lock (_lock)
        {
            foreach (var (rpc, samples) in _latencies)
            {
                var failed = _failures.GetValueOrDefault(rpc);
                var calls = samples.Count + failed;
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{rpc,-16} {calls,8} {failed,7} {calls / duration.TotalSeconds,8:F1} {Percentile(rpc, 50),8:F1} {Percentile(rpc, 99),8:F1} {(samples.Count == 0 ? double.NaN : samples.Max()),8:F1}");
            }
            text.AppendLine(CultureInfo.InvariantCulture, $"total: {Calls} calls, {Failures} failed; at most {_maxRunning} jobs running at once (seen by GetStatus)");
            foreach (var failure in _firstFailures)
                text.AppendLine("  " + failure);
        }
        return text.ToString();
    }
}
