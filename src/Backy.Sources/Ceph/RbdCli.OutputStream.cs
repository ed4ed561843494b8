using Backy.Storage;
using Backy.Storage.IO;
using CliWrap;

namespace Backy.Sources.Ceph;

public sealed partial class RbdCli
{
    private Stream StartStream(string[] arguments, long? expectedLength)
    {
        var stream = new OutputStream(this, arguments, expectedLength);
        stream.Start();
        return stream;
    }

    /// <summary>
    /// rbd's stdout handed to the caller as a read-only stream, without an intermediate copy: CliWrap gives the
    /// pipe to our target delegate, which publishes it and then waits until the caller is done. The end of the
    /// stream is where rbd's exit status is checked; disposing early kills rbd.
    /// </summary>
    private sealed class OutputStream : Stream
    {
        private readonly RbdCli _owner;
        private readonly string[] _arguments;
        private readonly long? _expectedLength;
        private readonly StderrTail _stderr;
        private readonly TaskCompletionSource<Stream> _stdout = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _kill = new();
        private Task<CommandResult>? _run;
        private long _position;
        private bool _ended;

        public OutputStream(RbdCli owner, string[] arguments, long? expectedLength)
        {
            _owner = owner;
            _arguments = arguments;
            _expectedLength = expectedLength;
            _stderr = new StderrTail(owner);
        }

        public void Start()
        {
            var command = _owner.Build(_arguments)
                .WithStandardOutputPipe(PipeTarget.Create(async (stdout, ct) =>
                {
                    LogPipe(_owner._logger, _arguments[0], stdout.GetType().Name, stdout is System.IO.Pipes.PipeStream pipe ? DurableFile.TryGrowPipe((int)pipe.SafePipeHandle.DangerousGetHandle()) : -1);
                    _stdout.TrySetResult(stdout);
                    await _released.Task.WaitAsync(ct).ConfigureAwait(false);
                }))
                .WithStandardErrorPipe(_stderr.Target);
            _run = _owner.Execute(command, _arguments, _kill.Token, CancellationToken.None).Task;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_ended || buffer.Length == 0) return 0;
            var stdout = await StdoutAsync().ConfigureAwait(false);
            int n;
            try
            {
                n = await stdout.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (IOException e)
            {
                throw new BackyException($"reading from rbd {_arguments[0]} failed: {e.Message}", e);
            }
            _position += n;
            if (n == 0)
            {
                await FinishAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (_expectedLength is { } expected && _position >= expected)
            {
                // The caller will stop reading here: make sure rbd has nothing more to say and exited cleanly.
                var probe = new byte[1];
                if (await stdout.ReadAsync(probe, cancellationToken).ConfigureAwait(false) != 0)
                    throw new BackyException($"rbd {_arguments[0]} produced more than the expected {expected} bytes");
                await FinishAsync(cancellationToken).ConfigureAwait(false);
            }
            return n;
        }

        private async Task<Stream> StdoutAsync()
        {
            var run = _run ?? throw new InvalidOperationException("not started");
            // If rbd cannot even start, the run fails before the pipe target ever sees stdout.
            var first = await Task.WhenAny(_stdout.Task, run).ConfigureAwait(false);
            if (first == run && !_stdout.Task.IsCompleted) await run.ConfigureAwait(false);
            return await _stdout.Task.ConfigureAwait(false);
        }

        private async Task FinishAsync(CancellationToken cancellationToken)
        {
            _ended = true;
            _released.TrySetResult();
            var result = await _run!.WaitAsync(cancellationToken).ConfigureAwait(false);
            LogExited(_owner._logger, _arguments[0], result.ExitCode, result.RunTime.TotalMilliseconds);
            if (result.ExitCode != 0) throw _owner.Failure(_arguments, result.ExitCode, _stderr.Text);
        }

        public override async ValueTask DisposeAsync()
        {
            if (_run is { } run && !run.IsCompleted)
            {
                if (!_ended) _kill.Cancel();   // the caller gave up early: rbd must not block on a full pipe
                _released.TrySetResult();
                try { await run.ConfigureAwait(false); }
                catch (OperationCanceledException) { }
                catch (Exception e) when (e is BackyException or IOException) { }
            }
            _kill.Dispose();
            await base.DisposeAsync().ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _run is { IsCompleted: false }) DisposeAsync().AsTask().GetAwaiter().GetResult();
            base.Dispose(disposing);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
