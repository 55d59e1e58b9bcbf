<#
.SYNOPSIS
Rewrites the parts of the cmdlet help markdown that come from the cmdlets themselves, or (-Check) reports where they
are out of date.

.DESCRIPTION
The help source (one platyPS markdown file per cmdlet) mixes what people write with what the C# says. This script
owns the second part and takes it from Get-Command of the built module, imported in a child PowerShell so the calling
process (the build) never loads the DLL:

  - the front matter (external help file, Module Name, schema; 'online version' and other keys are kept),
  - ## SYNTAX (one block per parameter set, as platyPS writes it),
  - under ## PARAMETERS, which parameters there are and each one's ```yaml block(s): Type, Parameter Sets, Aliases,
    Accepted values, Required, Position, Accept pipeline input, Accept wildcard characters,
  - the closing '### CommonParameters' paragraph.

Everything else is kept as written: the synopsis, description, examples, inputs, outputs, notes and related links,
each parameter's description, and each parameter's 'Default value' (the C# does not say it; a new parameter gets
None, or False for a switch). Parameters keep their order; a new one is appended with a '{{ Fill Name Description }}'
placeholder, which Build-Help.ps1 refuses until someone writes the description. A cmdlet with no file gets one with
placeholders. A parameter that no longer exists is removed.

With -Check nothing is written: every difference is reported and the script throws, so a test (or a build step) fails
when a parameter was added, removed or changed in C# and the markdown was not regenerated.

.EXAMPLE
dotnet pwsh -NoProfile ./build.ps1; dotnet pwsh -NoProfile src/CalStudio.PowerShell/help/Update-HelpMarkdown.ps1

Builds the module, then regenerates the markdown from it; review the change with git diff.

.EXAMPLE
& src/CalStudio.PowerShell/help/Update-HelpMarkdown.ps1 -Check

Throws, listing each out-of-date line, when the markdown does not match the built cmdlets.
#>
[CmdletBinding()]
param(
    # The built module's manifest (default: out/CalStudio/CalStudio.psd1 of this repository).
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../../out/CalStudio/CalStudio.psd1'),
    # The folder of the markdown files (default: this script's folder).
    [string] $SourcePath = $PSScriptRoot,
    # Report differences and throw instead of writing.
    [switch] $Check
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'HelpMarkdown.psm1') -Force

$HelpFileName = 'CalStudio.PowerShell.dll-Help.xml'
# platyPS wraps a syntax line before it grows past this width.
$SyntaxWidth = 110

# ---------------------------------------------------------------- the cmdlets, from a child PowerShell

# Runs in the child: imports the module and describes its cmdlets as JSON. Only facts; the markdown is made here.
$DescribeModule = {
    param([string] $ModulePath, [string] $OutFile)
    $ErrorActionPreference = 'Stop'
    $module = Import-Module $ModulePath -PassThru -Force
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters   # WhatIf and Confirm are documented
    # platyPS's type string: the short name, the argument of Nullable<T>, the full text of other generic types.
    function Get-TypeString([type] $Type) {
        if ($Type.IsGenericType -and $Type.GetGenericTypeDefinition() -eq [Nullable`1]) { return $Type.GetGenericArguments()[0].Name }
        if ($Type.IsGenericType) { return $Type.ToString() }
        $Type.Name
    }
    $commands = @(foreach ($command in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
        $sets = @(foreach ($set in $command.ParameterSets) {
            [pscustomobject]@{
                Name       = $set.Name
                IsDefault  = $set.IsDefault
                Parameters = @(foreach ($p in $set.Parameters) {
                    if ($p.Name -in $common) { continue }
                    [pscustomobject]@{
                        Name     = $p.Name
                        Required = $p.IsMandatory
                        Position = if ($p.Position -ge 0) { [string]$p.Position } else { 'Named' }
                        Pipeline = if ($p.ValueFromPipeline -and $p.ValueFromPipelineByPropertyName) { 'True (ByPropertyName, ByValue)' }
                                   elseif ($p.ValueFromPipeline) { 'True (ByValue)' }
                                   elseif ($p.ValueFromPipelineByPropertyName) { 'True (ByPropertyName)' }
                                   else { 'False' }
                    }
                })
            }
        })
        $parameters = @(foreach ($p in $command.Parameters.Values) {
            if ($p.Name -in $common) { continue }
            $type = $p.ParameterType
            $valueType = if ($type.IsGenericType -and $type.GetGenericTypeDefinition() -eq [Nullable`1]) { $type.GetGenericArguments()[0] } else { $type }
            $validateSet = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
            [pscustomobject]@{
                Name           = $p.Name
                Type           = Get-TypeString $type
                FullType       = $type.ToString()
                IsSwitch       = $type -eq [System.Management.Automation.SwitchParameter]
                Aliases        = @($p.Aliases)
                AcceptedValues = @(if ($validateSet) { $validateSet.ValidValues } elseif ($valueType.IsEnum) { [enum]::GetNames($valueType) })
                Wildcards      = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
            }
        })
        [pscustomobject]@{ Name = $command.Name; Module = $module.Name; Sets = $sets; Parameters = $parameters }
    })
    ConvertTo-Json -InputObject $commands -Depth 8 | Set-Content -LiteralPath $OutFile -Encoding utf8
}

# The running PowerShell as a command line (under `dotnet pwsh` that is dotnet plus the tool's pwsh.dll).
function Get-PwshCommand {
    $self = (Get-Process -Id $PID).Path
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if ($self -match 'dotnet(\.exe)?$' -and (Test-Path $dll)) { return $self, @($dll) }
    return $self, @()
}

function Get-ModuleCommands([string] $ModulePath) {
    if (-not (Test-Path -LiteralPath $ModulePath)) { throw "The built module $ModulePath is missing; run build.ps1 first." }
    $outFile = [System.IO.Path]::GetTempFileName()
    try {
        $quote = { param($s) "'" + ($s -replace "'", "''") + "'" }
        $command = "& { $DescribeModule } $(& $quote (Resolve-Path -LiteralPath $ModulePath).ProviderPath) $(& $quote $outFile)"
        $pwsh, $pwshArgs = Get-PwshCommand
        $output = & $pwsh @pwshArgs -NoProfile -NonInteractive -Command $command 2>&1
        if ($LASTEXITCODE -ne 0) { throw "Describing the module's cmdlets failed (exit code $LASTEXITCODE): $($output -join "`n")" }
        # Assigned first: Windows PowerShell's ConvertFrom-Json writes an array as one object.
        $described = Get-Content -LiteralPath $outFile -Raw -Encoding utf8 | ConvertFrom-Json
        @($described)
    }
    finally { Remove-Item -LiteralPath $outFile -Force -ErrorAction SilentlyContinue }
}

# ---------------------------------------------------------------- the generated parts

# One syntax line as platyPS writes it: [-Switch], [-Name <Type>], [[-Positional] <Type>], -Mandatory <Type>.
function Get-SyntaxText($Command, $Set) {
    $words = @(foreach ($p in $Set.Parameters) {
        $meta = $Command.Parameters | Where-Object Name -eq $p.Name
        if ($meta.IsSwitch) { "[-$($p.Name)]"; continue }
        $word = if ($p.Position -eq 'Named') { "-$($p.Name)" } else { "[-$($p.Name)]" }
        $word = "$word <$($meta.Type)>"
        if (-not $p.Required) { $word = "[$word]" }
        $word
    }) + '[<CommonParameters>]'
    $text = [System.Text.StringBuilder]::new($Command.Name)
    $lineStart = 0
    foreach ($word in $words) {
        if ($text.Length - $lineStart + $word.Length -gt $SyntaxWidth) { [void]$text.Append("`n"); $lineStart = $text.Length }
        [void]$text.Append(' ').Append($word)
    }
    $text.ToString()
}

function Get-SyntaxSection($Command) {
    $lines = [System.Collections.Generic.List[string]]::new()
    foreach ($set in $Command.Sets) {
        if ($Command.Sets.Count -gt 1) { $lines.Add("### $($set.Name)$(if ($set.IsDefault) { ' (Default)' })") }
        $lines.Add('```'); $lines.Add((Get-SyntaxText $Command $set)); $lines.Add('```'); $lines.Add('')
    }
    $lines
}

# A parameter's yaml blocks: parameter sets with the same Required, Position and pipeline input share one block.
function Get-ParameterYaml($Command, $Meta, [string] $DefaultValue) {
    $groups = [System.Collections.Generic.List[object]]::new()
    foreach ($set in $Command.Sets) {
        $p = $set.Parameters | Where-Object Name -eq $Meta.Name
        if (-not $p) { continue }
        $group = $groups | Where-Object { $_.Required -eq $p.Required -and $_.Position -eq $p.Position -and $_.Pipeline -eq $p.Pipeline } | Select-Object -First 1
        if (-not $group) {
            $group = [pscustomobject]@{ Required = $p.Required; Position = $p.Position; Pipeline = $p.Pipeline; Sets = [System.Collections.Generic.List[string]]::new() }
            $groups.Add($group)
        }
        $group.Sets.Add($set.Name)
    }
    $default = if ($DefaultValue) { $DefaultValue } elseif ($Meta.IsSwitch) { 'False' } else { 'None' }
    foreach ($g in $groups) {
        $sets = if ($Command.Sets.Count -eq 1 -or $g.Sets.Count -eq $Command.Sets.Count) { '(All)' } else { $g.Sets -join ', ' }
        '```yaml'
        "Type: $($Meta.FullType)"
        "Parameter Sets: $sets"
        "Aliases:$(if ($Meta.Aliases.Count) { ' ' + ($Meta.Aliases -join ', ') })"
        if ($Meta.AcceptedValues.Count) { "Accepted values: $($Meta.AcceptedValues -join ', ')" }
        ''
        "Required: $(if ($g.Required) { 'True' } else { 'False' })"
        "Position: $($g.Position)"
        "Default value: $default"
        "Accept pipeline input: $($g.Pipeline)"
        "Accept wildcard characters: $(if ($Meta.Wildcards) { 'True' } else { 'False' })"
        '```'
        ''
    }
}

# ---------------------------------------------------------------- the whole file

function Get-BodyText($Section) {
    if (-not $Section) { return @() }
    $texts = @($Section.Body | ForEach-Object Text)
    $first = 0; $last = $texts.Count - 1
    while ($first -le $last -and -not $texts[$first].Trim()) { $first++ }
    while ($last -ge $first -and -not $texts[$last].Trim()) { $last-- }
    if ($first -gt $last) { return @() }
    $texts[$first..$last]
}

function New-Skeleton([string] $Name) {
    # What platyPS's New-MarkdownHelp leaves for a person to fill in.
    @"
---
schema: 2.0.0
---

# $Name

## SYNOPSIS
{{ Fill in the Synopsis }}

## SYNTAX

``````
{{ Generated from the cmdlet }}
``````

## DESCRIPTION
{{ Fill in the Description }}

## EXAMPLES

### Example 1
``````powershell
PS C:\> {{ Add example code here }}
``````

{{ Add example description here }}

## PARAMETERS

## INPUTS

### None

## OUTPUTS

### System.Object

## NOTES

## RELATED LINKS
"@
}

# The file's full new text: generated parts from $Command, the rest from $Doc (a Read-HelpMarkdown result).
function Get-UpdatedMarkdown($Command, $Doc) {
    $out = [System.Collections.Generic.List[string]]::new()

    $front = [ordered]@{}
    foreach ($key in $Doc.FrontMatter.Keys) { $front[$key] = $Doc.FrontMatter[$key] }
    $front['external help file'] = $HelpFileName
    $front['Module Name'] = $Command.Module
    if (-not $front.Contains('online version')) { $front['online version'] = '' }
    $front['schema'] = '2.0.0'
    $out.Add('---')
    # platyPS sorts the keys, ignoring case.
    foreach ($key in @($front.Keys | Sort-Object { $_.ToLowerInvariant() })) { $out.Add("${key}:$(if ($front[$key]) { ' ' + $front[$key] })") }
    $out.Add('---'); $out.Add('')
    $out.Add("# $($Command.Name)"); $out.Add('')

    # A text section: platyPS puts the text right under its heading.
    $addText = {
        param([string] $Title)
        $out.Add("## $Title")
        $text = @(Get-BodyText $Doc.Section[$Title])
        if ($text.Count) { $out.AddRange([string[]]$text) }
        $out.Add('')
    }
    # A section of '###' entries: a blank line under the heading.
    $addEntries = {
        param([string] $Title)
        $out.Add("## $Title"); $out.Add('')
        $text = @(Get-BodyText $Doc.Section[$Title])
        if ($text.Count) { $out.AddRange([string[]]$text); $out.Add('') }
    }

    & $addText 'SYNOPSIS'
    $out.Add('## SYNTAX'); $out.Add('')
    $out.AddRange([string[]]@(Get-SyntaxSection $Command))
    & $addText 'DESCRIPTION'
    & $addEntries 'EXAMPLES'

    $out.Add('## PARAMETERS'); $out.Add('')
    $known = @($Doc.Parameters | ForEach-Object Name)
    $real = @($Command.Parameters | ForEach-Object Name)
    $order = @($known | Where-Object { $_ -in $real }) + @($real | Where-Object { $_ -notin $known } | Sort-Object)
    foreach ($name in $order) {
        $meta = $Command.Parameters | Where-Object Name -eq $name
        $documented = $Doc.Parameters | Where-Object Name -eq $name
        $description = @(if ($documented) { Get-BodyText ([pscustomobject]@{ Body = $documented.Description }) })
        if ($description.Count -eq 0) { $description = @("{{ Fill $name Description }}") }
        $default = if ($documented -and $documented.Yaml.Count -and $documented.Yaml[0].Contains('Default value')) { $documented.Yaml[0]['Default value'] } else { $null }
        $out.Add("### -$name")
        $out.AddRange([string[]]$description); $out.Add('')
        $out.AddRange([string[]]@(Get-ParameterYaml $Command $meta $default))
    }
    $out.Add("### $CommonParametersHeading")
    $out.Add($CommonParametersText); $out.Add('')

    & $addEntries 'INPUTS'
    & $addEntries 'OUTPUTS'
    & $addText 'NOTES'
    & $addEntries 'RELATED LINKS'
    while ($out.Count -and $out[$out.Count - 1] -eq '') { $out.RemoveAt($out.Count - 1) }
    ($out -join "`n") + "`n"
}

# The lines that differ, for a -Check report: what the markdown has against what the cmdlet gives.
function Compare-Lines([string] $File, [string] $Actual, [string] $Expected) {
    $a = $Actual -split "`r?`n"
    $e = $Expected -split "`r?`n"
    $stale = @($a | Where-Object { $_ -notin $e } | Select-Object -Unique)
    $missing = @($e | Where-Object { $_ -notin $a } | Select-Object -Unique)
    foreach ($line in $stale) { "${File}: out of date: $line" }
    foreach ($line in $missing) { "${File}: missing: $line" }
    if (-not $stale -and -not $missing) { "${File}: lines in another order or repeated" }
}

# ---------------------------------------------------------------- main

$source = (Resolve-Path -LiteralPath $SourcePath).ProviderPath
$commands = Get-ModuleCommands $ModulePath
$utf8 = [System.Text.UTF8Encoding]::new($false)
$problems = [System.Collections.Generic.List[string]]::new()

foreach ($command in $commands) {
    $path = Join-Path $source "$($command.Name).md"
    $exists = Test-Path -LiteralPath $path
    $current = if ($exists) { [System.IO.File]::ReadAllText($path) } else { '' }
    if (-not $exists) {
        if ($Check) { $problems.Add("$($command.Name).md: missing (the cmdlet $($command.Name) has no help file)"); continue }
        [System.IO.File]::WriteAllText($path, (New-Skeleton $command.Name), $utf8)
    }
    $doc = Read-HelpMarkdown (Get-Item -LiteralPath $path)
    $updated = Get-UpdatedMarkdown $command $doc
    if ($updated -ceq $current) { continue }
    if ($Check) { foreach ($p in Compare-Lines "$($command.Name).md" $current $updated) { $problems.Add($p) } }
    else {
        [System.IO.File]::WriteAllText($path, $updated, $utf8)
        Write-Host "Updated $path"
    }
}
foreach ($file in Get-ChildItem -LiteralPath $source -Filter '*.md' -File) {
    if ($file.BaseName -notin $commands.Name) { $problems.Add("$($file.Name): documents a cmdlet the module does not export") }
}

if ($problems.Count) {
    $message = "The help markdown is out of date with the cmdlets:`n  " + ($problems -join "`n  ")
    if ($Check) { throw "$message`nRegenerate it: build, then run src/CalStudio.PowerShell/help/Update-HelpMarkdown.ps1 (see Build-Help.ps1)." }
    Write-Warning $message
}
