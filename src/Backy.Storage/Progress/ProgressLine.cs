using System.Globalization;
using System.Text;

namespace Backy.Storage.Progress;

/// <summary>
/// The one line format in which a worker started by the daemon tells it how far it is: on stderr, the pipe the
/// daemon already reads line by line (Backy.Daemon README, "Progress"). A worker writes these lines only when
/// <see cref="EnvironmentVariable"/> is <see cref="LinesValue"/>, which only the daemon's launcher sets: a person
/// running a command, a log or a pipe never sees them. The daemon takes them out of its log and error messages.
/// <code>backy-progress op=backup done=3 total=12 read=12582912 written=4194304 rate=4194304 eta=9</code>
/// (eta in whole seconds, missing while unknown). Unknown keys are ignored, so that fields can be added.
/// </summary>
public static class ProgressLine
{
    public const string Prefix = "backy-progress ";
    public const string EnvironmentVariable = "BACKY_PROGRESS";
    public const string LinesValue = "lines";

    public static string Format(ProgressEstimate estimate)
    {
        var p = estimate.Progress;
        var line = new StringBuilder(Prefix, 128);
        line.Append(CultureInfo.InvariantCulture, $"op={p.Operation} done={p.BlocksDone} total={p.BlocksTotal} read={p.BytesRead} written={p.BytesWritten} rate={(long)estimate.BytesPerSecond}");
        if (estimate.Remaining is { } eta)
            line.Append(CultureInfo.InvariantCulture, $" eta={(long)Math.Ceiling(eta.TotalSeconds)}");
        return line.ToString();
    }

    public static bool IsProgress(string line) => line.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The estimate a line carries, or null when it is not a well-formed progress line.</summary>
    public static ProgressEstimate? TryParse(string line)
    {
        if (!IsProgress(line)) return null;
        string? op = null;
        long done = -1, total = -1, read = 0, written = 0, rate = 0;
        TimeSpan? eta = null;
        foreach (var field in line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = field.IndexOf('=');
            if (eq <= 0) return null;
            var key = field[..eq];
            var value = field[(eq + 1)..];
            if (key == "op") { op = value; continue; }
            if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)) continue;
            switch (key)
            {
                case "done": done = number; break;
                case "total": total = number; break;
                case "read": read = number; break;
                case "written": written = number; break;
                case "rate": rate = number; break;
                case "eta": eta = TimeSpan.FromSeconds(number); break;
            }
        }
        if (op is null || done < 0 || total < 0) return null;
        return new ProgressEstimate(new OperationProgress(op, done, total, read, written), rate, eta);
    }
}
