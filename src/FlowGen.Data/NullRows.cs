namespace FlowGen.Data;

/// <summary>What a file adapter does with a row that has a null (missing) value in a selected column.</summary>
public enum NullRows
{
    /// <summary>Throw an <see cref="System.IO.InvalidDataException"/> naming the row and the column (default: nothing is dropped silently).</summary>
    Throw = 0,

    /// <summary>Leave the row out (the source's row count is then unknown until counted, unless the file says it has no nulls).</summary>
    Skip = 1,
}
