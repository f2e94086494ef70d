using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// ONNX Runtime's log is process-wide: test classes run one after the other, so that the warnings a test sees are its own
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace FlowGen.Onnx.Tests;

/// <summary>
/// ONNX Runtime for the tests: one process-wide environment whose log (warning level and above) is captured, so that a test
/// can assert that loading and running a graph logged no warning; sessions on the CPU execution provider.
/// </summary>
internal static class Ort
{
    private static readonly ConcurrentQueue<string> log = new();
    private static readonly DOrtLoggingFunction logger = OnLog;   // kept alive: native code calls it
    private static readonly object gate = new();
    private static bool created;

    private static void OnLog(IntPtr param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message)
    {
        if (severity >= OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING) log.Enqueue($"[{severity}] {category} {codeLocation}: {message}");
    }

    /// <summary>Creates the environment with the capturing logger (once, before any session of the process).</summary>
    public static void EnsureEnvironment()
    {
        lock (gate)
        {
            if (created) return;
            var options = new EnvironmentCreationOptions
            {
                logId = "flowgen-onnx-tests",
                logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
                loggingFunction = logger,
            };
            OrtEnv.CreateInstanceWithOptions(ref options);
            created = true;
        }
    }

    /// <summary>Every message logged at warning level or above since the process started.</summary>
    public static IReadOnlyList<string> Messages => log.ToArray();

    /// <summary>A CPU session on <paramref name="model"/>, logging at warning level.</summary>
    public static InferenceSession Session(byte[] model)
    {
        EnsureEnvironment();
        var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, LogId = "flowgen-onnx-test-session" };
        if (Environment.GetEnvironmentVariable("FLOWGEN_ORT_NOOPT") == "1") options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
        return new InferenceSession(model, options);
    }

    /// <summary>Runs the session on named row-major inputs ([rows, width] each) and returns every output flattened.</summary>
    public static Dictionary<string, T[]> Run<T>(InferenceSession session, params (string Name, T[] Values, int Width)[] inputs) where T : unmanaged
    {
        var values = new List<NamedOnnxValue>();
        foreach (var (name, data, width) in inputs)
            values.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<T>(data, new[] { data.Length / width, width })));
        using var results = session.Run(values);
        // outputs of another element type (a mixture's int64 label) are read by OrtValues.Run
        return results.Where(r => r.Value is Tensor<T>).ToDictionary(r => r.Name, r => r.AsTensor<T>().ToArray());
    }
}

/// <summary>Running graphs whose inputs and outputs are not all of the flow's element type (int64 components and labels,
/// the DOUBLE uniform of a float mixture's Sample graph).</summary>
internal static class OrtValues
{
    public static NamedOnnxValue Tensor<TV>(string name, TV[] data, params int[] shape)
        => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<TV>(data, shape));

    /// <summary>Runs a double-reference session (<see cref="FlowOnnx.ExportDoubleReference"/>) on feeds made for the float
    /// graph: float tensors are converted exactly to double. Returns the floating-point outputs.</summary>
    public static Dictionary<string, double[]> RunInDouble(InferenceSession session, IReadOnlyList<NamedOnnxValue> inputs)
    {
        var feeds = inputs.Select(v => v.Value is Tensor<float> f
            ? NamedOnnxValue.CreateFromTensor(v.Name, new DenseTensor<double>(f.ToArray().Select(x => (double)x).ToArray(), f.Dimensions.ToArray()))
            : v).ToList();
        return Run(session, feeds).Where(kv => kv.Value is double[]).ToDictionary(kv => kv.Key, kv => (double[])kv.Value);
    }

    /// <summary>Runs the session and returns every output flattened (float[], double[] or long[]).</summary>
    public static Dictionary<string, Array> Run(InferenceSession session, IReadOnlyList<NamedOnnxValue> inputs)
    {
        using var results = session.Run(inputs);
        var outputs = new Dictionary<string, Array>();
        foreach (var r in results)
        {
            outputs[r.Name] = r.Value switch
            {
                Tensor<float> f => f.ToArray(),
                Tensor<double> d => d.ToArray(),
                Tensor<long> l => l.ToArray(),
                _ => throw new InvalidOperationException($"output {r.Name}: unexpected type {r.Value?.GetType()}"),
            };
        }
        return outputs;
    }
}
