using System;
using System.IO;

namespace FlowGen.Tests.Infrastructure;

/// <summary>A read-only stream over bytes that cannot seek or tell its length and returns at most <paramref name="maxRead"/> bytes per read (short reads), like a network stream.</summary>
public sealed class UnseekableStream(byte[] bytes, int maxRead = 1000) : Stream
{
    private readonly MemoryStream _inner = new(bytes, writable: false);
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, maxRead));
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
