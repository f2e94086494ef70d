using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using FlowGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace FlowGen.Tests;

/// <summary>README.md's first program, extracted from README.md itself (so the README cannot drift), compiled with the generator and run.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ReadmeTests
{
    internal static string RepositoryFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, name);
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "FlowGen.sln"))) return candidate;
        }
        throw new FileNotFoundException($"{name} not found above {AppContext.BaseDirectory}");
    }

    private static string FirstProgram()
    {
        string readme = File.ReadAllText(RepositoryFile("README.md"));
        Match m = Regex.Match(readme, @"<!-- first-program -->\s*```csharp\n(.*?)\n```", RegexOptions.Singleline);
        Assert.True(m.Success, "README.md has no ```csharp block after <!-- first-program -->");
        return m.Groups[1].Value;
    }

    [Fact]
    public void TheFirstProgramCompilesAndRuns()
    {
        GeneratorOutput result = GeneratorHarness.Run(FirstProgram());
        result.AssertNoGeneratorErrors();
        Compilation program = result.Compilation.WithOptions(((CSharpCompilationOptions)result.Compilation.Options).WithOutputKind(OutputKind.ConsoleApplication));
        using var stream = new MemoryStream();
        var emit = program.Emit(stream);
        Assert.True(emit.Success, "README's first program does not compile:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning)));
        stream.Position = 0;
        var context = new AssemblyLoadContext("ReadmeFirstProgram", isCollectible: true);
        Assembly assembly = context.LoadFromStream(stream);

        var output = new StringWriter(CultureInfo.InvariantCulture);
        TextWriter previous = Console.Out;
        Console.SetOut(output);
        try
        {
            assembly.EntryPoint!.Invoke(null, [Array.Empty<string>()]);
        }
        finally
        {
            Console.SetOut(previous);
            context.Unload();
        }
        string text = output.ToString();
        Assert.Matches("^(Completed|Stopped early): ", text);
        Assert.Contains("restored: True", text, StringComparison.Ordinal);
        double nll = double.Parse(Regex.Match(text, @"test NLL (-?[0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        double radius = double.Parse(Regex.Match(text, @"for c = 2: ([0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        // rings of radius c = 1, 2, 3 (radial noise 0.1, and 0.05 in y): the conditional entropy is
        // E_c[log 2πc] + ½ log(2πe·0.1²) ≈ 1.55 nats (a little more with the y noise); the NLL is bounded below by it
        Assert.InRange(nll, 1.45, 1.9);
        Assert.InRange(radius, 1.85, 2.15);
    }
}

/// <summary>Tests that redirect Console.Out run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console";
}
