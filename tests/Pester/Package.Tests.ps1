BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/Emulator.psm1') -Force
    $script:moduleDir = (Resolve-Path (Join-Path $PSScriptRoot '../../out/CalStudio')).Path
    $script:manifestPath = Join-Path $moduleDir 'CalStudio.psd1'
    [xml] $props = Get-Content (Join-Path $PSScriptRoot '../../Directory.Build.props') -Raw
    $script:version = @($props.Project.PropertyGroup.Version | Where-Object { $_ })[0]
    $script:cmdlets = 'Connect-CalStudio', 'Disconnect-CalStudio', 'Get-CalStudioConnection', 'Invoke-CalStudioPrompt', 'Get-CalStudioResponse'
    Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    # What was registered before these tests: they must leave exactly this behind.
    $script:reposBefore = @(Get-PSResourceRepository | ForEach-Object Name | Sort-Object)
}

Describe 'The module manifest' {
    BeforeAll {
        $script:info = Test-ModuleManifest $manifestPath -ErrorAction Stop
        $script:data = Import-PowerShellDataFile $manifestPath
    }

    It 'passes Test-ModuleManifest with the version from Directory.Build.props' {
        $info.Name | Should -Be 'CalStudio'
        $info.Version | Should -Be ([version]$version)
        $data.ModuleVersion | Should -Be $version
    }

    It 'runs on Windows PowerShell 5.1 and PowerShell 7 (Desktop and Core)' {
        @($data.CompatiblePSEditions | Sort-Object) | Should -Be 'Core', 'Desktop'
        $data.PowerShellVersion | Should -Be '5.1'
        $info.PowerShellVersion | Should -Be ([version]'5.1')
    }

    It 'exports exactly the five cmdlets and no functions, aliases or variables' {
        @($data.CmdletsToExport | Sort-Object) | Should -Be @($cmdlets | Sort-Object)
        @($data.FunctionsToExport).Count | Should -Be 0
        @($data.AliasesToExport).Count | Should -Be 0
        @($data.VariablesToExport).Count | Should -Be 0
        @($info.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($cmdlets | Sort-Object)
    }

    It 'has the gallery metadata: <Name>' -ForEach @(
        @{ Name = 'Tags' }, @{ Name = 'ProjectUri' }, @{ Name = 'LicenseUri' }, @{ Name = 'ReleaseNotes' }
    ) {
        $data.PrivateData.PSData[$Name] | Should -Not -BeNullOrEmpty
    }

    It 'has a description, an author and edition tags' {
        $data.Description | Should -Not -BeNullOrEmpty
        $data.Author | Should -Not -BeNullOrEmpty
        $data.PrivateData.PSData.Tags | Should -Contain 'PSEdition_Desktop'
        $data.PrivateData.PSData.Tags | Should -Contain 'PSEdition_Core'
        { [uri]::new($data.PrivateData.PSData.ProjectUri, [UriKind]::Absolute) } | Should -Not -Throw
        { [uri]::new($data.PrivateData.PSData.LicenseUri, [UriKind]::Absolute) } | Should -Not -Throw
    }
}

Describe 'Publishing to a gallery and installing from it' {
    BeforeAll {
        # A uniquely named repository, so a concurrent build's CalStudioLocal or a user's own repository is never touched.
        $script:repoName = "CalStudioTest$([guid]::NewGuid().ToString('N').Substring(0, 12))"
        $script:repoPath = Join-Path $TestDrive 'gallery'
        $script:installed = Join-Path $TestDrive 'installed'
        $null = New-Item -ItemType Directory $repoPath, $installed -Force
        Register-PSResourceRepository -Name $repoName -Uri $repoPath -Trusted
        $script:emu = Start-CalStudioEmulator -Key "cs_test_$([guid]::NewGuid().ToString('N'))"
    }
    AfterAll {
        Unregister-PSResourceRepository -Name $repoName -ErrorAction SilentlyContinue
        $script:emu | Stop-CalStudioEmulator
    }

    It 'publishes the built module (the gallery checks the manifest)' {
        Publish-PSResource -Path $moduleDir -Repository $repoName -ErrorAction Stop
        $nupkg = @(Get-ChildItem $repoPath -Filter '*.nupkg')
        $nupkg.Name | Should -Be "CalStudio.$version.nupkg"
        $found = Find-PSResource -Name CalStudio -Repository $repoName
        $found.Version | Should -Be ([version]$version)
    }

    It 'puts the whole module and its metadata in the package' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead((Join-Path $repoPath "CalStudio.$version.nupkg"))
        try {
            $entries = @($zip.Entries.FullName)
            $reader = [System.IO.StreamReader]::new(($zip.Entries | Where-Object FullName -eq 'CalStudio.nuspec').Open())
            try { [xml] $nuspec = $reader.ReadToEnd() } finally { $reader.Dispose() }
        }
        finally { $zip.Dispose() }
        foreach ($f in 'CalStudio.psd1', 'CalStudio.PowerShell.dll', 'CalStudio.Format.ps1xml', 'CalStudio.Types.ps1xml', 'LICENSE',
                      'en-US/CalStudio.PowerShell.dll-Help.xml', 'en-US/about_CalStudio.help.txt') {
            $entries | Should -Contain $f
        }
        $m = $nuspec.package.metadata
        $m.id | Should -Be 'CalStudio'
        $m.version | Should -Be $version
        $m.description | Should -Not -BeNullOrEmpty
        $m.authors | Should -Not -BeNullOrEmpty
        $m.projectUrl | Should -Not -BeNullOrEmpty
        $m.licenseUrl | Should -Not -BeNullOrEmpty
        $m.tags | Should -Match 'PSModule'
    }

    It 'saves from the gallery to a folder of its own' {
        Save-PSResource -Name CalStudio -Repository $repoName -Path $installed -TrustRepository -ErrorAction Stop
        Test-Path (Join-Path $installed "CalStudio/$version/CalStudio.psd1") | Should -BeTrue
        Test-Path (Join-Path $installed "CalStudio/$version/CalStudio.PowerShell.dll") | Should -BeTrue
    }

    It 'imports by name from the saved copy in a new pwsh and answers a prompt from the emulator' {
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module CalStudio
`$m = Get-Module CalStudio
Connect-CalStudio -BaseUri '$($emu.Uri)' -AppName packaged
`$r = Invoke-CalStudioPrompt -Prompt 'hello from the package'
[pscustomobject]@{ Base = `$m.ModuleBase; Version = `$m.Version.ToString(); Cmdlets = @(`$m.ExportedCommands.Keys | Sort-Object); Success = `$r.Success; Message = `$r.Message } | ConvertTo-Json -Compress
"@
        # Only the saved copy is on PSModulePath (with PowerShell's own modules), as after an install.
        $env = @{
            PSModulePath      = $installed + [IO.Path]::PathSeparator + (Join-Path $PSHOME 'Modules')
            CALSTUDIO_API_KEY = $emu.Key
        }
        $p = Start-PwshProcess -Script $script -Environment $env
        $stderr = $p.StandardError.ReadToEndAsync()
        $stdout = $p.StandardOutput.ReadToEnd()
        $p.WaitForExit(60000) | Should -BeTrue
        $p.ExitCode | Should -Be 0 -Because $stderr.Result
        $result = ($stdout -split "`n" | Where-Object { $_ -match '^\{' } | Select-Object -Last 1) | ConvertFrom-Json
        $result.Base | Should -BeLike "$installed*"
        $result.Version | Should -Be $version
        @($result.Cmdlets) | Should -Be @($cmdlets | Sort-Object)
        $result.Success | Should -BeTrue
        $result.Message | Should -Match 'hello from the package'
        (Get-CalStudioEmulatorStats $emu -NoPrompts).requests | Should -Be 1
    }
}

Describe 'After the package tests' {
    It 'leaves the registered repositories as they were' {
        @(Get-PSResourceRepository | ForEach-Object Name | Sort-Object) | Should -Be $reposBefore
        Get-PSResourceRepository -Name 'CalStudioTest*' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
