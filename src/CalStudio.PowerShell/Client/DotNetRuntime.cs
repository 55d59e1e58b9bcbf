namespace CalStudio.Client
{
    /// <summary>Which .NET the module is loaded into: .NET Framework under Windows PowerShell 5.1, .NET (Core) under PowerShell 7.</summary>
    internal static class DotNetRuntime
    {
        /// <summary>
        /// True on .NET Framework, whose core library is mscorlib (.NET Core's is System.Private.CoreLib).
        /// Not RuntimeInformation.FrameworkDescription: on .NET Framework that type is in the box only from 4.7.1.
        /// </summary>
        public static readonly bool IsNetFramework = typeof(object).Assembly.GetName().Name == "mscorlib";
    }
}
