#Requires -Version 5.1
# Pester 5. The built module's help: every cmdlet documented (synopsis, description, every parameter, three or
# more examples with code), the help agreeing with the cmdlets' real parameters, and the about topic present.
# The MAML must sit beside the DLL (out/CalStudio/en-US) for Get-Help to find it in a non-interactive pwsh.
# The help source (platyPS markdown) must be up to date with the cmdlets: Update-HelpMarkdown.ps1 -Check.

BeforeDiscovery {
    # Discovery needs the command list to build the data-driven tests; BeforeAll imports again for the run.
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
    $commonParameters = @([System.Management.Automation.PSCmdlet]::CommonParameters) +
                        @([System.Management.Automation.PSCmdlet]::OptionalCommonParameters)

    $script:commands = @(Get-Command -Module CalStudio -CommandType Cmdlet | Sort-Object Name | ForEach-Object {
        @{ Name = $_.Name }
    })
    $script:parameters = @(foreach ($command in Get-Command -Module CalStudio -CommandType Cmdlet | Sort-Object Name) {
        $documented = @((Get-Help $command.Name -Full).parameters.parameter | Where-Object { $_ } | ForEach-Object { $_.name })
        foreach ($p in $command.Parameters.Values) {
            # The common parameters are never documented; -WhatIf/-Confirm are checked when the help documents them.
            if ($p.Name -in $commonParameters -and -not ($p.Name -in 'WhatIf', 'Confirm' -and $p.Name -in $documented)) { continue }
            @{ Command = $command.Name; Parameter = $p.Name }
        }
    })
    $errorIdsFile = Join-Path $PSScriptRoot '../../src/CalStudio.PowerShell/Client/ErrorIds.cs'
    $script:errorIds = @(if (Test-Path $errorIdsFile) {
        [regex]::Matches((Get-Content $errorIdsFile -Raw), 'const\s+string\s+\w+\s*=\s*"([^"]+)"') | ForEach-Object { @{ ErrorId = $_.Groups[1].Value } }
    })
}

BeforeAll {
    $script:modulePath = Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1'
    $script:helpSource = Join-Path $PSScriptRoot '../../src/CalStudio.PowerShell/help'
    Import-Module $modulePath -Force
    $script:commonParameters = @([System.Management.Automation.PSCmdlet]::CommonParameters) +
                               @([System.Management.Automation.PSCmdlet]::OptionalCommonParameters)

    function Get-ParaText($Description) {
        (@($Description) | Where-Object { $_ } | ForEach-Object { $_.Text }) -join "`n"
    }
}

Describe 'The help file' {
    It 'is installed beside the DLL as en-US/CalStudio.PowerShell.dll-Help.xml' {
        $base = (Get-Module CalStudio).ModuleBase
        Join-Path $base 'en-US/CalStudio.PowerShell.dll-Help.xml' | Should -Exist
        Join-Path $base 'en-US/about_CalStudio.help.txt' | Should -Exist
    }

    It 'is valid MAML: <helpItems schema="maml">, one command per exported cmdlet' {
        $base = (Get-Module CalStudio).ModuleBase
        [xml] $maml = Get-Content (Join-Path $base 'en-US/CalStudio.PowerShell.dll-Help.xml') -Raw -Encoding utf8
        $maml.DocumentElement.LocalName | Should -Be 'helpItems'
        $maml.DocumentElement.NamespaceURI | Should -Be 'http://msh'
        $maml.DocumentElement.GetAttribute('schema') | Should -Be 'maml'
        $names = @($maml.helpItems.command | ForEach-Object { $_.details.name }) | Sort-Object
        $names | Should -Be @((Get-Command -Module CalStudio -CommandType Cmdlet).Name | Sort-Object)
    }

    It 'has, in the MAML itself, one syntax item per parameter set with that set''s parameters' {
        # Get-Help makes up a syntax from the cmdlet when the MAML has none, so this reads the file.
        $base = (Get-Module CalStudio).ModuleBase
        [xml] $maml = Get-Content (Join-Path $base 'en-US/CalStudio.PowerShell.dll-Help.xml') -Raw -Encoding utf8
        foreach ($command in Get-Command -Module CalStudio -CommandType Cmdlet) {
            $entry = $maml.helpItems.command | Where-Object { $_.details.name -eq $command.Name }
            $items = @($entry.syntax.ChildNodes | Where-Object LocalName -eq 'syntaxItem')
            $sets = @($command.ParameterSets)
            $items.Count | Should -Be $sets.Count -Because "$($command.Name) has $($sets.Count) parameter set(s)"
            for ($i = 0; $i -lt $sets.Count; $i++) {
                $expected = @($sets[$i].Parameters | Where-Object { $_.Name -notin [System.Management.Automation.PSCmdlet]::CommonParameters } | ForEach-Object Name | Sort-Object)
                $written = @($items[$i].ChildNodes | Where-Object LocalName -eq 'parameter' | ForEach-Object { $_.name } | Sort-Object)
                $written | Should -Be $expected -Because "the syntax of $($command.Name), set $($sets[$i].Name)"
            }
        }
    }
}

Describe 'Get-Help <Name>' -ForEach $commands {
    BeforeAll {
        $help = Get-Help $Name -Full
    }

    It 'comes from the MAML file, not generated from the cmdlet' {
        $help.Synopsis | Should -Not -Match "^\s*$Name\s*(\[|$)"
    }

    It 'has a synopsis' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has a description' {
        Get-ParaText $help.description | Should -Not -BeNullOrEmpty
    }

    It 'has at least three examples' {
        @($help.examples.example).Count | Should -BeGreaterOrEqual 3
    }

    It 'has code, a title and remarks in every example' {
        foreach ($example in @($help.examples.example)) {
            $example.title | Should -Not -BeNullOrEmpty
            $example.code | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' must have code"
            (Get-ParaText $example.remarks).Trim() | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' must explain itself"
        }
    }

    It 'has every example''s code parse as PowerShell' {
        foreach ($example in @($help.examples.example)) {
            $tokens = $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput($example.code, [ref] $tokens, [ref] $errors)
            $errors | Should -BeNullOrEmpty -Because "example '$($example.title)' must be valid PowerShell"
        }
    }

    It 'documents no parameter the cmdlet does not have' {
        $real = (Get-Command $Name).Parameters.Keys
        $documented = @($help.parameters.parameter | Where-Object { $_ } | ForEach-Object { $_.name })
        $documented | Where-Object { $_ -notin $real } | Should -BeNullOrEmpty
        $documented | Where-Object { $_ -in $commonParameters -and $_ -notin 'WhatIf', 'Confirm' } | Should -BeNullOrEmpty
    }

    It 'has one syntax block per parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be @((Get-Command $Name).ParameterSets).Count
    }

    It 'lists the related commands and about_CalStudio' {
        @($help.relatedLinks.navigationLink.linkText) | Should -Contain 'about_CalStudio'
    }
}

Describe 'Parameter <Command> -<Parameter>' -ForEach $parameters {
    BeforeAll {
        $helpParameter = (Get-Help $Command -Full).parameters.parameter | Where-Object { $_ -and $_.name -eq $Parameter }
        $metadata = (Get-Command $Command).Parameters[$Parameter]
    }

    It 'has a description in the help' {
        $helpParameter | Should -Not -BeNullOrEmpty -Because "-$Parameter must be documented in $Command.md"
        (Get-ParaText $helpParameter.description).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has the aliases, pipeline binding, position and Required of the cmdlet' {
        $helpParameter | Should -Not -BeNullOrEmpty
        $attributes = @($metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })

        $aliases = @($metadata.Aliases | Sort-Object)
        $helpAliases = @(if ($helpParameter.aliases -and $helpParameter.aliases -ne 'none') { $helpParameter.aliases -split '\s*,\s*' | Sort-Object })
        $helpAliases | Should -Be $aliases -Because 'Aliases in the help must match [Alias()]'

        $byValue = [bool]($attributes | Where-Object ValueFromPipeline)
        $byName = [bool]($attributes | Where-Object ValueFromPipelineByPropertyName)
        $helpParameter.pipelineInput -match 'ByValue' | Should -Be $byValue -Because 'PipelineInput must match ValueFromPipeline'
        $helpParameter.pipelineInput -match 'ByPropertyName' | Should -Be $byName -Because 'PipelineInput must match ValueFromPipelineByPropertyName'

        $position = @($attributes | Where-Object Position -ge 0 | ForEach-Object Position | Select-Object -Unique)
        $expectedPosition = if ($position.Count) { [string]$position[0] } else { 'named' }
        $helpParameter.position | Should -Be $expectedPosition

        $mandatory = [bool]($attributes | Where-Object Mandatory)
        ($helpParameter.required -eq 'true') | Should -Be $mandatory -Because 'Required must match Mandatory'
    }

    It 'has the type of the cmdlet parameter' {
        $helpParameter | Should -Not -BeNullOrEmpty
        $helpParameter.type.name | Should -Be $metadata.ParameterType.ToString()
    }
}

Describe 'The help markdown (platyPS)' {
    BeforeAll {
        $script:update = Join-Path $helpSource 'Update-HelpMarkdown.ps1'
        $script:buildHelp = Join-Path $helpSource 'Build-Help.ps1'
        # A copy of the help source to damage.
        function New-HelpCopy {
            $copy = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
            $null = New-Item -ItemType Directory $copy
            Copy-Item (Join-Path $helpSource '*') $copy
            $copy
        }
        function Edit-HelpFile([string] $Folder, [string] $Name, [scriptblock] $Change) {
            $path = Join-Path $Folder $Name
            $text = [System.IO.File]::ReadAllText($path)
            $changed = & $Change $text
            $changed | Should -Not -Be $text -Because "the test must really change $Name"
            [System.IO.File]::WriteAllText($path, $changed)
        }
    }

    It 'is up to date with the cmdlets (else run Update-HelpMarkdown.ps1, see Build-Help.ps1)' {
        { & $update -ModulePath $modulePath -Check } | Should -Not -Throw
    }

    It 'has a SYNTAX block per parameter set with the words of Get-Command -Syntax, for <Name>' -ForEach $commands {
        $text = Get-Content (Join-Path $helpSource "$Name.md") -Raw
        $blocks = @([regex]::Matches($text, '(?ms)^## SYNTAX\s*$(.*?)^## ') | ForEach-Object { [regex]::Matches($_.Groups[1].Value, '(?ms)^```\s*$(.*?)^```') } | ForEach-Object { $_.Groups[1].Value })
        # Get-Command writes type accelerators (<int>) and mandatory parameters first; platyPS writes type names (<Int32>)
        # in the parameter set's order. Compare each set's words, type names resolved, in any order.
        $words = {
            param([string] $syntax)
            $typed = [regex]::Replace($syntax, '<(\w+)>', { param($m) $t = $m.Groups[1].Value -as [type]; "<$(if ($t) { $t.Name } else { $m.Groups[1].Value })>" })
            @([regex]::Matches($typed, '\[*-\w+\]?(?: <[^>]+>)?\]?|\[<CommonParameters>\]') | ForEach-Object { $_.Value.ToLowerInvariant() } | Sort-Object) -join ' '
        }
        $expected = @((Get-Command $Name -Syntax) -split "`r?`n" | Where-Object { $_.Trim() } | ForEach-Object { & $words $_ })
        $expected.Count | Should -Be @((Get-Command $Name).ParameterSets).Count
        @($blocks | ForEach-Object { & $words $_ }) | Should -Be $expected
    }

    It 'starts with the platyPS front matter and has the platyPS sections, for <Name>' -ForEach $commands {
        $lines = Get-Content (Join-Path $helpSource "$Name.md")
        $lines[0] | Should -Be '---'
        $end = [array]::IndexOf($lines, '---', 1)
        $lines[1..($end - 1)] | Should -Contain 'schema: 2.0.0'
        $lines[1..($end - 1)] | Should -Contain 'external help file: CalStudio.PowerShell.dll-Help.xml'
        $lines[1..($end - 1)] | Should -Contain 'Module Name: CalStudio'
        @($lines | Where-Object { $_ -match '^## ' }) | Should -Be @('## SYNOPSIS', '## SYNTAX', '## DESCRIPTION', '## EXAMPLES', '## PARAMETERS', '## INPUTS', '## OUTPUTS', '## NOTES', '## RELATED LINKS')
        $lines | Should -Contain '### CommonParameters'
    }

    It 'reports a removed parameter, a changed type and a changed alias, and regenerates them' {
        $copy = New-HelpCopy
        Edit-HelpFile $copy 'Invoke-CalStudioPrompt.md' { param($t) [regex]::Replace($t, '(?ms)^### -TotalCount$.*?(?=^### )', '') }
        Edit-HelpFile $copy 'Get-CalStudioResponse.md' { param($t) [regex]::Replace($t, '(?ms)(^### -Last$.*?^Type: )System\.Int32', '${1}System.Int64') }
        Edit-HelpFile $copy 'Invoke-CalStudioPrompt.md' { param($t) $t.Replace('Aliases: Url, File', 'Aliases: Url') }

        $report = { & $update -ModulePath $modulePath -SourcePath $copy -Check } | Should -Throw -PassThru
        $report.Exception.Message | Should -Match 'Invoke-CalStudioPrompt\.md: missing: ### -TotalCount'
        $report.Exception.Message | Should -Match 'Get-CalStudioResponse\.md: out of date: Type: System\.Int64'
        $report.Exception.Message | Should -Match '(?m)Invoke-CalStudioPrompt\.md: out of date: Aliases: Url\r?$'
        $report.Exception.Message | Should -Match 'Invoke-CalStudioPrompt\.md: missing: Aliases: Url, File'

        & $update -ModulePath $modulePath -SourcePath $copy 6>$null
        (Get-Content (Join-Path $copy 'Get-CalStudioResponse.md') -Raw) | Should -BeExactly (Get-Content (Join-Path $helpSource 'Get-CalStudioResponse.md') -Raw)
        $invoke = Get-Content (Join-Path $copy 'Invoke-CalStudioPrompt.md') -Raw
        $invoke | Should -Match 'Aliases: Url, File'
        # The parameter comes back without a description, which the build refuses until someone writes one.
        $invoke | Should -Match '(?m)^### -TotalCount\r?\n\{\{ Fill TotalCount Description \}\}'
        { & $buildHelp -SourcePath $copy -OutputPath (Join-Path $copy 'out') } | Should -Throw '*parameter -TotalCount has an empty description*'
    }

    It 'keeps the written descriptions, examples and default values when it regenerates' {
        $copy = New-HelpCopy
        Edit-HelpFile $copy 'Connect-CalStudio.md' { param($t) [regex]::Replace($t, '(?m)^(Parameter Sets|Accept pipeline input|Position): .*$', '${1}: stale') }
        & $update -ModulePath $modulePath -SourcePath $copy 6>$null
        foreach ($file in Get-ChildItem $helpSource -Filter *.md) {
            Get-Content (Join-Path $copy $file.Name) -Raw | Should -BeExactly (Get-Content $file.FullName -Raw) -Because "$($file.Name) must come back as it was"
        }
    }

    It 'builds a syntax item per parameter set from yaml blocks that differ by set' {
        # A parameter mandatory in one set and optional in another has one yaml block per set, as platyPS writes it.
        $copy = New-HelpCopy
        Edit-HelpFile $copy 'Get-CalStudioResponse.md' {
            param($t)
            $perSet = "Parameter Sets: Session`nAliases:`n`nRequired: False`nPosition: Named`nDefault value: None (all apps)`nAccept pipeline input: False`nAccept wildcard characters: False`n```````n`n" +
                      "``````yaml`nType: System.String`nParameter Sets: Journal`nAliases:`n`nRequired: True`nPosition: 1`nDefault value: None (all apps)`nAccept pipeline input: True (ByPropertyName)`nAccept wildcard characters: False`n"
            [regex]::Replace($t, '(?ms)(^### -AppName$.*?^Type: System\.String\r?\n)Parameter Sets: \(All\)\r?\n.*?(?=^```)', { param($m) $m.Groups[1].Value + $perSet })
        }
        & $buildHelp -SourcePath $copy -OutputPath (Join-Path $copy 'out')
        [xml] $maml = Get-Content (Join-Path $copy 'out/CalStudio.PowerShell.dll-Help.xml') -Raw
        $command = $maml.helpItems.command | Where-Object { $_.details.name -eq 'Get-CalStudioResponse' }
        $items = @($command.syntax.syntaxItem)
        $items.Count | Should -Be 2
        $session = $items[0].parameter | Where-Object { $_.name -eq 'AppName' }
        $journal = $items[1].parameter | Where-Object { $_.name -eq 'AppName' }
        $session.required | Should -Be 'false'
        $session.position | Should -Be 'named'
        $journal.required | Should -Be 'true'
        $journal.position | Should -Be '1'
        $journal.pipelineInput | Should -Be 'True (ByPropertyName)'
        @($items[0].parameter.name) | Should -Not -Contain 'JournalPath'
        @($items[1].parameter.name) | Should -Contain 'JournalPath'
        # The parameters section shows the first block, as platyPS does.
        ($command.parameters.parameter | Where-Object { $_.name -eq 'AppName' }).required | Should -Be 'false'
    }

    It 'fails the build when a cmdlet has fewer than three examples' {
        $copy = New-HelpCopy
        Edit-HelpFile $copy 'Disconnect-CalStudio.md' { param($t) [regex]::Replace($t, '(?ms)^### Example 3:.*?(?=^## PARAMETERS)', '') }
        { & $buildHelp -SourcePath $copy -OutputPath (Join-Path $copy 'out') } | Should -Throw '*Disconnect-CalStudio has 2 example(s); at least 3 are required*'
    }

    It 'fails the build when a parameter''s description is missing' {
        $copy = New-HelpCopy
        Edit-HelpFile $copy 'Connect-CalStudio.md' { param($t) [regex]::Replace($t, '(?ms)(^### -Proxy\r?\n).*?(?=^```yaml)', '${1}') }
        { & $buildHelp -SourcePath $copy -OutputPath (Join-Path $copy 'out') } | Should -Throw '*parameter -Proxy has an empty description*'
    }
}

Describe 'Get-Help about_CalStudio' {
    BeforeAll {
        $about = Get-Help about_CalStudio | Out-String
        $aboutFile = Join-Path (Get-Module CalStudio).ModuleBase 'en-US/about_CalStudio.help.txt'
    }

    It 'returns the topic text' {
        $about | Should -Match 'about_CalStudio'
        $about | Should -Match 'SHORT DESCRIPTION'
        $about | Should -Match 'LONG DESCRIPTION'
        $about | Should -Match 'SEE ALSO'
    }

    It 'covers <_>' -ForEach @('CALSTUDIO_API_KEY', 'SecureString', 'Import-Csv', 'JournalPath', 'KeyProperty', 'CALSTUDIO_STATE_DIR',
                               'ProPlus', 'NonInteractive', 'Get-Secret', 'CalStudio.Emulator', 'WhatIf', 'ErrorId') {
        $about | Should -Match ([regex]::Escape($_))
    }

    It 'keeps its lines within 80 characters' {
        $long = @(Get-Content $aboutFile -Encoding utf8 | Where-Object { $_.Length -gt 80 })
        $long | Should -BeNullOrEmpty
    }

    It 'explains ErrorId <ErrorId>' -ForEach $errorIds {
        $about | Should -Match "\b$([regex]::Escape($ErrorId))\b"
    }
}
