using System.Management.Automation;
using CalStudio.Session;

namespace CalStudio.Commands
{
    /// <summary>Disconnect-CalStudio: forgets the session and disposes the key.</summary>
    [Cmdlet(VerbsCommunications.Disconnect, "CalStudio")]
    [OutputType(typeof(void))]
    public sealed class DisconnectCalStudioCommand : CalStudioCmdlet
    {
        protected override void EndProcessing()
        {
            if (!SessionStore.Remove()) WriteVerbose("There was no CalStudio connection to close.");
            else WriteVerbose("Disconnected from CalStudio; the key was disposed.");
        }
    }
}
