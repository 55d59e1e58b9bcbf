<#
.SYNOPSIS
Builds CalStudio.PowerShell.dll-Help.xml (MAML) from the per-cmdlet markdown help, and copies the about topic.

.DESCRIPTION
Reads every *.md file in -SourcePath (one per cmdlet), checks it, and writes
$OutputPath/CalStudio.PowerShell.dll-Help.xml plus a copy of about_CalStudio.help.txt.
Throws, naming the file and line, when a file is malformed, a cmdlet has fewer than three examples, or a
parameter (or the synopsis or description) is empty. It never loads the module, so the build process stays
free of the DLL.

The markdown format (file name = cmdlet name), sections exactly in this order:

    # Verb-Noun
    ## SYNOPSIS          one paragraph
    ## DESCRIPTION       paragraphs (blank line between them; '- ' list lines keep their breaks)
    ## PARAMETERS        one '### -Name' per parameter (never the common parameters): description
                         paragraphs, then a ```yaml block with the keys
                           Type: System.String            (full .NET name; SwitchParameter for switches)
                           ParameterSets: (All)           (optional; or set names, comma-separated)
                           Aliases: None                  (or comma-separated)
                           Position: Named                (or 0, 1, ...)
                           Default: None
                           PipelineInput: False           (or True (ByValue), True (ByPropertyName),
                                                           True (ByValue, ByPropertyName))
                           Required: False                (True = mandatory in its ParameterSets)
                           AcceptedValues: A, B           (optional, shown in the syntax)
    ## INPUTS            '### TypeName' headings, each with a description ('### None' when nothing)
    ## OUTPUTS           the same
    ## NOTES             paragraphs
    ## EXAMPLES          '### Example N: title' (N = 1, 2, ...), one ```powershell block, then remarks
    ## RELATED LINKS     list items: '- [Text](uri)' or '- Text'

Inline `code` marks and **bold** are dropped in the MAML; [text](uri) becomes "text (uri)".

.EXAMPLE
& src/CalStudio.PowerShell/help/Build-Help.ps1 -SourcePath src/CalStudio.PowerShell/help -OutputPath out/CalStudio/en-US
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string] $SourcePath,
    [Parameter(Mandatory)][string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$MinimumExamples = 3
$AboutTopic = 'about_CalStudio.help.txt'
$HelpFileName = 'CalStudio.PowerShell.dll-Help.xml'
$Ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}
# Sections of a cmdlet file, in the order they must appear.
$Sections = @('SYNOPSIS', 'DESCRIPTION', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'EXAMPLES', 'RELATED LINKS')
$ParameterKeys = @('Type', 'ParameterSets', 'Aliases', 'Position', 'Default', 'PipelineInput', 'Required', 'AcceptedValues')
$RequiredParameterKeys = @('Type', 'Aliases', 'Position', 'Default', 'PipelineInput', 'Required')
$PipelineValues = @('False', 'True (ByValue)', 'True (ByPropertyName)', 'True (ByValue, ByPropertyName)')

function Stop-Help([string] $File, [int] $Line, [string] $Message) {
    $where = if ($Line -gt 0) { "${File}:$Line" } else { $File }
    throw "Help source ${where}: $Message"
}

# ---------------------------------------------------------------- markdown

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

# Separates fenced code blocks from prose. Returns @{ Fences = @(@{Lang; Text; Line}); Before = lines; After = lines }.
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

function Test-Blank([object[]] $Lines) { -not ($Lines | Where-Object { $_.Text.Trim().Length -gt 0 }) }

function Read-Parameter($Block, [string] $File) {
    if ($Block.Title -notmatch '^-([A-Za-z][A-Za-z0-9]*)$') { Stop-Help $File $Block.Line "parameter heading '### $($Block.Title)' must be '### -Name'." }
    $name = $Matches[1]
    $parts = Split-Fences $Block.Body $File
    if ($parts.Fences.Count -ne 1 -or $parts.Fences[0].Lang -notin @('yaml', '')) { Stop-Help $File $Block.Line "parameter -$name needs exactly one ```yaml block." }
    if (-not (Test-Blank $parts.After)) { Stop-Help $File $Block.Line "parameter -${name}: put the description before the ```yaml block, and nothing after it." }
    $description = Get-Paragraphs $parts.Before
    if ($description.Count -eq 0) { Stop-Help $File $Block.Line "parameter -$name has an empty description." }

    $meta = @{}
    $lineNo = $parts.Fences[0].Line
    foreach ($text in $parts.Fences[0].Lines) {
        $lineNo++
        if ($text.Trim().Length -eq 0) { continue }
        if ($text -notmatch '^\s*([A-Za-z]+)\s*:\s*(.*?)\s*$') { Stop-Help $File $lineNo "parameter -${name}: '$text' is not 'Key: value'." }
        $key = $ParameterKeys | Where-Object { $_ -eq $Matches[1] }
        if (-not $key) { Stop-Help $File $lineNo "parameter -${name}: unknown key '$($Matches[1])' (known: $($ParameterKeys -join ', '))." }
        if ($meta.ContainsKey($key)) { Stop-Help $File $lineNo "parameter -${name}: '$key' is given twice." }
        $meta[$key] = $Matches[2]
    }
    foreach ($key in $RequiredParameterKeys) {
        if (-not $meta.ContainsKey($key) -or $meta[$key].Length -eq 0) { Stop-Help $File $Block.Line "parameter -${name}: the yaml block has no '$key'." }
    }
    if ($meta.Required -notin @('True', 'False')) { Stop-Help $File $Block.Line "parameter -${name}: Required must be True or False." }
    if ($meta.Position -notmatch '^(Named|\d+)$') { Stop-Help $File $Block.Line "parameter -${name}: Position must be Named or a number." }
    if ($meta.PipelineInput -notin $PipelineValues) { Stop-Help $File $Block.Line "parameter -${name}: PipelineInput must be one of: $($PipelineValues -join '; ')." }
    if ($meta.Type -notmatch '^[A-Za-z_][\w.`\[\]]*$') { Stop-Help $File $Block.Line "parameter -${name}: '$($meta.Type)' is not a .NET type name." }

    $split = { param($v) @(if ($v -and $v -ne 'None') { $v -split '\s*,\s*' | Where-Object { $_ } }) }
    [pscustomobject]@{
        Name           = $name
        Description    = $description
        Type           = $meta.Type
        ShortType      = ($meta.Type -split '\.')[-1]
        IsSwitch       = $meta.Type -in @('System.Management.Automation.SwitchParameter', 'SwitchParameter')
        ParameterSets  = @(& $split $(if ($meta.ContainsKey('ParameterSets') -and $meta.ParameterSets -ne '(All)') { $meta.ParameterSets } else { $null }))
        Aliases        = @(& $split $meta.Aliases)
        Position       = if ($meta.Position -eq 'Named') { 'named' } else { $meta.Position }
        Default        = $meta.Default
        PipelineInput  = $meta.PipelineInput
        Required       = $meta.Required -eq 'True'
        AcceptedValues = @(& $split $(if ($meta.ContainsKey('AcceptedValues')) { $meta.AcceptedValues } else { $null }))
    }
}

# INPUTS / OUTPUTS: '### Type.Name' headings, each with a description.
function Read-TypeList($Section, [string] $File) {
    $split = Split-ByHeading $Section.Body '### ' $File
    if (-not (Test-Blank $split.Preamble)) { Stop-Help $File $Section.Line "## $($Section.Title): put each type under a '### TypeName' heading." }
    if ($split.Blocks.Count -eq 0) { Stop-Help $File $Section.Line "## $($Section.Title) lists no type (use '### None' when there is none)." }
    foreach ($b in $split.Blocks) {
        $d = Get-Paragraphs $b.Body
        if ($d.Count -eq 0) { Stop-Help $File $b.Line "type '$($b.Title)' has no description." }
        [pscustomobject]@{ Name = $b.Title; Description = $d }
    }
}

function Read-CommandHelp([System.IO.FileInfo] $Path) {
    $file = $Path.Name
    $i = 0
    $lines = @(Get-Content -LiteralPath $Path.FullName -Encoding utf8 | ForEach-Object { $i++; [pscustomobject]@{ Line = $i; Text = $_ } })
    $first = $lines | Where-Object { $_.Text.Trim().Length } | Select-Object -First 1
    if (-not $first -or $first.Text -notmatch '^# ([A-Za-z]+-[A-Za-z0-9]+)\s*$') { Stop-Help $file 0 "the first line must be '# Verb-Noun'." }
    $name = $Matches[1]
    if ($name -ne $Path.BaseName) { Stop-Help $file $first.Line "the title '$name' does not match the file name." }
    $rest = @($lines | Where-Object { $_.Line -gt $first.Line })
    $inFence = $false
    foreach ($entry in $rest) {
        if ($entry.Text -match '^\s*```') { $inFence = -not $inFence }
        elseif (-not $inFence -and $entry.Text -match '^# ') { Stop-Help $file $entry.Line "only one '# ' title is allowed." }
    }

    $split = Split-ByHeading $rest '## ' $file
    if (-not (Test-Blank $split.Preamble)) { Stop-Help $file $first.Line "text between the title and '## SYNOPSIS'." }
    $found = @($split.Blocks | ForEach-Object Title)
    if (($found -join '|') -cne ($Sections -join '|')) {
        Stop-Help $file 0 "the sections must be exactly, in order: $($Sections -join ', ') (found: $($found -join ', '))."
    }
    $section = @{}
    foreach ($b in $split.Blocks) { $section[$b.Title] = $b }

    $synopsis = Get-Paragraphs $section.SYNOPSIS.Body
    if ($synopsis.Count -ne 1) { Stop-Help $file $section.SYNOPSIS.Line 'the synopsis must be one non-empty paragraph.' }
    $description = Get-Paragraphs $section.DESCRIPTION.Body
    if ($description.Count -eq 0) { Stop-Help $file $section.DESCRIPTION.Line 'the description is empty.' }

    $paramSplit = Split-ByHeading $section.PARAMETERS.Body '### ' $file
    if (-not (Test-Blank $paramSplit.Preamble)) { Stop-Help $file $section.PARAMETERS.Line "## PARAMETERS: text outside a '### -Name' section." }
    $parameters = @(foreach ($b in $paramSplit.Blocks) { Read-Parameter $b $file })
    $dupes = $parameters | Group-Object Name | Where-Object Count -gt 1
    if ($dupes) { Stop-Help $file $section.PARAMETERS.Line "parameter -$($dupes[0].Name) is documented twice." }
    $common = 'Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'InformationAction', 'ProgressAction', 'ErrorVariable', 'WarningVariable', 'InformationVariable', 'OutVariable', 'OutBuffer', 'PipelineVariable'
    $bad = $parameters | Where-Object Name -in $common | Select-Object -First 1
    if ($bad) { Stop-Help $file $section.PARAMETERS.Line "-$($bad.Name) is a common parameter; do not document it." }

    $exampleSplit = Split-ByHeading $section.EXAMPLES.Body '### ' $file
    if (-not (Test-Blank $exampleSplit.Preamble)) { Stop-Help $file $section.EXAMPLES.Line "## EXAMPLES: text outside a '### Example N: title' section." }
    $n = 0
    $examples = @(foreach ($b in $exampleSplit.Blocks) {
        $n++
        if ($b.Title -notmatch '^Example (\d+): (\S.*)$' -or [int]$Matches[1] -ne $n) { Stop-Help $file $b.Line "example heading must be '### Example ${n}: title'." }
        $title = $Matches[2].Trim()
        $parts = Split-Fences $b.Body $file
        if ($parts.Fences.Count -ne 1 -or $parts.Fences[0].Lang -ne 'powershell') { Stop-Help $file $b.Line "example $n needs exactly one ```powershell block." }
        if (-not (Test-Blank $parts.Before)) { Stop-Help $file $b.Line "example ${n}: put the remarks after the code block." }
        $code = ($parts.Fences[0].Lines -join "`n").Trim("`n")
        if ($code.Trim().Length -eq 0) { Stop-Help $file $b.Line "example $n has no code." }
        $remarks = Get-Paragraphs $parts.After
        if ($remarks.Count -eq 0) { Stop-Help $file $b.Line "example $n has no remarks after its code." }
        [pscustomobject]@{ Title = "Example ${n}: $title"; Code = $code; Remarks = $remarks }
    })
    if ($examples.Count -lt $MinimumExamples) { Stop-Help $file $section.EXAMPLES.Line "$name has $($examples.Count) example(s); at least $MinimumExamples are required." }

    $links = @(foreach ($entry in $section.'RELATED LINKS'.Body) {
        $t = $entry.Text.Trim()
        if (-not $t) { continue }
        if ($t -match '^[-*]\s+\[([^\]]+)\]\(([^)]*)\)$') { [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] } }
        elseif ($t -match '^[-*]\s+(\S.*)$') { [pscustomobject]@{ Text = $Matches[1]; Uri = '' } }
        else { Stop-Help $file $entry.Line "a related link must be a list item: '- [Text](uri)' or '- Text'." }
    })

    [pscustomobject]@{
        Name        = $name
        Verb        = $name.Split('-')[0]
        Noun        = $name.Split('-', 2)[1]
        Synopsis    = $synopsis[0]
        Description = $description
        Parameters  = $parameters
        Inputs      = @(Read-TypeList $section.INPUTS $file)
        Outputs     = @(Read-TypeList $section.OUTPUTS $file)
        Notes       = Get-Paragraphs $section.NOTES.Body
        Examples    = $examples
        Links       = $links
    }
}

# ---------------------------------------------------------------- MAML

function Write-Paras([System.Xml.XmlWriter] $W, [string[]] $Paras) {
    $W.WriteStartElement('maml', 'description', $Ns.maml)
    foreach ($p in $Paras) { $W.WriteElementString('maml', 'para', $Ns.maml, $p) }
    $W.WriteEndElement()
}

function Write-ParameterElement([System.Xml.XmlWriter] $W, $P, [bool] $Full, [string] $ParameterSet) {
    $required = $P.Required -and (-not $ParameterSet -or $P.ParameterSets.Count -eq 0 -or $P.ParameterSets -contains $ParameterSet)
    $W.WriteStartElement('command', 'parameter', $Ns.command)
    $W.WriteAttributeString('required', $required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', 'true')
    $W.WriteAttributeString('globbing', 'false')
    $W.WriteAttributeString('pipelineInput', $P.PipelineInput)
    $W.WriteAttributeString('position', $P.Position)
    $W.WriteAttributeString('aliases', $(if ($P.Aliases.Count) { $P.Aliases -join ', ' } else { 'none' }))
    $W.WriteElementString('maml', 'name', $Ns.maml, $P.Name)
    if ($Full) { Write-Paras $W $P.Description }
    if ($P.AcceptedValues.Count -and -not $Full) {
        $W.WriteStartElement('command', 'parameterValueGroup', $Ns.command)
        foreach ($v in $P.AcceptedValues) {
            $W.WriteStartElement('command', 'parameterValue', $Ns.command)
            $W.WriteAttributeString('required', 'false'); $W.WriteAttributeString('command', 'variableLength', $Ns.command, 'false')
            $W.WriteString($v)
            $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }
    elseif ($Full -or -not $P.IsSwitch) {
        $W.WriteStartElement('command', 'parameterValue', $Ns.command)
        $W.WriteAttributeString('required', $(if ($P.IsSwitch) { 'false' } else { 'true' }))
        $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($P.ShortType)
        $W.WriteEndElement()
    }
    if ($Full) {
        $W.WriteStartElement('dev', 'type', $Ns.dev)
        $W.WriteElementString('maml', 'name', $Ns.maml, $P.Type)
        $W.WriteElementString('maml', 'uri', $Ns.maml, '')
        $W.WriteEndElement()
        $W.WriteElementString('dev', 'defaultValue', $Ns.dev, $P.Default)
    }
    $W.WriteEndElement()
}

function Write-TypeList([System.Xml.XmlWriter] $W, [string] $Outer, [string] $Inner, [object[]] $Types) {
    $W.WriteStartElement('command', $Outer, $Ns.command)
    foreach ($t in $Types) {
        $W.WriteStartElement('command', $Inner, $Ns.command)
        $W.WriteStartElement('dev', 'type', $Ns.dev)
        $W.WriteElementString('maml', 'name', $Ns.maml, $t.Name)
        $W.WriteEndElement()
        Write-Paras $W $t.Description
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
}

function Write-Command([System.Xml.XmlWriter] $W, $Help) {
    $W.WriteStartElement('command', 'command', $Ns.command)
    $W.WriteAttributeString('xmlns', 'maml', $null, $Ns.maml)
    $W.WriteAttributeString('xmlns', 'command', $null, $Ns.command)
    $W.WriteAttributeString('xmlns', 'dev', $null, $Ns.dev)

    $W.WriteStartElement('command', 'details', $Ns.command)
    $W.WriteElementString('command', 'name', $Ns.command, $Help.Name)
    $W.WriteElementString('command', 'verb', $Ns.command, $Help.Verb)
    $W.WriteElementString('command', 'noun', $Ns.command, $Help.Noun)
    Write-Paras $W @($Help.Synopsis)
    $W.WriteEndElement()

    Write-Paras $W $Help.Description

    # One syntax item per parameter set; parameters with no ParameterSets belong to all of them.
    $sets = @($Help.Parameters | ForEach-Object { $_.ParameterSets } | Select-Object -Unique)
    if ($sets.Count -eq 0) { $sets = @($null) }
    $W.WriteStartElement('command', 'syntax', $Ns.command)
    foreach ($set in $sets) {
        $W.WriteStartElement('command', 'syntaxItem', $Ns.command)
        $W.WriteElementString('maml', 'name', $Ns.maml, $Help.Name)
        $inSet = @($Help.Parameters | Where-Object { -not $set -or $_.ParameterSets.Count -eq 0 -or $_.ParameterSets -contains $set })
        $ordered = @($inSet | Where-Object Position -ne 'named' | Sort-Object { [int]$_.Position }) + @($inSet | Where-Object Position -eq 'named')
        foreach ($p in $ordered) { Write-ParameterElement $W $p $false $set }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'parameters', $Ns.command)
    foreach ($p in $Help.Parameters) { Write-ParameterElement $W $p $true $null }
    $W.WriteEndElement()

    Write-TypeList $W 'inputTypes' 'inputType' $Help.Inputs
    Write-TypeList $W 'returnValues' 'returnValue' $Help.Outputs

    $W.WriteStartElement('maml', 'alertSet', $Ns.maml)
    $W.WriteStartElement('maml', 'alert', $Ns.maml)
    foreach ($p in $Help.Notes) { $W.WriteElementString('maml', 'para', $Ns.maml, $p) }
    $W.WriteEndElement()
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'examples', $Ns.command)
    foreach ($e in $Help.Examples) {
        $W.WriteStartElement('command', 'example', $Ns.command)
        $W.WriteElementString('maml', 'title', $Ns.maml, "--------- $($e.Title) ---------")
        $W.WriteElementString('dev', 'code', $Ns.dev, $e.Code)
        $W.WriteStartElement('dev', 'remarks', $Ns.dev)
        foreach ($p in $e.Remarks) { $W.WriteElementString('maml', 'para', $Ns.maml, $p) }
        $W.WriteElementString('maml', 'para', $Ns.maml, '')   # a blank line before the next example
        $W.WriteEndElement()
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'relatedLinks', $Ns.command)
    foreach ($l in $Help.Links) {
        $W.WriteStartElement('maml', 'navigationLink', $Ns.maml)
        $W.WriteElementString('maml', 'linkText', $Ns.maml, $l.Text)
        $W.WriteElementString('maml', 'uri', $Ns.maml, $l.Uri)
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteEndElement()
}

# ---------------------------------------------------------------- main

$source = (Resolve-Path -LiteralPath $SourcePath).ProviderPath
$files = @(Get-ChildItem -LiteralPath $source -Filter '*.md' -File | Sort-Object Name)
if ($files.Count -eq 0) { throw "Help source ${source}: no cmdlet .md files found." }
$about = Join-Path $source $AboutTopic
if (-not (Test-Path -LiteralPath $about)) { throw "Help source ${source}: $AboutTopic is missing." }
$aboutText = Get-Content -LiteralPath $about -Raw -Encoding utf8
if ($aboutText -notmatch '(?m)^TOPIC\s*$' -or $aboutText -notmatch '(?m)^SHORT DESCRIPTION\s*$' -or $aboutText -notmatch '(?m)^LONG DESCRIPTION\s*$') {
    throw "Help source ${AboutTopic}: needs TOPIC, SHORT DESCRIPTION and LONG DESCRIPTION sections."
}

$commands = @(foreach ($f in $files) { Read-CommandHelp $f })

$null = New-Item -ItemType Directory -Path $OutputPath -Force
$outDir = (Resolve-Path -LiteralPath $OutputPath).ProviderPath
$target = Join-Path $outDir $HelpFileName
# Written to a temporary file and moved into place only when complete, so a failed build leaves no half file.
$temp = "$target.tmp"
$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$settings.Indent = $true
$settings.IndentChars = '  '
$settings.NewLineChars = "`n"
$settings.NewLineHandling = [System.Xml.NewLineHandling]::Replace
try {
    $writer = [System.Xml.XmlWriter]::Create($temp, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', $Ns.msh)
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($c in $commands) { Write-Command $writer $c }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally { $writer.Dispose() }

    # Read it back: well-formed, one command per source file.
    $check = [System.Xml.XmlDocument]::new()
    $check.Load($temp)
    $nsm = [System.Xml.XmlNamespaceManager]::new($check.NameTable)
    $nsm.AddNamespace('command', $Ns.command)
    $written = $check.SelectNodes('//command:command', $nsm).Count
    if ($written -ne $commands.Count) { throw "$target has $written commands; expected $($commands.Count)." }
    Move-Item -LiteralPath $temp -Destination $target -Force
}
finally {
    if (Test-Path -LiteralPath $temp) { Remove-Item -LiteralPath $temp -Force }
}

Copy-Item -LiteralPath $about -Destination (Join-Path $outDir $AboutTopic) -Force
Write-Verbose "Wrote $target ($($commands.Count) cmdlets: $($commands.Name -join ', ')) and $AboutTopic."
