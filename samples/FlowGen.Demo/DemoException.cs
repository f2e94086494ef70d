using System;

namespace FlowGen.Demo;

/// <summary>A problem with the user's arguments or input data: reported as a one-line message with exit code 2.</summary>
internal sealed class DemoException(string message) : Exception(message);
