namespace Backy.Worker.Nbd;

/// <summary>
/// The numbers of the NBD protocol (NetworkBlockDevice/nbd doc/proto.md, fixed newstyle). Frozen: they are the
/// protocol, not ours to change.
/// </summary>
internal static class NbdProtocol
{
    public const ulong InitMagic = 0x4e42444d41474943;   // "NBDMAGIC"
    public const ulong OptionMagic = 0x49484156454F5054; // "IHAVEOPT"
    public const ulong OptionReplyMagic = 0x3e889045565a9;
    public const uint RequestMagic = 0x25609513;
    public const uint SimpleReplyMagic = 0x67446698;
    public const uint StructuredReplyMagic = 0x668e33ef;

    // Handshake flags (server) and client flags.
    public const ushort FlagFixedNewstyle = 1 << 0;
    public const ushort FlagNoZeroes = 1 << 1;
    public const uint ClientFixedNewstyle = 1 << 0;
    public const uint ClientNoZeroes = 1 << 1;

    // Transmission flags.
    public const ushort HasFlags = 1 << 0;
    public const ushort ReadOnly = 1 << 1;
    public const ushort SendFlush = 1 << 2;
    public const ushort SendFua = 1 << 3;
    public const ushort SendTrim = 1 << 5;
    public const ushort SendWriteZeroes = 1 << 6;
    public const ushort SendDf = 1 << 7;
    public const ushort CanMultiConn = 1 << 8;
    public const ushort SendCache = 1 << 10;
    public const ushort SendFastZero = 1 << 11;

    // Options.
    public const uint OptExportName = 1;
    public const uint OptAbort = 2;
    public const uint OptList = 3;
    public const uint OptStartTls = 5;
    public const uint OptInfo = 6;
    public const uint OptGo = 7;
    public const uint OptStructuredReply = 8;
    public const uint OptListMetaContext = 9;
    public const uint OptSetMetaContext = 10;

    // Option replies.
    public const uint RepAck = 1;
    public const uint RepServer = 2;
    public const uint RepInfo = 3;
    public const uint RepMetaContext = 4;
    public const uint RepErrUnsup = 0x80000001;
    public const uint RepErrPolicy = 0x80000002;
    public const uint RepErrInvalid = 0x80000003;
    public const uint RepErrTlsReqd = 0x80000005;
    public const uint RepErrUnknown = 0x80000006;
    public const uint RepErrShutdown = 0x80000007;

    // Info types of NBD_OPT_INFO / NBD_OPT_GO.
    public const ushort InfoExport = 0;
    public const ushort InfoName = 1;
    public const ushort InfoDescription = 2;
    public const ushort InfoBlockSize = 3;

    // Commands and command flags.
    public const ushort CmdRead = 0;
    public const ushort CmdWrite = 1;
    public const ushort CmdDisc = 2;
    public const ushort CmdFlush = 3;
    public const ushort CmdTrim = 4;
    public const ushort CmdCache = 5;
    public const ushort CmdWriteZeroes = 6;
    public const ushort CmdBlockStatus = 7;
    public const ushort CmdFlagFua = 1 << 0;
    public const ushort CmdFlagNoHole = 1 << 1;
    public const ushort CmdFlagDf = 1 << 2;
    public const ushort CmdFlagReqOne = 1 << 3;
    public const ushort CmdFlagFastZero = 1 << 4;

    // Structured replies.
    public const ushort ReplyFlagDone = 1 << 0;
    public const ushort ReplyNone = 0;
    public const ushort ReplyOffsetData = 1;
    public const ushort ReplyOffsetHole = 2;
    public const ushort ReplyBlockStatus = 5;
    public const ushort ReplyError = 0x8001;
    public const ushort ReplyErrorOffset = 0x8002;

    // Errors.
    public const uint EPERM = 1;
    public const uint EIO = 5;
    public const uint EINVAL = 22;
    public const uint ENOSPC = 28;
    public const uint EOVERFLOW = 75;
    public const uint ESHUTDOWN = 108;

    // base:allocation states.
    public const uint StateHole = 1 << 0;
    public const uint StateZero = 1 << 1;

    public const string BaseAllocation = "base:allocation";
    public const uint BaseAllocationId = 1;

    /// <summary>Block sizes we advertise: 512 so that partition tables and 512-byte-sector guests work (a 4 KiB
    /// minimum is what broke Benji's users), 4 KiB preferred (the overlay's page), 32 MiB maximum payload (the
    /// spec's limit that every client accepts without calling it a denial of service).</summary>
    public const uint MinimumBlock = 512;
    public const uint PreferredBlock = 4096;
    public const uint MaximumPayload = 32 * 1024 * 1024;

    /// <summary>Longest option we read: an export name is at most 4096 bytes, a meta-context query list a few
    /// more. A longer one is a client we disconnect instead of reading gigabytes from.</summary>
    public const int MaximumOption = 64 * 1024;
}
