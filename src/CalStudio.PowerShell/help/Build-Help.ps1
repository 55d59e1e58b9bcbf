<#
.SYNOPSIS
Builds CalStudio.PowerShell.dll-Help.xml (MAML) from the per-cmdlet platyPS markdown, and copies the about topic.

.DESCRIPTION
Reads every *.md file in -SourcePath (one per cmdlet, in the platyPS 0.14 markdown schema 2.0.0, so platyPS's
New-ExternalHelp can build it too), checks it, and writes $OutputPath/CalStudio.PowerShell.dll-Help.xml plus a copy of
about_CalStudio.help.txt. Throws, naming the file and line, when a file is malformed, a cmdlet has fewer than three
examples, or a parameter (or the synopsis or description) is empty or still a '{{ ... }}' placeholder. It never loads
the module, so the build process stays free of the DLL.

HOW TO EDIT THE HELP
  Write by hand: the synopsis, description, examples, inputs, outputs, notes, related links, each parameter's
  description (the text under '### -Name') and its 'Default value:' line.
  Never by hand: the front matter, ## SYNTAX, and the other lines of the ```yaml blocks. They come from the cmdlets:
  after changing a cmdlet's parameters in C# (adding one, changing a type, an alias, a position, a parameter set,
  Mandatory or pipeline binding), regenerate them:

      dotnet pwsh -NoProfile ./build.ps1
      dotnet pwsh -NoProfile src/CalStudio.PowerShell/help/Update-HelpMarkdown.ps1

  then replace each '{{ Fill Name Description }}' it added with a description, and rebuild. tests/Pester/Help.Tests.ps1
  runs Update-HelpMarkdown.ps1 -Check and fails while the markdown is out of date with the cmdlets.

The layout of a cmdlet file (platyPS schema 2.0.0), sections exactly in this order:

    ---
    external help file: CalStudio.PowerShell.dll-Help.xml
    Module Name: CalStudio
    online version:
    schema: 2.0.0
    ---

    # Verb-Noun
    ## SYNOPSIS          one paragraph
    ## SYNTAX            one ``` block per parameter set, under '### SetName' ('### SetName (Default)') when several
    ## DESCRIPTION       paragraphs (blank line between them; '- ' list lines keep their breaks)
    ## EXAMPLES          '### Example N: title' (N = 1, 2, ...), one ```powershell block, then remarks
    ## PARAMETERS        one '### -Name' per parameter (never the common parameters): description paragraphs, then a
                         ```yaml block per distinct metadata:
                           Type: System.String               (full .NET name)
                           Parameter Sets: (All)             (or set names, comma-separated)
                           Aliases: Question, Text           (empty when none)
                           Accepted values: A, B             (only for enums and ValidateSet)

                           Required: False
                           Position: Named                   (or 0, 1, ...)
                           Default value: None               (written by hand)
                           Accept pipeline input: False      (or True (ByValue), True (ByPropertyName),
                                                              True (ByPropertyName, ByValue))
                           Accept wildcard characters: False
                         then '### CommonParameters' and its standard paragraph
    ## INPUTS            '### TypeName' headings, each with a description ('### None' when nothing)
    ## OUTPUTS           the same
    ## NOTES             paragraphs
    ## RELATED LINKS     '[Text](uri)' lines ('[Connect-CalStudio]()' for a command), a blank line between them

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
Import-Module (Join-Path $PSScriptRoot 'HelpMarkdown.psm1') -Force

$MinimumExamples = 3
$AboutTopic = 'about_CalStudio.help.txt'
$HelpFileName = 'CalStudio.PowerShell.dll-Help.xml'
$Ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}
$RequiredYamlKeys = @('Type', 'Parameter Sets', 'Aliases', 'Required', 'Position', 'Default value', 'Accept pipeline input', 'Accept wildcard characters')
$PipelineValues = @('False', 'True (ByValue)', 'True (ByPropertyName)', 'True (ByPropertyName, ByValue)', 'True (ByValue, ByPropertyName)')
$CommonParameterNames = 'Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'InformationAction', 'ProgressAction', 'ErrorVariable', 'WarningVariable', 'InformationVariable', 'OutVariable', 'OutBuffer', 'PipelineVariable'

# ---------------------------------------------------------------- markdown

# Text that is still a platyPS '{{ ... }}' placeholder counts as missing.
function Get-WrittenParagraphs([object[]] $Lines) {
    $all = Get-Paragraphs $Lines
    , @($all | Where-Object { $_ -notmatch $PlaceholderPattern })
}

# One ```yaml block of a parameter: its metadata for the parameter sets it names ($null Sets = all of them).
function Read-ParameterVariant($Yaml, [string] $Name, [string[]] $SetNames, [string] $File, [int] $Line) {
    $where = "parameter -$Name"
    foreach ($key in $RequiredYamlKeys) {
        if (-not $Yaml.Contains($key)) { Stop-Help $File $Line "${where}: the yaml block has no '$key'." }
        if ($key -ne 'Aliases' -and $Yaml[$key].Length -eq 0) { Stop-Help $File $Line "${where}: '$key' is empty." }
    }
    if ($Yaml.Required -notin @('True', 'False')) { Stop-Help $File $Line "${where}: Required must be True or False." }
    if ($Yaml.Position -notmatch '^(Named|\d+)$') { Stop-Help $File $Line "${where}: Position must be Named or a number." }
    if ($Yaml.'Accept pipeline input' -notin $PipelineValues) { Stop-Help $File $Line "${where}: Accept pipeline input must be one of: $($PipelineValues -join '; ')." }
    if ($Yaml.'Accept wildcard characters' -notin @('True', 'False')) { Stop-Help $File $Line "${where}: Accept wildcard characters must be True or False." }
    if ($Yaml.Type -notmatch '^[A-Za-z_][\w.`\[\], ]*$') { Stop-Help $File $Line "${where}: '$($Yaml.Type)' is not a .NET type name." }

    $split = { param($v) @(if ($v) { $v -split '\s*,\s*' | Where-Object { $_ } }) }
    $sets = @(if ($Yaml.'Parameter Sets' -ne '(All)') { & $split $Yaml.'Parameter Sets' })
    foreach ($set in $sets) {
        if ($set -notin $SetNames) { Stop-Help $File $Line "${where}: parameter set '$set' has no '### $set' block in ## SYNTAX." }
    }
    [pscustomobject]@{
        Sets           = $sets
        Type           = $Yaml.Type
        ShortType      = ($Yaml.Type -split '\.')[-1]
        IsSwitch       = $Yaml.Type -in @('System.Management.Automation.SwitchParameter', 'SwitchParameter')
        Aliases        = @(& $split $Yaml.Aliases)
        AcceptedValues = @(& $split $(if ($Yaml.Contains('Accepted values')) { $Yaml.'Accepted values' } else { $null }))
        Required       = $Yaml.Required -eq 'True'
        Position       = if ($Yaml.Position -eq 'Named') { 'named' } else { $Yaml.Position }
        Default        = $Yaml.'Default value'
        PipelineInput  = $Yaml.'Accept pipeline input'
        Globbing       = $Yaml.'Accept wildcard characters' -eq 'True'
    }
}

function Read-Parameter($Parameter, [string[]] $SetNames, [string] $File) {
    $name = $Parameter.Name
    if ($name -in $CommonParameterNames) { Stop-Help $File $Parameter.Line "-$name is a common parameter; do not document it." }
    $description = Get-WrittenParagraphs $Parameter.Description
    if ($description.Count -eq 0) { Stop-Help $File $Parameter.Line "parameter -$name has an empty description (or only a '{{ ... }}' placeholder)." }
    $variants = @(foreach ($yaml in $Parameter.Yaml) { Read-ParameterVariant $yaml $name $SetNames $File $Parameter.Line })
    if ($variants.Count -gt 1 -and @($variants | Where-Object { $_.Sets.Count -eq 0 }).Count) { Stop-Help $File $Parameter.Line "parameter -${name}: with several yaml blocks, each must name its parameter sets." }
    $named = @($variants | ForEach-Object { $_.Sets })
    if (@($named | Select-Object -Unique).Count -ne $named.Count) { Stop-Help $File $Parameter.Line "parameter -${name}: a parameter set is in two yaml blocks." }
    [pscustomobject]@{ Name = $name; Description = $description; Variants = $variants }
}

# INPUTS / OUTPUTS: '### Type.Name' headings, each with a description.
function Read-TypeList($Section, [string] $File) {
    $split = Split-ByHeading $Section.Body '### ' $File
    if (-not (Test-Blank $split.Preamble)) { Stop-Help $File $Section.Line "## $($Section.Title): put each type under a '### TypeName' heading." }
    if ($split.Blocks.Count -eq 0) { Stop-Help $File $Section.Line "## $($Section.Title) lists no type (use '### None' when there is none)." }
    foreach ($b in $split.Blocks) {
        $d = Get-WrittenParagraphs $b.Body
        if ($d.Count -eq 0) { Stop-Help $File $b.Line "type '$($b.Title)' has no description." }
        [pscustomobject]@{ Name = $b.Title; Description = $d }
    }
}

function Read-CommandHelp([System.IO.FileInfo] $Path) {
    $doc = Read-HelpMarkdown $Path
    $file = $doc.File
    $name = $doc.Name
    $section = $doc.Section

    if ($doc.FrontMatter['schema'] -ne '2.0.0') { Stop-Help $file 1 "the front matter must say 'schema: 2.0.0'." }
    if ($doc.FrontMatter['external help file'] -ne $HelpFileName) { Stop-Help $file 1 "the front matter must say 'external help file: $HelpFileName'." }
    if (-not $doc.FrontMatter['Module Name']) { Stop-Help $file 1 "the front matter has no 'Module Name'." }

    $synopsis = Get-WrittenParagraphs $section.SYNOPSIS.Body
    if ($synopsis.Count -ne 1) { Stop-Help $file $section.SYNOPSIS.Line 'the synopsis must be one written paragraph (not a ''{{ ... }}'' placeholder).' }
    $description = Get-WrittenParagraphs $section.DESCRIPTION.Body
    if ($description.Count -eq 0) { Stop-Help $file $section.DESCRIPTION.Line 'the description is empty.' }

    # The syntax text is not read (it is generated from the cmdlet); its '### SetName' headings name the parameter sets.
    $setNames = @($doc.Syntax | Where-Object Name | ForEach-Object Name)
    $parameters = @(foreach ($p in $doc.Parameters) { Read-Parameter $p $setNames $file })
    if (-not $doc.HasCommonParameters) { Stop-Help $file $section.PARAMETERS.Line "## PARAMETERS must end with '### CommonParameters'." }

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
        if ($code.Trim().Length -eq 0 -or $code -match $PlaceholderPattern) { Stop-Help $file $b.Line "example $n has no code." }
        $remarks = Get-WrittenParagraphs $parts.After
        if ($remarks.Count -eq 0) { Stop-Help $file $b.Line "example $n has no remarks after its code." }
        [pscustomobject]@{ Title = "Example ${n}: $title"; Code = $code; Remarks = $remarks }
    })
    if ($examples.Count -lt $MinimumExamples) { Stop-Help $file $section.EXAMPLES.Line "$name has $($examples.Count) example(s); at least $MinimumExamples are required." }

    $links = @(foreach ($entry in $section.'RELATED LINKS'.Body) {
        $t = $entry.Text.Trim()
        if (-not $t) { continue }
        if ($t -match '^\[([^\]]+)\]\(([^)]*)\)$') { [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] } }
        else { Stop-Help $file $entry.Line "a related link must be a '[Text](uri)' line ('[Text]()' for a command or topic)." }
    })

    [pscustomobject]@{
        Name        = $name
        Verb        = $name.Split('-')[0]
        Noun        = $name.Split('-', 2)[1]
        Synopsis    = $synopsis[0]
        Description = $description
        SetNames    = $setNames
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

# $P: a parameter's name and description; $V: its metadata in the parameter set being written (see Read-ParameterVariant).
function Write-ParameterElement([System.Xml.XmlWriter] $W, $P, $V, [bool] $Full) {
    $W.WriteStartElement('command', 'parameter', $Ns.command)
    $W.WriteAttributeString('required', $V.Required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', 'true')
    $W.WriteAttributeString('globbing', $V.Globbing.ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', $V.PipelineInput)
    $W.WriteAttributeString('position', $V.Position)
    $W.WriteAttributeString('aliases', $(if ($V.Aliases.Count) { $V.Aliases -join ', ' } else { 'none' }))
    $W.WriteElementString('maml', 'name', $Ns.maml, $P.Name)
    if ($Full) { Write-Paras $W $P.Description }
    if ($V.AcceptedValues.Count -and -not $Full) {
        $W.WriteStartElement('command', 'parameterValueGroup', $Ns.command)
        foreach ($value in $V.AcceptedValues) {
            $W.WriteStartElement('command', 'parameterValue', $Ns.command)
            $W.WriteAttributeString('required', 'false'); $W.WriteAttributeString('command', 'variableLength', $Ns.command, 'false')
            $W.WriteString($value)
            $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }
    elseif ($Full -or -not $V.IsSwitch) {
        $W.WriteStartElement('command', 'parameterValue', $Ns.command)
        $W.WriteAttributeString('required', $(if ($V.IsSwitch) { 'false' } else { 'true' }))
        $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($V.ShortType)
        $W.WriteEndElement()
    }
    if ($Full) {
        $W.WriteStartElement('dev', 'type', $Ns.dev)
        $W.WriteElementString('maml', 'name', $Ns.maml, $V.Type)
        $W.WriteElementString('maml', 'uri', $Ns.maml, '')
        $W.WriteEndElement()
        $W.WriteElementString('dev', 'defaultValue', $Ns.dev, $V.Default)
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

    # One syntax item per '### SetName' of ## SYNTAX (one unnamed item when there is a single set); a parameter is in
    # the item when one of its yaml blocks names the set or says (All).
    $sets = @($Help.SetNames)
    if ($sets.Count -eq 0) { $sets = @($null) }
    $W.WriteStartElement('command', 'syntax', $Ns.command)
    foreach ($set in $sets) {
        $W.WriteStartElement('command', 'syntaxItem', $Ns.command)
        $W.WriteElementString('maml', 'name', $Ns.maml, $Help.Name)
        $inSet = @(foreach ($p in $Help.Parameters) {
            $v = $p.Variants | Where-Object { $_.Sets.Count -eq 0 -or $_.Sets -contains $set } | Select-Object -First 1
            if ($v) { [pscustomobject]@{ Parameter = $p; Variant = $v } }
        })
        $ordered = @($inSet | Where-Object { $_.Variant.Position -ne 'named' } | Sort-Object { [int]$_.Variant.Position }) + @($inSet | Where-Object { $_.Variant.Position -eq 'named' })
        foreach ($entry in $ordered) { Write-ParameterElement $W $entry.Parameter $entry.Variant $false }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    # As platyPS does: the parameters section shows each parameter's first yaml block.
    $W.WriteStartElement('command', 'parameters', $Ns.command)
    foreach ($p in $Help.Parameters) { Write-ParameterElement $W $p $p.Variants[0] $true }
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
