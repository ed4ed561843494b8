using CliWrap;

namespace Backy.Sources.Ceph;

public sealed partial class RbdCli
{
    /// <summary>
    /// Collects rbd's stderr: every line goes to the log, the last lines are kept for the exception message
    /// (bounded, because a client with debug logging turned on can print megabytes).
    /// </summary>
    private sealed class StderrTail
    {
        private const int MaxLines = 50;
        private readonly Queue<string> _lines = new();
        private readonly RbdCli _owner;

        public StderrTail(RbdCli owner)
        {
            _owner = owner;
            Target = PipeTarget.ToDelegate(Add);
        }

        public PipeTarget Target { get; }

        public string Text
        {
            get { lock (_lines) return string.Join('\n', _lines); }
        }

        private void Add(string line)
        {
            LogStderr(_owner._logger, line);
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > MaxLines) _lines.Dequeue();
            }
        }
    }
}
