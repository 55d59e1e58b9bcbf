using System;
using System.Threading;
using System.Threading.Tasks;
using CalStudio.Client;

namespace CalStudio.Engine
{
    /// <summary>
    /// A 403 is one row's failure (the key may not use that app), but a key refused for everything must not burn the
    /// quota: until some answer proves the key works, at most <see cref="Limit"/> attempts start; if every one of them
    /// ends in 403 the key is taken as rejected. Once any answer shows the key was accepted, the guard steps aside.
    /// A refused key is refused at once (a gateway checks it before the app runs), so when the first attempts have had
    /// no answer at all for <see cref="SlowAppPatience"/>, the app is slow, not the key refused: the guard steps aside
    /// too, and a slow app still reaches its rate (a 10 s app at 10/s needs 100 in flight, not 20).
    /// </summary>
    internal sealed class ForbiddenGuard
    {
        public const int Limit = 20;
        public static readonly TimeSpan SlowAppPatience = TimeSpan.FromSeconds(2);
        private readonly object _gate = new object();
        private readonly Func<TimeSpan> _clock;
        private TimeSpan? _firstStart;
        private bool _keyWorks;
        private ApiOutcome _lastForbidden;
        private int _started, _answered, _forbidden;
        private TaskCompletionSource<bool> _answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <param name="clock">Time since some fixed point; tests give their own.</param>
        public ForbiddenGuard(Func<TimeSpan> clock = null)
        {
            if (clock == null)
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                clock = () => watch.Elapsed;
            }
            _clock = clock;
        }

        /// <summary>True to go ahead; false when every attempt so far was refused with 403 (the key is rejected).</summary>
        public async Task<bool> MayAttemptAsync(CancellationToken cancel)
        {
            while (true)
            {
                Task next;
                lock (_gate)
                {
                    if (_keyWorks) return true;
                    if (_firstStart == null) _firstStart = _clock();
                    if (_started < Limit) { _started++; return true; }
                    if (_answered == 0 && _clock() - _firstStart.Value >= SlowAppPatience) { _keyWorks = true; return true; }
                    if (_answered == _started)
                    {
                        if (_forbidden == _answered) return false;
                        // Failures, but not 403s (a server down, say): the key is not the question; count afresh.
                        _started = 1; _answered = 0; _forbidden = 0;
                        return true;
                    }
                    next = _answer.Task;
                }
                // Woken by the next answer, or to see whether the slow-app patience has run out.
                await Task.WhenAny(next, Task.Delay(TimeSpan.FromMilliseconds(250), cancel)).ConfigureAwait(false);
                cancel.ThrowIfCancellationRequested();
            }
        }

        /// <summary>Told of every attempt that <see cref="MayAttemptAsync"/> let start (null: it never got an answer).</summary>
        public void AttemptEnded(ApiOutcome outcome)
        {
            TaskCompletionSource<bool> answered;
            lock (_gate)
            {
                if (_keyWorks) return;
                _answered++;
                if (outcome?.StatusCode == 403) { _forbidden++; _lastForbidden = outcome; }
                else if (KeyAccepted(outcome)) _keyWorks = true;
                answered = _answer;
                _answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            answered.TrySetResult(true);
        }

        /// <summary>The stop's cause once every attempt was refused: the last 403, told as the rejected key it shows.</summary>
        public ApiOutcome Verdict()
        {
            lock (_gate)
                return _lastForbidden?.As(ErrorIds.KeyRejected,
                    "The API refused every one of the first " + _forbidden + " requests with HTTP 403, so the key is taken as rejected. " + _lastForbidden.ErrorMessage);
        }

        /// <summary>An answer the API could only give after accepting the key: a success, or a refusal of the request itself.</summary>
        private static bool KeyAccepted(ApiOutcome outcome) =>
            outcome != null && (outcome.IsSuccess || outcome.StatusCode == 200 || outcome.StatusCode == 400 || outcome.StatusCode == 404);
    }
}
