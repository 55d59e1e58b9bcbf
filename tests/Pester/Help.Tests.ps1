#Requires -Version 5.1
# Pester 5. The built module's help: every cmdlet documented (synopsis, description, every parameter, three or
# more examples with code), the help agreeing with the cmdlets' real parameters, and the about topic present.
# The MAML must sit beside the DLL (out/CalStudio/en-US) for Get-Help to find it in a non-interactive pwsh.

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
    Import-Module (Join-Path $PSScriptRoot '../../out/CalStudio/CalStudio.psd1') -Force
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
        $helpParameter.type.name | Should -Be $metadata.ParameterType.FullName
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
