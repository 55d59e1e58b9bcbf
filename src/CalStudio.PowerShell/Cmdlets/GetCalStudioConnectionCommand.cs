using System.Management.Automation;

namespace CalStudio.Commands
{
    /// <summary>Get-CalStudioConnection: the session's settings and quota, never the key.</summary>
    [Cmdlet(VerbsCommon.Get, "CalStudioConnection")]
    [OutputType(typeof(Connection))]
    public sealed class GetCalStudioConnectionCommand : CalStudioCmdlet
    {
        protected override void EndProcessing()
        {
            var session = RequireSession();
            var connection = session.ToConnection();
            WriteBudgetWarning(session);
            WriteObject(connection);
        }
    }
}
