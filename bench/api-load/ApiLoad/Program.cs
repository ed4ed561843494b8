using System.Globalization;
using Backy.Bench.ApiLoad;

// api-load URL TOKEN CLIENTS SECONDS [DEAD-BACKUP]: prints per-RPC calls, failures and latency
// percentiles; exit 1 when any call failed. Runs every job first (like `backy client runall`) so
// backups go through the worker slots while the load is measured.
if (args.Length is < 4 or > 5)
{
    Console.Error.WriteLine("usage: api-load URL TOKEN CLIENTS SECONDS [DEAD-BACKUP]");
    return 2;
}
var options = new LoadOptions(new Uri(args[0]), args[1], int.Parse(args[2], CultureInfo.InvariantCulture),
    TimeSpan.FromSeconds(double.Parse(args[3], CultureInfo.InvariantCulture)), args.Length == 5 ? args[4] : null);
var jobs = await LoadRun.WaitUntilServingAsync(options.Url, options.Token, TimeSpan.FromSeconds(60), CancellationToken.None);
var started = await LoadRun.RunAllAsync(options.Url, options.Token, CancellationToken.None);
Console.WriteLine($"api-load: {options.Url} reports {jobs} jobs, {started} started now; {options.Clients} clients for {options.Duration.TotalSeconds:F0} s");
var report = await LoadRun.RunAsync(options, CancellationToken.None);
Console.Write(report.Format(options.Duration));
return report.Failures == 0 ? 0 : 1;
