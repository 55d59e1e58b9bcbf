# Reading the help source: platyPS (schema 2.0.0) markdown, one file per cmdlet. Shared by Build-Help.ps1 (markdown to
# MAML, never loads the module) and Update-HelpMarkdown.ps1 (rewrites the parts generated from the cmdlets). This file
# knows the layout only; what a valid help file must contain is checked by Build-Help.ps1.

Set-StrictMode -Version Latest

# The level-2 sections of a cmdlet file, in the order platyPS writes them.
$script:Sections = @('SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS')
# The keys of a parameter's ```yaml block, in the order platyPS writes them (a blank line before Required).
$script:YamlKeys = @('Type', 'Parameter Sets', 'Aliases', 'Accepted values', 'Required', 'Position', 'Default value',
                     'Accept pipeline input', 'Accept wildcard characters')
$script:CommonParametersHeading = 'CommonParameters'
# What platyPS writes under '### CommonParameters' (ignored when the MAML is built).
$script:CommonParametersText = 'This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, ' +
    '-InformationAction, -InformationVariable, -OutBuffer, -OutVariable, -PipelineVariable, -ProgressAction, -Verbose, ' +
    '-WarningAction, and -WarningVariable. For more information, see ' +
    '[about_CommonParameters](http://go.microsoft.com/fwlink/?LinkID=113216).'
# A description platyPS leaves for a person to write: '{{ Fill ProxyCredential Description }}'.
$script:PlaceholderPattern = '\{\{.*\}\}'

function Stop-Help([string] $File, [int] $Line, [string] $Message) {
    $where = if ($Line -gt 0) { "${File}:$Line" } else { $File }
    throw "Help source ${where}: $Message"
}

function Test-Blank([object[]] $Lines) { -not ($Lines | Where-Object { $_.Text.Trim().Length -gt 0 }) }

# Prose for MAML: inline code marks and emphasis dropped, [text](uri) as "text (uri)".
function ConvertTo-PlainText([string] $Text) {
    $t = [regex]::Replace($Text, '\[([^\]]+)\]\(([^)]*)\)', { param($m) if ($m.Groups[2].Value) { "$($m.Groups[1].Value) ($($m.Groups[2].Value))" } else { $m.Groups[1].Value } })
    $t = [regex]::Replace($t, '\*\*([^*]+)\*\*', '$1')
    $t = [regex]::Replace($t, '`([^`]+)`', '$1')
    $t
}

# Paragraphs from markdown lines: blank lines separate them; list items and indented lines keep their line breaks.
function Get-Paragraphs([object[]] $Lines) {
    $paras = [System.Collections.Generic.List[string]]::new()
    $current = [System.Text.StringBuilder]::new()
    foreach ($entry in $Lines) {
        $text = $entry.Text
        if ($text.Trim().Length -eq 0) {
            if ($current.Length) { $paras.Add($current.ToString()); [void]$current.Clear() }
            continue
        }
        if ($current.Length) {
            $keepBreak = $text -match '^\s*([-*]\s|\d+\.\s)' -or $text -match '^\s{2,}'
            [void]$current.Append($(if ($keepBreak) { "`n" } else { ' ' }))
        }
        [void]$current.Append((ConvertTo-PlainText $text.TrimEnd()))
    }
    if ($current.Length) { $paras.Add($current.ToString()) }
    , $paras.ToArray()
}

# Splits lines into blocks under headings of the given level ('## ' or '### '), keeping fenced code intact.
function Split-ByHeading([object[]] $Lines, [string] $Marker, [string] $File) {
    $blocks = [System.Collections.Generic.List[object]]::new()
    $preamble = [System.Collections.Generic.List[object]]::new()
    $current = $null
    $inFence = $false
    foreach ($entry in $Lines) {
        if ($entry.Text -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $entry.Text.StartsWith($Marker)) {
            $current = [pscustomobject]@{ Title = $entry.Text.Substring($Marker.Length).Trim(); Line = $entry.Line; Body = [System.Collections.Generic.List[object]]::new() }
            $blocks.Add($current)
            continue
        }
        if ($current) { $current.Body.Add($entry) } else { $preamble.Add($entry) }
    }
    if ($inFence) { Stop-Help $File 0 'a ``` code fence is never closed.' }
    [pscustomobject]@{ Preamble = $preamble.ToArray(); Blocks = $blocks.ToArray() }
}

# Separates fenced code blocks from prose: Fences (Lang, Line, Lines), the lines Before the first fence, and After it.
function Split-Fences([object[]] $Lines, [string] $File) {
    $fences = [System.Collections.Generic.List[object]]::new()
    $before = [System.Collections.Generic.List[object]]::new()
    $after = [System.Collections.Generic.List[object]]::new()
    $fence = $null
    foreach ($entry in $Lines) {
        if ($entry.Text -match '^\s*```\s*(\S*)\s*$') {
            if ($fence) { $fences.Add($fence); $fence = $null }
            else { $fence = [pscustomobject]@{ Lang = $Matches[1]; Line = $entry.Line; Lines = [System.Collections.Generic.List[string]]::new() } }
            continue
        }
        if ($fence) { $fence.Lines.Add($entry.Text) }
        elseif ($fences.Count -eq 0) { $before.Add($entry) }
        else { $after.Add($entry) }
    }
    if ($fence) { Stop-Help $File $fence.Line 'a ``` code fence is never closed.' }
    [pscustomobject]@{ Fences = $fences.ToArray(); Before = $before.ToArray(); After = $after.ToArray() }
}

# 'Key: value' lines of a ```yaml block (platyPS's simple form) as an ordered dictionary; an empty value is ''.
function ConvertFrom-HelpYaml($Fence, [string] $Where, [string] $File) {
    $pairs = [ordered]@{}
    $lineNo = $Fence.Line
    foreach ($text in $Fence.Lines) {
        $lineNo++
        if ($text.Trim().Length -eq 0) { continue }
        if ($text -notmatch '^([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*$') { Stop-Help $File $lineNo "${Where}: '$text' is not 'Key: value'." }
        $key = $script:YamlKeys | Where-Object { $_ -eq $Matches[1] }
        if (-not $key) { Stop-Help $File $lineNo "${Where}: unknown key '$($Matches[1])' (known: $($script:YamlKeys -join ', '))." }
        if ($pairs.Contains($key)) { Stop-Help $File $lineNo "${Where}: '$key' is given twice." }
        $pairs[$key] = $Matches[2]
    }
    $pairs
}

<#
Reads one cmdlet file into its parts, checking the layout (not the content):
  File, Path, Name, FrontMatter (ordered: key -> value), TitleLine,
  Section (hashtable: title -> @{ Title; Line; Body }), in the order of $Sections,
  Syntax (@{ Name; IsDefault; Line; Code }; Name is $null for a single unnamed block),
  Parameters (@{ Name; Line; Description (lines); Yaml (ordered dictionaries) }), HasCommonParameters.
#>
function Read-HelpMarkdown([System.IO.FileInfo] $Path) {
    $file = $Path.Name
    $i = 0
    $lines = @(Get-Content -LiteralPath $Path.FullName -Encoding utf8 | ForEach-Object { $i++; [pscustomobject]@{ Line = $i; Text = $_ } })

    # YAML front matter: '---', 'key: value' lines, '---'.
    if ($lines.Count -eq 0 -or $lines[0].Text -ne '---') { Stop-Help $file 1 "the file must start with the platyPS front matter ('---', 'schema: 2.0.0', ..., '---')." }
    $frontMatter = [ordered]@{}
    $end = 0
    for ($n = 1; $n -lt $lines.Count; $n++) {
        if ($lines[$n].Text -eq '---') { $end = $n; break }
        if ($lines[$n].Text -notmatch '^([^:]+):\s?(.*)$') { Stop-Help $file $lines[$n].Line "front matter line '$($lines[$n].Text)' is not 'key: value'." }
        $frontMatter[$Matches[1].Trim()] = $Matches[2].Trim()
    }
    if ($end -eq 0) { Stop-Help $file 1 "the front matter is never closed with '---'." }

    $rest = @($lines | Select-Object -Skip ($end + 1))
    $first = $rest | Where-Object { $_.Text.Trim().Length } | Select-Object -First 1
    if (-not $first -or $first.Text -notmatch '^# ([A-Za-z]+-[A-Za-z0-9]+)\s*$') { Stop-Help $file 0 "the first line after the front matter must be '# Verb-Noun'." }
    $name = $Matches[1]
    if ($name -ne $Path.BaseName) { Stop-Help $file $first.Line "the title '$name' does not match the file name." }
    $body = @($rest | Where-Object { $_.Line -gt $first.Line })
    $inFence = $false
    foreach ($entry in $body) {
        if ($entry.Text -match '^\s*```') { $inFence = -not $inFence }
        elseif (-not $inFence -and $entry.Text -match '^# ') { Stop-Help $file $entry.Line "only one '# ' title is allowed." }
    }

    $split = Split-ByHeading $body '## ' $file
    if (-not (Test-Blank $split.Preamble)) { Stop-Help $file $first.Line "text between the title and '## SYNOPSIS'." }
    $found = @($split.Blocks | ForEach-Object Title)
    if (($found -join '|') -cne ($script:Sections -join '|')) {
        Stop-Help $file 0 "the sections must be exactly, in order: $($script:Sections -join ', ') (found: $($found -join ', '))."
    }
    $section = @{}
    foreach ($b in $split.Blocks) { $section[$b.Title] = $b }

    # SYNTAX: one ``` block per parameter set, under '### SetName' (' (Default)' marks the default set) when there are several.
    $syntaxSplit = Split-ByHeading $section.SYNTAX.Body '### ' $file
    $syntax = @(
        if ($syntaxSplit.Blocks.Count -eq 0) {
            $parts = Split-Fences $syntaxSplit.Preamble $file
            if ($parts.Fences.Count -ne 1 -or -not (Test-Blank $parts.Before) -or -not (Test-Blank $parts.After)) { Stop-Help $file $section.SYNTAX.Line "## SYNTAX needs one ``` block, or one '### SetName' with a ``` block per parameter set." }
            [pscustomobject]@{ Name = $null; IsDefault = $true; Line = $parts.Fences[0].Line; Code = ($parts.Fences[0].Lines -join "`n") }
        }
        else {
            if (-not (Test-Blank $syntaxSplit.Preamble)) { Stop-Help $file $section.SYNTAX.Line "## SYNTAX: text outside a '### SetName' section." }
            foreach ($b in $syntaxSplit.Blocks) {
                $parts = Split-Fences $b.Body $file
                if ($parts.Fences.Count -ne 1 -or -not (Test-Blank $parts.Before) -or -not (Test-Blank $parts.After)) { Stop-Help $file $b.Line "syntax '### $($b.Title)' needs exactly one ``` block and nothing else." }
                $isDefault = $b.Title.EndsWith(' (Default)')
                [pscustomobject]@{ Name = $b.Title -replace ' \(Default\)$', ''; IsDefault = $isDefault; Line = $b.Line; Code = ($parts.Fences[0].Lines -join "`n") }
            }
        })

    # PARAMETERS: '### -Name', its description, one ```yaml block per distinct metadata; then '### CommonParameters'.
    $paramSplit = Split-ByHeading $section.PARAMETERS.Body '### ' $file
    if (-not (Test-Blank $paramSplit.Preamble)) { Stop-Help $file $section.PARAMETERS.Line "## PARAMETERS: text outside a '### -Name' section." }
    $hasCommon = $false
    $parameters = @(foreach ($b in $paramSplit.Blocks) {
        if ($hasCommon) { Stop-Help $file $b.Line "'### $script:CommonParametersHeading' must be the last heading of ## PARAMETERS." }
        if ($b.Title -eq $script:CommonParametersHeading) { $hasCommon = $true; continue }
        if ($b.Title -notmatch '^-([A-Za-z][A-Za-z0-9]*)$') { Stop-Help $file $b.Line "parameter heading '### $($b.Title)' must be '### -Name'." }
        $pname = $Matches[1]
        $parts = Split-Fences $b.Body $file
        if ($parts.Fences.Count -eq 0 -or @($parts.Fences | Where-Object Lang -ne 'yaml').Count) { Stop-Help $file $b.Line "parameter -$pname needs one or more ```yaml blocks." }
        if (-not (Test-Blank $parts.After)) { Stop-Help $file $b.Line "parameter -${pname}: put the description before the ```yaml blocks, and nothing between or after them." }
        [pscustomobject]@{
            Name        = $pname
            Line        = $b.Line
            Description = $parts.Before
            Yaml        = @($parts.Fences | ForEach-Object { ConvertFrom-HelpYaml $_ "parameter -$pname" $file })
        }
    })
    $dupes = @($parameters | Group-Object Name | Where-Object Count -gt 1)
    if ($dupes) { Stop-Help $file $section.PARAMETERS.Line "parameter -$($dupes[0].Name) is documented twice." }

    [pscustomobject]@{
        File                = $file
        Path                = $Path.FullName
        Name                = $name
        FrontMatter         = $frontMatter
        Section             = $section
        Syntax              = $syntax
        Parameters          = $parameters
        HasCommonParameters = $hasCommon
    }
}

Export-ModuleMember -Function Stop-Help, Test-Blank, ConvertTo-PlainText, Get-Paragraphs, Split-ByHeading, Split-Fences, Read-HelpMarkdown -Variable Sections, YamlKeys, CommonParametersHeading, CommonParametersText, PlaceholderPattern
