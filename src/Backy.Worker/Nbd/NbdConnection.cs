using System.Buffers.Binary;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Backy.Storage;
using Microsoft.Extensions.Logging;

namespace Backy.Worker.Nbd;

/// <summary>
/// One client connection: the fixed-newstyle handshake (this file), then transmission
/// (<c>NbdConnection.Transmission.cs</c>). A protocol violation closes this connection and nothing else; the
/// server never trusts a length before checking it against a limit.
/// </summary>
internal sealed partial class NbdConnection
{
    private readonly long _id;
    private readonly NbdExports _exports;
    private readonly X509Certificate2? _certificate;
    private readonly ILogger _logger;
    private readonly byte[] _header = new byte[28];
    private Stream _stream;
    private bool _tls;
    private bool _structured;
    private bool _allocationSelected;
    private string? _metaContextExport;

    public NbdConnection(long id, Stream stream, NbdExports exports, X509Certificate2? certificate, ILogger logger)
    {
        _id = id;
        _stream = stream;
        _exports = exports;
        _certificate = certificate;
        _logger = logger;
    }

    /// <summary>Thrown to end the connection with a reason for the log.</summary>
    private sealed class Hangup(string reason) : Exception(reason);

    /// <summary>Runs the connection to its end. Never throws for anything the client does.</summary>
    public async Task RunAsync(TimeSpan handshakeTimeout, CancellationToken cancellationToken)
    {
        string reason;
        try
        {
            NbdExport? export;
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // A client that connects and sends nothing must not hold a connection slot for ever.
                handshake.CancelAfter(handshakeTimeout);
                try { export = await HandshakeAsync(handshake.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new Hangup($"no export chosen within {handshakeTimeout.TotalSeconds:F0} s");
                }
            }
            if (export is null) reason = "client ended the handshake";
            else
            {
                _logger.ExportChosen(_id, export.Name);
                reason = await TransmitAsync(export, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Hangup h) { reason = h.Message; }
        catch (OperationCanceledException) { reason = "server stopping"; }
        catch (EndOfStreamException) { reason = "client disconnected"; }
        catch (IOException e) { reason = $"connection lost: {e.Message}"; }
        catch (System.Security.Authentication.AuthenticationException e) { reason = $"TLS handshake failed: {e.Message}"; }
        catch (ObjectDisposedException) { reason = "connection closed"; }
        finally
        {
            try { await _stream.DisposeAsync().ConfigureAwait(false); } catch (IOException) { }
        }
        _logger.ConnectionClosed(_id, reason);
    }

    /// <summary>Option haggling; returns the export chosen, or null when the client aborted.</summary>
    private async Task<NbdExport?> HandshakeAsync(CancellationToken cancellationToken)
    {
        var hello = new byte[18];
        BinaryPrimitives.WriteUInt64BigEndian(hello, NbdProtocol.InitMagic);
        BinaryPrimitives.WriteUInt64BigEndian(hello.AsSpan(8), NbdProtocol.OptionMagic);
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(16), NbdProtocol.FlagFixedNewstyle | NbdProtocol.FlagNoZeroes);
        await _stream.WriteAsync(hello, cancellationToken).ConfigureAwait(false);
        var clientFlags = BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(4, cancellationToken).ConfigureAwait(false));
        if ((clientFlags & ~(NbdProtocol.ClientFixedNewstyle | NbdProtocol.ClientNoZeroes)) != 0)
            throw new Hangup($"unknown client flags 0x{clientFlags:x}");
        var noZeroes = (clientFlags & NbdProtocol.ClientNoZeroes) != 0;

        while (true)
        {
            var head = await ReadAsync(16, cancellationToken).ConfigureAwait(false);
            if (BinaryPrimitives.ReadUInt64BigEndian(head) != NbdProtocol.OptionMagic)
                throw new Hangup("bad option magic");
            var option = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(8));
            var length = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(12));
            if (length > NbdProtocol.MaximumOption)
                throw new Hangup($"option {option} claims {length} bytes of data (limit {NbdProtocol.MaximumOption})");
            var data = await ReadAsync((int)length, cancellationToken).ConfigureAwait(false);

            if (_certificate is not null && !_tls && option is not (NbdProtocol.OptStartTls or NbdProtocol.OptAbort))
            {
                // FORCEDTLS: nothing but STARTTLS before TLS; NBD_OPT_EXPORT_NAME cannot be answered with an error.
                if (option == NbdProtocol.OptExportName) throw new Hangup("NBD_OPT_EXPORT_NAME before TLS");
                await ReplyErrorAsync(option, NbdProtocol.RepErrTlsReqd, "this server requires TLS (NBD_OPT_STARTTLS)", cancellationToken).ConfigureAwait(false);
                continue;
            }

            switch (option)
            {
                case NbdProtocol.OptExportName:
                {
                    NbdExport export;
                    try { export = await _exports.OpenAsync(Utf8(data), cancellationToken).ConfigureAwait(false); }
                    catch (BackyException e) { throw new Hangup($"NBD_OPT_EXPORT_NAME: {e.Message}"); }
                    var reply = new byte[noZeroes ? 10 : 134];
                    BinaryPrimitives.WriteUInt64BigEndian(reply, (ulong)export.Size);
                    BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), export.Flags);
                    await _stream.WriteAsync(reply, cancellationToken).ConfigureAwait(false);
                    return export;
                }
                case NbdProtocol.OptAbort:
                    await ReplyAsync(option, NbdProtocol.RepAck, [], cancellationToken).ConfigureAwait(false);
                    return null;
                case NbdProtocol.OptList:
                    await ListAsync(data, cancellationToken).ConfigureAwait(false);
                    break;
                case NbdProtocol.OptStartTls:
                    await StartTlsAsync(data, cancellationToken).ConfigureAwait(false);
                    break;
                case NbdProtocol.OptInfo:
                case NbdProtocol.OptGo:
                {
                    var export = await InfoAsync(option, data, cancellationToken).ConfigureAwait(false);
                    if (export is not null && option == NbdProtocol.OptGo) return export;
                    break;
                }
                case NbdProtocol.OptStructuredReply:
                    if (data.Length != 0)
                        await ReplyErrorAsync(option, NbdProtocol.RepErrInvalid, "NBD_OPT_STRUCTURED_REPLY takes no data", cancellationToken).ConfigureAwait(false);
                    else if (_structured)
                        await ReplyErrorAsync(option, NbdProtocol.RepErrInvalid, "structured replies are already negotiated", cancellationToken).ConfigureAwait(false);
                    else
                    {
                        _structured = true;
                        await ReplyAsync(option, NbdProtocol.RepAck, [], cancellationToken).ConfigureAwait(false);
                    }
                    break;
                case NbdProtocol.OptListMetaContext:
                case NbdProtocol.OptSetMetaContext:
                    await MetaContextAsync(option, data, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await ReplyErrorAsync(option, NbdProtocol.RepErrUnsup, $"option {option} is not supported by backy", cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task ListAsync(byte[] data, CancellationToken cancellationToken)
    {
        if (data.Length != 0)
        {
            await ReplyErrorAsync(NbdProtocol.OptList, NbdProtocol.RepErrInvalid, "NBD_OPT_LIST takes no data", cancellationToken).ConfigureAwait(false);
            return;
        }
        foreach (var revision in _exports.List())
        {
            var name = System.Text.Encoding.UTF8.GetBytes(revision.Id);
            var description = System.Text.Encoding.UTF8.GetBytes(NbdExport.Describe(revision));
            var payload = new byte[4 + name.Length + description.Length];
            BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)name.Length);
            name.CopyTo(payload, 4);
            description.CopyTo(payload, 4 + name.Length);
            await ReplyAsync(NbdProtocol.OptList, NbdProtocol.RepServer, payload, cancellationToken).ConfigureAwait(false);
        }
        await ReplyAsync(NbdProtocol.OptList, NbdProtocol.RepAck, [], cancellationToken).ConfigureAwait(false);
    }

    private async Task StartTlsAsync(byte[] data, CancellationToken cancellationToken)
    {
        if (_certificate is null)
        {
            await ReplyErrorAsync(NbdProtocol.OptStartTls, NbdProtocol.RepErrPolicy, "TLS is not configured (start nbd-server with --tls-cert and --tls-key)", cancellationToken).ConfigureAwait(false);
            return;
        }
        if (_tls || data.Length != 0)
        {
            await ReplyErrorAsync(NbdProtocol.OptStartTls, NbdProtocol.RepErrInvalid, _tls ? "TLS is already active" : "NBD_OPT_STARTTLS takes no data", cancellationToken).ConfigureAwait(false);
            return;
        }
        await ReplyAsync(NbdProtocol.OptStartTls, NbdProtocol.RepAck, [], cancellationToken).ConfigureAwait(false);
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        _stream = ssl;
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = _certificate,
            ClientCertificateRequired = false,
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
        }, cancellationToken).ConfigureAwait(false);
        _tls = true;
        // The spec: after STARTTLS the client negotiates structured replies and meta contexts again.
        _structured = false;
        _allocationSelected = false;
        _metaContextExport = null;
    }

    /// <summary>NBD_OPT_INFO and NBD_OPT_GO: the export's size, flags, name, description and block sizes.</summary>
    private async Task<NbdExport?> InfoAsync(uint option, byte[] data, CancellationToken cancellationToken)
    {
        if (!TryParseInfo(data, out var name, out var requests))
        {
            await ReplyErrorAsync(option, NbdProtocol.RepErrInvalid, "malformed NBD_OPT_INFO/NBD_OPT_GO", cancellationToken).ConfigureAwait(false);
            return null;
        }
        NbdExport export;
        try { export = await _exports.OpenAsync(name, cancellationToken).ConfigureAwait(false); }
        catch (BackyException e)
        {
            await ReplyErrorAsync(option, NbdProtocol.RepErrUnknown, e.Message, cancellationToken).ConfigureAwait(false);
            return null;
        }
        var info = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(info, NbdProtocol.InfoExport);
        BinaryPrimitives.WriteUInt64BigEndian(info.AsSpan(2), (ulong)export.Size);
        BinaryPrimitives.WriteUInt16BigEndian(info.AsSpan(10), export.Flags);
        await ReplyAsync(option, NbdProtocol.RepInfo, info, cancellationToken).ConfigureAwait(false);
        if (requests.Contains(NbdProtocol.InfoName))
            await ReplyAsync(option, NbdProtocol.RepInfo, InfoString(NbdProtocol.InfoName, export.Name), cancellationToken).ConfigureAwait(false);
        if (requests.Contains(NbdProtocol.InfoDescription))
            await ReplyAsync(option, NbdProtocol.RepInfo, InfoString(NbdProtocol.InfoDescription, export.Description), cancellationToken).ConfigureAwait(false);
        // Sent whether asked or not: the spec allows it, and clients that did not ask assume 1-byte alignment,
        // which we serve too (the minimum is a hint for efficiency here, not a rule we enforce).
        var sizes = new byte[14];
        BinaryPrimitives.WriteUInt16BigEndian(sizes, NbdProtocol.InfoBlockSize);
        // An image whose size is not a multiple of 512 (a file, never a disk) gets 1: clients that honour the
        // minimum could not read its last bytes otherwise.
        BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(2), export.Size % NbdProtocol.MinimumBlock == 0 ? NbdProtocol.MinimumBlock : 1);
        BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(6), NbdProtocol.PreferredBlock);
        BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(10), NbdProtocol.MaximumPayload);
        await ReplyAsync(option, NbdProtocol.RepInfo, sizes, cancellationToken).ConfigureAwait(false);
        await ReplyAsync(option, NbdProtocol.RepAck, [], cancellationToken).ConfigureAwait(false);
        if (option == NbdProtocol.OptGo && _metaContextExport is not null && _metaContextExport != name)
            _allocationSelected = false; // contexts were chosen for another export
        return export;
    }

    private static bool TryParseInfo(byte[] data, out string name, out HashSet<ushort> requests)
    {
        name = "";
        requests = [];
        if (data.Length < 6) return false;
        var nameLength = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (nameLength > data.Length - 6) return false;
        name = Utf8(data.AsSpan(4, (int)nameLength));
        var at = 4 + (int)nameLength;
        var count = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at));
        at += 2;
        if (data.Length - at != count * 2) return false;
        for (var i = 0; i < count; i++) requests.Add(BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at + 2 * i)));
        return true;
    }

    /// <summary>NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: we know one context, base:allocation.</summary>
    private async Task MetaContextAsync(uint option, byte[] data, CancellationToken cancellationToken)
    {
        var set = option == NbdProtocol.OptSetMetaContext;
        if (set) _allocationSelected = false; // "replaces all previously-set metadata contexts (including when this command fails)"
        if (!_structured)
        {
            await ReplyErrorAsync(option, NbdProtocol.RepErrInvalid, "negotiate structured replies first", cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!TryParseMetaContext(data, out var name, out var queries))
        {
            await ReplyErrorAsync(option, NbdProtocol.RepErrInvalid, "malformed meta context request", cancellationToken).ConfigureAwait(false);
            return;
        }
        try { await _exports.OpenAsync(name, cancellationToken).ConfigureAwait(false); }
        catch (BackyException e)
        {
            await ReplyErrorAsync(option, NbdProtocol.RepErrUnknown, e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        // LIST with no query lists everything; "base:" lists the namespace; SET selects exact names only.
        var match = set
            ? queries.Contains(NbdProtocol.BaseAllocation)
            : queries.Count == 0 || queries.Any(q => q is NbdProtocol.BaseAllocation or "base:");
        if (match)
        {
            var context = System.Text.Encoding.UTF8.GetBytes(NbdProtocol.BaseAllocation);
            var payload = new byte[4 + context.Length];
            BinaryPrimitives.WriteUInt32BigEndian(payload, set ? NbdProtocol.BaseAllocationId : 0);
            context.CopyTo(payload, 4);
            await ReplyAsync(option, NbdProtocol.RepMetaContext, payload, cancellationToken).ConfigureAwait(false);
        }
        if (set)
        {
            _allocationSelected = match;
            _metaContextExport = name;
        }
        await ReplyAsync(option, NbdProtocol.RepAck, [], cancellationToken).ConfigureAwait(false);
    }

    private static bool TryParseMetaContext(byte[] data, out string name, out List<string> queries)
    {
        name = "";
        queries = [];
        if (data.Length < 8) return false;
        var nameLength = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (nameLength > data.Length - 8) return false;
        name = Utf8(data.AsSpan(4, (int)nameLength));
        var at = 4 + (int)nameLength;
        var count = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
        at += 4;
        for (var i = 0u; i < count; i++)
        {
            if (data.Length - at < 4) return false;
            var length = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
            at += 4;
            if (length > data.Length - at) return false;
            queries.Add(Utf8(data.AsSpan(at, (int)length)));
            at += (int)length;
        }
        return at == data.Length;
    }

    private static byte[] InfoString(ushort type, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var b = new byte[2 + bytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(b, type);
        bytes.CopyTo(b, 2);
        return b;
    }

    private static string Utf8(ReadOnlySpan<byte> bytes) => System.Text.Encoding.UTF8.GetString(bytes);

    private ValueTask ReplyAsync(uint option, uint type, ReadOnlySpan<byte> data, CancellationToken cancellationToken) =>
        _stream.WriteAsync(NbdWire.OptionReply(option, type, data), cancellationToken);

    private ValueTask ReplyErrorAsync(uint option, uint type, string message, CancellationToken cancellationToken) =>
        _stream.WriteAsync(NbdWire.OptionError(option, type, message), cancellationToken);

    private async Task<byte[]> ReadAsync(int length, CancellationToken cancellationToken)
    {
        var b = length == 0 ? [] : new byte[length];
        await _stream.ReadExactlyAsync(b, cancellationToken).ConfigureAwait(false);
        return b;
    }
}
