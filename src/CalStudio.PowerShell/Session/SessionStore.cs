using System;
using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;

namespace CalStudio.Session
{
    /// <summary>
    /// One connection per runspace, like a variable in the session: a ForEach-Object -Parallel worker or a job
    /// connects on its own. The shared rate budget is separate (Quota) and spans runspaces and processes.
    /// </summary>
    internal static class SessionStore
    {
        private static readonly ConcurrentDictionary<Guid, CalStudioSession> Sessions = new ConcurrentDictionary<Guid, CalStudioSession>();
        // Runspaces whose closing already removes their session: one handler each, however often they reconnect.
        private static readonly ConcurrentDictionary<Guid, bool> Watched = new ConcurrentDictionary<Guid, bool>();

        private static Guid CurrentId => Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty;

        public static CalStudioSession Current => Sessions.TryGetValue(CurrentId, out var s) ? s : null;

        public static void Set(CalStudioSession session)
        {
            var runspace = Runspace.DefaultRunspace;
            Guid id = CurrentId;
            CalStudioSession old = null;
            Sessions.AddOrUpdate(id, session, (_, previous) => { old = previous; return session; });
            old?.Dispose();
            if (runspace != null && Watched.TryAdd(id, true))
                runspace.StateChanged += (sender, e) =>
                {
                    if (e.RunspaceStateInfo.State != RunspaceState.Closed && e.RunspaceStateInfo.State != RunspaceState.Broken) return;
                    Remove(id);
                    Watched.TryRemove(id, out _);
                };
        }

        public static bool Remove() => Remove(CurrentId);

        private static bool Remove(Guid id)
        {
            if (!Sessions.TryRemove(id, out var session)) return false;
            session.Dispose();
            return true;
        }
    }
}
