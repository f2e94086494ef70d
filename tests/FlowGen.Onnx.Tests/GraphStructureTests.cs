using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Onnx.Tests.Models;

namespace FlowGen.Onnx.Tests;

/// <summary>The exported models' structure: IR version and opset, the operators (exactly docs/onnx.md's list), the inputs and
/// outputs with their element type and symbolic batch dimension, and no SearchSorted-like operator.</summary>
public sealed class GraphStructureTests
{
    /// <summary>docs/onnx.md "Operators": every operator an exported graph may contain.</summary>
    private static readonly HashSet<string> Documented = new(StringComparer.Ordinal)
    {
        "Abs", "Add", "And", "Cast", "Concat", "ConstantOfShape", "CumSum", "Div", "Equal", "Exp", "Gather", "GatherElements",
        "Gemm", "Greater", "GreaterOrEqual", "Identity", "LessOrEqual", "Log", "LogSoftmax", "MatMul", "Max", "Min", "Mul", "Neg",
        "Or", "ReduceLogSumExp", "ReduceSum", "Relu", "Reshape", "Round", "Shape", "Sigmoid", "Slice", "Softmax", "Sqrt", "Sub", "Tanh",
        "Unsqueeze", "Where",
        // the base distributions (the mixture's log-sum-exp, label and component choice)
        "ArgMax", "IsNaN", "Less", "ReduceMax",
    };

    [Fact]
    public void EveryGraphUsesOpset17IrVersion8TheDocumentedOperatorsAndDeclaresItsInputsAndOutputs()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (TestModel m in OnnxExportTests.AllModels)
            foreach (OnnxFlowGraph graph in Enum.GetValues<OnnxFlowGraph>())
            {
                if (!m.Invertible && graph is OnnxFlowGraph.Inverse or OnnxFlowGraph.Sample or OnnxFlowGraph.SampleComponent) continue;
                var created = m.Create(1);
                string baseKind = FlowSpec.Parse(m.IsDouble ? ((ICouplingFlow<double>)created).StackSpec : ((ICouplingFlow<float>)created).StackSpec).BaseKind;
                bool mixture = baseKind == "gaussian_mixture";
                if (!mixture && graph == OnnxFlowGraph.SampleComponent) continue;
                byte[] bytes = m.IsDouble ? FlowOnnx.Export((ICouplingFlow<double>)m.Create(1), graph) : FlowOnnx.Export((ICouplingFlow<float>)m.Create(1), graph);
                var model = global::Onnx.ModelProto.Parser.ParseFrom(bytes);
                Assert.Equal(FlowOnnx.IrVersion, model.IrVersion);
                Assert.Equal(8, model.IrVersion);
                var opset = Assert.Single(model.OpsetImport);
                Assert.Equal("", opset.Domain);
                Assert.Equal(17, opset.Version);
                foreach (var node in model.Graph.Node)
                {
                    Assert.True(Documented.Contains(node.OpType), $"{m.Name} {graph}: operator {node.OpType} is not in docs/onnx.md's list");
                    Assert.Equal("", node.Domain);
                    used.Add(node.OpType);
                }
                int elementType = m.IsDouble ? 11 : 1;   // TensorProto.DataType DOUBLE, FLOAT
                var flow = m.Create(1);
                int dim = m.IsDouble ? ((ICouplingFlow<double>)flow).Dim : ((ICouplingFlow<float>)flow).Dim;
                int context = m.IsDouble ? ((ICouplingFlow<double>)flow).ContextDim : ((ICouplingFlow<float>)flow).ContextDim;
                string first = graph switch { OnnxFlowGraph.Inverse => OnnxFlowNames.Z, OnnxFlowGraph.Sample or OnnxFlowGraph.SampleComponent => OnnxFlowNames.Noise, _ => OnnxFlowNames.X };
                var inputs = model.Graph.Input.ToList();
                var expectedInputs = new List<string> { first };
                if (context > 0) expectedInputs.Add(OnnxFlowNames.Context);
                // the base's further draws (docs/onnx.md): a mixture's uniform (DOUBLE [N]) or component (int64 [N]), a Student-t's chi_square
                if (graph == OnnxFlowGraph.Sample && mixture) expectedInputs.Add(OnnxFlowNames.Uniform);
                if (graph == OnnxFlowGraph.SampleComponent) expectedInputs.Add(OnnxFlowNames.Component);
                if (graph == OnnxFlowGraph.Sample && baseKind == "student_t") expectedInputs.Add(OnnxFlowNames.ChiSquare);
                Assert.Equal(expectedInputs.ToArray(), inputs.Select(i => i.Name).ToArray());
                foreach (var input in inputs.Skip(context > 0 ? 2 : 1))
                {
                    Assert.Equal(input.Name switch { OnnxFlowNames.Uniform => 11, OnnxFlowNames.Component => 7, _ => elementType }, input.Type.TensorType.ElemType);
                    Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
                    Assert.Equal(input.Name == OnnxFlowNames.ChiSquare ? 2 : 1, input.Type.TensorType.Shape.Dim.Count);
                }
                foreach (var (input, width) in inputs.Take(context > 0 ? 2 : 1).Zip(new[] { dim, context }))
                {
                    Assert.Equal(elementType, input.Type.TensorType.ElemType);
                    Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
                    Assert.Equal(width, input.Type.TensorType.Shape.Dim[1].DimValue);
                }
                string[] outputs = graph switch
                {
                    OnnxFlowGraph.LogProb when mixture => new[] { OnnxFlowNames.ComponentLogPosteriors, OnnxFlowNames.Label, OnnxFlowNames.LogProb },
                    OnnxFlowGraph.LogProb => new[] { OnnxFlowNames.LogProb },
                    OnnxFlowGraph.Forward => new[] { OnnxFlowNames.Z, OnnxFlowNames.LogDet },
                    OnnxFlowGraph.Inverse => new[] { OnnxFlowNames.X, OnnxFlowNames.LogDet },
                    _ => new[] { OnnxFlowNames.X, OnnxFlowNames.LogProb },
                };
                Assert.Equal(outputs, model.Graph.Output.Select(o => o.Name).ToArray());
                foreach (var o in model.Graph.Output)
                {
                    Assert.Equal(o.Name == OnnxFlowNames.Label ? 7 : elementType, o.Type.TensorType.ElemType);
                    Assert.Equal("batch", o.Type.TensorType.Shape.Dim[0].DimParam);
                }
                Assert.Contains(model.MetadataProps, p => p.Key == "flowgen.spec");
            }
        // the list is not padded: every documented operator is used by some test model
        Assert.Empty(Documented.Except(used));
    }

    [Fact]
    public void ExportIsDeterministic()
    {
        foreach (TestModel m in Catalog.All.Take(10))
        {
            byte[] a = m.IsDouble ? FlowOnnx.Export((ICouplingFlow<double>)m.Create(4)) : FlowOnnx.Export((ICouplingFlow<float>)m.Create(4));
            byte[] b = m.IsDouble ? FlowOnnx.Export((ICouplingFlow<double>)m.Create(4)) : FlowOnnx.Export((ICouplingFlow<float>)m.Create(4));
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        var flow = (ICouplingFlow<float>)Catalog.All.First(m => !m.IsDouble).Create(1);
        Assert.Throws<ArgumentNullException>(() => FlowOnnx.Export<float>(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowOnnx.Export(flow, (OnnxFlowGraph)42));
        // SampleComponent needs a mixture base: any other base is a clear error naming it
        var e = Assert.Throws<OnnxExportException>(() => FlowOnnx.Export(flow, OnnxFlowGraph.SampleComponent));
        Assert.Contains("Gaussian-mixture base", e.Message);
        Assert.Contains("'standard_normal'", e.Message);
        Assert.False(FlowOnnx.CanExport(new Models.StudentTBaseF0(1), OnnxFlowGraph.SampleComponent, out string? why));
        Assert.Contains("'student_t'", why);
        Assert.ThrowsAny<ArgumentException>(() => FlowOnnx.Save(flow, ""));
    }
}
