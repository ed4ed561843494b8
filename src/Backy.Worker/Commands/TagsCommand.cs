using System.CommandLine;
using Backy.Storage.Editing;
using Backy.Storage.Schedules;

namespace Backy.Worker.Commands;

/// <summary>
/// <c>tags [-f] [--autoremove] [--expect TAGS] {set,add,remove} REVISION TAGS</c>. With
/// <c>--expect</c> the change is a compare-and-set: exit 1 and no change when the revision's tags
/// differ (the daemon's peer sync relies on this).
/// </summary>
public static class TagsCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var force = ForceOption.Create();
        var autoremove = new Option<bool>("--autoremove") { Description = "Remove the revision if it has no tags left" };
        var expect = new Option<string?>("--expect")
        {
            Description = "Only change the tags if the revision's current tags equal these (comma-separated)",
            HelpName = "TAGS",
        };
        var action = new Argument<string>("ACTION") { Description = "set, add or remove" };
        action.AcceptOnlyFromAmong("set", "add", "remove");
        var revision = new Argument<string>("REVISION") { Description = "A revision id, 0 = newest, 1 = the one before, last/latest, or a tag" };
        var tags = new Argument<string>("TAGS") { Description = "Comma-separated tags (one argument; \"\" for none)" };
        var command = new Command("tags", "Set, add or remove tags of a revision") { force, autoremove, expect, action, revision, tags };
        command.SetAction((parse, ct) => JobCommandLine.RunAsync(parse, globals, "tags", (ctx, _) =>
        {
            var expected = parse.GetValue(expect) is { } e ? TagSet.Parse(e) : null;
            new RevisionEditor(ctx.Job, ctx.Time, ctx.Logger).EditTags(
                TagActions.Parse(parse.GetValue(action)!), parse.GetValue(revision)!, TagSet.Parse(parse.GetValue(tags)!),
                expected, parse.GetValue(autoremove), parse.GetValue(force));
            return Task.FromResult(0);
        }, ct));
        return command;
    }
}
