using Backy.Daemon.Hosting;

// backy-daemon [-c CONFIG] [-l LOGFILE] [-v]: the same host as `backy scheduler`.
var options = new DaemonOptions();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "-c" or "--config" when i + 1 < args.Length:
            options = options with { ConfigPath = args[++i] };
            break;
        case "-l" or "--logfile" when i + 1 < args.Length:
            options = options with { LogFile = args[++i] };
            break;
        case "-v" or "--verbose":
            options = options with { Verbose = true };
            break;
        case "-c" or "--config" or "-l" or "--logfile":
            Console.Error.WriteLine($"backy-daemon: option '{args[i]}' needs a value (usage: backy-daemon [-c CONFIG] [-l LOGFILE] [-v])");
            return 1;
        case "-h" or "--help":
            Console.WriteLine("usage: backy-daemon [-c CONFIG] [-l LOGFILE] [-v]");
            return 0;
        default:
            Console.Error.WriteLine($"backy-daemon: unknown argument '{args[i]}' (usage: backy-daemon [-c CONFIG] [-l LOGFILE] [-v])");
            return 1;
    }
}
return await DaemonHost.RunAsync(options);
