using Backy.Storage.Schedules;

namespace Backy.Storage.Editing;

/// <summary>What <c>tags {set,add,remove}</c> does with the given tag set.</summary>
public enum TagAction
{
    Set,
    Add,
    Remove,
}

public static class TagActions
{
    public static TagAction Parse(string text) => text switch
    {
        "set" => TagAction.Set,
        "add" => TagAction.Add,
        "remove" => TagAction.Remove,
        _ => throw new BackyException($"unknown tag action '{text}' (use set, add or remove)"),
    };

    public static string ToText(this TagAction action) => action.ToString().ToLowerInvariant();

    /// <summary>The revision's tags after the action.</summary>
    public static SortedSet<string> Apply(this TagAction action, IEnumerable<string> current, IReadOnlySet<string> given)
    {
        var result = new SortedSet<string>(action == TagAction.Set ? [] : current, StringComparer.Ordinal);
        if (action == TagAction.Remove)
            result.ExceptWith(given);
        else
            result.UnionWith(given);
        return result;
    }

    /// <summary>Removing tags never needs validation: it cannot add a tag expire would not know.</summary>
    public static bool NeedsValidation(this TagAction action) => action != TagAction.Remove;

    internal static string Show(IEnumerable<string> tags)
    {
        var text = string.Join(",", tags.Order(StringComparer.Ordinal));
        return text.Length == 0 ? "(none)" : text;
    }

    internal static bool SameAs(this IEnumerable<string> a, IEnumerable<string> b) => TagSet.SetEquals(a, b);
}
