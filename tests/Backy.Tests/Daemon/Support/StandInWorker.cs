namespace Backy.Tests.Daemon.Support;

/// <summary>
/// A real executable that the daemon starts in place of <c>backy-worker</c> (through BACKY_WORKER):
/// it parses the daemon's real command line, records "start|end|term ACTION JOB PID TIME" lines into
/// <see cref="RecordsPath"/> and, for backup, writes a complete <c>.rev</c> so that scheduling sees
/// history. Per job directory: a file <c>fail</c> makes backup exit 1 ("source not ready"),
/// <c>sleep</c> holds the backup that many seconds, <c>hold</c> holds it until the file is gone, <c>ignore-term</c> makes it ignore SIGTERM,
/// <c>fail-expire</c> makes expire exit 1 (a run that fails after its backup), <c>term-delay</c> makes it take that many seconds to stop after SIGTERM (a real backup finishing its writes).
/// </summary>
public sealed class StandInWorker
{
    public string Path { get; }
    public string RecordsPath { get; }

    public StandInWorker(string dir)
    {
        Path = System.IO.Path.Combine(dir, "stand-in-worker");
        RecordsPath = System.IO.Path.Combine(dir, "worker-records");
        File.WriteAllText(Path, Script.Replace("@RECORDS@", RecordsPath));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public IReadOnlyList<WorkerRecord> Records() => WorkerRecord.ReadAll(RecordsPath);

    private const string Script = """
        #!/bin/bash
        rec() { echo "$1 $action $(basename "$B") $$ $(date +%s.%N) $tags" >> "@RECORDS@"; }
        while getopts "t:b:l:" o; do case $o in t) T=$OPTARG;; b) B=$OPTARG;; l) L=$OPTARG;; esac; done
        shift $((OPTIND-1))
        action=$1; tags=$2
        [ -n "$T" ] || { echo "stand-in: missing -t TASKID" >&2; exit 2; }
        # The trap goes up before "start" is recorded: a test that signals as soon as it sees "start"
        # must find the handler in place (under load the gap between the two lines is long enough).
        if [ -e "$B/ignore-term" ] && [ "$action" = backup ]; then trap '' TERM; else trap 'kill $sp 2>/dev/null; rec term; if [ -e "$B/term-delay" ]; then sleep "$(cat "$B/term-delay")"; fi; exit 143' TERM; fi
        rec start
        echo "stand-in $action $tags (task $T)" >&2
        if [ "$action" = backup ]; then
          if [ -e "$B/fail" ]; then echo "source not ready: $B/fail exists" >&2; rec end; exit 1; fi
          if [ -e "$B/sleep" ]; then sleep "$(cat "$B/sleep")" & sp=$!; wait $sp; wait $sp; fi
          while [ -e "$B/hold" ]; do sleep 0.05; done
          id=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
          printf 'uuid: %s\ntimestamp: %s\ntags: [%s]\nstats: {duration: 0.5}\n' "$id" "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$tags" > "$B/$id.rev"
        fi
        if [ "$action" = expire ] && [ -e "$B/fail-expire" ]; then echo "expire: $B/fail-expire exists" >&2; rec end; exit 1; fi
        if [ "$action" = status ]; then cat "$B"/*.rev; fi
        rec end
        exit 0
        """;
}

/// <summary>One line of the stand-in's records.</summary>
public sealed record WorkerRecord(string Kind, string Action, string Job, int Pid, double Time, string Tags)
{
    public static IReadOnlyList<WorkerRecord> ReadAll(string path)
    {
        if (!File.Exists(path))
            return [];
        return File.ReadAllLines(path)
            .Select(l => l.Split(' ', 6))
            .Where(p => p.Length >= 5)
            .Select(p => new WorkerRecord(p[0], p[1], p[2], int.Parse(p[3]), double.Parse(p[4], System.Globalization.CultureInfo.InvariantCulture), p.Length > 5 ? p[5] : ""))
            .ToArray();
    }
}
