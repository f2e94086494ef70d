using System;
using System.Globalization;
using System.Linq;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Parsing;
using FlowGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace FlowGen.Tests;

/// <summary>
/// A bug inside FlowGen (an exception in the parser or the emitter) must not crash the build (CS8785) and must not pass
/// for a user error: it is FG0021 "Internal FlowGen error" at the class, naming the exception, and only that class is
/// left out. The faults are injected through the internal <c>TestFault</c> hooks, for a class name only these tests use
/// (other test classes run the generator in parallel). The tests of this class run one after another.
/// </summary>
public class InternalErrorDiagnosticTests
{
    private const string InternalErrorId = "FG0021";

    private static GeneratorOutput RunWithFault(ref Action<string>? hook, string faultyClass)
    {
        hook = name => { if (name == faultyClass) throw new InvalidOperationException("injected test fault {0}"); };
        try
        {
            return GeneratorHarness.Run(
                "using FlowGen;\nnamespace N;\n" +
                $"[CouplingFlow(Dim = 4, Layers = 2)]\npublic partial class {faultyClass} {{ }}\n" +
                "[CouplingFlow(Dim = 3, Layers = 1)]\npublic partial class StillGenerated { }\n");
        }
        finally
        {
            hook = null;
        }
    }

    private static void AssertInternalErrorAtTheClass(GeneratorOutput result, string faultyClass, string doing)
    {
        Assert.All(result.RunResult.Results, r => Assert.Null(r.Exception));
        Assert.DoesNotContain(result.Diagnostics, d => d.Id is "CS8784" or "CS8785");
        Diagnostic d = Assert.Single(result.Diagnostics.Where(x => x.Id.StartsWith("FG", StringComparison.Ordinal)));
        Assert.Equal(InternalErrorId, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity);
        Assert.Equal("Internal FlowGen error", d.Descriptor.Title.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(faultyClass, result.Compilation.SyntaxTrees.First().GetText().ToString(d.Location.SourceSpan));
        string message = d.GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains(doing, message, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: injected test fault {0}", message, StringComparison.Ordinal);
        Assert.Contains("please report it", message, StringComparison.Ordinal);
        // the other flow is generated; nothing for the faulty one
        var hints = result.RunResult.Results.SelectMany(r => r.GeneratedSources).Select(s => s.HintName).ToList();
        Assert.Equal(new[] { "N.StillGenerated.g.cs" }, hints);
    }

    [Fact]
    [ExpectsDiagnostic(InternalErrorId)]
    public void AnExceptionInTheParserIsFG0021AtTheClass() =>
        AssertInternalErrorAtTheClass(RunWithFault(ref FlowParser.TestFault, "ParserFaultFlow"), "ParserFaultFlow", "reading the declaration of 'ParserFaultFlow'");

    [Fact]
    [ExpectsDiagnostic(InternalErrorId)]
    public void AnExceptionInTheEmitterIsFG0021AtTheClass() =>
        AssertInternalErrorAtTheClass(RunWithFault(ref FlowEmitter.TestFault, "EmitterFaultFlow"), "EmitterFaultFlow", "generating the code of 'N.EmitterFaultFlow'");
}
