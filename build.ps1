<#
.SYNOPSIS
Builds the CalStudio module into out/CalStudio, and optionally tests it, runs the demo, benchmarks or packages it.

.EXAMPLE
dotnet tool restore && dotnet pwsh ./build.ps1 -Test
.EXAMPLE
dotnet tool restore && dotnet pwsh ./build.ps1 -Demo
.EXAMPLE
dotnet pwsh ./build.ps1 -Test -PesterFilter 'Samples*'
Only tests/Pester/Samples*.Tests.ps1, the task script's suites (no xunit).
.EXAMPLE
dotnet pwsh ./build.ps1 -Test -XunitFilter FullyQualifiedName~PromptTemplate
Only the xunit tests whose names contain PromptTemplate (no Pester).
#>
[CmdletBinding()]
param(
    [switch] $Test,
    [switch] $Demo,
    [switch] $Bench,
    [switch] $Package,
    [ValidateSet('Debug', 'Release')] [string] $Configuration = 'Release',
    # Only the Pester files tests/Pester/<PesterFilter>.Tests.ps1 (wildcards allowed); alone, it skips xunit.
    [string] $PesterFilter,
    # Only the xunit tests this dotnet test --filter expression selects (such as FullyQualifiedName~PromptTemplate); alone, it skips Pester.
    [string] $XunitFilter,
    # Runs only the benchmarks whose names match (default: all).
    [string] $BenchFilter = '*'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'CalStudio'
$emulatorOut = Join-Path $out 'emulator'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

# A redirected build (a log file, CI) gets plain text: no colour escape codes from this script, Pester or pwsh children.
if ([Console]::IsOutputRedirected) {
    $env:NO_COLOR = '1'   # honoured by pwsh 7.2+, Pester and dotnet, and inherited by every child process
    if (Get-Variable PSStyle -ErrorAction SilentlyContinue) { $PSStyle.OutputRendering = 'PlainText' }
}

function Invoke-Native([string] $what, [scriptblock] $command) {
    & $command
    if ($LASTEXITCODE -ne 0) { throw "$what failed (exit code $LASTEXITCODE)." }
}

function Get-ModuleVersion {
    [xml] $props = Get-Content (Join-Path $root 'Directory.Build.props') -Raw
    $props.Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
}

function Build-Module {
    $version = Get-ModuleVersion
    Write-Host "Building CalStudio $version ($Configuration)" -ForegroundColor Cyan
    $publish = Join-Path $out 'obj/publish'
    Invoke-Native 'dotnet publish (module)' { dotnet publish (Join-Path $root 'src/CalStudio.PowerShell') -c $Configuration -o $publish --nologo -v quiet }
    Invoke-Native 'dotnet publish (emulator)' { dotnet publish (Join-Path $root 'src/CalStudio.Emulator') -c $Configuration -o $emulatorOut --nologo -v quiet }

    # A clean module folder from an explicit list: nothing stray ships.
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    $null = New-Item -ItemType Directory -Path (Join-Path $moduleOut 'en-US') -Force
    Copy-Item (Join-Path $publish 'CalStudio.PowerShell.dll') $moduleOut
    Copy-Item (Join-Path $root 'src/CalStudio.PowerShell/Formats/CalStudio.Format.ps1xml') $moduleOut
    Copy-Item (Join-Path $root 'src/CalStudio.PowerShell/Formats/CalStudio.Types.ps1xml') $moduleOut
    Copy-Item (Join-Path $root 'LICENSE') $moduleOut
    # Help source is platyPS markdown per cmdlet (see Build-Help.ps1 for what to write by hand and what Update-HelpMarkdown.ps1
    # regenerates); the MAML is generated, and the generator fails on missing help.
    & (Join-Path $root 'src/CalStudio.PowerShell/help/Build-Help.ps1') -SourcePath (Join-Path $root 'src/CalStudio.PowerShell/help') -OutputPath (Join-Path $moduleOut 'en-US')
    $manifest = (Get-Content (Join-Path $root 'CalStudio.psd1') -Raw).Replace('{{ModuleVersion}}', $version)
    Set-Content -Path (Join-Path $moduleOut 'CalStudio.psd1') -Value $manifest -Encoding utf8

    $expected = @('CalStudio.psd1', 'CalStudio.PowerShell.dll', 'CalStudio.Format.ps1xml', 'CalStudio.Types.ps1xml', 'LICENSE',
                  'en-US/CalStudio.PowerShell.dll-Help.xml', 'en-US/about_CalStudio.help.txt')
    $missing = @($expected | Where-Object { -not (Test-Path (Join-Path $moduleOut $_)) })
    if (-not (Test-Path (Join-Path $emulatorOut 'CalStudio.Emulator.dll'))) { $missing += 'out/emulator/CalStudio.Emulator.dll' }
    if ($missing) { throw "The build is incomplete; missing: $($missing -join ', ')" }
    $null = Test-ModuleManifest (Join-Path $moduleOut 'CalStudio.psd1') -ErrorAction Stop
    Write-Host "Module laid out in $moduleOut" -ForegroundColor Green
}

function Get-PesterPath {
    $proj = Join-Path $root 'tests/Pester/PesterPackage.csproj'
    Invoke-Native 'restoring Pester from NuGet' { dotnet restore $proj --nologo -v quiet }
    [xml] $p = Get-Content $proj -Raw
    $version = $p.Project.PropertyGroup.PesterVersion
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $psd1 = Join-Path $packages "pester/$version/tools/Pester.psd1"
    if (-not (Test-Path $psd1)) { throw "Pester $version was restored but $psd1 is missing." }
    $psd1
}

# The running PowerShell, as a command line: under `dotnet pwsh` that is dotnet with the tool's pwsh.dll.
function Get-PwshCommand {
    $self = (Get-Process -Id $PID).Path
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if ($self -match 'dotnet(\.exe)?$' -and (Test-Path $dll)) { return $self, @($dll) }
    return $self, @()
}

function Invoke-XunitTests {
    $results = Join-Path $out 'test-results'
    $null = New-Item -ItemType Directory $results -Force
    $trx = Join-Path $results 'xunit.trx'
    if (Test-Path $trx) { Remove-Item $trx }
    $filter = if ($XunitFilter) { @('--filter', $XunitFilter) } else { @() }
    dotnet test (Join-Path $root 'tests/CalStudio.Tests') -c $Configuration --nologo --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' @filter | Out-Host
    if (-not (Test-Path $trx)) { return [pscustomobject]@{ Passed = 0; Failed = 1; Name = 'xunit (no results: build or run failed)' } }
    [xml] $x = Get-Content $trx -Raw
    $c = $x.TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted; Name = 'xunit' }
}

function Invoke-PesterTests {
    $pester = Get-PesterPath
    $resultFile = Join-Path $out 'test-results/pester.json'
    $null = New-Item -ItemType Directory (Split-Path $resultFile) -Force   # also when xunit did not run
    $pattern = if ($PesterFilter) { $PesterFilter } else { '*' }
    if (Test-Path $resultFile) { Remove-Item $resultFile }
    # A fresh pwsh, so the built module is imported as a user would and the DLL is never loaded in the build's process.
    $script = @"
`$ErrorActionPreference = 'Stop'
if (`$env:NO_COLOR -and (Get-Variable PSStyle -ErrorAction SilentlyContinue)) { `$PSStyle.OutputRendering = 'PlainText' }
Import-Module '$pester' -Force
`$c = New-PesterConfiguration
`$c.Run.Path = '$(Join-Path $root 'tests/Pester')'
`$c.Run.PassThru = `$true
`$c.Filter.FullName = @()
`$c.Output.Verbosity = 'Detailed'
if (`$env:NO_COLOR) { `$c.Output.RenderMode = 'Plaintext' }
`$files = @(Get-ChildItem '$(Join-Path $root 'tests/Pester')' -Filter '*.Tests.ps1' | Where-Object Name -like '$pattern.Tests.ps1')
`$c.Run.Path = @(`$files.FullName)
`$r = Invoke-Pester -Configuration `$c
@{ Passed = `$r.PassedCount; Failed = `$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount; Skipped = `$r.SkippedCount } | ConvertTo-Json | Set-Content '$resultFile'
"@
    $pwsh, $pwshArgs = Get-PwshCommand
    & $pwsh @pwshArgs -NoProfile -NonInteractive -Command $script | Out-Host
    if (-not (Test-Path $resultFile)) { return [pscustomobject]@{ Passed = 0; Failed = 1; Name = 'Pester (no results)' } }
    $r = Get-Content $resultFile -Raw | ConvertFrom-Json
    [pscustomobject]@{ Passed = [int]$r.Passed; Failed = [int]$r.Failed; Name = 'Pester' }
}

# The module's sources compiled against the .NET Framework 4.6.2 reference assemblies (tests/Compat): an API that
# netstandard2.0 offers but Windows PowerShell's .NET Framework lacks fails here, not on a user's machine. One check.
function Invoke-CompatCheck {
    $name = 'net462 compile check (tests/Compat)'
    dotnet build (Join-Path $root 'tests/Compat') -c $Configuration --nologo -v quiet -o (Join-Path $out 'obj/compat') | Out-Host
    if ($LASTEXITCODE -ne 0) { return [pscustomobject]@{ Passed = 0; Failed = 1; Name = $name } }
    [pscustomobject]@{ Passed = 1; Failed = 0; Name = $name }
}

# Packs out/CalStudio as a gallery would receive it: Publish-PSResource to a temporary local file repository (its
# checks of the manifest are the gallery's), then keeps the .nupkg in out/package. The repository list is left as found.
function Publish-ModulePackage {
    $packageOut = Join-Path $out 'package'
    $repoName = 'CalStudioLocal'
    $repoPath = Join-Path $out 'obj/package-repo'
    if (-not (Get-Module -ListAvailable Microsoft.PowerShell.PSResourceGet)) {
        throw 'Packaging needs Microsoft.PowerShell.PSResourceGet (part of PowerShell 7.4+; run with dotnet pwsh ./build.ps1 -Package).'
    }
    Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    if (Get-PSResourceRepository -Name $repoName -ErrorAction SilentlyContinue) {
        throw "A PSResource repository named '$repoName' is already registered; it is not this build's to replace. Remove it (Unregister-PSResourceRepository -Name $repoName) and run again."
    }
    foreach ($dir in $repoPath, $packageOut) {
        if (Test-Path $dir) { Remove-Item $dir -Recurse -Force }
        $null = New-Item -ItemType Directory -Path $dir -Force
    }
    $version = Get-ModuleVersion
    Register-PSResourceRepository -Name $repoName -Uri (Resolve-Path $repoPath).Path -Trusted
    try {
        Publish-PSResource -Path $moduleOut -Repository $repoName -ErrorAction Stop
        $nupkg = @(Get-ChildItem $repoPath -Filter 'CalStudio.*.nupkg')
        if ($nupkg.Count -ne 1) { throw "Publish-PSResource left $($nupkg.Count) packages in $repoPath; expected 1." }
        Copy-Item $nupkg[0].FullName $packageOut
        $package = Join-Path $packageOut $nupkg[0].Name
    }
    finally {
        Unregister-PSResourceRepository -Name $repoName -ErrorAction SilentlyContinue
        Remove-Item $repoPath -Recurse -Force -ErrorAction SilentlyContinue
    }

    # The package holds the module exactly as laid out, with the version from Directory.Build.props.
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $zip = [System.IO.Compression.ZipFile]::OpenRead($package)
    try {
        $entries = @($zip.Entries | ForEach-Object { $_.FullName -replace '\\', '/' })
        $reader = [System.IO.StreamReader]::new(($zip.Entries | Where-Object FullName -eq 'CalStudio.nuspec').Open())
        try { [xml] $nuspec = $reader.ReadToEnd() } finally { $reader.Dispose() }
    }
    finally { $zip.Dispose() }
    $expected = @(Get-ChildItem $moduleOut -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($moduleOut, $_.FullName) -replace '\\', '/' })
    $missing = @($expected | Where-Object { $entries -notcontains $_ })
    if ($missing) { throw "The package $package lacks: $($missing -join ', ')" }
    if ($nuspec.package.metadata.version -ne $version) { throw "The package's version is $($nuspec.package.metadata.version), not $version." }
    Write-Host "Package written to $package" -ForegroundColor Green
}

Build-Module

if ($Test) {
    # Tests keep the shared quota state out of the user's profile.
    $env:CALSTUDIO_STATE_DIR = Join-Path $out "test-state/$PID"
    # A filter for one suite alone runs only that suite; no filter runs both in full.
    $runXunit = $XunitFilter -or -not $PesterFilter
    $runPester = $PesterFilter -or -not $XunitFilter
    $suites = @(if ($runXunit) { Invoke-CompatCheck; Invoke-XunitTests }; if ($runPester) { Invoke-PesterTests })
    foreach ($s in $suites) { Write-Host ("{0}: {1} passed, {2} failed" -f $s.Name, $s.Passed, $s.Failed) }
    $passed = ($suites | Measure-Object Passed -Sum).Sum
    $failed = ($suites | Measure-Object Failed -Sum).Sum
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

if ($Demo) {
    & (Join-Path $root 'samples/Demo.ps1') -ModulePath (Join-Path $moduleOut 'CalStudio.psd1')
    if (-not $?) { exit 1 }
}

if ($Bench) {
    & (Join-Path $root 'bench/Run-Benchmarks.ps1') -ModulePath (Join-Path $moduleOut 'CalStudio.psd1') -Filter $BenchFilter
}

if ($Package) {
    Publish-ModulePackage
}
