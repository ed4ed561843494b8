namespace Backy.Sources;
