namespace Backy.Storage;
