namespace Backy.Tests;

public class SmokeTests
{
    [Test]
    public void Solution_builds() => Assert.That(typeof(SmokeTests).Assembly, Is.Not.Null);
}
