using System.CommandLine;
using Backy.Worker.Nbd;

namespace Backy.Worker.Commands;

/// <summary>
/// <c>nbd-server [--address A] [--port P] [--socket PATH] [--writable] [--tls-cert F --tls-key F]</c>: serves the
/// job's revisions over NBD until SIGTERM/SIGINT (file-level restore, instant boot).
/// </summary>
public static class NbdServerCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var address = new Option<string>("--address") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1", HelpName = "ADDRESS" };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free port, printed)", DefaultValueFactory = _ => 10809, HelpName = "PORT" };
        var socket = new Option<string?>("--socket") { Description = "Listen on this Unix socket instead of TCP", HelpName = "PATH" };
        var writable = new Option<bool>("--writable") { Description = "Accept writes into a copy-on-write overlay per revision, discarded when the server stops; the backup is never changed" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate: clients must then use TLS (NBD_OPT_STARTTLS)", HelpName = "FILE" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert", HelpName = "FILE" };
        // A bound, not an allocation: buffers are allocated as blocks are first decoded, so a revision smaller than
        // the bound costs its data, a larger one the bound. 256 MiB = 64 decoded blocks holds the working set of a
        // booting or browsed guest; each miss decodes and hash-checks a whole 4 MiB chunk (Nbd/README.md, "Speed").
        var cache = new Option<int>("--cache-mib") { Description = "At most this much memory for decoded blocks, shared by all exports, in MiB", DefaultValueFactory = _ => NbdServerSettings.DefaultCacheMiB, HelpName = "MIB" };
        var overlayDir = new Option<string?>("--overlay-dir") { Description = "Directory of the --writable overlay files (default: $TMPDIR)", HelpName = "DIRECTORY" };
        var command = new Command("nbd-server", "Serve the job's revisions over NBD (export names: revision ids or specs; empty = newest)")
        {
            address, port, socket, writable, tlsCert, tlsKey, cache, overlayDir,
        };
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "nbd-server", async (ctx, token) =>
        {
            var p = parse.GetValue(port);
            if (p is < 0 or > 65535) throw new Storage.BackyException($"invalid --port {p}: expected 0-65535");
            var mib = parse.GetValue(cache);
            if (mib < 4) throw new Storage.BackyException($"invalid --cache-mib {mib}: at least 4 (one block)");
            var settings = new NbdServerSettings(parse.GetValue(address)!, p, parse.GetValue(socket), parse.GetValue(writable),
                parse.GetValue(tlsCert), parse.GetValue(tlsKey), mib, parse.GetValue(overlayDir) ?? Path.GetTempPath());
            var server = new NbdServer(ctx.Job, settings, ctx.Logger);
            await server.RunAsync(a =>
            {
                ctx.Out.WriteLine($"listening on {a}");
                ctx.Out.Flush();
            }, token).ConfigureAwait(false);
            return 0;
        }, ct));
        return command;
    }
}
