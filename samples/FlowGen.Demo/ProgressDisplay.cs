using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using FlowGen;

namespace FlowGen.Demo;

/// <summary>
/// Shows <see cref="FlowTrainer"/>'s progress reports: a progress bar redrawn in place on a terminal, or plain lines about
/// every tenth of the run when the output is redirected to a file or a pipe. Reports arrive on the training thread.
/// </summary>
internal sealed class ProgressDisplay : IProgress<TrainingProgress>
{
    private const int BarWidth = 16;
    private const int PlainLines = 10;

    private readonly bool _live = !Console.IsOutputRedirected;
    private readonly double _nllOffset;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _nextPlainStep;
    private int _lastLength;

    /// <param name="nllOffset">Added to the trainer's losses before they are shown (the standardisation's Σ log std, so that they read in data units).</param>
    public ProgressDisplay(double nllOffset) => _nllOffset = nllOffset;

    private static int TerminalWidth
    {
        get
        {
            try
            {
                return Console.WindowWidth > 20 ? Console.WindowWidth : 80;
            }
            catch (IOException)
            {
                return 80;
            }
        }
    }

    public void Report(TrainingProgress p)
    {
        if (p.Message is not null)
        {
            EndLine();
            Console.WriteLine($"  {p.Message}");
        }
        if (double.IsNaN(p.TrainLoss)) return; // a skipped step: its message says what happened
        if (_live)
        {
            string line = Format(p, withBar: true);
            if (line.Length >= TerminalWidth) line = line[..(TerminalWidth - 1)]; // a wrapped line could not be redrawn in place
            Console.Write("\r" + line + new string(' ', Math.Max(0, _lastLength - line.Length)));
            _lastLength = line.Length;
        }
        else if (p.Step >= _nextPlainStep || p.Step == p.TotalSteps)
        {
            Console.WriteLine(Format(p, withBar: false));
            _nextPlainStep = p.Step + Math.Max(1, p.TotalSteps / PlainLines);
        }
    }

    /// <summary>Moves past the progress bar so that later output starts on a fresh line.</summary>
    public void EndLine()
    {
        if (_lastLength == 0) return;
        Console.WriteLine();
        _lastLength = 0;
    }

    private string Format(TrainingProgress p, bool withBar)
    {
        double fraction = (double)p.Step / p.TotalSteps;
        string width = p.TotalSteps.ToString(CultureInfo.InvariantCulture);
        string step = p.Step.ToString(CultureInfo.InvariantCulture).PadLeft(width.Length);
        string bar = "";
        if (withBar)
        {
            int filled = (int)Math.Round(fraction * BarWidth);
            bar = $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] ";
        }
        string validation = p.ValidationLoss is double v ? $" val {v + _nllOffset,7:F4}" : "";
        double elapsed = _clock.Elapsed.TotalSeconds;
        string time = p.Step < p.TotalSteps ? $"eta {elapsed * (1 - fraction) / fraction,3:F0}s" : $"{elapsed:F1}s";
        return string.Create(CultureInfo.InvariantCulture,
            $"  {bar}{step}/{width} train {p.TrainLoss + _nllOffset,7:F4}{validation} {p.SamplesPerSecond / 1000,5:F1}k samples/s {time}");
    }
}
