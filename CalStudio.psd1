@{
    RootModule           = 'CalStudio.PowerShell.dll'
    # build.ps1 replaces this with the version in Directory.Build.props, the one place it is kept.
    ModuleVersion        = '{{ModuleVersion}}'
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = '6f0c3d8e-4b7a-4c1e-9a53-2d9e8f1b7c40'
    Author               = 'CalStudio for PowerShell contributors'
    CompanyName          = 'Community'
    Copyright            = '(c) CalStudio for PowerShell contributors. MIT License.'
    Description          = 'Send prompts to CalStudio AI apps from PowerShell: CSV batches at the API''s limits, prompts built from a row''s columns, answers in input order, with retries, quota pacing, resumable journals and a SecureString key.'
    PowerShellVersion    = '5.1'
    # Windows PowerShell only. The DLL targets netstandard2.0 and references netstandard.dll, which .NET Framework
    # has in the box from 4.7.1 (before that, import fails: "Could not load file or assembly 'netstandard'").
    # The sources themselves compile against 4.6.2 (tests/Compat). Windows PowerShell does not enforce values above
    # the .NET versions it knows (4.5), so this is the documented floor; README "Compatibility" says where it is met.
    DotNetFrameworkVersion = '4.7.1'
    FormatsToProcess     = @('CalStudio.Format.ps1xml')
    TypesToProcess       = @('CalStudio.Types.ps1xml')
    CmdletsToExport      = @(
        'Connect-CalStudio'
        'Disconnect-CalStudio'
        'Get-CalStudioConnection'
        'Invoke-CalStudioPrompt'
        'Get-CalStudioResponse'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('CalStudio', 'AI', 'LLM', 'API', 'Batch', 'CSV', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ProjectUri   = 'https://github.com/calstudio-powershell/CalStudio'
            LicenseUri   = 'https://github.com/calstudio-powershell/CalStudio/blob/main/LICENSE'
            ReleaseNotes = 'First release: Connect/Disconnect/Get-CalStudioConnection, Invoke-CalStudioPrompt (concurrent, ordered, retries, pacing, journal), Get-CalStudioResponse, local emulator.'
        }
    }
}
