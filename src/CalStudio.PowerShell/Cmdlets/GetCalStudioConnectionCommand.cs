using System.Management.Automation;
using CalStudio.Session;

namespace CalStudio.Commands
{
    /// <summary>
    /// Get-CalStudioConnection: the session's settings and quota, never the key. Without a session it writes nothing
    /// and no error, as Get-AzContext and Get-MgContext do, so scripts test <c>if (-not (Get-CalStudioConnection))</c>.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "CalStudioConnection")]
    [OutputType(typeof(Connection))]
    public sealed class GetCalStudioConnectionCommand : CalStudioCmdlet
    {
        protected override void EndProcessing()
        {
            var session = SessionStore.Current;
            if (session == null) return;
            var connection = session.ToConnection();
            WriteBudgetWarning(session);
            WriteObject(connection);
        }
    }
}
