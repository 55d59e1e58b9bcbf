namespace CalStudio.Emulator.Api;

/// <summary>Applies the fault plan (--fault-*, --latency-ms) to a request that passed every check.</summary>
internal sealed class FaultAnswers(FaultPlan plan, Interruptions interruptions)
{
    /// <summary>Waits the planned latency, then answers the planned fault. False: no fault, answer normally.</summary>
    public async Task<bool> AnswerAsync(Exchange x, string prompt, long arrival)
    {
        var fault = plan.Decide(prompt, arrival);
        int latency = plan.LatencyMs(prompt, arrival);
        if (latency > 0) await interruptions.DelayAsync(x, latency);

        switch (fault)
        {
            case Fault.Error500: await Responses.ErrorAsync(x, 500, "internal_error", "Internal server error."); return true;
            case Fault.Html502: await Responses.Html502Async(x); return true;
            case Fault.Drop: Interruptions.Drop(x); return true;
            case Fault.Hang: await interruptions.HangAsync(x); return true;
            case Fault.Unsuccessful: await Responses.UnsuccessfulAsync(x, 422); return true;
        }
        return false;
    }
}
