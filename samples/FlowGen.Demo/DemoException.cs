using System;

namespace FlowGen.Demo;

/// <summary>A problem with the user's input data or choice of flow: reported as a one-line message with exit code 2 (a malformed command
/// line is System.CommandLine's parse error, exit code 1).</summary>
internal sealed class DemoException(string message) : Exception(message);
