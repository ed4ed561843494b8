namespace Backy.Protocol;
