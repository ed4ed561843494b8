using System.CommandLine;

namespace Backy.Cli.Client;

/// <summary><c>backy client ...</c>: talks to a running daemon over gRPC.</summary>
public static class ClientCommand
{
    public static Command Create()
    {
        var command = new Command("client", "Query and control a running backy daemon");
        return command;
    }
}
